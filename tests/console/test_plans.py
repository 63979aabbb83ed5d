"""The console's Plan pages: queue a day, watch it solve, adjust, re-optimise, publish, print.

Solves run inline here (POSTAL_PLANNER_INLINE), through the same dispatch the API uses; the
browser test runs them in the real worker process.
"""
from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from postal_svc import create_app
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.routing import planning
from postal_svc.routing.models import RoutePlan
from postal_svc.shipments.models import Order
from tests.conftest import order_body, test_settings

PLANS = "/console/plans"
DEPOT = (10.8500, 106.7720)
COURIERS = ("PO-THUDUC-C1", "PO-THUDUC-C2")


@pytest.fixture
def app(connection, database_url):
    return create_app({"settings": test_settings(database_url, planner_inline=True),
                       "db_bind": connection, "TESTING": True})


@pytest.fixture
def office(client, auth, db_session):
    """PO-THUDUC located, its agencies located, two couriers, and one courier of PO-SAIGON."""
    db_session.execute(update(PostOffice).where(PostOffice.code.in_(["PO-THUDUC", "PO-SAIGON"]))
                       .values(lat=DEPOT[0], lon=DEPOT[1]))
    db_session.execute(update(Agency).where(Agency.code == "AG-LINHTRUNG").values(lat=10.870, lon=106.778))
    db_session.execute(update(Agency).where(Agency.code == "AG-TRUONGTHANH").values(lat=10.815, lon=106.820))
    db_session.commit()
    for code, name, office_code in ((COURIERS[0], "Bưu tá Minh", "PO-THUDUC"),
                                    (COURIERS[1], "Bưu tá Bình", "PO-THUDUC"),
                                    ("PO-SAIGON-C1", "Bưu tá Sài Gòn", "PO-SAIGON")):
        response = client.post("/api/v1/couriers", headers=auth["admin"], json={
            "code": code, "name": name, "post_office_code": office_code,
            "capacity_items": 40, "capacity_kg": 20})
        assert response.status_code == 201, response.get_json()
    return "PO-THUDUC"


def make_order(client, auth, db_session, *, lat: float | None, lon: float | None,
               status: str = "at_post_office", **body: Any) -> str:
    response = client.post("/api/v1/orders", json=order_body(**body), headers=auth["agency"])
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    # The day's state as the lifecycle would leave it (the API tests do the same).
    db_session.execute(update(Order).where(Order.public_id == order_id).values(
        status=status, lat=lat, lon=lon, post_office_code="PO-THUDUC"))
    db_session.commit()
    return order_id


@pytest.fixture
def day(client, auth, db_session, office):
    """Four deliveries at four addresses, and one order without a point."""
    points = ((10.8601, 106.7801), (10.8412, 106.7633), (10.8555, 106.7905), (10.8450, 106.7950))
    return {"deliveries": [make_order(client, auth, db_session, lat=lat, lon=lon)
                           for lat, lon in points],
            "no_point": make_order(client, auth, db_session, lat=None, lon=None)}


def create_plan(browser, **form: Any) -> Any:
    data = {"post_office_code": "PO-THUDUC", "date": "2025-03-02", "couriers": list(COURIERS),
            "time_limit_s": "1", **form}
    return browser.post(PLANS, data)


