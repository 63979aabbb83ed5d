"""Route planning use cases: a post office's day as a routing problem, solved in a worker, published.

The pure core (matrix, model, solver, checker) knows nothing of orders; this module is the
routing floor's use-case layer that turns orders, agencies and couriers into a ``Problem``,
runs the solver outside any request thread, stores a plan the independent checker accepted,
and moves the orders through their lifecycle when a dispatcher publishes the plan.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from postal_svc import ids
from postal_svc.access.service import Caller
from postal_svc.clock import isoformat_z, utcnow
from postal_svc.config import DEFAULT_SPEED_PROFILES, Settings
from postal_svc.db import Database
from postal_svc.directory.couriers import Courier as CourierRecord
from postal_svc.directory.couriers import couriers_of
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.directory.service import get_post_office
from postal_svc.errors import Conflict, DomainError, NotFound, RuleViolation
from postal_svc.routing import edits
from postal_svc.routing.checker import check_solution
from postal_svc.routing.matrix import DistanceMatrix, ProfileMatrices
from postal_svc.routing.model import (
    AssignmentLock, Courier, Depot, Load, PairedRequest, Problem, Route, Solution, Stop, StopKind,
    TimeWindow, Trip, UnassignedReason, hhmm)
from postal_svc.routing.models import FAILED, PUBLISHED, QUEUED, READY, SOLVING, RoutePlan
from postal_svc.routing.solver import PlanCheckFailed, Progress, PyVRPSolver
from postal_svc.shipments import events
from postal_svc.shipments.lifecycle import Kind, Status
from postal_svc.shipments.models import Order

log = logging.getLogger("postal_svc.routing.planning")

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_S = 24 * 3600

# Kinds of stop, as the API names them.
COLLECT_RESULT = "collect_result"      # at the agency's desk, within office hours
DELIVER_RESULT = "deliver_result"      # at the citizen's address
PICKUP_DOSSIER = "pickup_dossier"      # at the citizen's address
DELIVER_DOSSIER = "deliver_dossier"    # at the agency's desk, within office hours

DELIVERABLE = (Status.AT_POST_OFFICE.value, Status.DELIVERY_FAILED.value)
COLLECTABLE = (Status.CREATED.value,)
PICKABLE = (Status.CREATED.value, Status.PICKUP_FAILED.value)


class RoutePlanNotFound(NotFound):
    code = "route_plan_not_found"


class InvalidRoutePlan(RuleViolation):
    code = "invalid_route_plan"


class PlanNotEditable(Conflict):
    code = "plan_not_editable"


# -- tuning (data, not rules: passed in by the caller) ----------------------------------------

@dataclass(frozen=True)
class PlanningPolicy:
    """Service times and priorities. Penalties are in objective units (about travel seconds):
    far above any stop's marginal cost, so a stop is dropped only when the fleet is full, and
    then re-attempts and overdue orders are kept first."""

    service_s: int = 180
    extra_order_service_s: int = 60
    base_penalty: int = 100_000
    per_attempt_penalty: int = 50_000
    overdue_penalty: int = 100_000
    coordinate_decimals: int = 5


LEGACY_SPEED_PROFILES = {"hcmc_default": None}
"""Profile names couriers were once stored with, and what they mean now (None: the default)."""


@dataclass(frozen=True)
class SpeedProfiles:
    """Couriers' named speed profiles (figures as in ``config.DEFAULT_SPEED_PROFILES``) and the
    profile of a courier who names none. A plan stores the figures it was solved with, so its
    later edits are timed with the same matrices."""

    figures: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_SPEED_PROFILES)
    default: str = "motorbike"

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeedProfiles:
        return cls(settings.travel_profiles(), settings.default_speed_profile)

    def matrices(self) -> ProfileMatrices:
        return ProfileMatrices.haversine(self.figures, self.default)

    def name_of(self, profile: str | None) -> str:
        """The profile a courier stored with ``profile`` travels by."""
        return self.default if profile is None else profile


# -- plain inputs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderFacts:
    """What planning needs of one order (citizen side point; times already in day seconds)."""

    order_id: str
    kind: str
    status: str
    agency_code: str
    lat: float | None
    lon: float | None
    address_line: str | None
    ward_name: str | None
    pieces: int
    weight_g: int
    attempt_count: int = 0
    overdue: bool = False
    window: tuple[int, int] | None = None  # citizen's window on the day, seconds since midnight
    window_today: bool = True  # False: the citizen's window lies on another day


@dataclass(frozen=True)
class AgencyFacts:
    code: str
    name: str
    lat: float | None
    lon: float | None
    office_hours: tuple[TimeWindow, ...]


@dataclass(frozen=True)
class CourierFacts:
    code: str
    capacity_items: int
    capacity_g: int
    shifts: tuple[tuple[str, str], ...]
    speed_profile: str | None = None  # None: the default profile


@dataclass
class StopInfo:
    """What a stop of the problem means to people: its orders, kind, place."""

    stop_id: str
    kind: str
    order_ids: list[str]
    lat: float
    lon: float
    address: str | None
    ward: str | None
    agency_code: str | None = None


@dataclass
class BuiltProblem:
    problem: Problem
    stops: dict[str, StopInfo]
    unassigned: list[dict[str, str]] = field(default_factory=list)


def office_windows(hours: Iterable[Sequence[str]]) -> tuple[TimeWindow, ...]:
    """Office hours as sorted, non-touching windows (touching intervals merge)."""
    windows: list[TimeWindow] = []
    for opens, closes in sorted((hhmm(a), hhmm(b)) for a, b in hours):
        if windows and opens <= windows[-1].end_s:
            last = windows.pop()
            windows.append(TimeWindow(last.start_s, max(last.end_s, closes)))
        else:
            windows.append(TimeWindow(opens, closes))
    return tuple(windows)


def day_window(day: date, after: datetime | None, before: datetime | None) -> tuple[tuple[int, int] | None, bool]:
    """The citizen's window on ``day`` (Vietnam time) in seconds since midnight, and whether
    any of it falls on that day. No window: (None, True)."""
    if after is None and before is None:
        return None, True
    start_of_day = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)
    start = 0 if after is None else int((after - start_of_day).total_seconds())
    end = DAY_S if before is None else int((before - start_of_day).total_seconds())
    start, end = max(start, 0), min(end, DAY_S)
    if end <= start:
        return None, False
    return (start, end), True


def build_problem(depot: tuple[float, float], couriers: Sequence[CourierFacts],
                  orders: Sequence[OrderFacts], agencies: dict[str, AgencyFacts], *,
                  locks: dict[str, str] | None = None,
                  policy: PlanningPolicy = PlanningPolicy()) -> BuiltProblem:
    """The day's problem: one stop per address and kind of stop (and window and lock);
    agency legs paired with citizen legs; orders that cannot be planned come back with a
    reason (``no_location``, ``agency_no_location``, ``window_not_today``). Pure."""
    locks = locks or {}
    unassigned: list[dict[str, str]] = []
    nd = policy.coordinate_decimals
    # group key -> [orders]; singles and pairs apart
    singles: dict[tuple, list[OrderFacts]] = {}
    pairs: dict[tuple, list[OrderFacts]] = {}
    for o in orders:
        if o.lat is None or o.lon is None:
            unassigned.append({"order_id": o.order_id, "reason": "no_location"})
            continue
        if not o.window_today:
            unassigned.append({"order_id": o.order_id, "reason": "window_not_today"})
            continue
        point = (round(o.lat, nd), round(o.lon, nd))
        lock = locks.get(o.order_id)
        if o.kind == Kind.RESULT_DELIVERY and o.status in DELIVERABLE:
            singles.setdefault((DELIVER_RESULT, point, o.window, lock), []).append(o)
            continue
        agency = agencies.get(o.agency_code)
        if agency is None or agency.lat is None or agency.lon is None:
            unassigned.append({"order_id": o.order_id, "reason": "agency_no_location"})
            continue
        first = COLLECT_RESULT if o.kind == Kind.RESULT_DELIVERY else PICKUP_DOSSIER
        pairs.setdefault((first, o.agency_code, point, o.window, lock), []).append(o)

    def penalty(group: list[OrderFacts]) -> int:
        return sum(policy.base_penalty + policy.per_attempt_penalty * o.attempt_count
                   + (policy.overdue_penalty if o.overdue else 0) for o in group)

    def service(group: list[OrderFacts]) -> int:
        return policy.service_s + policy.extra_order_service_s * (len(group) - 1)

    def load(group: list[OrderFacts]) -> Load:
        return Load(sum(o.pieces for o in group), sum(o.weight_g for o in group))

    def citizen_windows(window: tuple[int, int] | None) -> tuple[TimeWindow, ...]:
        return () if window is None else (TimeWindow(*window),)

    stops: list[Stop] = []
    infos: dict[str, StopInfo] = {}
    requests: list[PairedRequest] = []
    a_locks: list[AssignmentLock] = []

    def add(stop: Stop, info: StopInfo, lock: str | None) -> None:
        stops.append(stop)
        infos[stop.id] = info
        if lock is not None:
            a_locks.append(AssignmentLock(stop.id, lock))

    for n, ((_, point, window, lock), group) in enumerate(singles.items(), 1):
        first = group[0]
        add(Stop(id=f"s{n}", location=point, kind=StopKind.DELIVERY, load=load(group),
                 service_s=service(group), windows=citizen_windows(window), required=False,
                 penalty=penalty(group), ref=first.order_id),
            StopInfo(f"s{n}", DELIVER_RESULT, [o.order_id for o in group], point[0], point[1],
                     first.address_line, first.ward_name), lock)
    for n, ((first_kind, agency_code, point, window, lock), group) in enumerate(pairs.items(), 1):
        agency = agencies[agency_code]
        first = group[0]
        desk = (round(agency.lat, nd), round(agency.lon, nd))  # type: ignore[arg-type]
        ids = [o.order_id for o in group]
        half = penalty(group) // 2
        at_agency = dict(windows=agency.office_hours, service_s=service(group))
        at_citizen = dict(windows=citizen_windows(window), service_s=service(group))
        citizen_info = StopInfo("", "", ids, point[0], point[1], first.address_line, first.ward_name)
        agency_info = StopInfo("", "", ids, desk[0], desk[1], agency.name, None, agency_code)
        if first_kind == COLLECT_RESULT:
            legs = [(desk, at_agency, agency_info, COLLECT_RESULT),
                    (point, at_citizen, citizen_info, DELIVER_RESULT)]
        else:
            legs = [(point, at_citizen, citizen_info, PICKUP_DOSSIER),
                    (desk, at_agency, agency_info, DELIVER_DOSSIER)]
        pid = f"p{n}"
        for suffix, (where, timing, info, kind), stop_kind in zip(
                ("a", "b"), legs, (StopKind.PICKUP, StopKind.DELIVERY)):
            sid = pid + suffix
            add(Stop(id=sid, location=where, kind=stop_kind, load=load(group), required=False,
                     penalty=half, ref=first.order_id, **timing),  # type: ignore[arg-type]
                StopInfo(sid, kind, ids, info.lat, info.lon, info.address, info.ward,
                         info.agency_code), lock)
        requests.append(PairedRequest(pid, pid + "a", pid + "b"))

    fleet = fleet_of(couriers)
    problem = Problem(depot=Depot("depot", depot), couriers=fleet, stops=tuple(stops),
                      pairs=tuple(requests), assignment_locks=tuple(a_locks))
    return BuiltProblem(problem=problem, stops=infos, unassigned=unassigned)


def fleet_of(couriers: Sequence[CourierFacts]) -> tuple[Courier, ...]:
    """The couriers as the planner sees them: one trip per shift (t1, t2, ...)."""
    return tuple(
        Courier(id=c.code,
                trips=tuple(Trip(f"t{i}", hhmm(a), hhmm(b)) for i, (a, b) in enumerate(c.shifts, 1)),
                capacity=Load(c.capacity_items, c.capacity_g), profile=c.speed_profile)
        for c in couriers)


# -- reading the database --------------------------------------------------------------------

def _facts(order: Order, day: date) -> OrderFacts:
    window, today = day_window(day, order.deliver_after, order.deliver_before)
    end_of_day = datetime(day.year, day.month, day.day, tzinfo=VIETNAM) + timedelta(days=1)
    return OrderFacts(
        order_id=order.public_id, kind=order.kind, status=order.status,
        agency_code=order.agency_code, lat=order.lat, lon=order.lon,
        address_line=order.address_line, ward_name=order.ward_name, pieces=order.pieces,
        weight_g=order.weight_g, attempt_count=order.attempt_count,
        overdue=order.due_at <= end_of_day, window=window, window_today=today)


def plannable_orders(session: Session, post_office_code: str) -> list[Order]:
    """The office's orders a courier can move today, oldest first."""
    return list(session.scalars(select(Order).where(
        Order.post_office_code == post_office_code,
        or_(and_(Order.kind == Kind.RESULT_DELIVERY.value, Order.status.in_(DELIVERABLE + COLLECTABLE)),
            and_(Order.kind == Kind.DOSSIER_PICKUP.value, Order.status.in_(PICKABLE))))
        .order_by(Order.id)))


