"""The order status lifecycle of both kinds as one explicit transition table (pure)."""
from __future__ import annotations

from enum import StrEnum

from postal_svc.errors import Conflict


class Kind(StrEnum):
    RESULT_DELIVERY = "result_delivery"
    DOSSIER_PICKUP = "dossier_pickup"


class Status(StrEnum):
    CREATED = "created"
    COLLECTED = "collected"
    AT_POST_OFFICE = "at_post_office"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNING = "returning"
    RETURNED_TO_AGENCY = "returned_to_agency"
    PICKUP_SCHEDULED = "pickup_scheduled"
    PICKED_UP = "picked_up"
    PICKUP_FAILED = "pickup_failed"
    DELIVERED_TO_AGENCY = "delivered_to_agency"
    CANCELLED = "cancelled"


S = Status
TRANSITIONS: dict[Kind, dict[Status, frozenset[Status]]] = {
    Kind.RESULT_DELIVERY: {
        S.CREATED: frozenset({S.COLLECTED, S.CANCELLED}),
        S.COLLECTED: frozenset({S.AT_POST_OFFICE}),
        S.AT_POST_OFFICE: frozenset({S.OUT_FOR_DELIVERY, S.RETURNING}),
        S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.DELIVERY_FAILED}),
        S.DELIVERY_FAILED: frozenset({S.OUT_FOR_DELIVERY, S.RETURNING}),
        S.RETURNING: frozenset({S.RETURNED_TO_AGENCY}),
        S.DELIVERED: frozenset(),
        S.RETURNED_TO_AGENCY: frozenset(),
        S.CANCELLED: frozenset(),
    },
    Kind.DOSSIER_PICKUP: {
        # Until the courier has the dossier in hand, the citizen may still cancel.
        S.CREATED: frozenset({S.PICKUP_SCHEDULED, S.CANCELLED}),
        S.PICKUP_SCHEDULED: frozenset({S.PICKED_UP, S.PICKUP_FAILED, S.CANCELLED}),
        S.PICKUP_FAILED: frozenset({S.PICKUP_SCHEDULED, S.CANCELLED}),
        S.PICKED_UP: frozenset({S.AT_POST_OFFICE}),
        S.AT_POST_OFFICE: frozenset({S.OUT_FOR_DELIVERY}),
        S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED_TO_AGENCY}),
        S.DELIVERED_TO_AGENCY: frozenset(),
        S.CANCELLED: frozenset(),
    },
}


class InvalidTransition(Conflict):
    code = "invalid_transition"


def allowed_next(kind: Kind, current: Status) -> frozenset[Status]:
    """The statuses an order of `kind` may move to from `current`."""
    return TRANSITIONS[kind].get(current, frozenset())


def check_transition(kind: Kind, current: Status, target: Status) -> None:
    """Raise InvalidTransition unless the table allows `current` -> `target` for `kind`."""
    if target not in allowed_next(kind, current):
        raise InvalidTransition(
            f"A {kind.value} order cannot go from {current.value} to {target.value}.",
            details={"current_status": current.value, "requested_status": target.value})
