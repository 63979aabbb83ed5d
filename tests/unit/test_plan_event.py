"""plan_event: what a requested event does to an order, attempts and the automatic last step.

The static table is covered in test_lifecycle.py; this file checks the dynamic part from
DOMAIN.md ("Status lifecycle"): failed attempts are counted, a re-attempt is allowed before
the limit, and the last allowed failed attempt is followed at once, by itself, by `returning`
(a result goes back to the agency) or `cancelled` (a dossier never picked up ends).
"""
from __future__ import annotations

import pytest

from postal_svc.shipments.lifecycle import (
    ATTEMPTS_EXHAUSTED, TRANSITIONS, InvalidTransition, Kind, Status, Step, plan_event)

RD, DP = Kind.RESULT_DELIVERY, Kind.DOSSIER_PICKUP
S = Status

# Written from DOMAIN.md, not read from the code.
FAILED_STATUS = {RD: S.DELIVERY_FAILED, DP: S.PICKUP_FAILED}
AFTER_LAST = {RD: S.RETURNING, DP: S.CANCELLED}
# The status an order is in when a courier goes out for (another) attempt, and the status
# a re-attempt moves it back to.
ATTEMPT_FROM = {RD: S.OUT_FOR_DELIVERY, DP: S.PICKUP_SCHEDULED}
RE_ATTEMPT = {RD: S.OUT_FOR_DELIVERY, DP: S.PICKUP_SCHEDULED}


def walk(kind: Kind, moves: list[Status], *, max_attempts: int) -> tuple[Status, int, list[Step]]:
    """Apply `moves` from `created` as record_event would; return status, count, every step."""
    status, count, every = S.CREATED, 0, []
    for move in moves:
        steps, count = plan_event(kind, status, count, move, max_attempts=max_attempts)
        every.extend(steps)
        status = steps[-1].status
    return status, count, every


# -- ordinary moves ---------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "moves"), [
    (RD, [S.COLLECTED, S.AT_POST_OFFICE, S.OUT_FOR_DELIVERY, S.DELIVERED]),
    (DP, [S.PICKUP_SCHEDULED, S.PICKED_UP, S.AT_POST_OFFICE, S.OUT_FOR_DELIVERY,
          S.DELIVERED_TO_AGENCY]),
], ids=["result_delivery", "dossier_pickup"])
def test_a_happy_path_is_one_manual_step_per_event_and_counts_no_attempt(kind, moves):
    status, count, steps = walk(kind, moves, max_attempts=2)
    assert [s.status for s in steps] == moves
    assert all(not s.automatic and s.reason is None for s in steps)
    assert status is moves[-1]
    assert count == 0


@pytest.mark.parametrize("kind", list(Kind))
def test_a_move_that_is_not_a_failure_keeps_the_attempt_count_as_it_was(kind):
    # An order already failed once and now goes out again: the count is not reset.
    steps, count = plan_event(kind, FAILED_STATUS[kind], 1, RE_ATTEMPT[kind], max_attempts=3)
    assert steps == [Step(RE_ATTEMPT[kind])]
    assert count == 1


def test_plan_event_returns_a_new_count_and_leaves_its_inputs_alone():
    failed_before = 0
    _, after = plan_event(RD, S.OUT_FOR_DELIVERY, failed_before, S.DELIVERY_FAILED,
                          max_attempts=3)
    assert (failed_before, after) == (0, 1)


# -- failed attempts and the automatic step ---------------------------------------------------

@pytest.mark.parametrize("kind", list(Kind))
def test_with_max_attempts_1_the_first_failure_is_followed_by_the_automatic_step(kind):
    steps, count = plan_event(kind, ATTEMPT_FROM[kind], 0, FAILED_STATUS[kind], max_attempts=1)
    assert steps == [Step(FAILED_STATUS[kind]),
                     Step(AFTER_LAST[kind], automatic=True, reason=ATTEMPTS_EXHAUSTED)]
    assert count == 1


@pytest.mark.parametrize("kind", list(Kind))
def test_with_max_attempts_2_the_first_failure_allows_a_reattempt_and_the_second_ends_it(kind):
    fail, again = FAILED_STATUS[kind], RE_ATTEMPT[kind]
    first, count = plan_event(kind, ATTEMPT_FROM[kind], 0, fail, max_attempts=2)
    assert first == [Step(fail)]
    assert count == 1
    retry, count = plan_event(kind, fail, count, again, max_attempts=2)
    assert retry == [Step(again)]
    second, count = plan_event(kind, again, count, fail, max_attempts=2)
    assert second == [Step(fail), Step(AFTER_LAST[kind], automatic=True, reason=ATTEMPTS_EXHAUSTED)]
    assert count == 2


