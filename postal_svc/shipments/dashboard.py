"""The figures of a dispatcher's day: orders by status and those needing attention."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.shipments.attention import Attention, attention_condition
from postal_svc.shipments.intake import scoped
from postal_svc.shipments.models import Order


@dataclass(frozen=True)
class Dashboard:
    """Counts over the orders a caller may see; every figure matches the list it links to."""

    by_status: dict[str, int]
    attention: dict[Attention, int]
    created_since: int  # orders created at or after the `since` instant asked for

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def dashboard(session: Session, *, caller: Caller, now: datetime, since: datetime) -> Dashboard:
    """Count, in the database, the caller's orders by status, those needing each kind of
    attention at `now`, and those created since `since` (the start of the day, say).

    Two aggregate queries whatever the number of orders: one GROUP BY status, and one row of
    conditional counts (COUNT of a CASE, which SQLite and PostgreSQL both evaluate).
    """
    by_status = {status: int(count) for status, count in session.execute(
        scoped(select(Order.status, func.count()), caller).group_by(Order.status))}
    counts: list[Any] = [func.count(case((attention_condition(a, now=now), 1)))
                         for a in Attention]
    counts.append(func.count(case((Order.created_at >= since, 1))))
    row = session.execute(scoped(select(*counts).select_from(Order), caller)).one()
    return Dashboard(by_status=by_status,
                     attention={a: int(n) for a, n in zip(Attention, row)},
                     created_since=int(row[-1]))
