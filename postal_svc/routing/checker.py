"""Independent feasibility check of a plan: recomputes every time and load from the matrix.

Deliberately shares no code with the solver adapter (and never imports PyVRP), so a modelling
mistake in the adapter shows up here as a violation instead of a wrong plan on a courier's phone.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum

from postal_svc.routing.matrix import DistanceMatrix, ProfileMatrices, TravelTable, matrix_for
from postal_svc.routing.model import Load, Problem, Route, Solution, StopKind


class ViolationKind(str, Enum):
    ASSIGNMENT = "assignment"  # a stop missing, twice, unknown, or both planned and unassigned
    COURIER = "courier"  # unknown courier or trip, or one trip planned twice
    SHIFT = "shift"  # leaves before the trip starts or returns after it ends
    TIME_WINDOW = "time_window"  # service starts outside every window of the stop
    CAPACITY = "capacity"  # load above capacity at some point of the trip
    PAIRING = "pairing"  # paired legs not in one trip, or delivery before pickup
    LOCK = "lock"  # an assignment or sequence lock not honoured
    SCHEDULE = "schedule"  # reported times or loads differ from the recomputed ones
    TOTALS = "totals"  # reported distance or durations differ from the recomputed ones


@dataclass(frozen=True)
class Violation:
    kind: ViolationKind
    detail: str
    courier_id: str | None = None
    trip_id: str | None = None
    stop_id: str | None = None


def check_solution(problem: Problem, solution: Solution,
                   matrix: DistanceMatrix | ProfileMatrices) -> list[Violation]:
    """Every rule a plan must keep; an empty list means the plan is feasible. Each trip is
    timed with its courier's speed profile when ``matrix`` has one matrix per profile."""
    out: list[Violation] = []
    stops = problem.stop_by_id()
    index = {s.id: i + 1 for i, s in enumerate(problem.stops)}  # 0 is the depot
    points = [problem.depot.location] + [s.location for s in problem.stops]
    couriers = {c.id: c for c in problem.couriers}
    partner: dict[str, tuple[str, str]] = {}  # stop id -> (other leg, "pickup"|"delivery")
    for p in problem.pairs:
        partner[p.pickup_id] = (p.delivery_id, "pickup")
        partner[p.delivery_id] = (p.pickup_id, "delivery")
    tables: dict[tuple[str | None, int, int], TravelTable] = {}

    # -- every stop exactly once, planned or unassigned
    seen = Counter(solution.assigned_ids())
    unassigned = Counter(u.stop_id for u in solution.unassigned)
    for sid in set(seen) | set(unassigned):
        if sid not in stops:
            out.append(Violation(ViolationKind.ASSIGNMENT, f"unknown stop {sid}", stop_id=sid))
    for sid in stops:
        n, u = seen.get(sid, 0), unassigned.get(sid, 0)
        if n + u == 0:
            out.append(Violation(ViolationKind.ASSIGNMENT, "stop neither planned nor unassigned", stop_id=sid))
        elif n > 1 or u > 1:
            out.append(Violation(ViolationKind.ASSIGNMENT, f"stop planned {n}x, unassigned {u}x", stop_id=sid))
        elif n and u:
            out.append(Violation(ViolationKind.ASSIGNMENT, "stop both planned and unassigned", stop_id=sid))

    # -- pairs: both legs or neither; same trip; pickup first
    position: dict[str, tuple[tuple[str, str], int]] = {}
    for r in solution.routes:
        for k, v in enumerate(r.visits):
            position.setdefault(v.stop_id, ((r.courier_id, r.trip_id), k))
    for p in problem.pairs:
        a, b = position.get(p.pickup_id), position.get(p.delivery_id)
        if a is None and b is None:
            continue
        if a is None or b is None:
            out.append(Violation(ViolationKind.PAIRING, f"pair {p.id}: only one leg planned", stop_id=p.pickup_id if a else p.delivery_id))
        elif a[0] != b[0]:
            out.append(Violation(ViolationKind.PAIRING, f"pair {p.id}: legs in different trips", stop_id=p.delivery_id))
        elif a[1] > b[1]:
            out.append(Violation(ViolationKind.PAIRING, f"pair {p.id}: delivery before pickup", stop_id=p.delivery_id))

    # -- locks
    route_of_stop = {sid: pos[0] for sid, pos in position.items()}
    for lock in problem.assignment_locks:
        where = route_of_stop.get(lock.stop_id)
        if where is None:
            continue
        if where[0] != lock.courier_id or (lock.trip_id is not None and where[1] != lock.trip_id):
            out.append(Violation(ViolationKind.LOCK, f"locked to {lock.courier_id}/{lock.trip_id or '*'}, planned on {where[0]}/{where[1]}", stop_id=lock.stop_id))
    for seq in problem.sequence_locks:
        route = solution.route_of(seq.courier_id, seq.trip_id)
        planned = route.stop_ids if route else []
        expected = [sid for sid in seq.stop_ids if sid not in unassigned]
        if planned != expected:
            out.append(Violation(ViolationKind.LOCK, f"locked sequence {list(seq.stop_ids)} planned as {planned}", courier_id=seq.courier_id, trip_id=seq.trip_id))

    # -- each route: shift, windows, capacity, schedule, totals
    used: Counter[tuple[str, str]] = Counter()
    for r in solution.routes:
        key = (r.courier_id, r.trip_id)
        used[key] += 1
        courier = couriers.get(r.courier_id)
        trip = next((t for t in courier.trips if t.id == r.trip_id), None) if courier else None
        if courier is None or trip is None:
            out.append(Violation(ViolationKind.COURIER, "unknown courier or trip", r.courier_id, r.trip_id))
            continue
        if any(v.stop_id not in stops for v in r.visits):
            continue  # already reported; times cannot be recomputed
        timing = (courier.profile, trip.start_s, trip.end_s)
        if timing not in tables:
            try:
                source = matrix_for(matrix, courier.profile)
            except KeyError:
                out.append(Violation(ViolationKind.COURIER, f"unknown speed profile {courier.profile!r}", r.courier_id, r.trip_id))
                continue
            tables[timing] = source.table(points, during=(trip.start_s, trip.end_s))
        dist, dur = tables[timing].distance_m, tables[timing].duration_s

        def v_(kind: ViolationKind, detail: str, stop_id: str | None = None, r: Route = r) -> None:
            out.append(Violation(kind, detail, r.courier_id, r.trip_id, stop_id))

        if r.depart_s < trip.start_s:
            v_(ViolationKind.SHIFT, f"leaves the depot at {r.depart_s}, before the trip starts at {trip.start_s}")
        load = Load()
        for v in r.visits:
            s = stops[v.stop_id]
            if s.kind is StopKind.DELIVERY and v.stop_id not in partner:
                load = load + s.load
        if load != r.start_load:
            v_(ViolationKind.SCHEDULE, f"start load {r.start_load} but deliveries on board are {load}")
        if not load.fits(courier.capacity):
            v_(ViolationKind.CAPACITY, f"leaves the depot with {load} > capacity {courier.capacity}")
        t, here, travel, metres = r.depart_s, 0, 0, 0
        for v in r.visits:
            s = stops[v.stop_id]
            there = index[s.id]
            travel += int(dur[here, there])
            metres += int(dist[here, there])
            arrival = t + int(dur[here, there])
            start = arrival
            if s.windows:
                window = next((w for w in s.windows if w.end_s >= arrival), None)
                if window is None:
                    v_(ViolationKind.TIME_WINDOW, f"arrives at {arrival}, after its last window {s.windows[-1]}", s.id)
                else:
                    start = max(arrival, window.start_s)
            departure = start + s.service_s
            # a pickup adds to the load (kept to the depot or to its paired delivery); a
            # delivery drops either what left the depot or what its paired pickup collected
            load = load + s.load if s.kind is StopKind.PICKUP else load - s.load
            if not load.fits(courier.capacity):
                v_(ViolationKind.CAPACITY, f"load {load} > capacity {courier.capacity}", s.id)
            if (v.arrival_s, v.start_s, v.departure_s) != (arrival, start, departure):
                v_(ViolationKind.SCHEDULE, f"reported arrival/start/departure {(v.arrival_s, v.start_s, v.departure_s)} != recomputed {(arrival, start, departure)}", s.id)
            if v.load_after != load:
                v_(ViolationKind.SCHEDULE, f"reported load {v.load_after} != recomputed {load}", s.id)
            t, here = departure, there
        travel += int(dur[here, 0])
        metres += int(dist[here, 0])
        back = t + int(dur[here, 0])
        if back > trip.end_s:
            v_(ViolationKind.SHIFT, f"returns at {back}, after the trip ends at {trip.end_s}")
        if back != r.return_s:
            v_(ViolationKind.SCHEDULE, f"reported return {r.return_s} != recomputed {back}")
        if (r.distance_m, r.travel_s, r.duration_s) != (metres, travel, back - r.depart_s):
            v_(ViolationKind.TOTALS, f"reported distance/travel/duration {(r.distance_m, r.travel_s, r.duration_s)} != recomputed {(metres, travel, back - r.depart_s)}")
    for key, n in used.items():
        if n > 1:
            out.append(Violation(ViolationKind.COURIER, f"trip planned {n} times", key[0], key[1]))
    return out