def courier_facts(session: Session, plan: RoutePlan,
                  profiles: Collection[str] | None = None) -> list[CourierFacts]:
    """The plan's couriers as they are now. Raises InvalidRoutePlan when one rides by a speed
    profile not among ``profiles`` (None: any name is taken)."""
    records = couriers_of(session, plan.post_office_code, plan.courier_codes)
    couriers = [CourierFacts(c.code, c.capacity_items, c.capacity_g,
                             tuple((a, b) for a, b in c.shifts),
                             LEGACY_SPEED_PROFILES.get(c.speed_profile or "", c.speed_profile))
                for c in records]
    unknown = sorted(f"{c.code} ({c.speed_profile})" for c in couriers
                     if profiles is not None and c.speed_profile not in (None, *profiles))
    if unknown:
        raise InvalidRoutePlan("Some couriers ride by a speed profile that is not configured.",
                               errors={"couriers": [f"Unknown speed profile: {', '.join(unknown)}."]})
    return couriers


def load_problem(session: Session, plan: RoutePlan, policy: PlanningPolicy = PlanningPolicy(),
                 profiles: Collection[str] | None = None) -> BuiltProblem:
    """The plan's problem from the database as it is now (``profiles``: the speed profiles
    couriers may name; see ``courier_facts``)."""
    office = get_post_office(session, plan.post_office_code)
    if office.lat is None or office.lon is None:
        raise InvalidRoutePlan("The post office has no location to start routes from.",
                               errors={"post_office_code": ["No lat/lon."]})
    couriers = courier_facts(session, plan, profiles)
    orders = [_facts(o, plan.plan_date) for o in plannable_orders(session, plan.post_office_code)]
    codes = {o.agency_code for o in orders}
    agencies = {a.code: AgencyFacts(a.code, a.name, a.lat, a.lon, office_windows(a.office_hours))
                for a in session.scalars(select(Agency).where(Agency.code.in_(sorted(codes))))}
    locks = {lock["order_id"]: lock["courier_code"] for lock in plan.locks or []}
    return build_problem((office.lat, office.lon), couriers, orders, agencies, locks=locks,
                         policy=policy)


