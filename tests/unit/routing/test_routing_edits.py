"""Moving a stop in a solved plan: out of its trip, into the courier's at the cheapest feasible
place, re-timed and checked; an infeasible move is refused with its reason."""
from __future__ import annotations

import pytest

from postal_svc.routing.checker import check_solution
from postal_svc.routing.edits import InvalidMove, Move, MoveNotFeasible, TripPlan, move_stop
from postal_svc.routing.matrix import PlanarMatrix, ProfileMatrices
from postal_svc.routing.model import (
    Courier, Depot, Load, PairedRequest, Problem, Solution, Stop, StopKind, TimeWindow, Trip)

MATRIX = PlanarMatrix(scale=1.0, speed=1.0)  # metres = seconds
DAY = (Trip("t1", 0, 2000), Trip("t2", 3000, 5000))


def stop(sid: str, x: float, y: float, **kw) -> Stop:
    return Stop(sid, (x, y), kw.pop("kind", StopKind.DELIVERY), kw.pop("load", Load(1, 100)),
                kw.pop("service_s", 10), **kw)


def day(*extra: Stop, c2: Courier | None = None, pairs=()) -> Problem:
    stops = (stop("a", 100, 0), stop("b", 200, 0), stop("c", 0, 100), stop("d", 0, 200), *extra)
    return Problem(Depot("depot", (0.0, 0.0)),
                   (Courier("c1", DAY, Load(10, 10_000)), c2 or Courier("c2", DAY, Load(10, 10_000))),
                   stops, pairs=tuple(pairs))


PLAN = (TripPlan("c1", "t1", 0, ("a", "b")), TripPlan("c2", "t1", 0, ("c", "d")))


def test_a_moved_stop_leaves_its_trip_and_takes_the_cheapest_place_in_the_couriers_trip():
    problem = day()
    result = move_stop(problem, PLAN, Move("b", "c2"), MATRIX)
    source, target = result.routes[("c1", "t1")], result.routes[("c2", "t1")]
    assert source.stop_ids == ["a"] and target.stop_ids == ["c", "d", "b"]
    # depot -> c -> d -> b -> depot: 100 + 100 + 283 + 200 metres, re-timed from the matrix
    assert target.distance_m == 683
    assert [v.arrival_s for v in target.visits] == [100, 210, 503]
    assert target.start_load == Load(3, 300) and source.start_load == Load(1, 100)
    assert {t.key: t.stop_ids for t in result.trips} == {
        ("c1", "t1"): ("a",), ("c2", "t1"): ("c", "d", "b")}
    assert check_solution(problem, Solution((source, target), (), 0), MATRIX) == []


def test_a_stop_goes_where_it_is_told_when_a_trip_and_position_are_given():
    result = move_stop(day(), PLAN, Move("b", "c2", "t1", 1), MATRIX)
    assert result.routes[("c2", "t1")].stop_ids == ["b", "c", "d"]
    result = move_stop(day(), PLAN, Move("a", "c2", "t2"), MATRIX)
    assert result.routes[("c2", "t2")].stop_ids == ["a"]
    assert result.routes[("c2", "t2")].depart_s == 3000


def test_moving_the_last_stop_of_a_trip_empties_it():
    plan = (TripPlan("c1", "t1", 0, ("a",)), TripPlan("c2", "t1", 0, ("b", "c", "d")))
    result = move_stop(day(), plan, Move("a", "c2"), MATRIX)
    assert result.routes[("c1", "t1")] is None
    assert [t.key for t in result.trips] == [("c2", "t1")]


def test_paired_legs_move_together_pickup_first():
    legs = (stop("pa", 50, 50, kind=StopKind.PICKUP), stop("pb", 60, 60))
    problem = day(*legs, pairs=[PairedRequest("p", "pa", "pb")])
    plan = (TripPlan("c1", "t1", 0, ("a", "pa", "b", "pb")), TripPlan("c2", "t1", 0, ("c", "d")))
    result = move_stop(problem, plan, Move("pb", "c2"), MATRIX)
    assert result.routes[("c1", "t1")].stop_ids == ["a", "b"]
    moved = result.routes[("c2", "t1")].stop_ids
    assert moved.index("pa") < moved.index("pb")


@pytest.mark.parametrize("c2, extra_window, reason", [
    (Courier("c2", DAY[:1], Load(2, 10_000)), (), "capacity"),
    (Courier("c2", (Trip("t1", 0, 600),)), (), "shift"),
    (Courier("c2", (Trip("t1", 500, 2000),)), (TimeWindow(0, 600),), "time_window"),
])
def test_a_move_the_courier_cannot_make_is_refused_with_its_reason(c2, extra_window, reason):
    problem = day(stop("e", 200, 0, windows=extra_window), c2=c2)
    plan = (TripPlan("c1", "t1", 0, ("a", "e")), TripPlan("c2", "t1", c2.trips[0].start_s, ("c", "d")))
    with pytest.raises(MoveNotFeasible) as refused:
        move_stop(problem, plan, Move("e", "c2"), MATRIX)
    assert refused.value.reason == reason and refused.value.details["stop_id"] == "e"
    assert refused.value.errors["moves"]


@pytest.mark.parametrize("move", [
    Move("zz", "c2"), Move("b", "nobody"), Move("b", "c2", "t9"), Move("b", "c2", "t1", 4),
    Move("b", "c2", "t1", 0),
])
def test_a_move_naming_nothing_planned_is_invalid(move):
    with pytest.raises(InvalidMove):
        move_stop(day(), PLAN, move, MATRIX)


def test_a_move_to_a_bicycle_courier_is_timed_at_the_bicycles_speed():
    matrices = ProfileMatrices({"motorbike": MATRIX, "bicycle": PlanarMatrix(speed=0.5)}, "motorbike")
    problem = day(c2=Courier("c2", DAY, Load(10, 10_000), profile="bicycle"))
    result = move_stop(problem, PLAN, Move("b", "c2"), matrices)
    target = result.routes[("c2", "t1")]
    assert [v.arrival_s for v in target.visits] == [200, 410, 986]  # twice the seconds a metre
    assert result.routes[("c1", "t1")].visits[0].arrival_s == 100  # the motorbike is unchanged
