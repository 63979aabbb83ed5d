"""Route solvers behind one protocol; ``PyVRPSolver`` maps a day's ``Problem`` onto PyVRP 0.14.

How the day maps onto PyVRP, and why:

- Each courier trip (morning, afternoon) is one vehicle: its shift is the vehicle's time window,
  its capacity two load dimensions (items, grams). Trips alike in window, capacity and routing
  profile share one PyVRP vehicle type, and the routes are handed to the concrete trips after.
- A courier's speed profile (motorbike, bicycle, ...) picks the matrix its trips travel by when
  the solver is given ``ProfileMatrices``: one duration (and distance) matrix per profile in
  use and hours, and each vehicle type gets the PyVRP routing profile built from it.
- Each stop is one location. A single stop is a client (``delivery`` or ``pickup`` load); a
  paired request is a PyVRP ``Shipment`` (same route, pickup first, load carried between).
- Several windows (agency office hours): when no trip the stop may use overlaps a gap between
  its windows (e.g. trips 07:30-11:30 and 13:00-17:00 against office hours), the hull window is
  exact; otherwise a client becomes a mutually exclusive group with one alternative per window,
  and a shipment leg (one window per step in PyVRP) gets the window that is feasible for the
  pair in the most trips.
- Stops that no trip can serve even alone (window, capacity, shift, lock) are diagnosed before
  the solve and reported unassigned with that reason. The rest is solved in two phases: first
  with required stops required (PyVRP searches markedly better so: same results as calling
  PyVRP directly); if no feasible plan appears within ``hard_share`` of the time, the fleet
  cannot hold them all, and the rest of the time goes to the prize-collecting version, where a
  required stop carries a prize above any plan's cost, so the fewest are dropped (``no_room``).
  Optional stops are prize-collecting with their penalty in both phases.
- Assignment locks: a routing profile per locked courier in which the stops locked to *other*
  couriers are unreachable. Sequence locks: the trip is taken out of the solve and scheduled as
  locked. Arc cost = travel seconds x weight + metres x weight, as PyVRP's "distance".
- Travel durations per trip come from the matrix of its courier's profile for that trip's hours
  (the slowest speed band it overlaps), so the independent checker recomputes the same times.
"""
from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from postal_svc.routing.checker import Violation, check_solution
from postal_svc.routing.matrix import DistanceMatrix, ProfileMatrices, TravelTable, matrix_for
from postal_svc.routing.model import (
    Courier,
    Load,
    Problem,
    ProblemError,
    Route,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    Trip,
    Unassigned,
    UnassignedReason,
    Visit,
    objective_cost,
)


@dataclass(frozen=True)
class Progress:
    """A snapshot for a worker process: best plan so far."""

    elapsed_s: float
    cost: float
    unassigned_required: int
    feasible: bool


ProgressCallback = Callable[[Progress], None]


class RouteSolver(Protocol):
    def solve(
        self, problem: Problem, time_limit_s: float = 10.0, on_progress: ProgressCallback | None = None
    ) -> Solution:
        """Plan the day within ``time_limit_s`` of wall-clock; every stop is planned or
        reported unassigned with a reason. Raises ``PlanCheckFailed`` only on a solver defect."""
        ...


class PlanCheckFailed(RuntimeError):
    """The independent checker rejected a plan even after repair: a defect, never a data issue."""

    def __init__(self, violations: list[Violation]):
        super().__init__(f"{len(violations)} violations, first: {violations[0]}")
        self.violations = violations


# ---------------------------------------------------------------------------------------------
# helpers shared by the adapter and plan edits (never by the checker)

MAX_VALUE = 1 << 44  # PyVRP's largest matrix value
Timing = tuple[str | None, int, int]  # (speed profile, trip start, trip end)


@dataclass
class TripRef:
    courier: Courier
    trip: Trip

    @property
    def span(self) -> tuple[int, int]:
        return (self.trip.start_s, self.trip.end_s)

    @property
    def timing(self) -> Timing:
        """What its travel times depend on: the courier's speed profile and the trip's hours."""
        return (self.courier.profile, self.trip.start_s, self.trip.end_s)