# -- the plan as a document ------------------------------------------------------------------

def _instant(day: date, seconds: int) -> str:
    start = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)
    return isoformat_z(start + timedelta(seconds=seconds))


def _stop_facts(info: StopInfo, stop: Stop, day: date) -> dict[str, Any]:
    """What a stop of the stored plan says whatever its place in a route."""
    return {"stop_id": stop.id, "kind": info.kind, "order_ids": info.order_ids,
            "address": info.address, "ward": info.ward, "agency_code": info.agency_code,
            "lat": info.lat, "lon": info.lon,
            "windows": [{"start": _instant(day, w.start_s), "end": _instant(day, w.end_s)}
                        for w in stop.windows],
            "service_s": stop.service_s,
            "load": {"items": stop.load.items, "weight_g": stop.load.weight_g}}


def _route_document(r: Route, facts: Mapping[str, dict[str, Any]], day: date) -> dict[str, Any]:
    visits = [{"sequence": seq, **facts[v.stop_id],
               "planned_arrival": _instant(day, v.arrival_s),
               "service_start": _instant(day, v.start_s),
               "load_after": {"items": v.load_after.items, "weight_g": v.load_after.weight_g}}
              for seq, v in enumerate(r.visits, 1)]
    return {"courier_code": r.courier_id, "trip": r.trip_id,
            "depart_at": _instant(day, r.depart_s), "return_at": _instant(day, r.return_s),
            "start_load": {"items": r.start_load.items, "weight_g": r.start_load.weight_g},
            "distance_m": r.distance_m, "duration_s": r.duration_s, "stops": visits}


