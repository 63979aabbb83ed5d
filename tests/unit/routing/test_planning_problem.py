"""Building the day's routing problem from orders (pure part of routing.planning)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from postal_svc.routing.model import StopKind, TimeWindow
from postal_svc.routing.planning import (
    AgencyFacts, CourierFacts, OrderFacts, PlanningPolicy, build_problem, day_window, office_windows)

DEPOT = (10.85, 106.772)
AGENCY = AgencyFacts("AG", "UBND", 10.87, 106.778, office_windows([["07:30", "11:30"], ["13:00", "17:00"]]))
COURIER = CourierFacts("C1", 40, 20_000, (("07:30", "11:30"), ("13:00", "17:00")))


def order(order_id: str, **kw) -> OrderFacts:
    base = dict(order_id=order_id, kind="result_delivery", status="at_post_office", agency_code="AG",
                lat=10.86, lon=106.78, address_line="12 Đường số 7", ward_name="Linh Xuân",
                pieces=1, weight_g=150)
    base.update(kw)
    return OrderFacts(**base)


def build(*orders: OrderFacts, **kw):
    return build_problem(DEPOT, [COURIER], list(orders), {"AG": AGENCY}, **kw)


def test_orders_at_the_same_rounded_point_share_one_stop_with_longer_service_and_summed_load():
    built = build(order("a"), order("b", lat=10.860001, pieces=2, weight_g=300), order("c", lat=10.9))
    stops = built.problem.stops
    assert len(stops) == 2
    shared = next(s for s in stops if len(built.stops[s.id].order_ids) == 2)
    assert shared.service_s == 180 + 60 and shared.load.items == 3 and shared.load.weight_g == 450
    assert shared.kind is StopKind.DELIVERY


def test_a_result_to_collect_is_a_pair_from_the_agency_within_office_hours_to_the_citizen():
    built = build(order("a", status="created"))
    (pair,) = built.problem.pairs
    stops = built.problem.stop_by_id()
    pickup, delivery = stops[pair.pickup_id], stops[pair.delivery_id]
    assert built.stops[pickup.id].kind == "collect_result" and pickup.location == (10.87, 106.778)
    assert pickup.windows == (TimeWindow.of("07:30", "11:30"), TimeWindow.of("13:00", "17:00"))
    assert built.stops[delivery.id].kind == "deliver_result" and delivery.windows == ()


def test_a_dossier_pickup_goes_from_the_citizen_to_the_agency_desk():
    built = build(order("a", kind="dossier_pickup", status="pickup_failed"))
    (pair,) = built.problem.pairs
    assert built.stops[pair.pickup_id].kind == "pickup_dossier"
    assert built.stops[pair.delivery_id].kind == "deliver_dossier"
    assert built.problem.stop_by_id()[pair.delivery_id].windows == AGENCY.office_hours


def test_re_attempts_and_overdue_orders_weigh_more_than_fresh_ones():
    built = build(order("fresh", lat=10.1), order("again", lat=10.2, attempt_count=1),
                  order("late", lat=10.3, overdue=True))
    penalty = {built.stops[s.id].order_ids[0]: s.penalty for s in built.problem.stops}
    assert penalty["fresh"] < penalty["again"] and penalty["fresh"] < penalty["late"]
    assert all(not s.required for s in built.problem.stops)


def test_orders_without_a_point_or_window_today_or_agency_point_are_unassigned_with_reasons():
    no_desk = AgencyFacts("AG2", "x", None, None, ())
    built = build_problem(DEPOT, [COURIER], [
        order("nowhere", lat=None, lon=None), order("tomorrow", window_today=False),
        order("desk", status="created", agency_code="AG2")], {"AG": AGENCY, "AG2": no_desk})
    assert {u["order_id"]: u["reason"] for u in built.unassigned} == {
        "nowhere": "no_location", "tomorrow": "window_not_today", "desk": "agency_no_location"}
    assert built.problem.stops == ()


def test_a_citizens_window_is_read_in_vietnam_time_on_the_planned_day():
    day = date(2020, 3, 2)
    after = datetime(2020, 3, 2, 2, 0, tzinfo=UTC)   # 09:00 in Vietnam
    before = datetime(2020, 3, 2, 5, 0, tzinfo=UTC)  # 12:00
    assert day_window(day, after, before) == ((9 * 3600, 12 * 3600), True)
    assert day_window(day, None, None) == (None, True)
    assert day_window(day, datetime(2020, 3, 3, 2, 0, tzinfo=UTC), None) == (None, False)


def test_couriers_become_one_trip_per_shift_and_locks_pin_stops():
    built = build(order("a"), locks={"a": "C1"})
    (courier,) = built.problem.couriers
    assert [(t.start_s, t.end_s) for t in courier.trips] == [(27000, 41400), (46800, 61200)]
    assert courier.capacity.items == 40 and courier.capacity.weight_g == 20_000
    assert [lock.courier_id for lock in built.problem.assignment_locks] == ["C1"]
    built.problem.validate()


def test_touching_office_hours_merge_into_one_window():
    assert office_windows([["07:30", "11:30"], ["11:30", "17:00"]]) == (TimeWindow.of("07:30", "17:00"),)


def test_service_times_come_from_the_policy():
    built = build(order("a"), order("b"), policy=PlanningPolicy(service_s=120, extra_order_service_s=30))
    assert built.problem.stops[0].service_s == 150
