"""When an order is due: the citizen's window, else a number of working days."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from postal_svc.clock import VIETNAM, as_utc

END_OF_DAY = time(17, 0)


def due_at(*, accepted_at: datetime, deliver_before: datetime | None, working_days: int) -> datetime:
    """The due instant in UTC: the end of the citizen's window, or 17:00 Vietnam time on the
    `working_days`-th working day (Monday to Friday) after acceptance."""
    if deliver_before is not None:
        return as_utc(deliver_before)
    return _due_after(accepted_at.astimezone(VIETNAM).date(), working_days)


@lru_cache(maxsize=64)  # every order accepted on a day shares its due instant
def _due_after(day: date, working_days: int) -> datetime:
    remaining = working_days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return as_utc(datetime.combine(day, END_OF_DAY, tzinfo=VIETNAM))