def _totals(routes: Sequence[dict[str, Any]], unassigned: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"distance_m": sum(r["distance_m"] for r in routes),
            "duration_s": sum(r["duration_s"] for r in routes),
            "routes": len(routes),
            "orders_planned": len({oid for r in routes for s in r["stops"] for oid in s["order_ids"]}),
            "orders_unassigned": len(unassigned)}


def solution_document(built: BuiltProblem, solution: Solution, day: date) -> dict[str, Any]:
    """routes, unassigned and totals as stored and served."""
    stops = built.problem.stop_by_id()
    facts = {sid: _stop_facts(built.stops[sid], stops[sid], day)
             for r in solution.routes for sid in r.stop_ids}
    routes = [_route_document(r, facts, day)
              for r in sorted(solution.routes, key=lambda r: (r.courier_id, r.depart_s))]
    unassigned = list(built.unassigned)
    seen = {u["order_id"] for u in unassigned}
    for u in solution.unassigned:
        # Every stop is optional with a penalty far above its marginal cost (PlanningPolicy):
        # one the solver left out "as not worth it" is one the full trips had no room for.
        reason = "no_room" if u.reason is UnassignedReason.NOT_WORTH_IT else u.reason.value
        for order_id in built.stops[u.stop_id].order_ids:
            if order_id not in seen:
                seen.add(order_id)
                unassigned.append({"order_id": order_id, "reason": reason})
    return {"routes": routes, "unassigned": unassigned, "totals": _totals(routes, unassigned)}


def plan_context(problem: Problem, speeds: SpeedProfiles | None) -> dict[str, Any]:
    """What a stored plan keeps besides its routes so that edits need nothing else: the depot,
    each courier's trips, capacity and speed profile, and the figures of those profiles."""
    fleet = {c.id: {"trips": [[t.id, t.start_s, t.end_s] for t in c.trips],
                    "capacity": {"items": c.capacity.items, "weight_g": c.capacity.weight_g},
                    "profile": speeds.name_of(c.profile) if speeds else c.profile}
             for c in problem.couriers}
    context: dict[str, Any] = {"depot": list(problem.depot.location), "fleet": fleet}
    if speeds is not None:
        used = {f["profile"] for f in fleet.values()} | {speeds.default}
        context["speeds"] = {"default": speeds.default,
                             "profiles": {n: dict(speeds.figures[n]) for n in sorted(used)}}
    return context


