"""The status lifecycle of both order kinds, checked over every (kind, from, to) pair.

The expected table is written out here from DOMAIN.md ("Status lifecycle"), not copied from
the code, so a change to the code's table must be a deliberate change to this one too.
"""
from __future__ import annotations

import itertools

import pytest

from postal_svc.errors import Conflict
from postal_svc.shipments.lifecycle import InvalidTransition, Kind, Status, allowed_next, check_transition

RD, DP = Kind.RESULT_DELIVERY, Kind.DOSSIER_PICKUP

EXPECTED: dict[Kind, set[tuple[str, str]]] = {
    # created -> collected (from the agency) -> at_post_office -> out_for_delivery -> delivered,
    # or delivery_failed -> (re-attempt) out_for_delivery ... -> after the last allowed attempt
    # returning -> returned_to_agency.
    RD: {
        ("created", "collected"),
        ("collected", "at_post_office"),
        ("at_post_office", "out_for_delivery"),
        # An item that cannot go out again (e.g. the last attempt is used up) goes back.
        ("at_post_office", "returning"),
        ("out_for_delivery", "delivered"),
        ("out_for_delivery", "delivery_failed"),
        ("delivery_failed", "out_for_delivery"),
        ("delivery_failed", "returning"),
        ("returning", "returned_to_agency"),
        # Cancelling only before the result is in the courier's hands.
        ("created", "cancelled"),
    },
    # created -> pickup_scheduled -> picked_up, or pickup_failed (re-attempt) -> at_post_office
    # -> out_for_delivery -> delivered_to_agency.
    DP: {
        ("created", "pickup_scheduled"),
        ("pickup_scheduled", "picked_up"),
        ("pickup_scheduled", "pickup_failed"),
        ("pickup_failed", "pickup_scheduled"),
        ("picked_up", "at_post_office"),
        ("at_post_office", "out_for_delivery"),
        ("out_for_delivery", "delivered_to_agency"),
        # Until the courier has picked the dossier up, the citizen may still cancel.
        ("created", "cancelled"),
        ("pickup_scheduled", "cancelled"),
        ("pickup_failed", "cancelled"),
    },
}

ALL_PAIRS = [
    pytest.param(kind, current, target, id=f"{kind.value}:{current.value}->{target.value}")
    for kind, current, target in itertools.product(Kind, Status, Status)
]


@pytest.mark.parametrize(("kind", "current", "target"), ALL_PAIRS)
def test_transition_is_allowed_exactly_when_the_domain_allows_it(kind, current, target):
    if (current.value, target.value) in EXPECTED[kind]:
        check_transition(kind, current, target)  # does not raise
        assert target in allowed_next(kind, current)
    else:
        with pytest.raises(InvalidTransition) as raised:
            check_transition(kind, current, target)
        assert raised.value.code == "invalid_transition"
        assert target not in allowed_next(kind, current)


def test_invalid_transition_is_a_conflict_naming_both_statuses():
    with pytest.raises(InvalidTransition) as raised:
        check_transition(RD, Status.DELIVERED, Status.CANCELLED)
    assert isinstance(raised.value, Conflict)
    assert raised.value.details == {"current_status": "delivered", "requested_status": "cancelled"}


CANCELLABLE = {
    RD: {"created"},
    DP: {"created", "pickup_scheduled", "pickup_failed"},
}


@pytest.mark.parametrize(("kind", "current"), [
    pytest.param(kind, status, id=f"{kind.value}:{status.value}")
    for kind in Kind for status in Status])
def test_cancel_is_allowed_only_before_the_item_is_in_a_couriers_hands(kind, current):
    allowed = Status.CANCELLED in allowed_next(kind, current)
    assert allowed == (current.value in CANCELLABLE[kind])


@pytest.mark.parametrize("kind", list(Kind))
def test_terminal_statuses_lead_nowhere(kind):
    terminal = {RD: ["delivered", "returned_to_agency", "cancelled"],
                DP: ["delivered_to_agency", "cancelled"]}[kind]
    for status in terminal:
        assert allowed_next(kind, Status(status)) == frozenset()


@pytest.mark.parametrize("kind", list(Kind))
def test_every_status_of_a_kind_is_reachable_from_created(kind):
    seen, frontier = {"created"}, ["created"]
    while frontier:
        current = frontier.pop()
        for nxt in allowed_next(kind, Status(current)):
            if nxt.value not in seen:
                seen.add(nxt.value)
                frontier.append(nxt.value)
    statuses_of_kind = {s for pair in EXPECTED[kind] for s in pair}
    assert seen == statuses_of_kind


def test_a_result_delivery_cannot_use_pickup_statuses_and_vice_versa():
    with pytest.raises(InvalidTransition):
        check_transition(RD, Status.CREATED, Status.PICKUP_SCHEDULED)
    with pytest.raises(InvalidTransition):
        check_transition(DP, Status.CREATED, Status.COLLECTED)
    with pytest.raises(InvalidTransition):
        check_transition(DP, Status.OUT_FOR_DELIVERY, Status.DELIVERED)
