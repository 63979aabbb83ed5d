"""What the dispatcher console's plan pages read and change beyond the API's plan use cases."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.directory.couriers import Courier
from postal_svc.pagination import Page, paginate
from postal_svc.routing.models import PUBLISHED, RoutePlan
from postal_svc.routing.planning import PlanNotEditable
from postal_svc.shipments.models import Order


def list_route_plans(session: Session, *, offices: frozenset[str] | None, limit: int,
                     cursor: str | None) -> Page[RoutePlan]:
    """The plans of ``offices`` (None: every office), newest first, one page after ``cursor``.
    Keyset on the primary key, so a page costs the same however many plans exist."""
    stmt = select(RoutePlan)
    if offices is not None:
        stmt = stmt.where(RoutePlan.post_office_code.in_(sorted(offices)))
    return paginate(session, stmt, RoutePlan.id, limit=limit, cursor=cursor, descending=True)


def unlock_orders(session: Session, plan: RoutePlan, order_ids: Sequence[str], *,
                  now: datetime) -> RoutePlan:
    """Let the planner choose the courier of these orders again on the next re-optimisation
    (the inverse of a lock or move in ``change_plan``). Ids without a lock are ignored, so
    unlocking twice is harmless. Raises PlanNotEditable once published."""
    if plan.status == PUBLISHED:
        raise PlanNotEditable("A published plan cannot change.")
    freed = set(order_ids)
    plan.locks = [lock for lock in plan.locks or [] if lock["order_id"] not in freed]
    session.flush()
    return plan


def courier_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """code -> name for the given couriers, in one query (unknown codes are left out)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(Courier.code, Courier.name).where(Courier.code.in_(wanted)))
    return {code: name for code, name in rows}


def tracking_numbers(session: Session, order_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """public id -> (tracking number, status) for the given orders, 500 ids per query."""
    ids = sorted(set(order_ids))
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        for public_id, number, status in session.execute(
                select(Order.public_id, Order.tracking_number, Order.status)
                .where(Order.public_id.in_(ids[start:start + 500]))):
            found[public_id] = (number, status)
    return found