# -- use cases -------------------------------------------------------------------------------

def _public_id() -> str:
    return "rp_" + ids.random_hex(12)


def create_route_plan(session: Session, post_office_code: str, *, day: date,
                      courier_codes: Sequence[str] | None, time_limit_s: int,
                      client_id: int | None, now: datetime) -> RoutePlan:
    """Queue a plan for the office's day. Raises PostOfficeNotFound, InvalidRoutePlan (no
    location for the office, no couriers), InvalidCourier (a courier of another office)."""
    office: PostOffice = get_post_office(session, post_office_code)
    if office.lat is None or office.lon is None:
        raise InvalidRoutePlan("The post office has no location to start routes from.",
                               errors={"post_office_code": ["Set the office's lat/lon first."]})
    couriers: list[CourierRecord] = couriers_of(session, post_office_code, courier_codes)
    if not couriers:
        raise InvalidRoutePlan("No active courier rides for this post office.",
                               errors={"couriers": ["No courier to plan for."]})
    plan = RoutePlan(public_id=_public_id(), post_office_code=post_office_code, plan_date=day,
                     courier_codes=[c.code for c in couriers], time_limit_s=time_limit_s,
                     status=QUEUED, locks=[], created_by_client_id=client_id, created_at=now)
    session.add(plan)
    session.flush()
    return plan


def get_route_plan(session: Session, public_id: str, *, offices: frozenset[str] | None) -> RoutePlan:
    """The plan if it belongs to one of ``offices`` (None: any); RoutePlanNotFound otherwise."""
    plan = session.scalar(select(RoutePlan).where(RoutePlan.public_id == public_id))
    if plan is None or (offices is not None and plan.post_office_code not in offices):
        raise RoutePlanNotFound("No such route plan.")
    return plan


def change_plan(session: Session, plan: RoutePlan, *, moves: Sequence[dict[str, Any]],
                locks: Sequence[dict[str, str]], now: datetime,
                speeds: SpeedProfiles | None = None,
                policy: PlanningPolicy = PlanningPolicy()) -> RoutePlan:
    """Move and lock orders. A move (``order_id``, ``courier_code``, optional ``trip`` and
    1-based ``position``) takes effect at once on a ready plan: the order's stop (every order
    at it, and its paired leg) leaves its route for the cheapest feasible place in that
    courier's trip, both routes are re-timed and checked, and the totals follow. Moves and
    locks are both kept as locks, so re-optimising leaves the orders with those couriers. An
    order not on a route (unassigned, or the plan is not ready) is only locked. Raises
    PlanNotEditable once published, InvalidRoutePlan for an order not in the plan's office or
    a courier not in the plan, InvalidMove, MoveNotFeasible (``reason``: time_window,
    capacity, shift); nothing changes then. ``speeds`` times plans stored before they kept
    their own speed figures."""
    if plan.status == PUBLISHED:
        raise PlanNotEditable("A published plan cannot change.")
    wanted = {item["order_id"]: item["courier_code"] for item in [*locks, *moves]}
    errors: dict[str, list[str]] = {}
    bad_couriers = sorted({c for c in wanted.values() if c not in plan.courier_codes})
    if bad_couriers:
        errors["courier_code"] = [f"Not in this plan: {', '.join(bad_couriers)}."]
    known = set(session.scalars(select(Order.public_id).where(
        Order.public_id.in_(sorted(wanted)), Order.post_office_code == plan.post_office_code)))
    unknown = sorted(set(wanted) - known)
    if unknown:
        errors["order_id"] = [f"Not an order of this post office: {', '.join(unknown)}."]
    if errors:
        raise InvalidRoutePlan("Some moves or locks cannot apply to this plan.", errors=errors)
    if moves and plan.status == READY and (plan.result or {}).get("routes"):
        result, carried = _apply_moves(session, plan, moves, speeds or SpeedProfiles(), policy)
        plan.result = result
        plan.totals = _totals(result["routes"], plan.unassigned or [])
        wanted.update(carried)
    merged = {lock["order_id"]: lock["courier_code"] for lock in plan.locks or []}
    merged.update(wanted)
    plan.locks = [{"order_id": k, "courier_code": v} for k, v in sorted(merged.items())]
    session.flush()
    return plan


_SCHEDULE_KEYS = ("sequence", "planned_arrival", "service_start", "load_after")