def plan_id_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    found = re.fullmatch(r"/console/plans/(rp_[0-9a-f]+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def stored(db_session, plan_id: str) -> RoutePlan:
    db_session.expire_all()
    plan = db_session.scalar(select(RoutePlan).where(RoutePlan.public_id == plan_id))
    assert plan is not None
    return plan


def plan_count(db_session) -> int:
    return int(db_session.scalar(select(func.count()).select_from(RoutePlan)))


def ready_plan(browser, db_session) -> RoutePlan:
    plan = stored(db_session, plan_id_of(create_plan(browser)))
    assert plan.status == "ready", plan.error
    return plan


def queued_plan(db_session, now, *, office: str = "PO-THUDUC",
                couriers: tuple[str, ...] = COURIERS) -> RoutePlan:
    """A plan queued through the use case and not dispatched (a worker has not taken it yet)."""
    plan = planning.create_route_plan(db_session, office, day=now.date(), courier_codes=couriers,
                                      time_limit_s=5, client_id=None, now=now)
    db_session.commit()
    return plan


def route_of(plan: RoutePlan, order_id: str) -> str:
    return next(r["courier_code"] for r in plan.result["routes"]
                for s in r["stops"] if order_id in s["order_ids"])


# -- the plans page --------------------------------------------------------------------------

def test_the_plans_page_offers_todays_date_and_every_active_courier_ticked(signed_in, office,
                                                                           now):
    page = signed_in().get(PLANS)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    today = (now + timedelta(hours=7)).date().isoformat()
    assert f'name="date" value="{today}"' in html
    for code in COURIERS:
        assert f'name="couriers" value="{code}" checked' in html
    assert "PO-SAIGON-C1" not in html
    assert 'name="post_office_code" value="PO-THUDUC"' in html


def test_a_plan_created_in_the_console_is_solved_and_shows_each_couriers_stops(
        signed_in, day, db_session):
    browser = signed_in()
    plan_id = plan_id_of(create_plan(browser))
    plan = stored(db_session, plan_id)
    assert plan.status == "ready", plan.error
    assert plan.courier_codes == list(COURIERS) and plan.time_limit_s == 1
    assert plan.plan_date.isoformat() == "2025-03-02"
    html = browser.get(f"{PLANS}/{plan_id}").get_data(as_text=True)
    numbers = {i: n for i, n in db_session.execute(select(Order.public_id, Order.tracking_number))}
    for order_id in day["deliveries"]:
        assert numbers[order_id] in html
    assert "Bưu tá Minh" in html and "Bưu tá Bình" in html
    assert 'id="plan-map"' in html and "vendor/leaflet/leaflet.js" in html
    assert 'id="plan-progress"' not in html
    unassigned = html.split('id="unassigned"')[1]
    assert numbers[day["no_point"]] in unassigned and "Địa chỉ chưa có tọa độ" in unassigned
    assert browser.get(PLANS).get_data(as_text=True).count(f"/console/plans/{plan_id}") == 1


def test_a_plan_still_solving_shows_its_progress_and_refreshes_itself_without_javascript(
        signed_in, office, db_session, now):
    plan = queued_plan(db_session, now)
    plan.status, plan.progress = "solving", {"elapsed_s": 2.5, "best_cost": 12345,
                                             "feasible": True}
    db_session.commit()
    browser = signed_in()
    html = browser.get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    assert 'id="plan-progress"' in html and "12345" in html and 'aria-valuenow="50"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert 'id="publish"' not in html
    progress = browser.get(f"{PLANS}/{plan.public_id}/progress.json")
    assert progress.status_code == 200
    assert progress.get_json() == {"status": "solving", "finished": False, "percent": 50,
                                   "time_limit_s": 5,
                                   "progress": {"elapsed_s": 2.5, "best_cost": 12345,
                                                "feasible": True}}


def test_the_progress_says_finished_once_ready_and_the_page_stops_refreshing(signed_in, day,
                                                                             db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    body = browser.get(f"{PLANS}/{plan.public_id}/progress.json").get_json()
    assert body["finished"] is True and body["status"] == "ready" and body["percent"] == 100
    html = browser.get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in html


def test_the_map_data_has_the_depot_every_stop_and_one_line_per_route(signed_in, day, db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    response = browser.get(f"{PLANS}/{plan.public_id}/map.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    features = response.get_json()["features"]
    roles = [f["properties"]["role"] for f in features]
    assert roles.count("depot") == 1
    assert roles.count("route") == len(plan.result["routes"]) >= 1
    stops = [f for f in features if f["properties"]["role"] == "stop"]
    assert {oid for f in stops for oid in f["properties"]["order_ids"]} == set(day["deliveries"])
    assert features[0]["geometry"]["coordinates"] == [DEPOT[1], DEPOT[0]]


def test_the_map_uses_tiles_only_when_a_tile_server_is_configured(signed_in, day, db_session,
                                                                  app):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    assert 'data-tile-url=""' in browser.get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    state = app.extensions["postal"]
    state.settings = dataclasses.replace(
        state.settings, console_tile_url="https://tiles.example/{z}/{x}/{y}.png",
        console_tile_attribution="© Example")
    html = browser.get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in html
    assert 'data-tile-attribution="© Example"' in html


def test_the_manifest_is_a_pdf_of_the_plans_couriers(signed_in, day, db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    response = browser.get(f"{PLANS}/{plan.public_id}/manifest.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f'{plan.public_id}-manifest.pdf' in response.headers["Content-Disposition"]


def test_moving_a_stop_gives_it_to_that_courier_at_once_and_pins_it(signed_in, day,
                                                                     db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    order_id = day["deliveries"][0]
    other = next(c for c in COURIERS if c != route_of(plan, order_id))
    moved = browser.post(f"{PLANS}/{plan.public_id}/moves",
                         {"order_ids": [order_id], "courier_code": other})
    assert moved.status_code == 303
    assert stored(db_session, plan.public_id).locks == [{"order_id": order_id,
                                                         "courier_code": other}]
    assert route_of(stored(db_session, plan.public_id), order_id) == other  # before re-optimising
    page = browser.get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    assert "Tối ưu lại" in page and f'data-pinned="{other}"' in page
    again = browser.post(f"{PLANS}/{plan.public_id}/reoptimize")
    assert again.status_code == 303
    plan = stored(db_session, plan.public_id)
    assert plan.status == "ready", plan.error
    assert route_of(plan, order_id) == other


def test_a_stop_can_be_pinned_to_its_courier_and_unpinned(signed_in, day, db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    order_id = day["deliveries"][1]
    courier = route_of(plan, order_id)
    assert browser.post(f"{PLANS}/{plan.public_id}/locks", {
        "order_ids": [order_id], "courier_code": courier}).status_code == 303
    assert stored(db_session, plan.public_id).locks == [{"order_id": order_id,
                                                         "courier_code": courier}]
    assert "Đã ghim" in browser.get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    assert browser.post(f"{PLANS}/{plan.public_id}/unlock",
                        {"order_ids": [order_id]}).status_code == 303
    assert stored(db_session, plan.public_id).locks == []


def test_publishing_sends_the_orders_out_for_delivery(signed_in, day, db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    published = browser.post(f"{PLANS}/{plan.public_id}/publish")
    assert published.status_code == 303
    page = browser.get(published.headers["Location"]).get_data(as_text=True)
    assert "Đã công bố lộ trình: 4 đơn đã chuyển trạng thái, 0 đơn giữ nguyên." in page
    assert stored(db_session, plan.public_id).status == "published"
    statuses = {i: s for i, s in db_session.execute(select(Order.public_id, Order.status))}
    assert {statuses[o] for o in day["deliveries"]} == {"out_for_delivery"}
    assert statuses[day["no_point"]] == "at_post_office"
    assert 'id="publish"' not in page and 'id="reoptimize"' not in page
    again = browser.post(f"{PLANS}/{plan.public_id}/publish")
    assert again.status_code == 409


def test_recent_plans_are_listed_newest_first_a_page_at_a_time(signed_in, office, db_session,
                                                               now):
    ids = [queued_plan(db_session, now + timedelta(seconds=n)).public_id for n in range(23)]
    other = queued_plan(db_session, now, office="PO-SAIGON", couriers=("PO-SAIGON-C1",))
    browser = signed_in()
    first = browser.get(PLANS).get_data(as_text=True)
    listed = re.findall(r'href="/console/plans/(rp_[0-9a-f]+)"', first)
    assert listed == ids[::-1][:20]
    cursor = re.search(r'href="/console/plans\?cursor=([^"&]+)"', first)
    assert cursor
    second = browser.get(f"{PLANS}?cursor={cursor.group(1)}").get_data(as_text=True)
    assert re.findall(r'href="/console/plans/(rp_[0-9a-f]+)"', second) == ids[::-1][20:]
    assert other.public_id not in first + second
    assert browser.get(f"{PLANS}?cursor=not-a-cursor").status_code == 422


def test_an_admin_plans_for_any_office(signed_in, office, db_session, now):
    other = queued_plan(db_session, now, office="PO-SAIGON", couriers=("PO-SAIGON-C1",))
    admin = signed_in("admin")
    assert other.public_id in admin.get(PLANS).get_data(as_text=True)
    page = admin.get(f"{PLANS}?office=PO-SAIGON").get_data(as_text=True)
    assert 'value="PO-SAIGON-C1" checked' in page and "PO-THUDUC-C1" not in page
    created = admin.post(PLANS, {"post_office_code": "PO-SAIGON", "date": "2025-03-02",
                                 "couriers": ["PO-SAIGON-C1"], "time_limit_s": "1"})
    assert stored(db_session, plan_id_of(created)).post_office_code == "PO-SAIGON"


def test_the_plan_page_speaks_english_by_choice(signed_in, day, db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    html = browser.get(f"{PLANS}/{plan.public_id}?lang=en").get_data(as_text=True)
    # The English wording comes with the merged catalogue; the page must at least switch.
    assert '<html lang="en">' in html and "Tiếng Việt" in html


# -- scope -----------------------------------------------------------------------------------

def test_a_dispatcher_of_another_office_finds_nothing_of_a_thu_duc_plan(signed_in, day,
                                                                        db_session):
    plan = ready_plan(signed_in(), db_session)
    stranger = signed_in(offices=("PO-SAIGON",))
    for suffix in ("", "/progress.json", "/map.geojson", "/manifest.pdf"):
        assert stranger.get(f"{PLANS}/{plan.public_id}{suffix}").status_code == 404, suffix
    order_id = day["deliveries"][0]
    for action, form in (("moves", {"order_ids": [order_id], "courier_code": COURIERS[0]}),
                         ("locks", {"order_ids": [order_id], "courier_code": COURIERS[0]}),
                         ("unlock", {"order_ids": [order_id]}), ("reoptimize", {}),
                         ("publish", {})):
        assert stranger.post(f"{PLANS}/{plan.public_id}/{action}", form).status_code == 404
    after = stored(db_session, plan.public_id)
    assert (after.status, after.locks) == ("ready", [])
    assert plan.public_id not in stranger.get(PLANS).get_data(as_text=True)
    assert stranger.get(f"{PLANS}?office=PO-THUDUC").status_code == 404


def test_a_dispatcher_cannot_plan_for_another_office(signed_in, day, db_session):
    stranger = signed_in(offices=("PO-SAIGON",))
    refused = create_plan(stranger)
    assert refused.status_code == 404
    refused = create_plan(stranger, date="not-a-date")
    assert refused.status_code == 404
    assert plan_count(db_session) == 0


def test_pages_send_a_stranger_to_sign_in(console, day):
    for path in (PLANS, f"{PLANS}/rp_0/progress.json"):
        answer = console.get(path)
        assert answer.status_code == 303 and "/console/login" in answer.headers["Location"]


@pytest.mark.parametrize("action", ["", "/moves", "/locks", "/unlock", "/reoptimize", "/publish"])
def test_every_plan_form_is_refused_without_the_csrf_token(signed_in, day, db_session, action):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    target = PLANS if action == "" else f"{PLANS}/{plan.public_id}{action}"
    form = {"post_office_code": "PO-THUDUC", "date": "2025-03-02", "couriers": list(COURIERS),
            "time_limit_s": "1", "order_ids": [day["deliveries"][0]],
            "courier_code": COURIERS[0]}
    assert browser.post(target, form, csrf=False).status_code == 400
    assert browser.post(target, {**form, "csrf_token": "forged"}, csrf=False).status_code == 400
    after = stored(db_session, plan.public_id)
    assert (after.status, after.locks, plan_count(db_session)) == ("ready", [], 1)


# -- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("form, field_message", [
    ({"couriers": ["PO-THUDUC-C1", "NOBODY"]}, "Có bưu tá không làm việc cho bưu cục này."),
    ({"couriers": ["PO-SAIGON-C1"]}, "Có bưu tá không làm việc cho bưu cục này."),
    ({"couriers": []}, "Hãy chọn ít nhất một bưu tá."),
    ({"date": "2025-02-30"}, "Ngày phải có dạng YYYY-MM-DD"),
    ({"date": "02/03/2025"}, "Ngày phải có dạng YYYY-MM-DD"),
    ({"date": "0001-01-01"}, "Ngày phải có dạng YYYY-MM-DD"),
    ({"time_limit_s": "0"}, "Thời gian tìm lời giải phải từ 1 đến 300 giây."),
    ({"time_limit_s": "301"}, "Thời gian tìm lời giải phải từ 1 đến 300 giây."),
    ({"time_limit_s": "ten"}, "Thời gian tìm lời giải phải từ 1 đến 300 giây."),
    ({"time_limit_s": "1e9"}, "Thời gian tìm lời giải phải từ 1 đến 300 giây."),
    ({"couriers": ["PO-THUDUC-C1\x00"]}, "Hãy chọn ít nhất một bưu tá."),
])
def test_a_bad_plan_form_is_answered_with_the_reason_and_writes_nothing(
        signed_in, day, db_session, form, field_message):
    refused = create_plan(signed_in(), **form)
    assert refused.status_code == 422
    assert field_message in refused.get_data(as_text=True)
    assert plan_count(db_session) == 0


def test_an_office_without_a_location_or_couriers_cannot_be_planned(signed_in, reference_data,
                                                                    db_session):
    refused = create_plan(signed_in(), couriers=["X"])
    assert refused.status_code == 422
    assert "Bưu cục chưa có tọa độ" in refused.get_data(as_text=True)
    assert plan_count(db_session) == 0


def test_moving_to_a_courier_not_in_the_plan_is_refused_and_changes_nothing(signed_in, day,
                                                                          db_session):
    browser = signed_in()
    plan = ready_plan(browser, db_session)
    order_id = day["deliveries"][0]
    for form in ({"order_ids": [order_id], "courier_code": "PO-SAIGON-C1"},
                 {"order_ids": [order_id], "courier_code": "NOBODY"},
                 {"order_ids": ["ord_unknown"], "courier_code": COURIERS[0]},
                 {"order_ids": [order_id]},
                 {"courier_code": COURIERS[0]},
                 {"order_ids": [order_id + "\x00"], "courier_code": COURIERS[0]}):
        answer = browser.post(f"{PLANS}/{plan.public_id}/moves", form)
        assert answer.status_code == 422, form
    assert stored(db_session, plan.public_id).locks == []


def test_unknown_plans_are_not_found(signed_in, office):
    browser = signed_in()
    for path in (f"{PLANS}/rp_000000000000000000000000", f"{PLANS}/rp%00x/map.geojson",
                 f"{PLANS}/{'x' * 40}"):
        assert browser.get(path).status_code == 404, path


def test_a_plan_that_is_still_solving_cannot_be_reoptimised_or_published(signed_in, office,
                                                                         db_session, now):
    plan = queued_plan(db_session, now)
    browser = signed_in()
    assert browser.post(f"{PLANS}/{plan.public_id}/reoptimize").status_code == 409
    assert browser.post(f"{PLANS}/{plan.public_id}/publish").status_code == 409
    assert stored(db_session, plan.public_id).status == "queued"


def test_a_failed_plan_says_why_and_can_be_reoptimised_but_not_published(signed_in, office,
                                                                         db_session, now):
    plan = queued_plan(db_session, now)
    plan.status = "failed"
    plan.error = {"code": "solver_error", "message": "The planner failed; see the logs."}
    db_session.commit()
    html = signed_in().get(f"{PLANS}/{plan.public_id}").get_data(as_text=True)
    assert "Không lập được lộ trình." in html and "The planner failed" in html
    assert 'id="reoptimize"' in html and 'id="publish"' not in html
    assert 'id="plan-map"' not in html
