"""Failed console sign-ins per username, counted in the database for every process.

Failures are counted by the normalised username typed, whether or not an account has it, so a
name that exists and one that does not are locked alike: after `max_failures` in a row the name
is locked for `lockout`, whatever password comes next. Counting is an atomic upsert (no
read-modify-write), and a sign-in first upserts the name's row adding nothing, which holds it
until the transaction ends: concurrent guesses at one name are checked one at a time, so a burst
cannot get more than `max_failures` passwords checked before the lock.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, case, delete, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from postal_svc.db import Base, UTCDateTime


class LoginFailure(Base):
    """The failed sign-ins in a row under one username, and until when it is locked."""

    __tablename__ = "login_failures"

    # SHA-256 of the normalised username: any text fits (a NUL byte, a password typed in the
    # wrong box), and none of it is stored as typed.
    username_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class LockoutPolicy:
    """`max_failures` in a row lock a username for `lockout`; failures that stay unlocked are
    forgotten `forget_after` the last one (and purged then)."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)


def username_digest(username: str) -> str:
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def hold_failures(session: Session, username: str, *, now: datetime) -> datetime | None:
    """Until when `username` is locked (None when it is not), holding its row to the end of the
    transaction: a concurrent sign-in under the same name waits here for this one to commit."""
    table = LoginFailure.__table__
    statement = _insert(session)(table).values(
        username_digest=username_digest(username), failures=0, locked_until=None,
        last_failure_at=now)
    locked_until = session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.username_digest], set_={"failures": table.c.failures}
    ).returning(table.c.locked_until)).scalar_one()
    return locked_until if locked_until is not None and locked_until > now else None


def count_failure(session: Session, username: str, *, now: datetime,
                  policy: LockoutPolicy = LockoutPolicy()) -> datetime | None:
    """One more failed sign-in under `username` (an atomic increment); until when the name is
    locked afterwards, or None.

    The `max_failures`-th failure in a row locks the name for `lockout`. Failures during a lock
    are counted but do not lengthen it. Once the lock has run out, or `forget_after` the last
    failure, counting starts again from one.
    """
    table = LoginFailure.__table__
    c = table.c
    first_lock = literal(now + policy.lockout, UTCDateTime()) if policy.max_failures <= 1 \
        else None
    statement = _insert(session)(table).values(
        username_digest=username_digest(username), failures=1, locked_until=first_lock,
        last_failure_at=now)
    starts_again = or_(c.locked_until <= now,
                       and_(c.locked_until.is_(None),
                            c.last_failure_at < now - policy.forget_after))
    failures = case((starts_again, 1), else_=c.failures + 1)
    locked_until = case((c.locked_until > now, c.locked_until),
                        (failures >= policy.max_failures,
                         literal(now + policy.lockout, UTCDateTime())))
    result: datetime | None = session.execute(statement.on_conflict_do_update(
        index_elements=[c.username_digest],
        set_={"failures": failures, "locked_until": locked_until, "last_failure_at": now}
    ).returning(c.locked_until)).scalar_one()
    return result if result is not None and result > now else None


def clear_failures(session: Session, username: str) -> None:
    """Forget the failures under `username` and lift its lock (a success, a new password)."""
    session.execute(delete(LoginFailure)
                    .where(LoginFailure.username_digest == username_digest(username)))


def failures_of(session: Session, username: str) -> int:
    """The failures counted under `username` now (0 when none)."""
    return int(session.scalar(select(LoginFailure.failures).where(
        LoginFailure.username_digest == username_digest(username))) or 0)


def purge_login_failures(session: Session, *, now: datetime,
                         policy: LockoutPolicy = LockoutPolicy()) -> int:
    """Delete the counts that no longer count (no lock left, last failure `forget_after` ago);
    returns how many. Safe to run any time."""
    result = session.execute(delete(LoginFailure).where(
        LoginFailure.last_failure_at < now - policy.forget_after,
        or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= now)))
    return int(getattr(result, "rowcount", 0) or 0)
