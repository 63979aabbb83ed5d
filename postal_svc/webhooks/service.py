"""Registering endpoints, writing events to the outbox and delivering them with retries."""
from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Protocol

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from postal_svc import ids
from postal_svc.access.models import ApiClient
from postal_svc.access.service import Caller, Role
from postal_svc.clock import isoformat_z
from postal_svc.config import Settings
from postal_svc.db import Database
from postal_svc.errors import Conflict, NotFound, RuleViolation
from postal_svc.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from postal_svc.webhooks.signing import signature_header
from postal_svc.webhooks.targets import Resolver, UnsafeWebhookTarget, check_target, system_resolver

log = logging.getLogger("postal_svc.webhooks")

EVENT_TYPES = ("order.status_changed", "payment.succeeded", "payment.refunded")


class UnknownEventType(RuleViolation):
    code = "unknown_event_type"


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class EndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"


class EventNotFound(NotFound):
    code = "webhook_event_not_found"


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private_targets: bool = False
    allow_http: bool = False
    retry_for: timedelta = timedelta(hours=24)
    first_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    timeout_s: float = 5.0
    # How long a delivery being sent is withheld from other runs (well above the timeout).
    lease: timedelta = timedelta(minutes=2)
    resolve: Resolver = field(default=system_resolver)

    @classmethod
    def from_settings(cls, settings: Settings) -> "WebhookPolicy":
        return cls(allow_private_targets=settings.webhook_allow_private_targets,
                   allow_http=settings.webhook_allow_http,
                   retry_for=timedelta(hours=settings.webhook_retry_hours))

    def backoff(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failure: 30 s, 1 min, 2 min, ... at most an hour."""
        return min(self.first_backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender(Protocol):
    def __call__(self, url: str, body: bytes, headers: dict[str, str],
                 timeout_s: float) -> SendResult: ...


def http_sender(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> SendResult:
    """POST with `requests`, never following redirects (a redirect could point inside)."""
    import requests

    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout_s,
                                 allow_redirects=False)
    except requests.RequestException as error:
        return SendResult(None, f"{type(error).__name__}: {error}"[:500])
    return SendResult(response.status_code, None if response.ok else response.text[:500])


# -- endpoints ----------------------------------------------------------------------------

def create_endpoint(session: Session, *, caller: Caller, url: str, events: Iterable[str],
                    policy: WebhookPolicy, now: datetime) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the caller's client; returns it with its secret (shown once).

    Raises UnknownEventType, UnsafeWebhookTarget.
    """
    wanted = sorted(set(events))
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if not wanted or unknown:
        raise UnknownEventType("Subscribe to one or more known event types.",
                               errors={"events": [f"Known: {', '.join(EVENT_TYPES)}."]})
    check_target(url, allow_private=policy.allow_private_targets, allow_http=policy.allow_http,
                 resolve=policy.resolve)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(public_id="we_" + ids.random_hex(8), client_id=caller.client_id,
                               url=url, events=wanted, secret=secret, active=True,
                               created_at=now)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def _owned(session: Session, public_id: str, caller: Caller) -> WebhookEndpoint:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)
    if caller.role is not Role.ADMIN:
        stmt = stmt.where(WebhookEndpoint.client_id == caller.client_id)
    endpoint = session.scalar(stmt)
    if endpoint is None:
        raise EndpointNotFound("No such webhook endpoint.")
    return endpoint


