"""Idempotency keys: a retried create returns the first response instead of creating twice.

The record is claimed in its own short transaction, so a concurrent request with the same
key sees it at once (`request_in_progress`); the response is stored in the same transaction
as the work it describes, so a crash can never leave work without its stored response.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from postal_svc.db import Base, BigIntPK, Database, UTCDateTime
from postal_svc.errors import Conflict

MAX_KEY_LENGTH = 255


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("api_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def completed(self) -> bool:
        return self.response_status is not None


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    code = "request_in_progress"


@dataclass(frozen=True)
class Claim:
    """This request owns the key and must do the work; `locked_at` proves the ownership
    (a request that took over an abandoned key holds a newer one)."""

    record_id: int
    locked_at: datetime


@dataclass(frozen=True)
class Replay:
    """The work was done before: answer with the stored response."""

    status: int
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash of what was asked; JSON bodies are compared by value, not by key order."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\0", path.encode(), b"\0", canonical):
        digest.update(part)
    return digest.hexdigest()


def claim_key(db: Database, *, client_id: int, key: str, fingerprint: str, now: datetime,
              ttl: timedelta, lock_timeout: timedelta) -> Claim | Replay:
    """Claim `key` for this request, or say how the earlier request with it went.

    Raises IdempotencyKeyReused (same key, different request) and RequestInProgress (the
    first request is still running). Commits in its own session.
    """
    for _ in range(3):
        with db.session_factory() as session:
            record = IdempotencyRecord(client_id=client_id, key=key, request_hash=fingerprint,
                                       locked_at=now, created_at=now, expires_at=now + ttl)
            session.add(record)
            try:
                session.commit()
                return Claim(record.id, now)
            except IntegrityError:
                session.rollback()
            existing = session.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key))
            if existing is None:
                continue  # purged meanwhile: try again
            if existing.expires_at <= now:
                session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
                session.commit()
                continue
            if existing.request_hash != fingerprint:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used with a different request.",
                    errors={"Idempotency-Key": ["Already used with another request body."]})
            if existing.completed:
                return Replay(status=existing.response_status or 200, body=existing.response_body or "")
            if existing.locked_at > now - lock_timeout:
                raise RequestInProgress("A request with this Idempotency-Key is still in progress.")
            # The first request died without finishing: take its place, once.
            taken = session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.id == existing.id,
                       IdempotencyRecord.locked_at == existing.locked_at,
                       IdempotencyRecord.response_status.is_(None))
                .values(locked_at=now))
            session.commit()
            if taken.rowcount == 1:
                return Claim(existing.id, now)
            raise RequestInProgress("A request with this Idempotency-Key is still in progress.")
    raise RequestInProgress("A request with this Idempotency-Key is still in progress.")


def record_response(session: Session, claim: Claim, *, status: int, body: str) -> None:
    """Store the response in the caller's transaction, beside the work it describes.

    Raises RequestInProgress when the claim was lost (another request took the key over
    after the lock timeout): the caller must then roll its work back, so one key never
    does its work twice.
    """
    stored = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim.record_id,
               IdempotencyRecord.locked_at == claim.locked_at,
               IdempotencyRecord.response_status.is_(None))
        .values(response_status=status, response_body=body))
    if stored.rowcount != 1:
        raise RequestInProgress("This Idempotency-Key was taken over by a newer request.")


def release_claim(db: Database, claim: Claim) -> None:
    """Forget an unfinished claim after the request failed, so a retry may run."""
    with db.session_factory() as session:
        session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.id == claim.record_id, IdempotencyRecord.locked_at == claim.locked_at,
            IdempotencyRecord.response_status.is_(None)))
        session.commit()


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete records past their expiry; returns how many went."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return result.rowcount or 0
