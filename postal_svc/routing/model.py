"""A day's routing problem and its plan as plain dataclasses, independent of any solver.

Times are integer seconds since local midnight (Asia/Ho_Chi_Minh for the app), distances whole
metres, weights grams. A time window bounds when service may *start* at a stop.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from postal_svc.routing.matrix import Point


class ProblemError(ValueError):
    """The problem is malformed (duplicate ids, a pair whose legs disagree, ...)."""


def hhmm(text: str) -> int:
    """'07:30' -> 27000 seconds since midnight."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


@dataclass(frozen=True, order=True)
class TimeWindow:
    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ProblemError(f"time window ends before it starts: {self}")

    @classmethod
    def of(cls, start: str, end: str) -> TimeWindow:
        return cls(hhmm(start), hhmm(end))


OFFICE_HOURS = (TimeWindow.of("07:30", "11:30"), TimeWindow.of("13:00", "17:00"))
"""Typical ward one-stop desk hours (DOMAIN.md); data, passed in by the caller."""


@dataclass(frozen=True, order=True)
class Load:
    """Items and grams; used both for what a stop moves and for what a vehicle holds."""

    items: int = 0
    weight_g: int = 0

    @classmethod
    def of_kg(cls, items: int, kg: float) -> Load:
        return cls(items, round(kg * 1000))

    def __add__(self, other: Load) -> Load:
        return Load(self.items + other.items, self.weight_g + other.weight_g)

    def __sub__(self, other: Load) -> Load:
        return Load(self.items - other.items, self.weight_g - other.weight_g)

    def fits(self, capacity: Load) -> bool:
        return self.items <= capacity.items and self.weight_g <= capacity.weight_g

    def as_list(self) -> list[int]:
        return [self.items, self.weight_g]


class StopKind(str, Enum):
    """``delivery``: goods travel depot -> stop (or pickup -> stop when paired);
    ``pickup``: goods travel stop -> depot (or stop -> delivery when paired)."""

    DELIVERY = "delivery"
    PICKUP = "pickup"


@dataclass(frozen=True)
class Stop:
    """One visit to make. ``windows`` empty means any time inside the courier's trip.

    ``required`` stops are served whenever any plan can serve them; optional stops are served
    when their ``penalty`` (in objective units) exceeds the cost of serving them.
    ``ref`` is free for the caller (an order id).
    """

    id: str
    location: Point
    kind: StopKind
    load: Load = Load(1, 0)
    service_s: int = 180
    windows: tuple[TimeWindow, ...] = ()
    required: bool = True
    penalty: int = 0
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.service_s < 0 or self.load.items < 0 or self.load.weight_g < 0 or self.penalty < 0:
            raise ProblemError(f"stop {self.id}: negative service time, load or penalty")
        if list(self.windows) != sorted(self.windows):
            raise ProblemError(f"stop {self.id}: windows must be sorted")
        for a, b in zip(self.windows, self.windows[1:]):
            if b.start_s <= a.end_s:
                raise ProblemError(f"stop {self.id}: windows overlap")


@dataclass(frozen=True)
class PairedRequest:
    """Collect at ``pickup_id`` then deliver at ``delivery_id`` in the same trip, pickup first.

    The two stops must have kinds pickup and delivery and the same load (the thing carried).
    The request is required if either stop is; its penalty is the sum of theirs.
    """

    id: str
    pickup_id: str
    delivery_id: str


@dataclass(frozen=True)
class Trip:
    """One tour of a courier: leave the depot no earlier than ``start_s``, back by ``end_s``."""

    id: str
    start_s: int
    end_s: int


@dataclass(frozen=True)
class Courier:
    """A courier with one or more trips a day; capacity holds per trip. ``profile`` names the
    speed profile the courier travels by (motorbike, bicycle, ...; None: the default one)."""

    id: str
    trips: tuple[Trip, ...]
    capacity: Load = Load(40, 30_000)
    profile: str | None = None


@dataclass(frozen=True)
class Depot:
    """The post office every trip starts from and returns to."""

    id: str
    location: Point


@dataclass(frozen=True)
class AssignmentLock:
    """Stop served by this courier (and this trip, when given); order left to the solver."""

    stop_id: str
    courier_id: str
    trip_id: str | None = None


@dataclass(frozen=True)
class SequenceLock:
    """This trip serves exactly these stops in this order; the solver leaves it alone."""

    courier_id: str
    trip_id: str
    stop_ids: tuple[str, ...]


@dataclass(frozen=True)
class Objective:
    """Cost = travel_s x per_travel_s + distance_m x per_distance_m + fixed_per_trip per used trip.

    Unserved optional stops add their penalty. Default: travel seconds + one hour per trip used.
    """

    per_travel_s: float = 1.0
    per_distance_m: float = 0.0
    fixed_per_trip: int = 3600


