"""Route plans through the API: queue, solve (in-process here), read, adjust, publish, print.

The plan is solved by the same worker function the process pool runs; POSTAL_PLANNER_INLINE
makes the API call it in the test process before answering (one test elsewhere proves the
real process pool).
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from postal_svc import create_app
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.routing.models import RoutePlan
from postal_svc.shipments.models import Order, TrackingEvent
from tests.conftest import assert_api_error, order_body, test_settings

COURIERS = "/api/v1/couriers"
PLANS = "/api/v1/post-offices/PO-THUDUC/route-plans"
DEPOT = (10.8500, 106.7720)


@pytest.fixture
def app(connection, database_url):
    return create_app({"settings": test_settings(database_url, planner_inline=True),
                       "db_bind": connection, "TESTING": True})


@pytest.fixture
def office(client, auth, db_session):
    """PO-THUDUC with a location, its agencies located, and two couriers."""
    db_session.execute(update(PostOffice).where(PostOffice.code == "PO-THUDUC")
                       .values(lat=DEPOT[0], lon=DEPOT[1]))
    db_session.execute(update(Agency).where(Agency.code == "AG-LINHTRUNG").values(lat=10.870, lon=106.778))
    db_session.execute(update(Agency).where(Agency.code == "AG-TRUONGTHANH").values(lat=10.815, lon=106.820))
    db_session.commit()
    for n in (1, 2):
        response = client.post(COURIERS, headers=auth["admin"], json={
            "code": f"PO-THUDUC-C{n}", "name": f"Bưu tá {n}", "post_office_code": "PO-THUDUC",
            "capacity_items": 40, "capacity_kg": 20})
        assert response.status_code == 201, response.get_json()
    return "PO-THUDUC"


def make_order(client, auth, db_session, *, status: str, lat: float | None, lon: float | None,
               kind: str = "result_delivery", attempts: int = 0, **body: Any) -> str:
    response = client.post("/api/v1/orders", json=order_body(kind=kind, **body), headers=auth["agency"])
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    db_session.execute(update(Order).where(Order.public_id == order_id).values(
        status=status, lat=lat, lon=lon, attempt_count=attempts, post_office_code="PO-THUDUC"))
    db_session.commit()
    return order_id


@pytest.fixture
def day(client, auth, db_session, office):
    """A small day: deliveries (two at one address), a re-attempt, a result to collect first,
    a dossier to pick up, and one order without a point."""
    mk = lambda **kw: make_order(client, auth, db_session, **kw)  # noqa: E731
    cash = mk(status="at_post_office", lat=10.8412, lon=106.7633,
              payment_method="cash_on_delivery")
    # Cash on delivery goes out only with a price: the courier must know what to collect.
    db_session.execute(update(Order).where(Order.public_id == cash).values(
        price={"currency": "VND", "lines": [], "total": 22_000, "procedure_fee": 0,
               "amount_due": 22_000}, total_vnd=22_000))
    db_session.commit()
    return {
        "deliveries": [mk(status="at_post_office", lat=10.8601, lon=106.7801), cash],
        "same_address": [mk(status="at_post_office", lat=10.8555, lon=106.7905),
                         mk(status="at_post_office", lat=10.8555, lon=106.7905)],
        "reattempt": mk(status="delivery_failed", lat=10.8450, lon=106.7950, attempts=1),
        "collect_first": mk(status="created", lat=10.8700, lon=106.7600),
        "pickup": mk(status="created", lat=10.8300, lon=106.7700, kind="dossier_pickup",
                     agency_code="AG-TRUONGTHANH"),
        "no_point": mk(status="at_post_office", lat=None, lon=None),
    }


def plan_now(client, auth, **body: Any) -> dict[str, Any]:
    response = client.post(PLANS, json={"time_limit_s": 1, **body}, headers=auth["dispatcher"])
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    plan = client.get(f"/api/v1/route-plans/{response.get_json()['id']}", headers=auth["dispatcher"])
    assert plan.status_code == 200
    return plan.get_json()


def stops_of(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for r in plan["routes"] for s in r["stops"]]


def test_a_queued_plan_is_solved_into_routes_with_every_order_planned_or_explained(client, auth, day):
    plan = plan_now(client, auth)
    assert plan["id"].startswith("rp_") and plan["status"] == "ready", plan.get("error")
    assert plan["couriers"] == ["PO-THUDUC-C1", "PO-THUDUC-C2"]
    planned = {oid for s in stops_of(plan) for oid in s["order_ids"]}
    unassigned = {u["order_id"]: u["reason"] for u in plan["unassigned"]}
    assert unassigned == {day["no_point"]: "no_location"}
    every = set(day["deliveries"]) | set(day["same_address"]) | {
        day["reattempt"], day["collect_first"], day["pickup"]}
    assert planned == every
    assert plan["totals"]["distance_m"] > 0 and plan["totals"]["duration_s"] > 0
    assert plan["progress"]["feasible"] is True
    for stop in stops_of(plan):
        assert stop["kind"] in {"collect_result", "deliver_result", "pickup_dossier", "deliver_dossier"}
        assert stop["planned_arrival"].endswith("Z") and {"lat", "lon", "load_after"} <= set(stop)


def test_orders_at_one_address_are_one_stop_and_paired_legs_keep_their_order(client, auth, day):
    plan = plan_now(client, auth)
    shared = [s for s in stops_of(plan) if set(day["same_address"]) & set(s["order_ids"])]
    assert len(shared) == 1 and sorted(shared[0]["order_ids"]) == sorted(day["same_address"])
    for order_id, first, second in ((day["collect_first"], "collect_result", "deliver_result"),
                                    (day["pickup"], "pickup_dossier", "deliver_dossier")):
        route = next(r for r in plan["routes"] if any(order_id in s["order_ids"] for s in r["stops"]))
        legs = [s["kind"] for s in route["stops"] if order_id in s["order_ids"]]
        assert legs == [first, second]
        agency_leg = next(s for s in route["stops"] if order_id in s["order_ids"]
                          and s["kind"] in ("collect_result", "deliver_dossier"))
        assert agency_leg["windows"], "agency legs keep office hours"


def test_publishing_moves_deliveries_out_and_schedules_pickups_and_says_what_stayed(
        client, auth, day, db_session):
    plan = plan_now(client, auth)
    response = client.post(f"/api/v1/route-plans/{plan['id']}/publish", headers=auth["dispatcher"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "published" and body["published_at"]
    statuses = {o.public_id: o.status for o in db_session.query(Order)}
    for order_id in day["deliveries"] + day["same_address"] + [day["reattempt"]]:
        assert statuses[order_id] == "out_for_delivery"
    assert statuses[day["pickup"]] == "pickup_scheduled"
    assert statuses[day["collect_first"]] == "created"
    assert statuses[day["no_point"]] == "at_post_office"
    assert {"order_id": day["collect_first"], "reason": "collect_at_agency_first"} in body["not_moved"]
    assert len(body["moved"]) == 6
    actors = {e.actor_role for e in db_session.query(TrackingEvent).filter(
        TrackingEvent.status.in_(["out_for_delivery", "pickup_scheduled"]))}
    assert actors == {"dispatcher"}
    again = client.post(f"/api/v1/route-plans/{plan['id']}/publish", headers=auth["dispatcher"])
    assert_api_error(again, 409, "plan_not_editable")


def test_an_order_that_changed_since_planning_is_left_alone_at_publish(client, auth, day, db_session):
    plan = plan_now(client, auth)
    db_session.execute(update(Order).where(Order.public_id == day["deliveries"][0]).values(status="returning"))
    db_session.commit()
    body = client.post(f"/api/v1/route-plans/{plan['id']}/publish", headers=auth["dispatcher"]).get_json()
    assert {"order_id": day["deliveries"][0], "reason": "invalid_transition"} in body["not_moved"]
    assert db_session.get(Order, db_session.query(Order.id).filter(
        Order.public_id == day["deliveries"][1]).scalar()).status == "out_for_delivery"


def test_the_manifest_is_a_pdf_with_a_sheet_per_courier(client, auth, day):
    plan = plan_now(client, auth)
    response = client.get(f"/api/v1/route-plans/{plan['id']}/manifest.pdf", headers=auth["dispatcher"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    couriers = {r["courier_code"] for r in plan["routes"]}
    assert response.data.count(b"/Type /Page\n") + response.data.count(b"/Type /Page ") >= len(couriers)


def test_the_geojson_has_the_depot_every_stop_and_one_line_per_route(client, auth, day):
    plan = plan_now(client, auth)
    response = client.get(f"/api/v1/route-plans/{plan['id']}.geojson", headers=auth["dispatcher"])
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    doc = json.loads(response.data)
    assert doc["type"] == "FeatureCollection"
    roles = [f["properties"]["role"] for f in doc["features"]]
    assert roles.count("depot") == 1
    assert roles.count("stop") == len(stops_of(plan))
    assert roles.count("route") == len(plan["routes"])
    for feature in doc["features"]:
        coords = feature["geometry"]["coordinates"]
        points = coords if feature["geometry"]["type"] == "LineString" else [coords]
        assert all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in points)
    depot = next(f for f in doc["features"] if f["properties"]["role"] == "depot")
    assert depot["geometry"]["coordinates"] == [DEPOT[1], DEPOT[0]]


def test_locked_orders_stay_with_their_courier_after_reoptimizing(client, auth, day):
    plan = plan_now(client, auth)
    target = day["reattempt"]
    response = client.patch(f"/api/v1/route-plans/{plan['id']}", headers=auth["dispatcher"], json={
        "locks": [{"order_id": target, "courier_code": "PO-THUDUC-C2"}],
        "moves": [{"order_id": day["pickup"], "courier_code": "PO-THUDUC-C1"}]})
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["locks"]) == 2
    response = client.post(f"/api/v1/route-plans/{plan['id']}/reoptimize", headers=auth["dispatcher"])
    assert response.status_code == 202
    again = client.get(f"/api/v1/route-plans/{plan['id']}", headers=auth["dispatcher"]).get_json()
    assert again["status"] == "ready"
    courier_of = {oid: r["courier_code"] for r in again["routes"] for s in r["stops"] for oid in s["order_ids"]}
    assert courier_of[target] == "PO-THUDUC-C2"
    assert courier_of[day["pickup"]] == "PO-THUDUC-C1"


def test_a_published_plan_cannot_be_changed_or_reoptimized(client, auth, day):
    plan = plan_now(client, auth)
    client.post(f"/api/v1/route-plans/{plan['id']}/publish", headers=auth["dispatcher"])
    lock = {"locks": [{"order_id": day["reattempt"], "courier_code": "PO-THUDUC-C1"}]}
    assert_api_error(client.patch(f"/api/v1/route-plans/{plan['id']}", json=lock,
                                  headers=auth["dispatcher"]), 409, "plan_not_editable")
    assert_api_error(client.post(f"/api/v1/route-plans/{plan['id']}/reoptimize",
                                 headers=auth["dispatcher"]), 409, "plan_not_editable")


@pytest.mark.parametrize("changes", [
    {"locks": [{"order_id": "ord_nope", "courier_code": "PO-THUDUC-C1"}]},
    {"locks": [{"courier_code": "PO-THUDUC-C1"}]},
    {"moves": [{"order_id": "x", "courier_code": "SOMEONE-ELSE"}]},
    {}, {"locks": "all"},
])
def test_bad_moves_or_locks_are_422(client, auth, day, changes):
    plan = plan_now(client, auth)
    assert_api_error(client.patch(f"/api/v1/route-plans/{plan['id']}", json=changes,
                                  headers=auth["dispatcher"]), 422)


@pytest.mark.parametrize("body", [
    {"date": "2020-02-30"}, {"time_limit_s": 0}, {"time_limit_s": "10"}, {"couriers": []},
    {"couriers": ["PO-SAIGON-C9"]}, {"surprise": True},
])
def test_a_bad_plan_request_is_422_and_queues_nothing(client, auth, office, body, count_rows):
    assert_api_error(client.post(PLANS, json=body, headers=auth["dispatcher"]), 422)
    assert count_rows(RoutePlan) == 0


def test_an_office_without_couriers_cannot_be_planned(client, auth, db_session):
    db_session.execute(update(PostOffice).where(PostOffice.code == "PO-SAIGON").values(lat=10.78, lon=106.70))
    db_session.commit()
    assert_api_error(client.post("/api/v1/post-offices/PO-SAIGON/route-plans", json={},
                                 headers=auth["admin"]), 422, "invalid_route_plan")


def test_another_offices_dispatcher_sees_404_and_other_roles_403(client, auth, day):
    plan = plan_now(client, auth)
    for path in (f"/api/v1/route-plans/{plan['id']}", f"/api/v1/route-plans/{plan['id']}.geojson",
                 f"/api/v1/route-plans/{plan['id']}/manifest.pdf"):
        assert_api_error(client.get(path, headers=auth["other_dispatcher"]), 404)
        assert_api_error(client.get(path, headers=auth["courier"]), 403)
    assert_api_error(client.post(f"/api/v1/route-plans/{plan['id']}/publish",
                                 headers=auth["other_dispatcher"]), 404)
    assert_api_error(client.post(PLANS, json={}, headers=auth["other_dispatcher"]), 404)
    assert_api_error(client.post(PLANS, json={}, headers=auth["agency"]), 403)
    assert_api_error(client.get("/api/v1/route-plans/rp_nothing", headers=auth["admin"]), 404,
                     "route_plan_not_found")
    assert client.get(f"/api/v1/route-plans/{plan['id']}", headers=auth["admin"]).status_code == 200


def test_the_worker_path_solves_queued_plans_once_even_when_run_twice(day, db_session, connection):
    from datetime import UTC, date, datetime

    from postal_svc.db import Database
    from postal_svc.routing import planning

    plan = planning.create_route_plan(db_session, "PO-THUDUC", day=date(2020, 3, 2), courier_codes=None,
                                      time_limit_s=1, client_id=None, now=datetime.now(UTC))
    db_session.commit()
    database = Database(connection)
    assert planning.run_queued_plans(database) == {"ready": 1}
    assert planning.run_queued_plans(database) == {}
    assert planning.solve_plan(database, plan.public_id) == "ready"  # claimed already: untouched
    db_session.refresh(plan)
    assert plan.status == "ready" and plan.result["routes"]
    first = plan.result["routes"][0]["stops"][0]["planned_arrival"]
    assert first.startswith("2020-03-02T")  # the planned day, in UTC (Vietnam is UTC+7)


def courier_of(plan: dict[str, Any]) -> dict[str, str]:
    return {oid: r["courier_code"] for r in plan["routes"] for s in r["stops"] for oid in s["order_ids"]}


def test_a_moved_order_is_on_its_new_courier_at_once_and_stays_there_after_reoptimizing(client, auth, day):
    plan = plan_now(client, auth)
    url = f"/api/v1/route-plans/{plan['id']}"
    before = courier_of(plan)
    moved, paired = day["deliveries"][0], day["collect_first"]
    other = {c: next(x for x in plan["couriers"] if x != c) for c in plan["couriers"]}
    response = client.patch(url, headers=auth["dispatcher"], json={"moves": [
        {"order_id": moved, "courier_code": other[before[moved]]},
        {"order_id": paired, "courier_code": other[before[paired]]}]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    after = courier_of(body)
    assert after[moved] == other[before[moved]] and after[paired] == other[before[paired]]
    assert set(after) == set(before)  # nothing else appeared or vanished
    route = next(r for r in body["routes"] if any(paired in s["order_ids"] for s in r["stops"]))
    assert [s["kind"] for s in route["stops"] if paired in s["order_ids"]] == ["collect_result", "deliver_result"]
    for r in body["routes"]:
        assert [s["sequence"] for s in r["stops"]] == list(range(1, len(r["stops"]) + 1))
        arrivals = [s["planned_arrival"] for s in r["stops"]]
        assert arrivals == sorted(arrivals) and r["depart_at"] < arrivals[0] < r["return_at"]
    assert body["totals"]["distance_m"] == sum(r["distance_m"] for r in body["routes"])
    assert body["totals"]["duration_s"] == sum(r["duration_s"] for r in body["routes"])
    assert body["totals"]["routes"] == len(body["routes"])
    assert {"order_id": moved, "courier_code": other[before[moved]]} in body["locks"]
    assert client.get(url, headers=auth["dispatcher"]).get_json()["routes"] == body["routes"]
    assert client.post(f"{url}/reoptimize", headers=auth["dispatcher"]).status_code == 202
    again = courier_of(client.get(url, headers=auth["dispatcher"]).get_json())
    assert again[moved] == other[before[moved]] and again[paired] == other[before[paired]]


def test_a_move_can_name_the_trip_and_the_place_of_the_stop(client, auth, day):
    plan = plan_now(client, auth)
    url = f"/api/v1/route-plans/{plan['id']}"
    target = day["reattempt"]
    courier = next(c for c in plan["couriers"] if c != courier_of(plan)[target])
    body = client.patch(url, headers=auth["dispatcher"], json={"moves": [
        {"order_id": target, "courier_code": courier, "trip": "t2", "position": 1}]}).get_json()
    route = next(r for r in body["routes"] if r["courier_code"] == courier and r["trip"] == "t2")
    assert route["stops"][0]["order_ids"] == [target]
    assert route["depart_at"] >= f"{plan['date']}T06:00:00Z"  # 13:00 in Vietnam


@pytest.mark.parametrize("move, code", [
    ({"trip": "t9"}, "invalid_move"), ({"trip": "t1", "position": 99}, "invalid_move"),
    ({"position": 0}, None), ({"position": "1"}, None), ({"trip": ""}, None),
])
def test_a_move_to_a_trip_or_place_the_courier_has_not_is_422_and_changes_nothing(
        client, auth, day, move, code):
    plan = plan_now(client, auth)
    url = f"/api/v1/route-plans/{plan['id']}"
    answer = client.patch(url, headers=auth["dispatcher"], json={"moves": [
        {"order_id": day["reattempt"], "courier_code": "PO-THUDUC-C1", **move}]})
    assert_api_error(answer, 422, code)
    stored = client.get(url, headers=auth["dispatcher"]).get_json()
    assert (stored["routes"], stored["locks"], stored["totals"]) == (plan["routes"], [], plan["totals"])


def test_a_move_the_courier_has_no_room_for_is_refused_with_the_reason_and_changes_nothing(
        client, auth, day):
    # C2 carries one item a trip: the stop of two orders at one address cannot ride with it
    assert client.patch(f"{COURIERS}/PO-THUDUC-C2", headers=auth["admin"],
                        json={"capacity_items": 1}).status_code == 200
    plan = plan_now(client, auth)
    url = f"/api/v1/route-plans/{plan['id']}"
    shared = day["same_address"][0]
    assert courier_of(plan)[shared] == "PO-THUDUC-C1"
    answer = client.patch(url, headers=auth["dispatcher"], json={
        "moves": [{"order_id": shared, "courier_code": "PO-THUDUC-C2"}]})
    body = assert_api_error(answer, 422, "move_not_feasible")
    assert body["reason"] == "capacity" and "capacity" in body["message"]
    stored = client.get(url, headers=auth["dispatcher"]).get_json()
    assert (stored["routes"], stored["locks"], stored["totals"]) == (plan["routes"], [], plan["totals"])


def test_couriers_ride_by_their_speed_profile_and_the_plan_keeps_its_figures(
        client, auth, day, db_session):
    assert client.patch(f"{COURIERS}/PO-THUDUC-C2", headers=auth["admin"],
                        json={"speed_profile": "bicycle"}).get_json()["speed_profile"] == "bicycle"
    assert_api_error(client.patch(f"{COURIERS}/PO-THUDUC-C1", headers=auth["admin"],
                                  json={"speed_profile": "hcmc_default"}), 422, "invalid_courier")
    plan = plan_now(client, auth)
    assert plan["status"] == "ready", plan.get("error")
    db_session.expire_all()
    stored = db_session.query(RoutePlan).filter(RoutePlan.public_id == plan["id"]).one().result
    assert {c: f["profile"] for c, f in stored["fleet"].items()} == {
        "PO-THUDUC-C1": "motorbike", "PO-THUDUC-C2": "bicycle"}
    assert set(stored["speeds"]["profiles"]) == {"motorbike", "bicycle"}
    assert "fleet" not in plan and "speeds" not in plan  # the API serves the routes only
