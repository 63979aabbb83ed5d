"""Dispatcher edits of a solved plan: a stop moved to another courier's trip takes effect at once.

Pure: works on the plan's stops and trip sequences as model objects (``routing.planning`` reads
and writes the stored document). The new times, loads and totals come from the solver's own
forward scheduler on the same matrix, and the two routes touched are then checked by the
independent checker, so a move never stores a plan the checker would reject.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from postal_svc.errors import RuleViolation
from postal_svc.routing.checker import check_solution
from postal_svc.routing.matrix import DistanceMatrix, ProfileMatrices, TravelTable, matrix_for
from postal_svc.routing.model import (
    Courier, PairedRequest, Problem, Route, Solution, UnassignedReason, objective_cost)
from postal_svc.routing.solver import RouteScheduler, Timing, TripRef


class InvalidMove(RuleViolation):
    """The move names no planned stop, or a trip or position the courier does not have."""

    code = "invalid_move"


class MoveNotFeasible(RuleViolation):
    """No position in the courier's trips keeps windows, capacity and shift hours (``reason``)."""

    code = "move_not_feasible"

    def __init__(self, message: str, *, reason: str, stop_id: str, courier_id: str) -> None:
        super().__init__(message, errors={"moves": [message]},
                         details={"reason": reason, "stop_id": stop_id, "courier_code": courier_id})
        self.reason = reason


@dataclass(frozen=True)
class TripPlan:
    """One courier trip of a stored plan: when it leaves and the stops it serves in order."""

    courier_id: str
    trip_id: str
    depart_s: int
    stop_ids: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.courier_id, self.trip_id)


@dataclass(frozen=True)
class Move:
    """Serve ``stop_id`` (and its paired leg) on ``courier_id``'s trip ``trip_id`` (None: the
    cheapest of its trips) at 1-based ``position`` (None: the cheapest feasible one; for a pair,
    the position of its first leg, the second going where it is cheapest after it)."""

    stop_id: str
    courier_id: str
    trip_id: str | None = None
    position: int | None = None


@dataclass(frozen=True)
class MoveResult:
    """Every trip of the plan after the move, and the recomputed routes of the trips touched
    (None for a trip the move emptied)."""

    trips: tuple[TripPlan, ...]
    routes: dict[tuple[str, str], Route | None]


_MESSAGES = {
    UnassignedReason.TIME_WINDOW: "it cannot be reached inside its time window",
    UnassignedReason.CAPACITY: "the trip's load would exceed the courier's capacity",
    UnassignedReason.SHIFT: "the trip would end after the courier's shift",
}


