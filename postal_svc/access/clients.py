"""API clients as administrators see them: listing, issuing keys with checked input, revoking.

Console users act through API clients of their own (`StaffUser.client_id`, key never issued).
Those are listed apart and never revoked here: revoking one would silently lock a person out
of the console, which is done by disabling the user, not their client.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient, StaffUser
from postal_svc.access.service import (
    SCOPED_ROLES, ClientNotFound, InvalidClient, Role, create_client, revoke_client)
from postal_svc.errors import Conflict
from postal_svc.pagination import Page, paginate

# What the api_clients columns can hold; longer input is refused before any INSERT.
MAX_NAME_LENGTH = 200
MAX_CODE_LENGTH = 64
MAX_SCOPE_CODES = 200
# The prefix of console users' own clients' names (access.staff); reserved for them.
CONSOLE_PREFIX = "console:"


class ConsoleClientNotRevocable(Conflict):
    code = "console_client_not_revocable"


def _belongs_to_staff() -> Any:
    return exists().where(StaffUser.client_id == ApiClient.id)


def list_clients(session: Session, *, console: bool, limit: int,
                 cursor: str | None) -> Page[ApiClient]:
    """API clients, newest first: the external ones, or (`console`) console users' own."""
    stmt: Select[Any] = select(ApiClient)
    stmt = stmt.where(_belongs_to_staff() if console else ~_belongs_to_staff())
    return paginate(session, stmt, ApiClient.id, limit=limit, cursor=cursor, descending=True)


def clients_by_id(session: Session, ids: Iterable[int]) -> dict[int, ApiClient]:
    """The clients with these ids, in one query (for lists that name each row's owner)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(ApiClient).where(ApiClient.id.in_(wanted)))}


def is_console_client(session: Session, client_id: int) -> bool:
    """Whether a console user acts through this client."""
    return session.scalar(select(StaffUser.id).where(StaffUser.client_id == client_id)) \
        is not None


def get_client(session: Session, client_id: int) -> ApiClient:
    """The client; raises ClientNotFound."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise ClientNotFound(f"No client {client_id}.")
    return client


def issue_client(session: Session, *, name: str, role: str, scope: Iterable[str],
                 code_exists: Callable[[Role, str], bool],
                 now: datetime) -> tuple[ApiClient, str]:
    """Create a client from an administrator's input and return it with its key (shown once).

    Beyond `create_client`'s rules, the name must fit its column and not pose as a console
    user's client, and every scope code must be printable, fit, and name an agency
    (agency_system) or a post office (dispatcher, courier) that exists (`code_exists`).
    Raises InvalidClient naming each bad field; nothing is written then.
    """
    problems: dict[str, list[str]] = {}
    clean_name = name.strip()
    if len(clean_name) > MAX_NAME_LENGTH or not clean_name.isprintable():
        problems["name"] = [f"1 to {MAX_NAME_LENGTH} printable characters."]
    elif clean_name.lower().startswith(CONSOLE_PREFIX):
        problems["name"] = [f"Names starting with {CONSOLE_PREFIX!r} are reserved for "
                            "console users."]
    codes = sorted({c.strip() for c in scope if c.strip()})
    try:
        parsed_role: Role | None = Role(role)
    except ValueError:
        parsed_role = None  # create_client names the role problem
    bad = [c for c in codes if len(c) > MAX_CODE_LENGTH or not c.isprintable()]
    if bad or len(codes) > MAX_SCOPE_CODES:
        problems["scope"] = [f"At most {MAX_SCOPE_CODES} codes of 1 to {MAX_CODE_LENGTH} "
                             "printable characters."]
    elif parsed_role in SCOPED_ROLES:
        assert parsed_role is not None
        unknown = [c for c in codes if not code_exists(parsed_role, c)]
        if unknown:
            what = "agency" if parsed_role is Role.AGENCY_SYSTEM else "post office"
            problems["scope"] = [f"Unknown {what}: {', '.join(unknown)}."]
    if problems:
        raise InvalidClient("The client cannot be created as given.", errors=problems)
    return create_client(session, name=clean_name, role=role, scope=codes, now=now)


def revoke_external_client(session: Session, client_id: int, *, now: datetime) -> ApiClient:
    """Revoke an external client's key (`revoke_client`); revoking twice changes nothing.

    Raises ClientNotFound, and ConsoleClientNotRevocable for a console user's own client.
    The caller must also make running processes forget the key (CachedAuthenticator.forget).
    """
    client = get_client(session, client_id)
    if is_console_client(session, client_id):
        raise ConsoleClientNotRevocable(
            "This client belongs to a console user; disable the user instead.")
    return revoke_client(session, client.id, now=now)


__all__ = ["CONSOLE_PREFIX", "ConsoleClientNotRevocable", "clients_by_id", "get_client",
           "is_console_client", "issue_client", "list_clients", "revoke_external_client"]
