"""A generated Ho Chi Minh City day through the route planner: 1,000 stops, 25 couriers.

    .venv/bin/python bench/routing_day.py                 # 10 s, 60 s, 120 s and PyVRP direct at 10 s
    .venv/bin/python bench/routing_day.py --limits 10 --no-direct

Stops sit around ward centres (hcmc_wards_2025.csv) within ``--radius-km`` of the central post
office, jittered ~350 m: result deliveries and dossier pickups at citizens' homes (some with
citizen windows), dossier drops at ward offices (office hours 07:30-11:30 / 13:00-17:00), and
paired requests (collect a result at the ward office, deliver it to the citizen in one trip).
Each courier has a morning trip 07:30-11:30 and an afternoon trip 13:00-17:00.
Cost = travel seconds + 3600 per trip used (lower is better).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postal_svc.routing.checker import check_solution
from postal_svc.routing.matrix import HaversineMatrix
from postal_svc.routing.model import (
    OFFICE_HOURS,
    Courier,
    Depot,
    Load,
    Objective,
    PairedRequest,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    Trip,
)
from postal_svc.routing.solver import Progress, PyVRPSolver

WARDS = Path(os.environ.get("POSTAL_WARDS_CSV", Path(__file__).resolve().parents[2] / "shared/data/geo/hcmc_wards_2025.csv"))
POST_OFFICE = (10.7798, 106.6999)  # Saigon Central Post Office
AM = Trip("am", 27_000, 41_400)
PM = Trip("pm", 46_800, 61_200)
CITIZEN_WINDOWS = (TimeWindow.of("08:00", "11:00"), TimeWindow.of("14:00", "17:00"), TimeWindow.of("09:00", "16:00"))


def generate(n_stops: int = 1000, n_couriers: int = 25, radius_km: float = 8.0, seed: int = 7) -> Problem:
    rng = np.random.default_rng(seed)
    with open(WARDS, newline="") as fh:
        wards = [(float(r["lat"]), float(r["lon"])) for r in csv.DictReader(fh)]
    anchors = [w for w in wards if math.hypot((w[0] - POST_OFFICE[0]) * 111.0, (w[1] - POST_OFFICE[1]) * 109.4) <= radius_km]

    def home() -> tuple[float, float]:
        lat, lon = anchors[int(rng.integers(len(anchors)))]
        return (lat + float(rng.normal(0, 0.0032)), lon + float(rng.normal(0, 0.0032)))  # ~350 m

    def service() -> int:
        return int(rng.integers(120, 301))  # 2-5 minutes

    def citizen_windows() -> tuple[TimeWindow, ...]:
        return (CITIZEN_WINDOWS[int(rng.integers(3))],) if rng.random() < 0.4 else ()

    def load() -> Load:
        return Load(1, int(rng.integers(100, 800)))

    n_pairs = n_stops * 15 // 100
    n_agency_drops = n_stops * 5 // 100
    n_pickups = n_stops * 20 // 100
    n_deliveries = n_stops - 2 * n_pairs - n_agency_drops - n_pickups
    stops: list[Stop] = []
    pairs: list[PairedRequest] = []
    for i in range(n_deliveries):
        stops.append(Stop(f"del{i}", home(), StopKind.DELIVERY, load(), service(), citizen_windows()))
    for i in range(n_pickups):
        stops.append(Stop(f"pick{i}", home(), StopKind.PICKUP, load(), service(), citizen_windows()))
    for i in range(n_agency_drops):
        stops.append(Stop(f"drop{i}", anchors[int(rng.integers(len(anchors)))], StopKind.DELIVERY, load(), 300, OFFICE_HOURS))
    for i in range(n_pairs):
        amount = load()
        agency = anchors[int(rng.integers(len(anchors)))]
        stops.append(Stop(f"res{i}", agency, StopKind.PICKUP, amount, 300, OFFICE_HOURS))
        stops.append(Stop(f"cit{i}", home(), StopKind.DELIVERY, amount, service(), citizen_windows()))
        pairs.append(PairedRequest(f"req{i}", f"res{i}", f"cit{i}"))
    couriers = tuple(Courier(f"courier{k:02d}", (AM, PM), Load.of_kg(60, 40.0)) for k in range(n_couriers))
    return Problem(Depot("po", POST_OFFICE), couriers, tuple(stops), tuple(pairs), objective=Objective())


def solve_planner(problem: Problem, matrix: HaversineMatrix, limit: float, iterations: int | None = None) -> tuple[object, list[Progress]]:
    seen: list[Progress] = []
    solver = PyVRPSolver(matrix, seed=0, progress_interval_s=0.0, max_iterations=iterations)
    solution = solver.solve(problem, limit, on_progress=seen.append)
    assert check_solution(problem, solution, matrix) == []
    return solution, seen


def solve_direct(problem: Problem, matrix: HaversineMatrix, limit: float, iterations: int | None = None) -> tuple[float, int, float | None]:
    """The same day written straight against PyVRP: required clients and shipments, one vehicle
    type per shift with a duration profile each, hull windows (trips match office hours)."""
    from pyvrp import Client, Location, ProblemData, Shipment, VehicleType
    from pyvrp import Depot as PDepot
    from pyvrp.IteratedLocalSearch import (
        IteratedLocalSearchCallbacks,
        IteratedLocalSearchParams,
    )
    from pyvrp.solve import SolveParams, solve

    t0 = time.perf_counter()
    points = [problem.depot.location] + [s.location for s in problem.stops]
    loc = {s.id: i + 1 for i, s in enumerate(problem.stops)}
    tables = [matrix.table(points, during=(t.start_s, t.end_s)) for t in (AM, PM)]
    paired = {sid for p in problem.pairs for sid in (p.pickup_id, p.delivery_id)}

    def tw(s: Stop) -> tuple[int, int]:
        return (s.windows[0].start_s, s.windows[-1].end_s) if s.windows else (0, PM.end_s)

    clients = []
    for s in problem.stops:
        if s.id in paired:
            continue
        e, l_ = tw(s)
        amount = s.load.as_list()
        clients.append(Client(loc[s.id], delivery=amount if s.kind is StopKind.DELIVERY else [0, 0],
                              pickup=amount if s.kind is StopKind.PICKUP else [0, 0],
                              service_duration=s.service_s, tw_early=e, tw_late=l_))
    by_id = problem.stop_by_id()
    shipments = []
    for p in problem.pairs:
        pu, de = by_id[p.pickup_id], by_id[p.delivery_id]
        (pe, pl), (de_, dl) = tw(pu), tw(de)
        shipments.append(Shipment(loc[pu.id], loc[de.id], pe, pl, pu.service_s, de_, dl, de.service_s, amount=pu.load.as_list()))
    cap = problem.couriers[0].capacity.as_list()
    n = len(problem.couriers)
    vts = [VehicleType(n, capacity=cap, tw_early=t.start_s, tw_late=t.end_s, fixed_cost=3600, profile=k)
           for k, t in enumerate((AM, PM))]
    data = ProblemData([Location(lon, lat) for lat, lon in points], clients, [PDepot(0)], vts,
                       [t.duration_s for t in tables], [t.duration_s for t in tables], [], shipments)
    first: list[float] = []

    class Cb(IteratedLocalSearchCallbacks):
        def on_best(self, best: object) -> None:
            if not first and best.is_feasible():  # type: ignore[attr-defined]
                first.append(time.perf_counter() - t0)

    deadline = t0 + limit
    calls = [0]

    def stop(_: float) -> bool:
        calls[0] += 1
        return time.perf_counter() >= deadline or (iterations is not None and calls[0] > iterations)

    res = solve(data, stop=stop, seed=0, collect_stats=False,
                params=SolveParams(ils=IteratedLocalSearchParams(callbacks=Cb())))
    best = res.best
    cost = float(best.distance_cost() + best.fixed_vehicle_cost()) if best.is_feasible() else math.inf
    return cost, best.num_routes(), (first[0] if first else None)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stops", type=int, default=1000)
    ap.add_argument("--couriers", type=int, default=25)
    ap.add_argument("--radius-km", type=float, default=8.0)
    ap.add_argument("--limits", nargs="+", type=float, default=[10.0, 60.0, 120.0])
    ap.add_argument("--no-direct", action="store_true")
    ap.add_argument("--iterations", type=int, default=2000,
                    help="also compare planner and direct at this equal iteration budget (0: skip)")
    args = ap.parse_args(argv)

    problem = generate(args.stops, args.couriers, args.radius_km)
    matrix = HaversineMatrix()
    points = [problem.depot.location] + [s.location for s in problem.stops]
    t = time.perf_counter()
    matrix.table(points, during=(AM.start_s, AM.end_s))
    matrix_ms = (time.perf_counter() - t) * 1000
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Day: {len(problem.stops)} stops ({len(problem.pairs)} paired requests), {len(problem.couriers)} couriers x 2 trips; "
          f"{len(points)}x{len(points)} matrix in {matrix_ms:.0f} ms\n")
    print("| path | limit s | cost | trips used | travel h | unassigned (reasons) | first plan s | first complete plan s | checker |")
    print("|---|---|---|---|---|---|---|---|---|")
    for limit in args.limits:
        solution, seen = solve_planner(problem, matrix, limit)
        first = next((p.elapsed_s for p in seen if p.feasible), None)
        complete = next((p.elapsed_s for p in seen if p.feasible and p.unassigned_required == 0), None)
        reasons: dict[str, int] = {}
        for u in solution.unassigned:  # type: ignore[attr-defined]
            reasons[u.reason.value] = reasons.get(u.reason.value, 0) + 1
        travel_h = sum(r.travel_s for r in solution.routes) / 3600  # type: ignore[attr-defined]
        print(f"| planner (PyVRPSolver) | {limit:g} | {solution.cost:,.0f} | {len(solution.routes)} | {travel_h:.1f} | "  # type: ignore[attr-defined]
              f"{len(solution.unassigned)} {reasons or ''} | {first:.2f} | {complete if complete is None else round(complete, 2)} | 0 violations |",  # type: ignore[attr-defined]
              flush=True)
        if limit == args.limits[0] and not args.no_direct:
            cost, routes, first_d = solve_direct(problem, matrix, limit)
            print(f"| PyVRP direct | {limit:g} | {cost:,.0f} | {routes} | - | - | - | {first_d if first_d is None else round(first_d, 2)} | n/a |", flush=True)
    if args.iterations and not args.no_direct:
        t = time.perf_counter()
        solution, _ = solve_planner(problem, matrix, 600.0, args.iterations)
        planner_s = time.perf_counter() - t
        t = time.perf_counter()
        cost, routes, _ = solve_direct(problem, matrix, 600.0, args.iterations)
        direct_s = time.perf_counter() - t
        print(f"\nEqual budget of {args.iterations} iterations (deterministic, seed 0): planner {solution.cost:,.0f} "  # type: ignore[attr-defined]
              f"({len(solution.routes)} trips, {planner_s:.1f} s) vs PyVRP direct {cost:,.0f} ({routes} trips, {direct_s:.1f} s)")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
