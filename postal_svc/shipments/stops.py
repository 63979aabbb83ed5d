"""A courier's stops: the orders of their post offices waiting for a courier to act on them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.shipments.intake import scoped
from postal_svc.shipments.lifecycle import FAILED, Kind, Status, allowed_next
from postal_svc.shipments.models import Order

# What a courier does at the door, by kind and status: the event that says it went well.
# The failed attempt of each kind is lifecycle.FAILED; after one, the next step is to go again
# (the status the failed attempt came from).
SUCCESS: dict[tuple[Kind, Status], Status] = {
    (Kind.RESULT_DELIVERY, Status.OUT_FOR_DELIVERY): Status.DELIVERED,
    (Kind.DOSSIER_PICKUP, Status.PICKUP_SCHEDULED): Status.PICKED_UP,
    (Kind.DOSSIER_PICKUP, Status.OUT_FOR_DELIVERY): Status.DELIVERED_TO_AGENCY,
}
RETRY: dict[Kind, Status] = {
    Kind.RESULT_DELIVERY: Status.OUT_FOR_DELIVERY,
    Kind.DOSSIER_PICKUP: Status.PICKUP_SCHEDULED,
}
ACTIONABLE = (Status.OUT_FOR_DELIVERY, Status.PICKUP_SCHEDULED, Status.DELIVERY_FAILED,
              Status.PICKUP_FAILED)
# The events a courier may record from the stops page (the API takes more from dispatchers).
COURIER_EVENTS = frozenset([*SUCCESS.values(), *FAILED.values(), *RETRY.values()])
# Delivering into someone's hands needs proof: who took it.
NEEDS_RECIPIENT = frozenset({Status.DELIVERED, Status.DELIVERED_TO_AGENCY})
MAX_STOPS = 300


@dataclass(frozen=True)
class Stop:
    order_id: str
    tracking_number: str
    kind: str
    status: str
    ward_name: str | None
    recipient_name: str
    address_line: str | None
    due_at: datetime
    attempt_count: int
    success: Status | None  # the event for "done", if the order can be done now
    failure: Status | None  # the event for "could not do it", if allowed now
    retry: Status | None  # the event for "going again" after a failed attempt

    @property
    def needs_recipient(self) -> bool:
        return self.success in NEEDS_RECIPIENT


def _stop(order: Order) -> Stop:
    kind, status = Kind(order.kind), Status(order.status)
    allowed = allowed_next(kind, status)
    success = SUCCESS.get((kind, status))
    return Stop(order_id=order.public_id, tracking_number=order.tracking_number, kind=order.kind,
                status=order.status, ward_name=order.ward_name, recipient_name=order.citizen_name,
                address_line=order.address_line, due_at=order.due_at,
                attempt_count=order.attempt_count,
                success=success if success in allowed else None,
                failure=FAILED[kind] if FAILED[kind] in allowed else None,
                retry=RETRY[kind] if status is FAILED[kind] and RETRY[kind] in allowed else None)


def list_stops(session: Session, *, caller: Caller, limit: int = MAX_STOPS) -> list[Stop]:
    """The orders of the caller's post offices a courier can act on now, soonest due first,
    then by ward (neighbours together).

    Route plans come later: until then every actionable order of the office is a stop "today",
    in this simple order, not in an optimised route.
    """
    stmt = (scoped(select(Order), caller)
            .where(Order.status.in_([s.value for s in ACTIONABLE]))
            .order_by(Order.due_at, Order.ward_name, Order.id)
            .limit(limit))
    return [_stop(order) for order in session.scalars(stmt)]