def move_stop(problem: Problem, trips: Sequence[TripPlan], move: Move,
              matrix: DistanceMatrix | ProfileMatrices) -> MoveResult:
    """Take the stop (with its paired leg) out of its trip and insert it into the courier's
    trip at the cheapest feasible position (least extra cost by ``problem.objective``), then
    recompute both routes and check them. Raises InvalidMove, MoveNotFeasible (reason
    ``time_window``, ``capacity``, ``shift`` or the checker's kind); changes nothing then."""
    stops = problem.stop_by_id()
    if move.stop_id not in stops:
        raise InvalidMove(f"Stop {move.stop_id} is not in the plan.", errors={"moves": ["Unknown stop."]})
    couriers = {c.id: c for c in problem.couriers}
    courier = couriers.get(move.courier_id)
    if courier is None:
        raise InvalidMove(f"Courier {move.courier_id} is not in the plan.",
                          errors={"courier_code": ["Not in this plan."]})
    legs = _legs(problem.pairs, move.stop_id)
    source = next((t for t in trips if move.stop_id in t.stop_ids), None)
    if source is None:
        raise InvalidMove(f"Stop {move.stop_id} is not on any route.", errors={"moves": ["Not planned."]})
    targets = [t for t in courier.trips if move.trip_id in (None, t.id)]
    if not targets:
        raise InvalidMove(f"Courier {courier.id} has no trip {move.trip_id!r}.",
                          errors={"trip": [f"One of: {', '.join(t.id for t in courier.trips)}."]})
    by_key = {t.key: t for t in trips}
    remaining = tuple(s for s in source.stop_ids if s not in legs)

    # the sub-problem: the stops of the source trip and of every trip of the target courier
    involved = {source.key} | {(courier.id, t.id) for t in targets}
    sub_ids = {s for key in involved if key in by_key for s in by_key[key].stop_ids} | set(legs)
    sub_couriers = tuple(c for c in problem.couriers if c.id in {k[0] for k in involved})
    sub = Problem(depot=problem.depot, couriers=sub_couriers,
                  stops=tuple(s for s in problem.stops if s.id in sub_ids),
                  pairs=tuple(p for p in problem.pairs if p.pickup_id in sub_ids),
                  objective=problem.objective)
    points = [sub.depot.location] + [s.location for s in sub.stops]
    loc = {s.id: i + 1 for i, s in enumerate(sub.stops)}
    tables: dict[Timing, TravelTable] = {}
    refs = {(c.id, t.id): TripRef(c, t) for c in sub_couriers for t in c.trips}
    for ref in refs.values():
        if ref.timing not in tables:
            tables[ref.timing] = matrix_for(matrix, ref.courier.profile).table(points, during=ref.span)
    scheduler = RouteScheduler(sub, loc, tables)

    def cost(route: Route | None) -> float:
        return objective_cost(sub, [route] if route is not None else [], [])

    best: tuple[tuple, Route] | None = None
    closest: tuple[tuple, UnassignedReason] | None = None
    for trip in targets:
        key = (courier.id, trip.id)
        current = by_key.get(key)
        base = list(remaining if key == source.key else (current.stop_ids if current else ()))
        before = cost(_route(scheduler, refs[key], base, current.depart_s if current else trip.start_s))
        for sequence in _insertions(base, legs, move.position):
            route, issues = scheduler.route(refs[key], sequence, trip.start_s)
            rank = (cost(route) - before, route.duration_s)
            if issues:
                if closest is None or (len(issues), rank) < closest[0]:
                    closest = ((len(issues), rank), issues[0][1])
            elif best is None or rank < best[0]:
                best = (rank, route)
    if best is None:
        reason = closest[1] if closest is not None else UnassignedReason.NO_ROOM
        raise MoveNotFeasible(
            f"Courier {courier.id} cannot take stop {move.stop_id}: "
            f"{_MESSAGES.get(reason, 'no position in its trips keeps the plan feasible')}.",
            reason=reason.value, stop_id=move.stop_id, courier_id=courier.id)
    target = best[1]
    key = (target.courier_id, target.trip_id)
    current = by_key.get(key)
    if current is not None and current.depart_s != _trip_start(courier, key[1]):
        # leave when the trip left before if that still works (no needless waiting)
        later, issues = scheduler.route(refs[key], target.stop_ids, current.depart_s)
        if not issues:
            target = later
    touched: dict[tuple[str, str], Route | None] = {key: target}
    if source.key != key:
        touched[source.key] = None
        if remaining:
            ref = refs[source.key]
            route, issues = scheduler.route(ref, remaining, source.depart_s)
            if issues:
                route, issues = scheduler.route(ref, remaining, ref.trip.start_s)
            if issues:
                raise MoveNotFeasible(
                    f"Taking stop {move.stop_id} off courier {source.courier_id}'s trip leaves it "
                    f"infeasible: {_MESSAGES[issues[0][1]]}.",
                    reason=issues[0][1].value, stop_id=move.stop_id, courier_id=courier.id)
            touched[source.key] = route
    routes = [r for r in touched.values() if r is not None]
    planned = {s for r in routes for s in r.stop_ids}
    check = replace(sub, stops=tuple(s for s in sub.stops if s.id in planned),
                    pairs=tuple(p for p in sub.pairs if p.pickup_id in planned))
    violations = check_solution(check, Solution(tuple(routes), (), 0.0), matrix)
    if violations:
        raise MoveNotFeasible(
            f"The moved plan fails the feasibility check: {violations[0].detail}.",
            reason=violations[0].kind.value, stop_id=move.stop_id, courier_id=courier.id)
    kept = [t for t in trips if t.key not in touched]
    for k, route in touched.items():
        if route is not None:
            kept.append(TripPlan(k[0], k[1], route.depart_s, tuple(route.stop_ids)))
    return MoveResult(trips=tuple(kept), routes=touched)


def _trip_start(courier: Courier, trip_id: str) -> int:
    return next(t.start_s for t in courier.trips if t.id == trip_id)


def _legs(pairs: Sequence[PairedRequest], stop_id: str) -> tuple[str, ...]:
    """The stop and its paired leg, pickup first."""
    for p in pairs:
        if stop_id in (p.pickup_id, p.delivery_id):
            return (p.pickup_id, p.delivery_id)
    return (stop_id,)


def _route(scheduler: RouteScheduler, ref: TripRef, stop_ids: Sequence[str], depart_s: int) -> Route | None:
    return scheduler.route(ref, list(stop_ids), depart_s)[0] if stop_ids else None


def _insertions(base: list[str], legs: tuple[str, ...], position: int | None) -> list[list[str]]:
    """Every sequence with ``legs`` inserted in order (first leg at ``position`` when given)."""
    if position is not None and not 1 <= position <= len(base) + 1:
        raise InvalidMove(f"Position {position} is outside the trip (1 to {len(base) + 1}).",
                          errors={"position": [f"From 1 to {len(base) + 1}."]})
    firsts = range(len(base) + 1) if position is None else [position - 1]
    out = []
    for i in firsts:
        with_first = base[:i] + [legs[0]] + base[i:]
        if len(legs) == 1:
            out.append(with_first)
            continue
        for j in range(i + 1, len(with_first) + 1):
            out.append(with_first[:j] + [legs[1]] + with_first[j:])
    return out