def list_endpoints(session: Session, *, caller: Caller) -> list[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if caller.role is not Role.ADMIN:
        stmt = stmt.where(WebhookEndpoint.client_id == caller.client_id)
    return list(session.scalars(stmt))


def disable_endpoint(session: Session, public_id: str, *, caller: Caller,
                     now: datetime) -> WebhookEndpoint:
    endpoint = _owned(session, public_id, caller)
    endpoint.active, endpoint.disabled_at = False, endpoint.disabled_at or now
    return endpoint


# -- the outbox -----------------------------------------------------------------------------

def _covers(client: ApiClient, agency_code: str | None, post_office_code: str | None) -> bool:
    if client.role == Role.ADMIN.value:
        return True
    scope = set(client.scope or ())
    if client.role == Role.AGENCY_SYSTEM.value:
        return agency_code in scope
    return post_office_code in scope


def publish(session: Session, *, type: str, data: dict[str, Any], now: datetime,
            order_id: int | None = None, agency_code: str | None = None,
            post_office_code: str | None = None) -> WebhookEvent:
    """Write an event and one pending delivery per subscribed endpoint allowed to see it.

    Call it in the transaction of the change it reports: if that rolls back, so does the
    event, and nothing is ever sent for it.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = WebhookEvent(public_id="evt_" + ids.random_hex(12), type=type, data=data,
                         order_id=order_id, created_at=now)
    session.add(event)
    session.flush()
    rows = session.execute(
        select(WebhookEndpoint, ApiClient).join(ApiClient, ApiClient.id == WebhookEndpoint.client_id)
        .where(WebhookEndpoint.active.is_(True), ApiClient.revoked_at.is_(None))).all()
    for endpoint, client in rows:
        if type in endpoint.events and _covers(client, agency_code, post_office_code):
            session.add(WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id,
                                        order_id=order_id, status="pending", attempts=0,
                                        next_attempt_at=now, created_at=now))
    session.flush()
    return event


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps({"id": event.public_id, "type": event.type,
                       "created": isoformat_z(event.created_at), "data": event.data},
                      ensure_ascii=False, separators=(",", ":")).encode()


def _send(delivery: WebhookDelivery, endpoint: WebhookEndpoint, event: WebhookEvent, *,
          send: Sender, policy: WebhookPolicy, now: datetime,
          clock: Callable[[], float]) -> tuple[SendResult, int]:
    body = event_body(event)
    started = clock()
    try:
        check_target(endpoint.url, allow_private=policy.allow_private_targets,
                     allow_http=policy.allow_http, resolve=policy.resolve)
    except UnsafeWebhookTarget as refused:
        return SendResult(None, refused.message), 0
    headers = {"Content-Type": "application/json", "User-Agent": "postal-svc-webhooks/1",
               "Postal-Signature": signature_header(endpoint.secret, body, int(now.timestamp())),
               "Postal-Event-Id": event.public_id}
    result = send(endpoint.url, body, headers, policy.timeout_s)
    return result, int((clock() - started) * 1000)


def deliver_due(db: Database, *, now: datetime, policy: WebhookPolicy, send: Sender = http_sender,
                limit: int = 200, clock: Callable[[], float] = time.monotonic) -> int:
    """Attempt every pending delivery whose time has come; returns how many were attempted.

    Deliveries of one order to one endpoint go out in event order: one waits while an earlier
    one is still pending (in backoff). A delivery still failing 24 h after its event becomes
    `failed`; every attempt is logged. Each attempt commits on its own, so a crash loses at
    most the attempt in flight (which is then retried: receivers dedupe by event id).
    """
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(and_(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                                  earlier.order_id == WebhookDelivery.order_id,
                                  earlier.status == "pending", earlier.id < WebhookDelivery.id))
    with db.session_factory() as session:
        due_ids = list(session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            # A disabled endpoint is sent nothing more; its pending deliveries stay in the log.
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   WebhookEndpoint.active.is_(True), ~blocked)
            .order_by(WebhookDelivery.id).limit(limit)))
    attempted = 0
    started = clock()
    for delivery_id in due_ids:
        # A long run must not sign late deliveries with its start time (receivers allow only
        # a few minutes of skew): each signature carries `now` plus the time gone by. The
        # schedule (attempt times, backoff) stays on `now`.
        sent_at = now + timedelta(seconds=clock() - started)
        # Lease the delivery in a short transaction, send outside any transaction (a slow
        # receiver must hold no lock: on SQLite that would stall every writer), then record
        # the outcome. A crash in between leaves the lease to expire: sent again later.
        with db.session() as session:
            delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None or delivery.status != "pending" or delivery.next_attempt_at > now:
                continue
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            event = session.get(WebhookEvent, delivery.event_id)
            assert endpoint is not None and event is not None
            if not endpoint.active:  # disabled since the due deliveries were listed
                continue
            delivery.next_attempt_at = now + policy.lease
            session.expunge_all()  # plain snapshots to send from, outside the session
        result, duration_ms = _send(delivery, endpoint, event, send=send, policy=policy,
                                    now=sent_at, clock=clock)
        with db.session() as session:
            leased = session.get(WebhookDelivery, delivery_id, with_for_update=True)
            assert leased is not None
            _record_attempt(session, leased, result, duration_ms, now=now, policy=policy,
                            manual=False)
        attempted += 1
    return attempted


def _record_attempt(session: Session, delivery: WebhookDelivery, result: SendResult,
                    duration_ms: int, *, now: datetime, policy: WebhookPolicy,
                    manual: bool) -> None:
    session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=now,
                               status_code=result.status_code, error=result.error,
                               duration_ms=duration_ms, manual=manual))
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    if result.ok:
        delivery.status, delivery.delivered_at = "delivered", now
    elif not manual:
        if now - delivery.created_at >= policy.retry_for:
            delivery.status = "failed"
            log.warning("webhook delivery %s failed for good after %d attempts",
                        delivery.id, delivery.attempts)
        else:
            delivery.next_attempt_at = now + policy.backoff(delivery.attempts)


def redeliver(session: Session, endpoint_id: str, event_id: str, *, caller: Caller,
              now: datetime, policy: WebhookPolicy, send: Sender = http_sender,
              clock: Callable[[], float] = time.monotonic) -> WebhookDelivery:
    """Send one event to one endpoint again, now, by hand; the attempt is logged as manual.

    Raises EndpointNotFound, EventNotFound, and EndpointDisabled for a disabled endpoint.
    """
    endpoint = _owned(session, endpoint_id, caller)
    if not endpoint.active:
        raise EndpointDisabled("This endpoint is disabled; nothing is sent to it.")
    delivery = session.scalar(
        select(WebhookDelivery).join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookEvent.public_id == event_id))
    if delivery is None:
        raise EventNotFound("This endpoint has no delivery of that event.")
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    result, duration_ms = _send(delivery, endpoint, event, send=send, policy=policy, now=now,
                                clock=clock)
    _record_attempt(session, delivery, result, duration_ms, now=now, policy=policy, manual=True)
    return delivery


DeliveryRow = tuple[WebhookDelivery, WebhookEvent, list[WebhookAttempt]]


def delivery_log(session: Session, endpoint_id: str, *, caller: Caller, limit: int = 100,
                 before_id: int | None = None,
                 delivery_id: int | None = None) -> list[DeliveryRow]:
    """An endpoint's deliveries, newest first (older than `before_id` when paging), with
    their event and every attempt; or just the one `delivery_id`."""
    endpoint = _owned(session, endpoint_id, caller)
    stmt = (select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint.id))
    if before_id is not None:
        stmt = stmt.where(WebhookDelivery.id < before_id)
    if delivery_id is not None:
        stmt = stmt.where(WebhookDelivery.id == delivery_id)
    rows = session.execute(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
    ids = [d.id for d, _ in rows]
    attempts: dict[int, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        for attempt in session.scalars(select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.id)):
            attempts[attempt.delivery_id].append(attempt)
    return [(d, e, attempts[d.id]) for d, e in rows]
