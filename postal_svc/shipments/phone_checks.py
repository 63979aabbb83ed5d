"""Wrong `phone_last4` answers per tracking number, counted in the database for every process.

The public view masks the phone as `*******456`, so only one digit of the last four is unknown:
without a limit ten tries unlock the delivery window and the pay link. Wrong answers are
counted in hourly buckets (one row per tracking number and hour, incremented by an atomic
upsert, so concurrent requests never lose a count); once a number has `max_wrong` in its
window, even the right digits unlock nothing until those answers age out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from postal_svc.clock import as_utc
from postal_svc.db import Base, UTCDateTime


class PhoneCheck(Base):
    """How many wrong `phone_last4` answers a tracking number got in one hour."""

    __tablename__ = "phone_checks"

    tracking_number: Mapped[str] = mapped_column(String(13), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    wrong_count: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class PhoneCheckPolicy:
    """At most `max_wrong` wrong answers per tracking number in `window`; each wrong answer
    counts for at least `window` and at most `window` plus one bucket."""

    max_wrong: int = 5
    window: timedelta = timedelta(hours=24)
    bucket: timedelta = timedelta(hours=1)

    def bucket_of(self, now: datetime) -> datetime:
        moment = as_utc(now)
        since_midnight = moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return moment - (since_midnight % self.bucket)

    def oldest_counted(self, now: datetime) -> datetime:
        return self.bucket_of(now) - self.window


PHONE_CHECKS = PhoneCheckPolicy()


def check_phone_answer(session: Session, tracking_number: str, *, right: bool, now: datetime,
                       policy: PhoneCheckPolicy = PHONE_CHECKS) -> bool:
    """Count a wrong answer, or weigh a right one; True when the answer may unlock the details.

    A wrong answer is one more in the number's current bucket (an atomic increment). A right
    answer unlocks only while fewer than `max_wrong` wrong answers are in the window. It first
    upserts the same bucket row (adding nothing), which waits for concurrent wrong answers of
    that bucket to commit, so a burst of guesses cannot slip the right one past the count.
    """
    bucket = policy.bucket_of(now)
    table = PhoneCheck.__table__
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = upsert(table).values(tracking_number=tracking_number, bucket_start=bucket,
                                     wrong_count=0 if right else 1)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.tracking_number, table.c.bucket_start],
        set_={"wrong_count": table.c.wrong_count + statement.excluded.wrong_count}))
    if not right:
        return False
    return wrong_answers(session, tracking_number, now=now, policy=policy) < policy.max_wrong


def wrong_answers(session: Session, tracking_number: str, *, now: datetime,
                  policy: PhoneCheckPolicy = PHONE_CHECKS) -> int:
    """The wrong answers that still count against this tracking number."""
    return int(session.scalar(
        select(func.coalesce(func.sum(PhoneCheck.wrong_count), 0))
        .where(PhoneCheck.tracking_number == tracking_number,
               PhoneCheck.bucket_start >= policy.oldest_counted(now))) or 0)


def purge_phone_checks(session: Session, *, now: datetime,
                       policy: PhoneCheckPolicy = PHONE_CHECKS) -> int:
    """Delete the buckets that no longer count; returns how many. Safe to run any time."""
    result = session.execute(delete(PhoneCheck)
                             .where(PhoneCheck.bucket_start < policy.oldest_counted(now)))
    return int(getattr(result, "rowcount", 0) or 0)