@pytest.mark.parametrize("kind", list(Kind))
def test_with_max_attempts_3_two_failures_leave_the_order_waiting_for_a_third_try(kind):
    fail, again = FAILED_STATUS[kind], RE_ATTEMPT[kind]
    moves = ([S.COLLECTED, S.AT_POST_OFFICE, S.OUT_FOR_DELIVERY] if kind is RD
             else [S.PICKUP_SCHEDULED])
    status, count, steps = walk(kind, [*moves, fail, again, fail], max_attempts=3)
    assert status is fail
    assert count == 2
    assert not any(s.automatic for s in steps)
    # The third failure is the last allowed one.
    last, count = plan_event(kind, again, count, fail, max_attempts=3)
    assert last == [Step(fail), Step(AFTER_LAST[kind], automatic=True, reason=ATTEMPTS_EXHAUSTED)]
    assert count == 3


@pytest.mark.parametrize("max_attempts", [1, 2, 3])
@pytest.mark.parametrize("kind", list(Kind))
def test_the_automatic_step_comes_exactly_on_the_last_allowed_failure(kind, max_attempts):
    fail, again = FAILED_STATUS[kind], RE_ATTEMPT[kind]
    status, count = ATTEMPT_FROM[kind], 0
    automatic_after: list[int] = []
    for attempt in range(1, max_attempts + 1):
        steps, count = plan_event(kind, status, count, fail, max_attempts=max_attempts)
        assert steps[0] == Step(fail)
        assert count == attempt
        if len(steps) > 1:
            automatic_after.append(attempt)
            assert steps[1:] == [Step(AFTER_LAST[kind], automatic=True,
                                      reason=ATTEMPTS_EXHAUSTED)]
            status = steps[-1].status
            break
        steps, count = plan_event(kind, fail, count, again, max_attempts=max_attempts)
        status = steps[-1].status
    assert automatic_after == [max_attempts]
    assert status is AFTER_LAST[kind]


@pytest.mark.parametrize("kind", list(Kind))
def test_after_the_automatic_step_no_further_attempt_is_possible(kind):
    status, _, _ = walk(kind, ([S.COLLECTED, S.AT_POST_OFFICE, S.OUT_FOR_DELIVERY,
                                S.DELIVERY_FAILED, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED]
                               if kind is RD else
                               [S.PICKUP_SCHEDULED, S.PICKUP_FAILED, S.PICKUP_SCHEDULED,
                                S.PICKUP_FAILED]), max_attempts=2)
    assert status is AFTER_LAST[kind]
    for move in (RE_ATTEMPT[kind], FAILED_STATUS[kind]):
        with pytest.raises(InvalidTransition):
            plan_event(kind, status, 2, move, max_attempts=2)


def test_a_returning_result_can_still_be_handed_back_to_the_agency():
    status, count, _ = walk(RD, [S.COLLECTED, S.AT_POST_OFFICE, S.OUT_FOR_DELIVERY,
                                 S.DELIVERY_FAILED], max_attempts=1)
    assert status is S.RETURNING
    steps, count = plan_event(RD, status, count, S.RETURNED_TO_AGENCY, max_attempts=1)
    assert steps == [Step(S.RETURNED_TO_AGENCY)]
    assert count == 1


# -- invalid moves ----------------------------------------------------------------------------

INVALID = [
    pytest.param(kind, current, target, id=f"{kind.value}:{current.value}->{target.value}")
    for kind in Kind for current in Status for target in Status
    if target not in TRANSITIONS[kind].get(current, frozenset())
]


@pytest.mark.parametrize(("kind", "current", "target"), INVALID)
def test_a_move_the_table_forbids_raises_invalid_transition_whatever_the_attempts(
        kind, current, target):
    for failed_attempts in (0, 1, 5):
        with pytest.raises(InvalidTransition) as raised:
            plan_event(kind, current, failed_attempts, target, max_attempts=2)
        assert raised.value.code == "invalid_transition"
        assert raised.value.details == {"current_status": current.value,
                                        "requested_status": target.value}


@pytest.mark.parametrize("kind", list(Kind))
def test_a_failure_of_the_other_kind_is_invalid_and_counts_nothing(kind):
    other = DP if kind is RD else RD
    with pytest.raises(InvalidTransition):
        plan_event(kind, ATTEMPT_FROM[kind], 0, FAILED_STATUS[other], max_attempts=1)


def test_a_result_out_for_delivery_cannot_be_sent_back_by_request_without_a_failed_attempt():
    # Only the lifecycle skips from an attempt in progress to `returning`, never a caller.
    with pytest.raises(InvalidTransition):
        plan_event(RD, S.OUT_FOR_DELIVERY, 1, S.RETURNING, max_attempts=2)