def _apply_moves(session: Session, plan: RoutePlan, moves: Sequence[dict[str, Any]],
                 speeds: SpeedProfiles, policy: PlanningPolicy) -> tuple[dict[str, Any], dict[str, str]]:
    """The stored result with ``moves`` applied (routing.edits), and order -> courier for every
    order that moved with them."""
    result = plan.result or {}
    day = plan.plan_date
    midnight = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)

    def seconds(instant: str) -> int:
        return int((datetime.fromisoformat(instant) - midnight).total_seconds())

    stops: list[Stop] = []
    facts: dict[str, dict[str, Any]] = {}
    trips: list[edits.TripPlan] = []
    stop_of: dict[str, str] = {}
    for route in result["routes"]:
        before = Load(**route["start_load"])
        for s in route["stops"]:
            kind = StopKind.PICKUP if s["kind"] in (COLLECT_RESULT, PICKUP_DOSSIER) else StopKind.DELIVERY
            after = Load(**s["load_after"])
            # plans stored before stops kept their load and service time: read them back
            load = Load(**s["load"]) if "load" in s else (
                after - before if kind is StopKind.PICKUP else before - after)
            service = s.get("service_s", policy.service_s
                            + policy.extra_order_service_s * (len(s["order_ids"]) - 1))
            before = after
            stops.append(Stop(id=s["stop_id"], location=(s["lat"], s["lon"]), kind=kind, load=load,
                              service_s=service, windows=tuple(
                                  TimeWindow(seconds(w["start"]), seconds(w["end"])) for w in s["windows"])))
            facts[s["stop_id"]] = {**{k: v for k, v in s.items() if k not in _SCHEDULE_KEYS},
                                   "service_s": service,
                                   "load": {"items": load.items, "weight_g": load.weight_g}}
            for order_id in s["order_ids"]:
                stop_of.setdefault(order_id, s["stop_id"])
        trips.append(edits.TripPlan(route["courier_code"], route["trip"], seconds(route["depart_at"]),
                                    tuple(s["stop_id"] for s in route["stops"])))
    # the agency leg and the citizen leg of the same orders travel together, pickup first
    first_leg = {}
    for s in stops:
        if s.kind is StopKind.PICKUP:
            first_leg[(facts[s.id]["kind"], tuple(sorted(facts[s.id]["order_ids"])))] = s.id
    second_of = {COLLECT_RESULT: DELIVER_RESULT, PICKUP_DOSSIER: DELIVER_DOSSIER}
    pairs = []
    for (kind, orders), pickup_id in first_leg.items():
        delivery_id = next((d.id for d in stops if facts[d.id]["kind"] == second_of[kind]
                            and tuple(sorted(facts[d.id]["order_ids"])) == orders), None)
        if delivery_id is not None:
            pairs.append(PairedRequest(pickup_id, pickup_id, delivery_id))

    if "fleet" in result:
        fleet = tuple(Courier(id=code, trips=tuple(Trip(t, a, b) for t, a, b in c["trips"]),
                              capacity=Load(**c["capacity"]), profile=c["profile"])
                      for code, c in result["fleet"].items())
        depot = tuple(result["depot"])
    else:  # a plan stored before plans kept their context: the couriers and office as now
        fleet = fleet_of(courier_facts(session, plan, speeds.figures.keys()))
        office = get_post_office(session, plan.post_office_code)
        depot = (office.lat, office.lon)
    if "speeds" in result:
        matrix = SpeedProfiles(result["speeds"]["profiles"], result["speeds"]["default"]).matrices()
    else:
        matrix = speeds.matrices()
    problem = Problem(depot=Depot("depot", depot), couriers=fleet, stops=tuple(stops),  # type: ignore[arg-type]
                      pairs=tuple(pairs))

    carried: dict[str, str] = {}
    touched: dict[tuple[str, str], Route | None] = {}
    for move in moves:
        stop_id = stop_of.get(move["order_id"])
        if stop_id is None:
            continue  # not on a route: the lock alone keeps it with the courier
        now_on = next(t for t in trips if stop_id in t.stop_ids)
        if now_on.courier_id != move["courier_code"] or move.get("trip") is not None \
                or move.get("position") is not None:
            outcome = edits.move_stop(problem, trips, edits.Move(
                stop_id, move["courier_code"], move.get("trip"), move.get("position")), matrix)
            trips = list(outcome.trips)
            touched.update(outcome.routes)
        # every order at the stop went with it (a paired leg carries the same orders)
        for order_id in facts[stop_id]["order_ids"]:
            carried[order_id] = move["courier_code"]

    routes = [r for r in result["routes"] if (r["courier_code"], r["trip"]) not in touched]
    routes += [_route_document(r, facts, day) for r in touched.values() if r is not None]
    routes.sort(key=lambda r: (r["courier_code"], r["depart_at"]))
    return {**result, "routes": routes}, carried


