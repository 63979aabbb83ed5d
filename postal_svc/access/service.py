"""Creating clients, issuing keys and authenticating callers."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient
from postal_svc.errors import NotFound, RuleViolation

KEY_PREFIX = "psk_"


class Role(StrEnum):
    AGENCY_SYSTEM = "agency_system"
    DISPATCHER = "dispatcher"
    COURIER = "courier"
    ADMIN = "admin"


SCOPED_ROLES = {Role.AGENCY_SYSTEM, Role.DISPATCHER, Role.COURIER}


class InvalidClient(RuleViolation):
    code = "invalid_client"


class ClientNotFound(NotFound):
    code = "client_not_found"


@dataclass(frozen=True)
class Caller:
    """The authenticated client behind a request."""

    client_id: int
    name: str
    role: Role
    scope: frozenset[str]

    def agency_codes(self) -> frozenset[str] | None:
        """Agencies this caller acts for; None means every agency."""
        if self.role is Role.ADMIN:
            return None
        return self.scope if self.role is Role.AGENCY_SYSTEM else frozenset()

    def post_office_codes(self) -> frozenset[str] | None:
        """Post offices this caller acts for; None means every post office."""
        if self.role is Role.ADMIN:
            return None
        return self.scope if self.role in (Role.DISPATCHER, Role.COURIER) else frozenset()


def hash_key(key: str) -> str:
    # Keys are 32 random bytes, so a fast hash is safe here (unlike passwords).
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(session: Session, *, name: str, role: str, scope: Iterable[str] = (),
                  now: datetime) -> tuple[ApiClient, str]:
    """Create a client and return it with its key; the key is not stored and never shown again."""
    try:
        parsed_role = Role(role)
    except ValueError:
        raise InvalidClient(f"Unknown role {role!r}.",
                            errors={"role": [f"One of: {', '.join(r.value for r in Role)}."]}) from None
    codes = sorted({c.strip() for c in scope if c.strip()})
    if parsed_role in SCOPED_ROLES and not codes:
        raise InvalidClient(f"A {parsed_role.value} client needs a scope.",
                            errors={"scope": ["Required for this role."]})
    if not name.strip():
        raise InvalidClient("A client needs a name.", errors={"name": ["Required."]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name.strip(), role=parsed_role.value,
                       scope=[] if parsed_role is Role.ADMIN else codes,
                       key_prefix=key[:12], key_hash=hash_key(key), created_at=now)
    session.add(client)
    session.flush()
    return client, key


def authenticate(session: Session, key: str) -> Caller | None:
    """The caller owning `key`, or None when the key is unknown or revoked."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    digest = hash_key(key)
    client = session.scalar(select(ApiClient).where(ApiClient.key_hash == digest))
    if client is None or client.revoked_at is not None:
        return None
    if not hmac.compare_digest(client.key_hash, digest):
        return None
    return _caller(client)


def caller_for_client(session: Session, client_id: int) -> Caller | None:
    """The caller a signed-in page session stands for, or None once its client is revoked."""
    client = session.get(ApiClient, client_id)
    if client is None or client.revoked_at is not None:
        return None
    return _caller(client)


def _caller(client: ApiClient) -> Caller:
    return Caller(client_id=client.id, name=client.name, role=Role(client.role),
                  scope=frozenset(client.scope or ()))


class CachedAuthenticator:
    """Remembers recently seen keys for `ttl_s` seconds so a request need not ask the database.

    Only successful look-ups are kept (unknown keys always go to the database), at most
    `max_entries` of them; a key revoked in another process stops working within `ttl_s`.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()

    def authenticate(self, session_factory: Callable[[], Session], key: str) -> Caller | None:
        if self.ttl_s <= 0:
            with session_factory() as session:
                return authenticate(session, key)
        digest = hash_key(key)
        now = self._clock()
        with self._lock:
            hit = self._entries.get(digest)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(digest)
                return hit[1]
        with session_factory() as session:
            caller = authenticate(session, key)
        with self._lock:
            if caller is None:
                self._entries.pop(digest, None)
            else:
                self._entries[digest] = (now + self.ttl_s, caller)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return caller

    def forget(self, client_id: int) -> None:
        """Drop a client's cached keys at once (after revocation in this process)."""
        with self._lock:
            for digest in [d for d, (_, c) in self._entries.items() if c.client_id == client_id]:
                del self._entries[digest]


def revoke_client(session: Session, client_id: int, *, now: datetime) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise ClientNotFound(f"No client {client_id}.")
    if client.revoked_at is None:
        client.revoked_at = now
    return client