@dataclass(frozen=True)
class Problem:
    depot: Depot
    couriers: tuple[Courier, ...]
    stops: tuple[Stop, ...]
    pairs: tuple[PairedRequest, ...] = ()
    assignment_locks: tuple[AssignmentLock, ...] = ()
    sequence_locks: tuple[SequenceLock, ...] = ()
    objective: Objective = field(default_factory=Objective)

    def stop_by_id(self) -> dict[str, Stop]:
        return {s.id: s for s in self.stops}

    def trip_keys(self) -> list[tuple[str, str]]:
        return [(c.id, t.id) for c in self.couriers for t in c.trips]

    def validate(self) -> None:
        """Raise ``ProblemError`` unless ids are unique and references resolve."""
        stops = self.stop_by_id()
        if len(stops) != len(self.stops):
            raise ProblemError("stop ids are not unique")
        if len({c.id for c in self.couriers}) != len(self.couriers):
            raise ProblemError("courier ids are not unique")
        for c in self.couriers:
            if len({t.id for t in c.trips}) != len(c.trips):
                raise ProblemError(f"courier {c.id}: trip ids are not unique")
            for t in c.trips:
                if t.end_s < t.start_s:
                    raise ProblemError(f"courier {c.id} trip {t.id} ends before it starts")
        paired: set[str] = set()
        for p in self.pairs:
            if p.pickup_id not in stops or p.delivery_id not in stops:
                raise ProblemError(f"pair {p.id} refers to an unknown stop")
            if p.pickup_id in paired or p.delivery_id in paired or p.pickup_id == p.delivery_id:
                raise ProblemError(f"pair {p.id}: a stop belongs to at most one pair")
            paired.update((p.pickup_id, p.delivery_id))
            pu, de = stops[p.pickup_id], stops[p.delivery_id]
            if pu.kind is not StopKind.PICKUP or de.kind is not StopKind.DELIVERY:
                raise ProblemError(f"pair {p.id}: needs a pickup stop then a delivery stop")
            if pu.load != de.load:
                raise ProblemError(f"pair {p.id}: pickup and delivery loads differ")
        trips = set(self.trip_keys())
        locked: set[str] = set()
        for lock in self.sequence_locks:
            if (lock.courier_id, lock.trip_id) not in trips:
                raise ProblemError(f"sequence lock on unknown trip {lock.courier_id}/{lock.trip_id}")
            for sid in lock.stop_ids:
                if sid not in stops:
                    raise ProblemError(f"sequence lock refers to unknown stop {sid}")
                if sid in locked:
                    raise ProblemError(f"stop {sid} is in two sequence locks")
                locked.add(sid)
        if len({(s.courier_id, s.trip_id) for s in self.sequence_locks}) != len(self.sequence_locks):
            raise ProblemError("two sequence locks on one trip")
        if len({a.stop_id for a in self.assignment_locks}) != len(self.assignment_locks):
            raise ProblemError("a stop has two assignment locks")
        for a in self.assignment_locks:
            if a.stop_id not in stops:
                raise ProblemError(f"assignment lock refers to unknown stop {a.stop_id}")


# ---------------------------------------------------------------------------------------------
# The plan


class UnassignedReason(str, Enum):
    TIME_WINDOW = "time_window"
    """No trip can reach the stop inside one of its windows, even serving it alone."""
    CAPACITY = "capacity"
    """Its load exceeds the capacity of every trip it may use."""
    SHIFT = "shift"
    """It fits no trip's hours even alone (too far for the trip length), windows aside."""
    LOCK = "lock"
    """Its locks cannot be honoured (unknown or full courier/trip, a broken locked sequence)."""
    PAIRING = "pairing"
    """Its paired leg cannot be served with it in one trip."""
    NO_ROOM = "no_room"
    """Servable alone, but the couriers' trips are full with other required stops."""
    NOT_WORTH_IT = "not_worth_it"
    """Optional stop whose penalty is below the cost of serving it."""


@dataclass(frozen=True)
class Visit:
    stop_id: str
    arrival_s: int
    start_s: int
    departure_s: int
    load_after: Load


@dataclass(frozen=True)
class Route:
    """One courier trip: depot -> visits -> depot."""

    courier_id: str
    trip_id: str
    depart_s: int
    return_s: int
    start_load: Load
    visits: tuple[Visit, ...]
    distance_m: int
    duration_s: int
    travel_s: int

    @property
    def stop_ids(self) -> list[str]:
        return [v.stop_id for v in self.visits]


@dataclass(frozen=True)
class Unassigned:
    stop_id: str
    reason: UnassignedReason
    detail: str = ""


@dataclass(frozen=True)
class Solution:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    cost: float
    solver: str = ""
    runtime_s: float = 0.0

    @property
    def distance_m(self) -> int:
        return sum(r.distance_m for r in self.routes)

    @property
    def duration_s(self) -> int:
        return sum(r.duration_s for r in self.routes)

    def route_of(self, courier_id: str, trip_id: str) -> Route | None:
        for r in self.routes:
            if r.courier_id == courier_id and r.trip_id == trip_id:
                return r
        return None

    def assigned_ids(self) -> Iterable[str]:
        for r in self.routes:
            yield from r.stop_ids


def objective_cost(problem: Problem, routes: Iterable[Route], unassigned: Iterable[Unassigned]) -> float:
    """The objective of a plan: the same formula the solver minimises (penalties of unserved
    optional stops included; unserved required stops are counted apart, not priced)."""
    obj = problem.objective
    stops = problem.stop_by_id()
    cost = 0.0
    for r in routes:
        if r.visits:
            cost += obj.fixed_per_trip + r.travel_s * obj.per_travel_s + r.distance_m * obj.per_distance_m
    for u in unassigned:
        s = stops.get(u.stop_id)
        if s is not None and not s.required:
            cost += s.penalty
    return cost
