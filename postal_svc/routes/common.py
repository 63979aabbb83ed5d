"""What every view needs: the request's session, the caller, auth and idempotency."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar, cast

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import Unauthorized

from postal_svc.access.service import Caller, Role
from postal_svc.billing.gateway import PaymentGateway
from postal_svc.clock import utcnow
from postal_svc.config import Settings
from postal_svc.db import Database
from postal_svc.errors import RuleViolation, ServiceUnavailable
from postal_svc.shipments.pay_links import pay_token
from postal_svc.idempotency import (
    MAX_KEY_LENGTH, Claim, Replay, claim_key, record_response, release_claim, request_fingerprint)

F = TypeVar("F", bound=Callable[..., Any])


class InvalidIdempotencyKey(RuleViolation):
    code = "invalid_idempotency_key"


def state() -> Any:
    return current_app.extensions["postal"]


def settings() -> Settings:
    return cast(Settings, state().settings)


def database() -> Database:
    return cast(Database, state().db)


class PaymentsUnavailable(ServiceUnavailable):
    code = "payments_unavailable"


def payment_gateway() -> PaymentGateway:
    """The payment provider; 503 payments_unavailable when none is configured."""
    gateway = state().payment_gateway
    if gateway is None:
        raise PaymentsUnavailable("Online payment is not configured on this server.")
    return cast(PaymentGateway, gateway)


def pay_url(order_public_id: str) -> str | None:
    """A fresh signed pay link for the order (None when online payment is not configured)."""
    if state().payment_gateway is None:
        return None
    conf = settings()
    return f"{conf.public_base_url.rstrip('/')}/pay/{pay_token(conf.secret_key, order_public_id)}"


def session(*, single_statement: bool = False) -> Session:
    """The request's session, opened on first use and closed at teardown.

    `single_statement=True` is for a view whose work is one statement (a read, or a write
    atomic by itself): on PostgreSQL its session then runs each statement in its own
    transaction, which saves the BEGIN and COMMIT round trips. Asked after the session
    exists, it changes nothing.
    """
    if "db_session" not in g:
        db = database()
        factory = (db.autocommit_session_factory if single_statement else None) \
            or db.session_factory
        g.db_session = factory()
    return cast(Session, g.db_session)


def close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    # Only a session inside a transaction holds a connection to give back; one outside any
    # (its work committed, or done in autocommit) is simply dropped with its objects.
    if db_session is not None and db_session.in_transaction():
        db_session.close()


def now() -> datetime:
    """The request's instant: one `now` per request, passed into use cases."""
    if "now" not in g:
        g.now = utcnow()
    return cast(datetime, g.now)


def caller() -> Caller:
    return cast(Caller, g.caller)


def _authenticate_request() -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.",
                           www_authenticate=["Bearer"])
    # A short session of its own: on SQLite a request session would hold the write lock.
    found = state().authenticator.authenticate(database().session_factory, key.strip())
    if found is None:
        raise Unauthorized("The API key is unknown or revoked.", www_authenticate=["Bearer"])
    return found


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Authenticate the caller (401) and check its role (403) before the view runs."""
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.caller = _authenticate_request()
            if roles and g.caller.role not in roles:
                raise HTTPForbidden("Your role may not do this.")
            return view(*args, **kwargs)
        return cast(F, wrapper)
    return decorator


def response_is_stored() -> bool:
    """Whether this request's response is stored with its work (it came with an
    Idempotency-Key), which then must share the work's transaction."""
    return g.get("idempotency_claim") is not None


def idempotent(view: F) -> F:
    """Honour `Idempotency-Key` on a create, and commit the work with its stored response.

    The wrapped view runs a use case and returns a response without committing; this
    decorator is the one place that commits for such views.
    """
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        claim: Claim | None = None
        if key is not None:
            if not key.strip() or len(key) > MAX_KEY_LENGTH:
                raise InvalidIdempotencyKey(
                    "Idempotency-Key must be 1 to 255 characters.",
                    errors={"Idempotency-Key": ["1 to 255 characters."]})
            conf = settings()
            outcome = claim_key(
                database(), client_id=caller().client_id, key=key,
                fingerprint=request_fingerprint(request.method, request.path, request.get_data()),
                now=now(), ttl=timedelta(hours=conf.idempotency_ttl_hours),
                lock_timeout=timedelta(seconds=conf.idempotency_lock_timeout_s))
            if isinstance(outcome, Replay):
                replay = Response(outcome.body, status=outcome.status, mimetype="application/json")
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            claim = outcome
        g.idempotency_claim = claim
        try:
            response = current_app.make_response(view(*args, **kwargs))
            db_session = session()  # the view's own, if it opened one
            if claim is not None:
                record_response(db_session, claim, status=response.status_code,
                                body=response.get_data(as_text=True))
            # A session whose statements committed by themselves has nothing left to
            # commit; committing it would only open and close an empty transaction.
            if db_session.in_transaction():
                db_session.commit()
        except BaseException:
            session().rollback()
            if claim is not None:
                release_claim(database(), claim)
            raise
        return response
    return cast(F, wrapper)