def reoptimize_plan(session: Session, plan: RoutePlan, *, now: datetime) -> RoutePlan:
    """Queue the plan again (locks kept). Raises PlanNotEditable when published or busy."""
    if plan.status in (PUBLISHED, QUEUED, SOLVING):
        raise PlanNotEditable(f"The plan is {plan.status}; it cannot be re-optimised now.")
    plan.status = QUEUED
    plan.progress = None
    plan.error = None
    plan.started_at = None
    plan.finished_at = None
    session.flush()
    return plan


def publish_plan(session: Session, plan: RoutePlan, *, caller: Caller,
                 policy: events.LifecyclePolicy, now: datetime) -> dict[str, Any]:
    """Hand the plan to the couriers: deliveries become ``out_for_delivery`` and dossier
    pickups ``pickup_scheduled`` (tracking events with the dispatcher as actor). Results still
    to collect at the agency stay ``created`` (the courier records ``collected`` there), and
    an order whose status changed since planning is left as it is; both are listed. Raises
    PlanNotEditable unless the plan is ready."""
    if plan.status != READY:
        raise PlanNotEditable(f"Only a ready plan can be published; this one is {plan.status}.")
    moved: list[dict[str, str]] = []
    not_moved: list[dict[str, str]] = []
    first_stop: dict[str, str] = {}
    for route in (plan.result or {}).get("routes", []):
        for stop in route["stops"]:
            for order_id in stop["order_ids"]:
                first_stop.setdefault(order_id, stop["kind"])
    for order_id, kind in first_stop.items():
        target = {DELIVER_RESULT: Status.OUT_FOR_DELIVERY,
                  PICKUP_DOSSIER: Status.PICKUP_SCHEDULED}.get(kind)
        if target is None:
            not_moved.append({"order_id": order_id, "reason": "collect_at_agency_first"})
            continue
        try:
            with session.begin_nested():
                events.record_event(session, order_id, events.EventInput(type=target),
                                    caller=caller, policy=policy, now=now)
        except DomainError as error:
            not_moved.append({"order_id": order_id, "reason": error.code})
            continue
        moved.append({"order_id": order_id, "status": target.value})
    plan.status = PUBLISHED
    plan.published_at = now
    session.flush()
    return {"moved": moved, "not_moved": not_moved}


# -- the worker ------------------------------------------------------------------------------

def _claim(db: Database, public_id: str, now: datetime) -> bool:
    with db.session() as session:
        claimed = session.execute(
            update(RoutePlan).where(RoutePlan.public_id == public_id, RoutePlan.status == QUEUED)
            .values(status=SOLVING, started_at=now, progress=None, error=None)).rowcount
    return bool(claimed)


def _write(db: Database, public_id: str, **values: Any) -> None:
    with db.session() as session:
        session.execute(update(RoutePlan).where(RoutePlan.public_id == public_id,
                                                RoutePlan.status == SOLVING).values(**values))


def solve_plan(db: Database, public_id: str, *, clock: Callable[[], datetime] = utcnow,
               matrix: DistanceMatrix | ProfileMatrices | None = None,
               policy: PlanningPolicy = PlanningPolicy(),
               speeds: SpeedProfiles | None = None) -> str:
    """Solve a queued plan and store it: claims it (queued -> solving, so two workers never
    solve one plan), writes progress at most every ~0.5 s, stores the result only after
    ``check_solution`` passes, else marks it failed with the violations. Returns the final
    status (or the status it had when another worker owned it). Opens its own sessions and
    holds no transaction while solving. Couriers travel by their speed profiles of ``speeds``
    (default: the built-in profiles) unless ``matrix`` is given."""
    if not _claim(db, public_id, clock()):
        with db.session() as session:
            return str(session.scalar(select(RoutePlan.status).where(RoutePlan.public_id == public_id)))
    if matrix is None:
        speeds = speeds or SpeedProfiles()
        matrix = speeds.matrices()
    else:
        speeds = None  # a matrix given by the caller: no named profiles to store
    try:
        with db.session() as session:
            plan = session.scalar(select(RoutePlan).where(RoutePlan.public_id == public_id))
            assert plan is not None
            day, time_limit_s = plan.plan_date, plan.time_limit_s
            built = load_problem(session, plan, policy,
                                 profiles=speeds.figures.keys() if speeds else None)
        first_feasible: list[float] = []

        def on_progress(p: Progress) -> None:
            if p.feasible and not first_feasible:
                first_feasible.append(p.elapsed_s)
            _write(db, public_id, progress={
                "elapsed_s": round(p.elapsed_s, 2), "best_cost": round(p.cost),
                "feasible": p.feasible, "unassigned_required": p.unassigned_required,
                "first_feasible_s": round(first_feasible[0], 2) if first_feasible else None})

        started = time.perf_counter()
        solution = PyVRPSolver(matrix).solve(built.problem, time_limit_s=time_limit_s,
                                             on_progress=on_progress)
        violations = check_solution(built.problem, solution, matrix)
        if violations:
            raise PlanCheckFailed(violations)
        document = solution_document(built, solution, day)
        elapsed = time.perf_counter() - started
        _write(db, public_id, status=READY, finished_at=clock(),
               result={"routes": document["routes"], **plan_context(built.problem, speeds)},
               unassigned=document["unassigned"],
               totals=document["totals"],
               progress={"elapsed_s": round(elapsed, 2), "best_cost": round(solution.cost),
                         "feasible": True, "unassigned_required": 0,
                         "first_feasible_s": round(first_feasible[0], 2) if first_feasible else None})
        return READY
    except PlanCheckFailed as error:
        _write(db, public_id, status=FAILED, finished_at=clock(), error={
            "code": "plan_check_failed", "message": "The independent checker rejected the plan.",
            "violations": [{"kind": v.kind.value, "detail": v.detail, "courier_code": v.courier_id,
                            "stop_id": v.stop_id} for v in error.violations[:50]]})
        return FAILED
    except DomainError as error:
        _write(db, public_id, status=FAILED, finished_at=clock(),
               error={"code": error.code, "message": error.message, "errors": error.errors})
        return FAILED
    except Exception:
        log.exception("solving route plan %s failed", public_id)
        _write(db, public_id, status=FAILED, finished_at=clock(),
               error={"code": "solver_error", "message": "The planner failed; see the logs."})
        return FAILED


