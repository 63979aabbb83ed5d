"""Couriers' speed profiles: one matrix per profile, used alike by the solver and the checker."""
from __future__ import annotations

import numpy as np
import pytest

from postal_svc.config import DEFAULT_SPEED_PROFILES, Settings
from postal_svc.routing.checker import ViolationKind, check_solution
from postal_svc.routing.matrix import HaversineMatrix, ProfileMatrices
from postal_svc.routing.model import (
    AssignmentLock, Courier, Depot, Load, Problem, Stop, StopKind, Trip, hhmm)
from postal_svc.routing.solver import PyVRPSolver

DEPOT = (10.8500, 106.7720)
SPEEDS = ProfileMatrices.haversine(DEFAULT_SPEED_PROFILES, "motorbike")


def homes(n: int, seed: int = 3) -> tuple[Stop, ...]:
    rng = np.random.default_rng(seed)
    return tuple(Stop(f"s{i}", (DEPOT[0] + float(rng.uniform(-0.02, 0.02)),
                                DEPOT[1] + float(rng.uniform(-0.02, 0.02))),
                      StopKind.DELIVERY, Load(1, 500), 120) for i in range(n))


def test_a_bicycle_courier_reaches_the_same_stops_later_than_a_motorbike():
    # one stop per trip (locked), so each arrival is the trip's start plus the ride out
    trips = tuple(Trip(f"t{k}", hhmm("09:30") + k * 3600, hhmm("10:30") + k * 3600) for k in range(3))
    stops = homes(3)
    arrivals = {}
    for profile in ("motorbike", "bicycle"):
        problem = Problem(Depot("po", DEPOT), (Courier("c", trips, profile=profile),), stops,
                          assignment_locks=tuple(AssignmentLock(s.id, "c", f"t{k}")
                                                 for k, s in enumerate(stops)))
        solution = PyVRPSolver(SPEEDS, seed=0).solve(problem, 0.5)
        assert check_solution(problem, solution, SPEEDS) == [] and not solution.unassigned
        arrivals[profile] = {v.stop_id: v.arrival_s for r in solution.routes for v in r.visits}
    for sid, moto in arrivals["motorbike"].items():
        assert arrivals["bicycle"][sid] > moto + 60, sid


def test_a_mixed_fleet_solves_and_the_checker_times_each_courier_by_its_profile():
    shift = (Trip("t1", hhmm("07:30"), hhmm("11:30")),)
    couriers = (Courier("moto", shift, Load(12, 30_000)), Courier("bike", shift, Load(12, 30_000), "bicycle"),
                Courier("car", shift, Load(12, 30_000), "car"))
    problem = Problem(Depot("po", DEPOT), couriers, homes(30))
    solution = PyVRPSolver(SPEEDS, seed=0).solve(problem, 1.5)
    assert check_solution(problem, solution, SPEEDS) == []
    assert not solution.unassigned and {r.courier_id for r in solution.routes} == {"moto", "bike", "car"}
    # timed as if everyone rode a motorbike, the bicycle's and the car's routes no longer add up
    flagged = {v.courier_id for v in check_solution(problem, solution, HaversineMatrix())
               if v.kind is ViolationKind.SCHEDULE}
    assert flagged == {"bike", "car"}


def test_a_courier_with_an_unknown_profile_is_a_problem_error():
    problem = Problem(Depot("po", DEPOT), (Courier("c", (Trip("t1", 0, 3600),), profile="rocket"),), homes(1))
    with pytest.raises(ValueError, match="rocket"):
        PyVRPSolver(SPEEDS).solve(problem, 0.2)
    assert [v.kind for v in check_solution(problem, _one_route(problem), SPEEDS)] == [ViolationKind.COURIER]


def _one_route(problem: Problem):
    from postal_svc.routing.model import Route, Solution, Visit
    visit = Visit("s0", 0, 0, 0, Load())
    return Solution((Route("c", "t1", 0, 0, Load(), (visit,), 0, 0, 0),), (), 0)


def test_settings_add_and_change_profiles_and_refuse_nonsense():
    settings = Settings(speed_profiles='{"bicycle": {"offpeak_outer_kmh": 16}, "cargo_bike": {"circuity": 1.3}}')
    profiles = settings.travel_profiles()
    assert profiles["bicycle"]["offpeak_outer_kmh"] == 16 and profiles["bicycle"]["circuity"] == 1.3
    assert profiles["cargo_bike"]["offpeak_centre_kmh"] == DEFAULT_SPEED_PROFILES["motorbike"]["offpeak_centre_kmh"]
    assert set(profiles) == {"motorbike", "bicycle", "walking", "car", "cargo_bike"}
    for bad in ('[1]', '{"x": {"kmh": 3}}', '{"x": {"circuity": 0.5}}', '{"x": {"peak_outer_kmh": -1}}',
                '{"x": 1}', 'not json', '{"x": {"circuity": true}}'):
        with pytest.raises(ValueError, match="POSTAL_SPEED_PROFILES"):
            Settings(speed_profiles=bad).validate()
    with pytest.raises(ValueError, match="POSTAL_DEFAULT_SPEED_PROFILE"):
        Settings(default_speed_profile="rocket").validate()
