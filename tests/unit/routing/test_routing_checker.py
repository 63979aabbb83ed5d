"""The independent checker: a hand-made feasible plan passes; each kind of defect is caught."""
from __future__ import annotations

from dataclasses import replace

from postal_svc.routing.checker import ViolationKind, check_solution
from postal_svc.routing.matrix import PlanarMatrix
from postal_svc.routing.model import (
    AssignmentLock,
    Courier,
    Depot,
    Load,
    PairedRequest,
    Problem,
    Route,
    SequenceLock,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    Trip,
    Unassigned,
    UnassignedReason,
    Visit,
)

# 1 unit of distance = 1 m = 1 s: times below are computed by hand.
MATRIX = PlanarMatrix(scale=1.0, speed=1.0)
AM, PM = Trip("am", 0, 1000), Trip("pm", 2000, 3000)


def problem(**changes: object) -> Problem:
    base = Problem(
        depot=Depot("po", (0, 0)),
        couriers=(Courier("c1", (AM, PM), Load(3, 10_000)), Courier("c2", (AM,), Load(3, 10_000))),
        stops=(
            Stop("a", (0, 100), StopKind.DELIVERY, Load(2, 500), 10, (TimeWindow(0, 500),)),
            Stop("b", (100, 100), StopKind.PICKUP, Load(1, 100), 10),
            Stop("p", (100, 0), StopKind.PICKUP, Load(1, 50), 10),
            Stop("d", (200, 0), StopKind.DELIVERY, Load(1, 50), 10),
        ),
        pairs=(PairedRequest("r1", "p", "d"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def good_plan() -> Solution:
    # am: depot -100-> a (arr 100, dep 110) -100-> b (arr 210, dep 220) -141-> depot (361)
    am = Route("c1", "am", depart_s=0, return_s=361, start_load=Load(2, 500), visits=(
        Visit("a", 100, 100, 110, Load(0, 0)),
        Visit("b", 210, 210, 220, Load(1, 100)),
    ), distance_m=341, duration_s=361, travel_s=341)
    # pm: depot -100-> p (2100..2110) -100-> d (2210..2220) -200-> depot (2420)
    pm = Route("c1", "pm", depart_s=2000, return_s=2420, start_load=Load(), visits=(
        Visit("p", 2100, 2100, 2110, Load(1, 50)),
        Visit("d", 2210, 2210, 2220, Load(0, 0)),
    ), distance_m=400, duration_s=420, travel_s=400)
    return Solution(routes=(am, pm), unassigned=(), cost=0)


def kinds(p: Problem, s: Solution) -> set[ViolationKind]:
    return {v.kind for v in check_solution(p, s, MATRIX)}


def test_hand_computed_plan_has_no_violations() -> None:
    assert check_solution(problem(), good_plan(), MATRIX) == []


def test_service_starting_after_the_window_closes_is_a_time_window_violation() -> None:
    stops = list(problem().stops)
    stops[0] = replace(stops[0], windows=(TimeWindow(0, 50),))
    violations = check_solution(problem(stops=tuple(stops)), good_plan(), MATRIX)
    assert [(v.kind, v.stop_id) for v in violations] == [(ViolationKind.TIME_WINDOW, "a")]


def test_arriving_at_lunch_waits_for_the_afternoon_window() -> None:
    office = (TimeWindow(27_000, 41_400), TimeWindow(46_800, 61_200))  # 07:30-11:30, 13:00-17:00
    p = problem(
        couriers=(Courier("c1", (Trip("day", 41_500, 62_000),), Load(3, 10_000)),),
        stops=(Stop("agency", (0, 100), StopKind.PICKUP, Load(1, 0), 60, office),),
        pairs=(),
    )
    arrival = 41_600
    route = Route("c1", "day", 41_500, 46_960, Load(), (Visit("agency", arrival, 46_800, 46_860, Load(1, 0)),), 200, 5_460, 200)
    assert check_solution(p, Solution((route,), (), 0), MATRIX) == []
    early = replace(route, visits=(Visit("agency", arrival, arrival, arrival + 60, Load(1, 0)),), return_s=41_760, duration_s=260)
    assert ViolationKind.SCHEDULE in kinds(p, Solution((early,), (), 0))


def test_load_above_capacity_when_leaving_the_depot_is_a_capacity_violation() -> None:
    p = problem(couriers=(Courier("c1", (AM, PM), Load(1, 10_000)), Courier("c2", (AM,), Load(3, 10_000))))
    violations = check_solution(p, good_plan(), MATRIX)
    assert {v.kind for v in violations} == {ViolationKind.CAPACITY}
    assert {(v.courier_id, v.trip_id) for v in violations} == {("c1", "am")}


def test_weight_above_capacity_after_a_pickup_is_a_capacity_violation() -> None:
    p = problem(couriers=(Courier("c1", (AM, PM), Load(3, 520)), Courier("c2", (AM,), Load(3, 10_000))))
    violations = check_solution(p, good_plan(), MATRIX)
    assert [(v.kind, v.stop_id) for v in violations] == []  # 500 g at start, 100 g after b: fits 520 g
    p = problem(couriers=(Courier("c1", (AM, PM), Load(3, 499)), Courier("c2", (AM,), Load(3, 10_000))))
    assert kinds(p, good_plan()) == {ViolationKind.CAPACITY}


def test_returning_after_the_trip_ends_or_leaving_early_is_a_shift_violation() -> None:
    short = problem(couriers=(Courier("c1", (Trip("am", 0, 300), PM), Load(3, 10_000)), Courier("c2", (AM,), Load(3, 10_000))))
    assert kinds(short, good_plan()) == {ViolationKind.SHIFT}
    plan = good_plan()
    pm = plan.routes[1]
    early = replace(pm, depart_s=1900, return_s=2320, visits=tuple(
        replace(v, arrival_s=v.arrival_s - 100, start_s=v.start_s - 100, departure_s=v.departure_s - 100) for v in pm.visits))
    assert kinds(problem(), Solution((plan.routes[0], early), (), 0)) == {ViolationKind.SHIFT}


def test_delivery_before_its_pickup_or_in_another_trip_is_a_pairing_violation() -> None:
    plan = good_plan()
    pm = plan.routes[1]
    swapped = replace(pm, visits=(pm.visits[1], pm.visits[0]))
    assert ViolationKind.PAIRING in kinds(problem(), Solution((plan.routes[0], swapped), (), 0))
    split = Solution((plan.routes[0], replace(pm, visits=pm.visits[:1])), (Unassigned("d", UnassignedReason.NO_ROOM),), 0)
    assert ViolationKind.PAIRING in kinds(problem(), split)


def test_a_stop_missing_twice_or_both_planned_and_unassigned_is_an_assignment_violation() -> None:
    plan = good_plan()
    am = plan.routes[0]
    missing = Solution((replace(am, visits=am.visits[:1]), plan.routes[1]), (), 0)
    assert ViolationKind.ASSIGNMENT in kinds(problem(), missing)
    both = replace(plan, unassigned=(Unassigned("a", UnassignedReason.TIME_WINDOW),))
    assert kinds(problem(), both) == {ViolationKind.ASSIGNMENT}
    reported_missing = Solution((replace(am, visits=am.visits[:1]), plan.routes[1]), (Unassigned("b", UnassignedReason.SHIFT),), 0)
    assert ViolationKind.ASSIGNMENT not in kinds(problem(), reported_missing)


def test_a_stop_planned_on_another_courier_than_its_lock_is_a_lock_violation() -> None:
    p = problem(assignment_locks=(AssignmentLock("a", "c2"),))
    assert kinds(p, good_plan()) == {ViolationKind.LOCK}
    p = problem(assignment_locks=(AssignmentLock("a", "c1", "pm"),))
    assert kinds(p, good_plan()) == {ViolationKind.LOCK}
    assert kinds(problem(assignment_locks=(AssignmentLock("a", "c1", "am"),)), good_plan()) == set()


def test_a_locked_sequence_planned_in_another_order_is_a_lock_violation() -> None:
    assert kinds(problem(sequence_locks=(SequenceLock("c1", "am", ("a", "b")),)), good_plan()) == set()
    assert kinds(problem(sequence_locks=(SequenceLock("c1", "am", ("b", "a")),)), good_plan()) == {ViolationKind.LOCK}


def test_reported_times_loads_or_totals_that_differ_from_the_matrix_are_caught() -> None:
    plan = good_plan()
    am = plan.routes[0]
    late = replace(am, visits=(replace(am.visits[0], arrival_s=99), am.visits[1]))
    assert kinds(problem(), Solution((late, plan.routes[1]), (), 0)) == {ViolationKind.SCHEDULE}
    wrong_load = replace(am, visits=(am.visits[0], replace(am.visits[1], load_after=Load(0, 0))))
    assert kinds(problem(), Solution((wrong_load, plan.routes[1]), (), 0)) == {ViolationKind.SCHEDULE}
    short = replace(am, distance_m=300)
    assert kinds(problem(), Solution((short, plan.routes[1]), (), 0)) == {ViolationKind.TOTALS}


def test_unknown_courier_and_a_trip_planned_twice_are_courier_violations() -> None:
    plan = good_plan()
    ghost = replace(plan.routes[0], courier_id="ghost")
    assert ViolationKind.COURIER in kinds(problem(), Solution((ghost, plan.routes[1]), (), 0))
    empty_again = Route("c1", "pm", 2000, 2000, Load(), (), 0, 0, 0)
    twice = Solution((*plan.routes, empty_again), (), 0)
    assert [(v.kind, v.trip_id) for v in check_solution(problem(), twice, MATRIX)] == [(ViolationKind.COURIER, "pm")]
