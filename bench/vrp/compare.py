"""Planner solver path vs PyVRP direct vs VROOM vs OR-Tools (GLS) at equal wall-clock limits.

    .venv/bin/python bench/vrp/compare.py                       # default subset, 5 s and 30 s
    .venv/bin/python bench/vrp/compare.py --limits 5 --instances solomon/C101 li_lim/lc101
    .venv/bin/python bench/vrp/compare.py --all --limits 30 --json out.json

Every solver gets the same integer matrix (x1000 for the real-valued sets, rounded EUC_2D for
CVRPLIB X), the same fleet, and on time-window sets the same objective: a fixed cost per vehicle
above any distance saving (vehicles first, then distance), as the BKS are ranked. Routes are
validated here (coverage, capacity, windows, pairing) and distances recomputed in the set's own
convention before the gap to the best-known solution is taken.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.vrp.instances import Instance, fixed_vehicle_cost, load, names

DEFAULT_SUBSET = [
    "solomon/C101", "solomon/C201", "solomon/R101", "solomon/R105", "solomon/R201", "solomon/R205",
    "solomon/RC101", "solomon/RC201",
    "homberger/c1_2_1", "homberger/r1_2_1",
    "cvrplib_x/X-n101-k25", "cvrplib_x/X-n251-k28", "cvrplib_x/X-n502-k39",
    "li_lim/lc101", "li_lim/lr101", "li_lim/lrc101",
]
SOLVERS = ["planner", "pyvrp", "vroom", "ortools"]


# -- common instance view --------------------------------------------------------------------------

def fleet_size(inst: Instance) -> int:
    if inst.set != "cvrplib_x":
        return inst.num_vehicles
    lb = math.ceil(inst.demand.sum() / inst.capacity)
    return lb + max(2, lb // 5)


def scaled_tw(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = inst.scale
    if not inst.has_tw:
        n = len(inst.coords)
        return np.zeros(n, np.int64), np.full(n, 10**9, np.int64), np.zeros(n, np.int64)
    return (np.rint(inst.ready * s).astype(np.int64), np.rint(inst.due * s).astype(np.int64),
            np.rint(inst.service * s).astype(np.int64))


def validate(inst: Instance, routes: list[list[int]]) -> str:
    """'' when the routes serve every customer once within capacity, windows and pairing."""
    m = inst.int_matrix()
    ready, due, service = scaled_tw(inst)
    seen = [c for r in routes for c in r]
    if sorted(seen) != list(range(1, len(inst.coords))):
        return f"coverage ({len(seen)} visits, {len(set(seen))} distinct)"
    delivery_of = dict(inst.pairs)
    pickup_of = {d: p for p, d in inst.pairs}
    for r in routes:
        if inst.pairs:
            load_ = 0
            pos = {c: k for k, c in enumerate(r)}
            for c in r:
                load_ += inst.demand[c] if c in delivery_of else -inst.demand[c]
                if load_ > inst.capacity:
                    return "capacity"
                if c in pickup_of and pos.get(pickup_of[c], 1 << 30) > pos[c]:
                    return "pairing"
        elif inst.demand[r].sum() > inst.capacity:
            return "capacity"
        t, prev = int(ready[0]), 0
        for c in r:
            t += int(m[prev, c])
            if t > due[c]:
                return "time window"
            t = max(t, int(ready[c])) + int(service[c])
            prev = c
        if t + int(m[prev, 0]) > due[0]:
            return "depot due"
    return ""


@dataclass
class Run:
    instance: str
    set: str
    solver: str
    limit_s: float
    wall_s: float
    vehicles: int | None
    distance: float | None
    error: str = ""


# -- the planner's path: Problem -> PyVRPSolver (the code the app uses) ---------------------------

def run_planner(inst: Instance, limit: float) -> list[list[int]]:
    from postal_svc.routing.matrix import PlanarMatrix
    from postal_svc.routing.model import (
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
    from postal_svc.routing.solver import PyVRPSolver

    ready, due, service = scaled_tw(inst)
    trip = Trip("t", int(ready[0]), int(due[0]))
    couriers = tuple(Courier(f"v{k}", (trip,), Load(inst.capacity, 0)) for k in range(fleet_size(inst)))
    pickups = {p for p, _ in inst.pairs}
    stops = tuple(
        Stop(str(i), (float(inst.coords[i, 0]), float(inst.coords[i, 1])),
             StopKind.PICKUP if i in pickups else StopKind.DELIVERY, Load(int(inst.demand[i]), 0), int(service[i]),
             (TimeWindow(int(ready[i]), int(due[i])),) if inst.has_tw else ())
        for i in range(1, len(inst.coords))
    )
    problem = Problem(
        Depot("0", (float(inst.coords[0, 0]), float(inst.coords[0, 1]))), couriers, stops,
        tuple(PairedRequest(f"r{p}", str(p), str(d)) for p, d in inst.pairs),
        objective=Objective(per_travel_s=0, per_distance_m=1, fixed_per_trip=fixed_vehicle_cost(inst)),
    )
    solution = PyVRPSolver(PlanarMatrix(scale=inst.scale), seed=0).solve(problem, limit)
    if solution.unassigned:
        raise RuntimeError(f"{len(solution.unassigned)} unassigned")
    return [[int(s) for s in r.stop_ids] for r in solution.routes]


# -- PyVRP called directly -------------------------------------------------------------------------

def run_pyvrp(inst: Instance, limit: float) -> list[list[int]]:
    from pyvrp import Client, Depot, Location, ProblemData, Shipment, VehicleType
    from pyvrp.solve import solve

    start = time.perf_counter()
    m = inst.int_matrix()
    ready, due, service = scaled_tw(inst)
    n = len(inst.coords)
    locations = [Location(float(x), float(y)) for x, y in inst.coords]
    clients, shipments, ship_nodes = [], [], []
    if inst.pairs:
        for p, d in inst.pairs:
            shipments.append(Shipment(p, d, int(ready[p]), int(due[p]), int(service[p]), int(ready[d]), int(due[d]),
                                      int(service[d]), amount=[int(inst.demand[p])]))
            ship_nodes.append((p, d))
    else:
        clients = [Client(i, delivery=[int(inst.demand[i])], service_duration=int(service[i]),
                          tw_early=int(ready[i]), tw_late=int(due[i])) for i in range(1, n)]
    vt = VehicleType(fleet_size(inst), capacity=[inst.capacity], tw_early=int(ready[0]), tw_late=int(due[0]),
                     fixed_cost=fixed_vehicle_cost(inst))
    data = ProblemData(locations, clients, [Depot(0)], [vt], [m], [m], [], shipments)
    deadline = start + limit
    res = solve(data, stop=lambda _: time.perf_counter() >= deadline, seed=0, collect_stats=False)
    routes = []
    for r in res.best.routes():
        nodes = []
        for act in r.schedule():
            if act.is_client():
                nodes.append(act.idx + 1)
            elif act.is_pickup():
                nodes.append(ship_nodes[act.idx][0])
            elif act.is_delivery():
                nodes.append(ship_nodes[act.idx][1])
        routes.append(nodes)
    if not res.best.is_feasible():
        raise RuntimeError("infeasible best")
    return routes


# -- VROOM -----------------------------------------------------------------------------------------

def run_vroom(inst: Instance, limit: float) -> list[list[int]]:
    import vroom

    m = inst.int_matrix()
    ready, due, service = scaled_tw(inst)
    n = len(inst.coords)
    pi = vroom.Input()
    pi.set_durations_matrix("car", m)
    pi.set_costs_matrix("car", m)
    for k in range(fleet_size(inst)):
        pi.add_vehicle(vroom.Vehicle(k, start=0, end=0, capacity=[inst.capacity],
                                     time_window=vroom.TimeWindow(int(ready[0]), int(due[0])),
                                     costs=vroom.VehicleCosts(fixed=fixed_vehicle_cost(inst))))
    tw = (lambda i: [vroom.TimeWindow(int(ready[i]), int(due[i]))]) if inst.has_tw else (lambda i: [])
    if inst.pairs:
        for p, d in inst.pairs:
            pi.add_shipment(
                vroom.ShipmentStep(p, p, default_service=int(service[p]), time_windows=tw(p)),
                vroom.ShipmentStep(d, d, default_service=int(service[d]), time_windows=tw(d)),
                amount=vroom.Amount([int(inst.demand[p])]))
    else:
        for i in range(1, n):
            pi.add_job(vroom.Job(i, i, default_service=int(service[i]), delivery=[int(inst.demand[i])], time_windows=tw(i)))
    sol = pi.solve(exploration_level=5, nb_threads=1, timeout=dt.timedelta(seconds=limit))
    arr = np.asarray(sol._routes_numpy())
    routes: dict[int, list[int]] = {}
    for row in arr:
        kind = row["type"].decode()
        if kind in ("job", "pickup", "delivery"):
            routes.setdefault(int(row["vehicle_id"]), []).append(int(row["id"]))
    return list(routes.values())


# -- OR-Tools, guided local search -----------------------------------------------------------------

def run_ortools(inst: Instance, limit: float) -> list[list[int]]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    start = time.perf_counter()
    m = inst.int_matrix()
    ready, due, service = scaled_tw(inst)
    n, v = len(inst.coords), fleet_size(inst)
    manager = pywrapcp.RoutingIndexManager(n, v, 0)
    routing = pywrapcp.RoutingModel(manager)
    dist_cb = routing.RegisterTransitMatrix(m.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    routing.SetFixedCostOfAllVehicles(fixed_vehicle_cost(inst))
    delivery_of = dict(inst.pairs)
    if inst.pairs:
        demand = [int(inst.demand[i]) if i in delivery_of else -int(inst.demand[i]) for i in range(n)]
        demand[0] = 0
    else:
        demand = [int(x) for x in inst.demand]
    dem_cb = routing.RegisterUnaryTransitVector(demand)
    routing.AddDimensionWithVehicleCapacity(dem_cb, 0, [inst.capacity] * v, True, "load")
    if inst.has_tw or inst.pairs:
        time_m = (m + service[:, None]).tolist()
        time_cb = routing.RegisterTransitMatrix(time_m)
        horizon = int(due[0])
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        tdim = routing.GetDimensionOrDie("time")
        for i in range(1, n):
            tdim.CumulVar(manager.NodeToIndex(i)).SetRange(int(ready[i]), int(due[i]))
        for k in range(v):
            tdim.CumulVar(routing.Start(k)).SetRange(int(ready[0]), int(due[0]))
            tdim.CumulVar(routing.End(k)).SetRange(int(ready[0]), int(due[0]))
        for p, d in inst.pairs:
            pi, di = manager.NodeToIndex(p), manager.NodeToIndex(d)
            routing.AddPickupAndDelivery(pi, di)
            routing.solver().Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            routing.solver().Add(tdim.CumulVar(pi) <= tdim.CumulVar(di))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION if inst.pairs or inst.has_tw
        else routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    remaining = max(0.1, limit - (time.perf_counter() - start))
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    sol = routing.SolveWithParameters(params)
    if sol is None:
        raise RuntimeError("no solution")
    routes = []
    for k in range(v):
        idx, nodes = routing.Start(k), []
        idx = sol.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            nodes.append(manager.IndexToNode(idx))
            idx = sol.Value(routing.NextVar(idx))
        if nodes:
            routes.append(nodes)
    return routes


RUNNERS: dict[str, Callable[[Instance, float], list[list[int]]]] = {
    "planner": run_planner, "pyvrp": run_pyvrp, "vroom": run_vroom, "ortools": run_ortools,
}


def run_one(inst: Instance, solver: str, limit: float) -> Run:
    t = time.perf_counter()
    try:
        routes = [r for r in RUNNERS[solver](inst, limit) if r]
        wall = time.perf_counter() - t
        problem = validate(inst, routes)
        if problem:
            return Run(inst.name, inst.set, solver, limit, wall, None, None, f"invalid: {problem}")
        return Run(inst.name, inst.set, solver, limit, wall, len(routes), inst.route_distance(routes))
    except Exception as exc:  # a failing peer is a result, not a crash of the benchmark
        return Run(inst.name, inst.set, solver, limit, time.perf_counter() - t, None, None, f"{type(exc).__name__}: {exc}"[:80])


# -- report ----------------------------------------------------------------------------------------

def gap(inst: Instance, run: Run) -> float | None:
    if run.distance is None or not inst.bks_distance:
        return None
    return 100.0 * (run.distance / inst.bks_distance - 1.0)


def rank_key(inst: Instance, run: Run) -> tuple[float, float]:
    if run.distance is None:
        return (math.inf, math.inf)
    return ((run.vehicles or 0) if inst.hierarchical else 0, round(run.distance, 2))


def report(instances: dict[str, Instance], runs: list[Run], solvers: list[str], limits: list[float]) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    out = [
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"pyvrp {version('pyvrp')}, pyvroom {version('pyvroom')}, ortools {version('ortools')}; one solve at a time, single-threaded.",
        "Cells: vehicles / distance / gap % to BKS distance (a gap with more vehicles than the BKS is marked *; "
        "below 0 only with more vehicles). Best or tied-best (vehicles, then distance; distance only on CVRPLIB X) in bold.",
        "",
    ]
    by = {(r.instance, r.solver, r.limit_s): r for r in runs}
    for limit in limits:
        out.append(f"### {limit:g} s")
        out.append("| instance | BKS | " + " | ".join(solvers) + " |")
        out.append("|---|---|" + "---|" * len(solvers))
        for key, inst in instances.items():
            cells = []
            rs = [by.get((inst.name, s, limit)) for s in solvers]
            best = min((rank_key(inst, r) for r in rs if r), default=None)
            for r in rs:
                if r is None:
                    cells.append("-")
                    continue
                if r.distance is None:
                    cells.append(f"fail ({r.error})")
                    continue
                g = gap(inst, r)
                g = None if g is None else (0.0 if abs(g) < 0.005 else g)
                star = "*" if inst.hierarchical and inst.bks_vehicles and r.vehicles > inst.bks_vehicles else ""
                cell = f"{r.vehicles} / {r.distance:.2f} / {g:+.2f}{star}" if g is not None else f"{r.vehicles} / {r.distance:.2f}"
                if rank_key(inst, r) == best:
                    cell = f"**{cell}**"
                if r.wall_s > limit * 1.2 + 0.5:
                    cell += f" ({r.wall_s:.0f} s)"
                cells.append(cell)
            out.append(f"| {key} | {inst.bks_vehicles} / {inst.bks_distance} | " + " | ".join(cells) + " |")
        out.append("")
        out.append("| set | metric | " + " | ".join(solvers) + " |")
        out.append("|---|---|" + "---|" * len(solvers))
        sets = list(dict.fromkeys(i.set for i in instances.values()))
        for set_name in sets + ["all"]:
            insts = [i for i in instances.values() if set_name in ("all", i.set)]
            gaps, fleet, best_n = [], [], []
            for s in solvers:
                gs, fl, bn = [], 0, 0
                for inst in insts:
                    r = by.get((inst.name, s, limit))
                    if r is None:
                        continue
                    g = gap(inst, r)
                    if g is not None:
                        gs.append(g)
                    if r.vehicles is not None and inst.bks_vehicles and r.vehicles <= inst.bks_vehicles:
                        fl += 1
                    rr = [by.get((inst.name, t, limit)) for t in solvers]
                    if r.distance is not None and rank_key(inst, r) == min(rank_key(inst, x) for x in rr if x):
                        bn += 1
                n_ok = len(gs)
                gaps.append(f"{np.mean(gs):+.2f} ({n_ok}/{len(insts)} solved)" if gs else "-")
                fleet.append(f"{fl}/{len(insts)}")
                best_n.append(f"{bn}/{len(insts)}")
            out.append(f"| {set_name} | mean gap % | " + " | ".join(gaps) + " |")
            out.append(f"| {set_name} | BKS fleet reached | " + " | ".join(fleet) + " |")
            out.append(f"| {set_name} | best or tied | " + " | ".join(best_n) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limits", nargs="+", type=float, default=[5.0, 30.0])
    ap.add_argument("--instances", nargs="*", help="set/name, e.g. solomon/C101")
    ap.add_argument("--all", action="store_true", help="every instance of every set (hours)")
    ap.add_argument("--sets", nargs="*", help="every instance of these sets")
    ap.add_argument("--solvers", nargs="+", default=SOLVERS, choices=SOLVERS)
    ap.add_argument("--json", help="write raw runs here (appended as they finish)")
    args = ap.parse_args(argv)
    if args.all or args.sets:
        keys = [f"{s}/{n}" for s in (args.sets or ["solomon", "homberger", "cvrplib_x", "li_lim"]) for n in names(s)]
    else:
        keys = args.instances or DEFAULT_SUBSET
    instances = {k: load(*k.split("/")) for k in keys}
    runs: list[Run] = []
    for limit in args.limits:
        for key, inst in instances.items():
            for solver in args.solvers:
                run = run_one(inst, solver, limit)
                runs.append(run)
                print(f"# {key} {solver} {limit:g}s: {run.vehicles} veh {run.distance} ({run.wall_s:.1f} s) {run.error}",
                      file=sys.stderr, flush=True)
                if args.json:
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps(asdict(run)) + "\n")
    print(report(instances, runs, args.solvers, args.limits))


if __name__ == "__main__":
    main()