@dataclass
class _Task:
    """A unit of work for PyVRP: one stop, or a pickup->delivery pair."""

    key: str
    stops: tuple[Stop, ...]
    required: bool
    penalty: int
    trips: list[int] = field(default_factory=list)  # trips that can serve it alone
    locked_to: set[int] | None = None  # trips its assignment locks allow (None: any)
    windows: list[list[TimeWindow | None]] = field(default_factory=list)  # per step: alternatives


def _first_start(arrival: int, windows: Sequence[TimeWindow]) -> int | None:
    if not windows:
        return arrival
    for w in windows:
        if w.end_s >= arrival:
            return max(arrival, w.start_s)
    return None


def _alone_ok(
    steps: Sequence[tuple[int, Sequence[TimeWindow], int]], trip: Trip, dur: np.ndarray, use_windows: bool = True
) -> bool:
    """Serve only these (location, windows, service) steps in one trip, depot to depot."""
    t, here = trip.start_s, 0
    for loc, windows, service in steps:
        start = _first_start(t + int(dur[here, loc]), windows if use_windows else ())
        if start is None:
            return False
        t, here = start + service, loc
    return t + int(dur[here, 0]) <= trip.end_s


def _hull_is_exact(windows: Sequence[TimeWindow], spans: Sequence[tuple[int, int]]) -> bool:
    """True when no trip's hours reach into a gap between windows, so the hull is exact."""
    for a, b in itertools.pairwise(windows):
        for start, end in spans:
            if start < b.start_s and a.end_s < end:
                return False
    return True


class RouteScheduler:
    """Forward schedule of a stop sequence on a trip (earliest start, wait when early)."""

    def __init__(self, problem: Problem, loc: dict[str, int], tables: dict[Timing, TravelTable]):
        self.stops = problem.stop_by_id()
        self.paired = {sid for p in problem.pairs for sid in (p.pickup_id, p.delivery_id)}
        self.loc = loc
        self.tables = tables

    def route(self, ref: TripRef, stop_ids: Sequence[str], depart_s: int) -> tuple[Route, list[tuple[str, UnassignedReason]]]:
        """The route and, per stop, what is wrong with it (empty when feasible)."""
        table = self.tables[ref.timing]
        dist, dur = table.distance_m, table.duration_s
        cap = ref.courier.capacity
        issues: list[tuple[str, UnassignedReason]] = []
        load = Load()
        for sid in stop_ids:
            s = self.stops[sid]
            if s.kind is StopKind.DELIVERY and sid not in self.paired:
                load = load + s.load
        start_load = load
        if not load.fits(cap) and stop_ids:
            issues.append((stop_ids[-1], UnassignedReason.CAPACITY))
        visits = []
        t, here, metres, travel = depart_s, 0, 0, 0
        for sid in stop_ids:
            s = self.stops[sid]
            there = self.loc[sid]
            arrival = t + int(dur[here, there])
            metres += int(dist[here, there])
            travel += int(dur[here, there])
            start = _first_start(arrival, s.windows)
            if start is None:
                issues.append((sid, UnassignedReason.TIME_WINDOW))
                start = arrival
            load = load + s.load if s.kind is StopKind.PICKUP else load - s.load
            if not load.fits(cap):
                issues.append((sid, UnassignedReason.CAPACITY))
            t = start + s.service_s
            visits.append(Visit(sid, arrival, start, t, load))
            here = there
        back = t + int(dur[here, 0])
        metres += int(dist[here, 0])
        travel += int(dur[here, 0])
        if back > ref.trip.end_s and stop_ids:
            issues.append((stop_ids[-1], UnassignedReason.SHIFT))
        route = Route(
            courier_id=ref.courier.id,
            trip_id=ref.trip.id,
            depart_s=depart_s,
            return_s=back,
            start_load=start_load,
            visits=tuple(visits),
            distance_m=metres,
            duration_s=back - depart_s,
            travel_s=travel,
        )
        return route, issues


