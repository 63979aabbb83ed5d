"""The order status lifecycle of both kinds as one explicit transition table (pure)."""
from __future__ import annotations

from dataclasses import dataclass
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


class FailureReason(StrEnum):
    """Why an attempt failed: one code each, as couriers record them."""

    RECIPIENT_NOT_HOME = "recipient_not_home"
    RECIPIENT_REFUSED = "recipient_refused"
    IDENTITY_VERIFICATION_FAILED = "identity_verification_failed"
    ADDRESS_NOT_FOUND = "address_not_found"
    INCORRECT_ADDRESS = "incorrect_address"
    ACCESS_RESTRICTED = "access_restricted"
    DOCUMENTS_INCOMPLETE = "documents_incomplete"  # pickups only
    OTHER = "other"


FAILED = {Kind.RESULT_DELIVERY: Status.DELIVERY_FAILED, Kind.DOSSIER_PICKUP: Status.PICKUP_FAILED}
# Where an order goes by itself after its last allowed failed attempt: a result goes back to
# the agency; a dossier that was never picked up has nothing to carry, so the order ends.
AFTER_LAST_ATTEMPT = {Kind.RESULT_DELIVERY: Status.RETURNING, Kind.DOSSIER_PICKUP: Status.CANCELLED}
ATTEMPTS_EXHAUSTED = "attempts_exhausted"


@dataclass(frozen=True)
class Step:
    """One status change; `automatic` when the lifecycle made it, not the caller."""

    status: Status
    automatic: bool = False
    reason: str | None = None


def plan_event(kind: Kind, current: Status, failed_attempts: int, requested: Status, *,
               max_attempts: int) -> tuple[list[Step], int]:
    """The status changes a requested event causes, and the failed-attempt count after it.

    Raises InvalidTransition when the table forbids the move. A failed attempt counts; the
    last allowed one (`max_attempts`) is followed at once by the automatic step of
    AFTER_LAST_ATTEMPT.
    """
    check_transition(kind, current, requested)
    steps = [Step(requested)]
    if requested is FAILED[kind]:
        failed_attempts += 1
        if failed_attempts >= max_attempts:
            steps.append(Step(AFTER_LAST_ATTEMPT[kind], automatic=True, reason=ATTEMPTS_EXHAUSTED))
    return steps, failed_attempts
