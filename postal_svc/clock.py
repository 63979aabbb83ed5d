"""Time: UTC for storage, Asia/Ho_Chi_Minh for business rules; `now` is passed in, not read."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC. Only the edges (views, jobs) call this."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """Convert an aware datetime to UTC; naive datetimes are a programming error."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: every instant must carry its offset")
    return moment.astimezone(timezone.utc)


def isoformat_z(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the API answers times."""
    if moment is None:
        return None
    return as_utc(moment).isoformat().replace("+00:00", "Z")
