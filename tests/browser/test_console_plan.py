"""Planning and publishing a day in real Chromium: the dispatcher queues a plan, watches it solve
in the real worker process, sees the routes on the map, moves a stop, re-optimises, publishes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from postal_svc.directory.couriers import create_courier
from postal_svc.directory.service import update_post_office
from postal_svc.routing.models import RoutePlan
from tests.api.journeys import create_order, order_status, walk
from tests.browser.conftest import console_sign_in, screenshot
from tests.conftest import order_body

pytestmark = pytest.mark.browser

COURIERS = ("PO-THUDUC-C1", "PO-THUDUC-C2")
# Homes in Linh Xuân (ward 26794, served by PO-THUDUC), a few hundred metres apart.
HOMES = ((10.8609, 106.7800), (10.8700, 106.7750), (10.8560, 106.7900), (10.8650, 106.7700),
         (10.8580, 106.7760), (10.8680, 106.7850))
SOLVE_TIMEOUT_MS = 120_000  # the first solve starts a spawned worker process


@pytest.fixture
def planning_day(console_world: dict[str, Any], committed_engine: Engine) -> dict[str, Any]:
    """PO-THUDUC located with two couriers, and six orders at the post office to deliver, made
    through the API with addresses resolved in its served ward."""
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        update_post_office(session, "PO-THUDUC", {"lat": 10.8500, "lon": 106.7720}, now=now)
        for code, name in zip(COURIERS, ("Bưu tá Minh", "Bưu tá Bình")):
            create_courier(session, {"code": code, "name": name, "post_office_code": "PO-THUDUC",
                                     "capacity_items": 40, "capacity_kg": 20}, now=now)
        session.commit()
    api, headers = console_world["api"], console_world["headers"]
    orders = []
    for lat, lon in HOMES:
        body = order_body()
        citizen = {**body["citizen"], "address": {**body["citizen"]["address"], "lat": lat,
                                                  "lon": lon}}
        order = create_order(api, headers["agency_system"], citizen=citizen)
        assert order["post_office_code"] == "PO-THUDUC"
        assert order["address"]["ward_code"] == "26794"
        walk(api, headers["dispatcher"], order["id"], "collected", "at_post_office")
        orders.append(order)
    return {**console_world, "orders": orders}


def wait_for_map(page: Any) -> None:
    page.wait_for_selector("#plan-map[data-drawn] path.route", timeout=SOLVE_TIMEOUT_MS)


def test_a_dispatcher_plans_moves_a_stop_reoptimises_and_publishes_a_day(planning_day, laptop):
    url = planning_day["url"]
    console_sign_in(laptop, url, "dieuphoi")
    laptop.click("header nav a[href='/console/plans']")
    laptop.wait_for_url("**/console/plans")
    for code in COURIERS:
        assert laptop.locator(f"input[name=couriers][value='{code}']").is_checked()
    laptop.fill("#time-limit", "2")
    laptop.click("#plan-form button[type=submit]")
    laptop.wait_for_url("**/console/plans/rp_*")

    # Queued or solving: the live indicator, then the page reloads itself when the plan is ready.
    assert laptop.locator("#plan-progress").is_visible()
    screenshot(laptop, "console-plan-progress.png")
    wait_for_map(laptop)
    assert laptop.locator("#plan-status .tag").get_attribute("data-status") == "ready"
    assert laptop.locator("#plan-progress").count() == 0
    routes = laptop.locator("#plan-map svg path.route").count()
    assert routes >= 1
    assert laptop.locator("#plan-map svg path.depot").count() == 1
    assert laptop.locator("#plan-map svg path.stop").count() == len(HOMES)
    # No tile server configured: a plain background, still fitted to the stops and routes.
    assert laptop.locator("#plan-map img.leaflet-tile").count() == 0
    assert laptop.locator("table.stops tbody tr").count() == len(HOMES)
    screenshot(laptop, "console-plan-map.png")

    # Move the first stop of the first courier with stops to the other courier.
    row = laptop.locator("section.courier table.stops tbody tr").first
    order_id = row.get_attribute("data-orders").split()[0]
    source = laptop.locator("section.courier", has=laptop.locator(
        f"tr[data-orders~='{order_id}']")).get_attribute("data-courier")
    target = next(c for c in COURIERS if c != source)
    row.locator("form.move select").select_option(target)
    row.locator("form.move button").click()
    laptop.wait_for_load_state()
    assert "Đã chuyển điểm dừng cho bưu tá" in laptop.locator("main p.note").first.inner_text()
    assert laptop.locator(f"tr[data-orders~='{order_id}'] [data-pinned='{target}']").count() == 1

    laptop.click("#reoptimize")
    laptop.wait_for_load_state()
    assert laptop.locator("#plan-map").count() == 0  # the old routes are not shown as the new
    wait_for_map(laptop)
    moved_to = laptop.locator("section.courier", has=laptop.locator(
        f"tr[data-orders~='{order_id}']")).get_attribute("data-courier")
    assert moved_to == target

    laptop.click("#publish")
    laptop.wait_for_load_state()
    assert "Đã công bố lộ trình: 6 đơn đã chuyển trạng thái" in \
        laptop.locator("main p.note").first.inner_text()
    assert laptop.locator("#plan-status .tag").get_attribute("data-status") == "published"
    assert laptop.locator("#publish").count() == 0
    screenshot(laptop, "console-plan-published.png")

    api, dispatcher = planning_day["api"], planning_day["headers"]["dispatcher"]
    for order in planning_day["orders"]:
        assert order_status(api, dispatcher, order["id"]) == "out_for_delivery"


def test_a_courier_name_is_shown_on_the_map_as_text_never_run_as_html(console_world, laptop,
                                                                       committed_engine):
    # Leaflet writes a string tooltip with innerHTML; a courier's name is whatever was typed.
    name = '<img src=x onerror="window.nameRan = true">Bưu tá Minh'
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        update_post_office(session, "PO-THUDUC", {"lat": 10.8500, "lon": 106.7720}, now=now)
        create_courier(session, {"code": COURIERS[0], "name": name,
                                 "post_office_code": "PO-THUDUC", "capacity_items": 40,
                                 "capacity_kg": 20}, now=now)
        arrival = now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
        stop = {"stop_id": "s1", "sequence": 1, "planned_arrival": arrival, "windows": [],
                "kind": "deliver_result", "address": "1 Võ Văn Ngân", "ward": "Linh Xuân",
                "order_ids": [], "lat": 10.8609, "lon": 106.7800,
                "load_after": {"items": 0, "weight_g": 0}}
        session.add(RoutePlan(
            public_id="rp_0123456789abcdef", post_office_code="PO-THUDUC",
            plan_date=now.date(), courier_codes=[COURIERS[0]], time_limit_s=1, status="ready",
            result={"routes": [{"courier_code": COURIERS[0], "trip": 1, "depart_at": arrival,
                                "return_at": arrival, "distance_m": 1000, "duration_s": 600,
                                "stops": [stop]}]},
            unassigned=[], totals={"orders_planned": 0, "orders_unassigned": 0,
                                   "distance_m": 1000, "duration_s": 600},
            locks=[], created_at=now, finished_at=now))
        session.commit()
    console_sign_in(laptop, console_world["url"], "dieuphoi")
    laptop.goto(f"{console_world['url']}/console/plans/rp_0123456789abcdef")
    laptop.wait_for_selector("#plan-map[data-drawn] path.stop")
    laptop.hover("#plan-map path.stop")
    tooltip = laptop.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text().startswith(name)
    assert tooltip.locator("img").count() == 0
    assert laptop.evaluate("window.nameRan") is None