class _Deadline:
    """PyVRP stopping criterion on an absolute wall-clock deadline (model building included)."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def __call__(self, best_cost: float) -> bool:
        return time.perf_counter() >= self.deadline


# ---------------------------------------------------------------------------------------------


@dataclass
class Compiled:
    """The PyVRP instance built from a ``Problem`` plus what is needed to read its answer."""

    data: object  # pyvrp.ProblemData, required stops required
    prize_data: Callable[[], object] | None  # the same with every stop optional (prize-collecting fallback)
    tasks: list[_Task]
    trips: list[TripRef]
    type_trips: list[list[int]]  # vehicle type -> trip indices
    client_task: list[int]
    shipment_task: list[int]
    big: int
    group_offset: int  # prizes of unvisited group alternatives, counted as uncollected by PyVRP
    prize_group_offset: int
    locked_routes: list[Route]
    unassigned: list[Unassigned]
    scheduler: RouteScheduler


class PyVRPSolver:
    """PyVRP 0.14 (iterated local search) behind ``RouteSolver``; see the module docstring."""

    name = "pyvrp"

    def __init__(
        self,
        matrix: DistanceMatrix | ProfileMatrices,
        *,
        seed: int = 0,
        progress_interval_s: float = 0.5,
        hard_share: float = 0.5,
        max_iterations: int | None = None,
    ):
        """``max_iterations`` caps the search (reproducible runs); the time limit always holds."""
        self.max_iterations = max_iterations
        self.matrix = matrix
        self.hard_share = hard_share
        self.seed = seed
        self.progress_interval_s = progress_interval_s

    # -- building -------------------------------------------------------------------------------

    def compile(self, problem: Problem) -> Compiled:
        """Build the PyVRP instance; stops that no trip can serve alone are diagnosed here."""
        from pyvrp import VehicleType

        problem.validate()
        stops = problem.stop_by_id()
        loc = {s.id: i + 1 for i, s in enumerate(problem.stops)}
        points = [problem.depot.location] + [s.location for s in problem.stops]
        all_trips = [TripRef(c, t) for c in problem.couriers for t in c.trips]
        tables: dict[Timing, TravelTable] = {}
        for ref in all_trips:
            if ref.timing not in tables:
                try:
                    source = matrix_for(self.matrix, ref.courier.profile)
                except KeyError:
                    raise ProblemError(f"courier {ref.courier.id}: unknown speed profile {ref.courier.profile!r}") from None
                tables[ref.timing] = source.table(points, during=ref.span)
        scheduler = RouteScheduler(problem, loc, tables)
        unassigned: list[Unassigned] = []

        # -- sequence-locked trips are scheduled as locked, outside the solve
        locked_routes: list[Route] = []
        locked_keys = {(s.courier_id, s.trip_id) for s in problem.sequence_locks}
        in_sequence: set[str] = set()
        pair_of = {}
        for p in problem.pairs:
            pair_of[p.pickup_id] = p
            pair_of[p.delivery_id] = p
        a_lock = {a.stop_id: a for a in problem.assignment_locks}
        for seq in problem.sequence_locks:
            ref = next(r for r in all_trips if (r.courier.id, r.trip.id) == (seq.courier_id, seq.trip_id))
            kept: list[str] = []
            for sid in seq.stop_ids:
                in_sequence.add(sid)
                lock = a_lock.get(sid)
                p = pair_of.get(sid)
                if lock and (lock.courier_id != seq.courier_id or lock.trip_id not in (None, seq.trip_id)):
                    unassigned.append(Unassigned(sid, UnassignedReason.LOCK, "assignment lock contradicts the locked sequence"))
                    continue
                if p is not None:
                    other = p.delivery_id if sid == p.pickup_id else p.pickup_id
                    seq_list = list(seq.stop_ids)
                    if other not in seq_list or (sid == p.delivery_id and seq_list.index(other) > seq_list.index(sid)):
                        unassigned.append(Unassigned(sid, UnassignedReason.PAIRING, "paired leg missing from the locked sequence or after it"))
                        continue
                    if sid == p.delivery_id and other not in kept:
                        unassigned.append(Unassigned(sid, UnassignedReason.PAIRING, "its pickup could not be kept in the locked sequence"))
                        continue
                _, issues = scheduler.route(ref, kept + [sid], ref.trip.start_s)
                if issues:
                    unassigned.append(Unassigned(sid, issues[0][1], "cannot keep its place in the locked sequence"))
                    continue
                kept.append(sid)
            # a pickup whose delivery was dropped goes too (pairs travel together)
            dropped = {u.stop_id for u in unassigned}
            for sid in list(kept):
                p = pair_of.get(sid)
                if p is not None and sid == p.pickup_id and p.delivery_id in dropped:
                    kept.remove(sid)
                    unassigned.append(Unassigned(sid, UnassignedReason.PAIRING, "its delivery could not be kept in the locked sequence"))
            if kept:
                locked_routes.append(scheduler.route(ref, kept, ref.trip.start_s)[0])
        # the other leg of a pair cut in half by a sequence lock
        for p in problem.pairs:
            legs = {p.pickup_id, p.delivery_id}
            if legs & in_sequence and not legs <= in_sequence:
                for sid in legs - in_sequence:
                    unassigned.append(Unassigned(sid, UnassignedReason.PAIRING, "its paired leg is in a locked sequence of another trip"))
                    in_sequence.add(sid)

        trips = [r for r in all_trips if (r.courier.id, r.trip.id) not in locked_keys]

        # -- tasks and the trips each may use
        tasks: list[_Task] = []
        paired = set(pair_of)
        for s in problem.stops:
            if s.id not in paired and s.id not in in_sequence:
                tasks.append(_Task(s.id, (s,), s.required, s.penalty if not s.required else 0))
        for p in problem.pairs:
            if p.pickup_id in in_sequence:
                continue
            pu, de = stops[p.pickup_id], stops[p.delivery_id]
            req = pu.required or de.required
            tasks.append(_Task(p.id, (pu, de), req, 0 if req else pu.penalty + de.penalty))

        kept_tasks: list[_Task] = []
        # trips alike in profile, hours and capacity answer the alone-checks alike: check one
        classes: dict[tuple, list[int]] = {}
        for k, r in enumerate(trips):
            classes.setdefault((r.timing, r.courier.capacity), []).append(k)
        for task in tasks:
            allowed = set(range(len(trips)))
            locked = any(s.id in a_lock for s in task.stops)
            for s in task.stops:
                lock = a_lock.get(s.id)
                if lock is not None:
                    allowed &= {
                        k for k, r in enumerate(trips)
                        if r.courier.id == lock.courier_id and lock.trip_id in (None, r.trip.id)
                    }
            allowed_by_locks = set(allowed)
            steps = [(loc[s.id], s.windows, s.service_s) for s in task.stops]
            load = task.stops[0].load
            reason = None
            if not trips:
                reason = UnassignedReason.NO_ROOM, "no trip left to plan (all trips locked or none on shift)"
            elif not allowed and locked:
                reason = UnassignedReason.LOCK, "no trip left that its locks allow"
            elif not allowed:
                reason = UnassignedReason.NO_ROOM, "no trip left to plan"
            elif not any(load.fits(trips[k].courier.capacity) for k in allowed):
                reason = UnassignedReason.CAPACITY, f"{load} exceeds every allowed trip's capacity"
            else:
                timely: list[int] = []
                untimed = False
                for (timing, cap), members in classes.items():
                    ks = [k for k in members if k in allowed]
                    if not ks or not load.fits(cap):
                        continue
                    trip, dur = trips[ks[0]].trip, tables[timing].duration_s
                    if _alone_ok(steps, trip, dur):
                        timely += ks
                    elif not untimed and _alone_ok(steps, trip, dur, use_windows=False):
                        untimed = True
                if not timely:
                    if untimed:
                        reason = UnassignedReason.TIME_WINDOW, "no trip reaches it inside its windows"
                    else:
                        reason = UnassignedReason.SHIFT, "too far for any trip's hours"
                else:
                    task.trips = sorted(timely)
                    if locked:
                        task.locked_to = allowed_by_locks
            if reason is not None:
                for s in task.stops:
                    unassigned.append(Unassigned(s.id, reason[0], reason[1]))
                continue
            self._choose_windows(task, trips, tables, loc)
            kept_tasks.append(task)
        tasks = kept_tasks

        # -- routing profiles: (speed profile and hours, stops other couriers own) -> arc cost
        # and duration matrices
        obj = problem.objective
        n = len(points)
        # only locks restrict trips here: windows, shifts and capacity PyVRP handles itself
        restricted = [i for i, t in enumerate(tasks) if t.locked_to is not None]
        profile_key: list[tuple] = []
        for k, ref in enumerate(trips):
            forbidden = frozenset(i for i in restricted if k not in tasks[i].locked_to)  # type: ignore[operator]
            profile_key.append((ref.timing, forbidden))
        keys = list(dict.fromkeys(profile_key))
        base: dict[Timing, tuple[np.ndarray, np.ndarray]] = {}
        for timing in dict.fromkeys(k[0] for k in keys):
            tab = tables[timing]
            arc = np.rint(tab.duration_s * obj.per_travel_s + tab.distance_m * obj.per_distance_m).astype(np.int64)
            base[timing] = (np.minimum(arc, MAX_VALUE), np.minimum(tab.duration_s, MAX_VALUE))
        dist_mats, dur_mats = [], []
        for timing, forbidden in keys:
            arc, dur = base[timing]
            if forbidden:
                arc, dur = arc.copy(), dur.copy()
                idx = sorted({loc[s.id] for i in forbidden for s in tasks[i].stops})
                arc[idx, :] = MAX_VALUE
                arc[:, idx] = MAX_VALUE
                dur[idx, :] = MAX_VALUE
                dur[:, idx] = MAX_VALUE
                arc[idx, idx] = 0
                dur[idx, idx] = 0
            dist_mats.append(arc)
            dur_mats.append(dur)

        # -- prizes: a required task is worth more than any complete plan costs
        finite = [m[m < MAX_VALUE].max(initial=0) for m in dist_mats]
        max_arc = int(max(finite, default=0))
        upper = (n + len(trips)) * max_arc * 2 + obj.fixed_per_trip * len(trips) + 1
        optional_total = sum(t.penalty for t in tasks if not t.required)
        big = int(max(upper, optional_total + 1, 1000))
        big = min(big, MAX_VALUE // max(1, 4 * len(tasks)))

        # -- load dimensions (items, grams); one nobody uses is left out (it only slows the search)
        dims = [d for d in (0, 1) if any(t.stops[0].load.as_list()[d] > 0 for t in tasks)]

        # -- vehicle types: trips alike share one
        horizon = max((r.trip.end_s for r in trips), default=0)
        type_of: dict[tuple, int] = {}
        type_trips: list[list[int]] = []
        vehicle_types = []
        for k, ref in enumerate(trips):
            key = (ref.span, ref.courier.capacity, keys.index(profile_key[k]))
            if key not in type_of:
                type_of[key] = len(type_trips)
                type_trips.append([])
            type_trips[type_of[key]].append(k)
        for key, t in type_of.items():
            span, cap, prof = key
            vehicle_types.append(
                VehicleType(
                    num_available=len(type_trips[t]),
                    capacity=[cap.as_list()[d] for d in dims],
                    start_depot=0,
                    end_depot=0,
                    fixed_cost=obj.fixed_per_trip,
                    tw_early=span[0],
                    tw_late=span[1],
                    unit_distance_cost=1,
                    unit_duration_cost=0,
                    profile=prof,
                    name=f"{span[0]}-{span[1]}#{len(type_trips[t])}",
                )
            )

        if not tasks or not trips:
            return Compiled(None, None, tasks, trips, type_trips, [], [], big, 0, 0, locked_routes, unassigned, scheduler)
        hard, client_task, shipment_task, hard_offset = self._items(tasks, loc, horizon, big, dims, hard=True)
        prize, _, _, prize_offset = self._items(tasks, loc, horizon, big, dims, hard=False)
        base = self._data(points, hard[0], vehicle_types, dist_mats, dur_mats, hard[1], hard[2])

        def fallback() -> object:  # built only when phase 2 is needed
            return base.replace(clients=prize[0], groups=prize[1], shipments=prize[2])
        return Compiled(
            data=base, prize_data=fallback, tasks=tasks, trips=trips, type_trips=type_trips,
            client_task=client_task, shipment_task=shipment_task, big=big,
            group_offset=hard_offset, prize_group_offset=prize_offset,
            locked_routes=locked_routes, unassigned=unassigned, scheduler=scheduler,
        )

    @staticmethod
    def _items(tasks: list[_Task], loc: dict[str, int], horizon: int, big: int, dims: list[int], hard: bool) -> tuple:
        """PyVRP clients, groups and shipments. ``hard``: required stops are required (the
        search is markedly better so); otherwise every stop is optional and a required one
        carries the prize ``big`` (the fallback when the fleet cannot hold every stop)."""
        from pyvrp import Client, ClientGroup, Shipment

        clients, groups, shipments = [], [], []
        client_task: list[int] = []
        shipment_task: list[int] = []
        group_offset = 0
        for i, task in enumerate(tasks):
            prize = (0 if hard else big) if task.required else task.penalty
            required = hard and task.required
            if len(task.stops) == 1:
                s = task.stops[0]
                amount = [s.load.as_list()[d] for d in dims]
                delivery = amount if s.kind is StopKind.DELIVERY else [0] * len(dims)
                pickup = amount if s.kind is StopKind.PICKUP else [0] * len(dims)
                alts = task.windows[0]
                group = None
                if len(alts) > 1:
                    # exactly one alternative (one per window) is visited when the group is required
                    group = len(groups)
                    groups.append(ClientGroup(clients=[], required=required, name=s.id))
                    group_offset += (len(alts) - 1) * prize  # unvisited alternatives count as uncollected
                for w in alts:
                    if group is not None:
                        groups[group].add_client(len(clients))
                    clients.append(
                        Client(
                            location=loc[s.id],
                            delivery=delivery,
                            pickup=pickup,
                            service_duration=s.service_s,
                            tw_early=w.start_s if w else 0,
                            tw_late=w.end_s if w else horizon,
                            prize=prize,
                            required=required and group is None,
                            group=group,
                            name=s.id,
                        )
                    )
                    client_task.append(i)
            else:
                pu, de = task.stops
                wp, wd = task.windows[0][0], task.windows[1][0]
                shipments.append(
                    Shipment(
                        pickup_location=loc[pu.id],
                        delivery_location=loc[de.id],
                        pickup_tw_early=wp.start_s if wp else 0,
                        pickup_tw_late=wp.end_s if wp else horizon,
                        pickup_service_duration=pu.service_s,
                        delivery_tw_early=wd.start_s if wd else 0,
                        delivery_tw_late=wd.end_s if wd else horizon,
                        delivery_service_duration=de.service_s,
                        amount=[pu.load.as_list()[d] for d in dims],
                        prize=prize,
                        required=required,
                        name=task.key,
                    )
                )
                shipment_task.append(i)
        return (clients, groups, shipments), client_task, shipment_task, group_offset

    @staticmethod
    def _data(points, clients, vehicle_types, dist_mats, dur_mats, groups, shipments):  # type: ignore[no-untyped-def]
        from pyvrp import Depot, Location, ProblemData

        n = len(points)
        lat, lon = zip(*points)
        locations = [Location(x=float(lon[j]), y=float(lat[j])) for j in range(n)]
        data = ProblemData(
            locations=locations,
            clients=clients,
            depots=[Depot(location=0)],
            vehicle_types=vehicle_types,
            distance_matrices=dist_mats,
            duration_matrices=dur_mats,
            groups=groups,
            shipments=shipments,
        )
        return data

    @staticmethod
    def _choose_windows(task: _Task, trips: list[TripRef], tables: dict, loc: dict[str, int]) -> None:
        reps = list({trips[k].timing: k for k in task.trips}.values())  # one trip per profile and hours
        spans = [trips[k].span for k in reps]
        if len(task.stops) == 1:
            s = task.stops[0]
            if not s.windows:
                task.windows = [[None]]
                return
            # keep the windows some allowed trip can use when serving the stop alone
            useful = [
                w for w in s.windows
                if any(_alone_ok([(loc[s.id], (w,), s.service_s)], trips[k].trip, tables[trips[k].timing].duration_s) for k in reps)
            ]
            if len(useful) == 1:
                task.windows = [useful]
            elif _hull_is_exact(useful, spans):
                task.windows = [[TimeWindow(useful[0].start_s, useful[-1].end_s)]]
            else:
                task.windows = [useful]  # alternatives: a mutually exclusive group
            return
        pu, de = task.stops
        options_p = _window_options(pu.windows, spans)
        options_d = _window_options(de.windows, spans)
        if len(options_p) == 1 and len(options_d) == 1:
            task.windows = [[options_p[0]], [options_d[0]]]
            return
        best, best_score = None, (-1, -1)
        for wp in options_p:
            for wd in options_d:
                steps = [(loc[pu.id], (wp,) if wp else (), pu.service_s), (loc[de.id], (wd,) if wd else (), de.service_s)]
                n_ok = sum(_alone_ok(steps, trips[k].trip, tables[trips[k].timing].duration_s) for k in reps)
                width = (wp.end_s - wp.start_s if wp else 0) + (wd.end_s - wd.start_s if wd else 0)
                if (n_ok, width) > best_score:
                    best, best_score = (wp, wd), (n_ok, width)
        assert best is not None
        task.windows = [[best[0]], [best[1]]]

    # -- solving --------------------------------------------------------------------------------

    def solve(
        self, problem: Problem, time_limit_s: float = 10.0, on_progress: ProgressCallback | None = None
    ) -> Solution:
        from pyvrp import Solution as PSolution
        from pyvrp.exceptions import PenaltyBoundWarning
        from pyvrp.IteratedLocalSearch import (
            IteratedLocalSearchCallbacks,
            IteratedLocalSearchParams,
        )
        from pyvrp.solve import SolveParams, solve

        t0 = time.perf_counter()
        deadline = t0 + time_limit_s
        compiled = self.compile(problem)
        best_sol = None
        reporter = self
        state = {"offset": compiled.group_offset, "feasible": False, "last": -1e9}

        class _Callbacks(IteratedLocalSearchCallbacks):
            def _report(self, best: PSolution, force: bool = False) -> None:
                if best.is_feasible():
                    state["feasible"] = True
                now = time.perf_counter()
                if on_progress is not None and (force or now - state["last"] >= reporter.progress_interval_s):
                    state["last"] = now
                    on_progress(reporter._progress(compiled, best, now - t0, state["offset"]))

            def on_start(self, ils: object) -> None:
                self._report(ils.initial_solution, force=True)  # type: ignore[attr-defined]

            def on_best(self, best: PSolution) -> None:
                self._report(best)

        params = SolveParams(ils=IteratedLocalSearchParams(callbacks=_Callbacks()))
        if compiled.data is not None:
            # Phase 1: required stops required. If no feasible plan shows up in the first
            # half of the time, the fleet probably cannot hold them all: phase 2 solves the
            # prize-collecting version for the rest of the time, dropping the fewest.
            give_up = t0 + self.hard_share * time_limit_s

            calls = [0]

            def stop(_: float) -> bool:
                calls[0] += 1
                if self.max_iterations is not None and calls[0] > self.max_iterations:
                    return True
                now = time.perf_counter()
                return now >= deadline or (now >= give_up and not state["feasible"])

            with warnings.catch_warnings():
                # PyVRP warns when penalties hit their bound: expected when phase 1 is infeasible
                warnings.simplefilter("ignore", PenaltyBoundWarning)
                best_sol = solve(compiled.data, stop=stop, seed=self.seed, collect_stats=False, display=False, params=params).best
            if not best_sol.is_feasible() and time.perf_counter() < deadline:
                state["offset"] = compiled.prize_group_offset
                best_sol = solve(compiled.prize_data(), stop=_Deadline(deadline), seed=self.seed, collect_stats=False,
                                 display=False, params=params).best
        solution = self._read(problem, compiled, best_sol, time.perf_counter() - t0)
        solution = self._check_and_repair(problem, compiled, solution)
        if on_progress is not None:
            n_req = sum(1 for u in solution.unassigned if problem.stop_by_id()[u.stop_id].required)
            on_progress(Progress(time.perf_counter() - t0, solution.cost, n_req, True))
        return solution

    def _progress(self, c: Compiled, best: object, elapsed: float, offset: int) -> Progress:
        uncollected = best.uncollected_prizes() - offset  # type: ignore[attr-defined]
        missing_required = uncollected // c.big
        cost = best.distance_cost() + best.fixed_vehicle_cost() + uncollected - missing_required * c.big  # type: ignore[attr-defined]
        return Progress(elapsed, float(cost), int(missing_required), bool(best.is_feasible()))  # type: ignore[attr-defined]

    def _read(self, problem: Problem, c: Compiled, best: object, elapsed: float) -> Solution:
        routes = list(c.locked_routes)
        planned_tasks: set[int] = set()
        if best is not None:
            pools = [list(ks) for ks in c.type_trips]
            for pr in best.routes():  # type: ignore[attr-defined]
                ref = c.trips[pools[pr.vehicle_type()].pop(0)]
                stop_ids: list[str] = []
                for act in pr.schedule():
                    if act.is_depot():
                        continue
                    if act.is_client():
                        ti = c.client_task[act.idx]
                        stop_ids.append(c.tasks[ti].stops[0].id)
                    else:
                        ti = c.shipment_task[act.idx]
                        stop_ids.append(c.tasks[ti].stops[0 if act.is_pickup() else 1].id)
                    planned_tasks.add(ti)
                if stop_ids:
                    depart = max(int(pr.start_time()), ref.trip.start_s)
                    routes.append(c.scheduler.route(ref, stop_ids, depart)[0])
        unassigned = list(c.unassigned)
        for i, task in enumerate(c.tasks):
            if i in planned_tasks:
                continue
            for s in task.stops:
                if task.required:
                    unassigned.append(Unassigned(s.id, UnassignedReason.NO_ROOM, "servable alone, but the trips are full"))
                else:
                    unassigned.append(Unassigned(s.id, UnassignedReason.NOT_WORTH_IT, f"penalty {task.penalty} below the cost of serving it"))
        return Solution(
            routes=tuple(routes),
            unassigned=tuple(unassigned),
            cost=objective_cost(problem, routes, unassigned),
            solver=self.name,
            runtime_s=elapsed,
        )

    def _check_and_repair(self, problem: Problem, c: Compiled, solution: Solution) -> Solution:
        """Run the independent checker; drop offending stops (with their pair) until it passes."""
        violations = check_solution(problem, solution, self.matrix)
        rounds = 0
        while violations and rounds < len(problem.stops) + 1:
            rounds += 1
            pair_of = {}
            for p in problem.pairs:
                pair_of[p.pickup_id] = p.delivery_id
                pair_of[p.delivery_id] = p.pickup_id
            bad = next((v for v in violations if v.courier_id is not None), None)
            if bad is None:
                raise PlanCheckFailed(violations)
            route = solution.route_of(bad.courier_id, bad.trip_id)  # type: ignore[arg-type]
            if route is None or not route.visits:
                raise PlanCheckFailed(violations)
            victim = bad.stop_id if bad.stop_id in route.stop_ids else route.stop_ids[-1]
            drop = {victim, pair_of.get(victim, victim)}
            ref = next(r for r in c.trips + [TripRef(cr, t) for cr in problem.couriers for t in cr.trips]
                       if (r.courier.id, r.trip.id) == (route.courier_id, route.trip_id))
            kept = [sid for sid in route.stop_ids if sid not in drop]
            routes = [r for r in solution.routes if r is not route]
            if kept:
                routes.append(c.scheduler.route(ref, kept, route.depart_s)[0])
            unassigned = list(solution.unassigned) + [
                Unassigned(sid, UnassignedReason.NO_ROOM, "dropped to keep the plan feasible") for sid in sorted(drop)
            ]
            solution = Solution(tuple(routes), tuple(unassigned), objective_cost(problem, routes, unassigned), solution.solver, solution.runtime_s)
            violations = check_solution(problem, solution, self.matrix)
        if violations:
            raise PlanCheckFailed(violations)
        return solution


def _window_options(windows: Sequence[TimeWindow], spans: Sequence[tuple[int, int]]) -> list[TimeWindow | None]:
    if not windows:
        return [None]
    if len(windows) > 1 and _hull_is_exact(windows, spans):
        return [TimeWindow(windows[0].start_s, windows[-1].end_s)]
    return list(windows)