def run_plan_in_process(database_url: str, public_id: str, speed_profiles: str = "",
                        default_speed_profile: str = "motorbike") -> str:
    """Entry point of a worker process: its own engine, one plan, then the engine is closed.
    The speed profiles come as the settings spell them (POSTAL_SPEED_PROFILES and the default)."""
    import postal_svc.models  # noqa: F401  (every table on the metadata in a fresh process)
    from postal_svc.db import make_engine

    engine = make_engine(database_url, pool_size=2, max_overflow=0) \
        if not database_url.startswith("sqlite") else make_engine(database_url)
    try:
        speeds = SpeedProfiles.from_settings(Settings(
            database_url=database_url, speed_profiles=speed_profiles,
            default_speed_profile=default_speed_profile))
        return solve_plan(Database(engine), public_id, speeds=speeds)
    finally:
        engine.dispose()


def queued_plan_ids(session: Session, limit: int = 100) -> list[str]:
    return list(session.scalars(select(RoutePlan.public_id).where(RoutePlan.status == QUEUED)
                                .order_by(RoutePlan.created_at, RoutePlan.id).limit(limit)))


def run_queued_plans(db: Database, *, clock: Callable[[], datetime] = utcnow, limit: int = 100,
                     speeds: SpeedProfiles | None = None) -> dict[str, int]:
    """Solve the queued plans one by one, oldest first (the CLI and scheduler path). A plan
    another worker claimed first is skipped. Returns how many ended in each status."""
    with db.session() as session:
        ids = queued_plan_ids(session, limit)
    outcome: dict[str, int] = {}
    for public_id in ids:
        status = solve_plan(db, public_id, clock=clock, speeds=speeds)
        outcome[status] = outcome.get(status, 0) + 1
    return outcome


# -- maps and manifests ----------------------------------------------------------------------

def plan_geojson(plan: RoutePlan, depot: tuple[float, float]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: the depot, every stop (Point), one LineString per route."""
    lat, lon = depot
    features: list[dict[str, Any]] = [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"role": "depot", "post_office_code": plan.post_office_code}}]
    for route in (plan.result or {}).get("routes", []):
        line = [[lon, lat]]
        for stop in route["stops"]:
            line.append([stop["lon"], stop["lat"]])
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                "properties": {"role": "stop", "courier_code": route["courier_code"],
                               "trip": route["trip"], "sequence": stop["sequence"],
                               "kind": stop["kind"], "order_ids": stop["order_ids"],
                               "planned_arrival": stop["planned_arrival"]}})
        line.append([lon, lat])
        features.append({
            "type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"role": "route", "courier_code": route["courier_code"],
                           "trip": route["trip"], "distance_m": route["distance_m"],
                           "duration_s": route["duration_s"]}})
    return {"type": "FeatureCollection", "features": features}


def orders_of_plan(session: Session, plan: RoutePlan) -> dict[str, Order]:
    ids = sorted({oid for r in (plan.result or {}).get("routes", [])
                  for s in r["stops"] for oid in s["order_ids"]})
    found: dict[str, Order] = {}
    for chunk in range(0, len(ids), 500):
        for order in session.scalars(select(Order).where(Order.public_id.in_(ids[chunk:chunk + 500]))):
            found[order.public_id] = order
    return found
