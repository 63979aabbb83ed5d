"""The console's Today and Orders pages in real Chromium: find an order by phone, fix an
unresolved address (by ward, and by a point on the map), print a label; a tablet fits."""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from tests.api.journeys import create_order
from tests.browser.conftest import TABLET, console_sign_in, screenshot

pytestmark = pytest.mark.browser

UNREADABLE = "zzqx wqpt, khu vực không rõ"
LINH_TAY = "5 Kha Vạn Cân, P. Linh Tây, TP. Thủ Đức"  # split old ward: ambiguous
A6_MEDIABOX = re.compile(rb"/MediaBox \[ 0 0 297\.6378 419\.5276 \]")


def new_order(world: dict[str, Any], **citizen: Any) -> dict[str, Any]:
    person = {"name": "Nguyễn Văn An", "phone": "0903123456",
              "address": {"line": "12 Đường số 7", "ward": "Phường Linh Trung",
                          "district": "Thành phố Thủ Đức", "province": "Thành phố Hồ Chí Minh"}}
    if "address_text" in citizen:
        person.pop("address")
    person.update(citizen)
    return create_order(world["api"], world["headers"]["agency_system"], citizen=person)


@pytest.fixture
def tablet(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=TABLET, locale="vi-VN")
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_a_dispatcher_finds_an_order_by_the_callers_phone(console_world, laptop):
    wanted = new_order(console_world, name="Võ Thị Hoa", phone="0912345678")
    new_order(console_world)
    console_sign_in(laptop, console_world["url"], "dieuphoi")
    laptop.fill("#q", "0912 345 678")  # as the citizen reads it out on the phone
    laptop.click("form.search button[type=submit]")
    laptop.wait_for_url("**/console/orders?q=*")
    rows = laptop.locator("#orders tbody tr")
    assert rows.count() == 1
    assert "Võ Thị Hoa" in rows.first.inner_text()
    screenshot(laptop, "console-orders-found-by-phone.png")
    rows.first.locator("a.tn").click()
    laptop.wait_for_url(f"**/console/orders/{wanted['id']}")
    assert laptop.locator("h1").inner_text() == wanted["tracking_number"]
    assert "0912 345 678" in laptop.locator("#citizen").inner_text()
    screenshot(laptop, "console-order-detail.png")


def test_a_dispatcher_fixes_an_unresolved_address_by_choosing_the_ward(console_world, laptop):
    order = new_order(console_world, address_text=UNREADABLE)
    console_sign_in(laptop, console_world["url"], "dieuphoi")
    assert laptop.locator("#attention-address .n").inner_text() == "1"
    laptop.click("#attention-address")
    laptop.wait_for_url("**/console/orders?attention=address")
    laptop.click(f"a[href='/console/orders/{order['id']}']")
    laptop.wait_for_url(f"**/console/orders/{order['id']}")
    assert laptop.locator("#address-map").is_visible()  # the map is there with JavaScript
    laptop.select_option("#ward_code", "26794")
    screenshot(laptop, "console-fix-address-ward-chosen.png")
    laptop.click("#address-form button[type=submit]")
    laptop.wait_for_load_state()
    assert "đã sửa địa chỉ (Phường Linh Xuân)" in laptop.locator("p.note.ok").inner_text()
    assert "Phường Linh Xuân" in laptop.locator("#address").inner_text()
    assert laptop.locator("#fix-address.attention").count() == 0
    screenshot(laptop, "console-fix-address-done.png")
    read = console_world["api"].get(f"/api/v1/orders/{order['id']}",
                                    headers=console_world["headers"]["dispatcher"]).get_json()
    assert read["address"]["ward_code"] == "26794" and read["address"]["precision"] == "ward"


def test_a_dispatcher_fixes_an_ambiguous_address_by_a_point_on_the_map(console_world, laptop):
    order = new_order(console_world, address_text=LINH_TAY)
    console_sign_in(laptop, console_world["url"], "dieuphoi")
    laptop.goto(f"{console_world['url']}/console/orders/{order['id']}")
    the_map = laptop.locator("#address-map")
    box = the_map.bounding_box()
    assert box is not None and box["height"] > 100
    # Between the two candidate wards the map is fitted to, away from their markers.
    the_map.click(position={"x": box["width"] * 0.42, "y": box["height"] * 0.47})
    lat, lon = laptop.input_value("#lat"), laptop.input_value("#lon")
    assert lat and lon
    assert laptop.input_value("#ward_code") == ""  # the ward is named from the point
    assert "Điểm đã chọn" in laptop.locator("#point-text").inner_text()
    screenshot(laptop, "console-fix-address-map-click.png")
    laptop.click("#address-form button[type=submit]")
    laptop.wait_for_load_state()
    assert "đã sửa địa chỉ" in laptop.locator("p.note.ok").inner_text()
    read = console_world["api"].get(f"/api/v1/orders/{order['id']}",
                                    headers=console_world["headers"]["dispatcher"]).get_json()
    assert read["address"]["precision"] == "street"
    assert read["address"]["ambiguous"] is False
    assert (read["address"]["lat"], read["address"]["lon"]) == (float(lat), float(lon))
    screenshot(laptop, "console-fix-address-map-done.png")


def test_a_dispatcher_prints_a_label(console_world, laptop):
    order = new_order(console_world)
    console_sign_in(laptop, console_world["url"], "dieuphoi")
    laptop.goto(f"{console_world['url']}/console/orders/{order['id']}")
    screenshot(laptop, "console-order-before-printing.png")
    with laptop.context.expect_event(
            "response", lambda r: r.url.endswith(f"/console/orders/{order['id']}/label.pdf")
    ) as answered:
        laptop.click("#print-label")
    response = answered.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    # Chromium shows it in its PDF viewer; the bytes are fetched again with the same session.
    pdf = laptop.context.request.get(response.url).body()
    assert pdf.startswith(b"%PDF")
    assert A6_MEDIABOX.search(pdf)
    assert order["tracking_number"].encode() in pdf  # the document's title
    assert order["tracking_number"] in response.headers["content-disposition"]


def test_today_and_the_orders_list_fit_a_tablet(console_world, tablet):
    for _ in range(3):
        new_order(console_world, name="Nguyễn Thị Thanh Hương Trường Giang Bảo Ngọc")
    new_order(console_world, address_text=UNREADABLE)
    console_sign_in(tablet, console_world["url"], "dieuphoi")
    width = TABLET["width"]
    assert tablet.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(tablet, "console-today-tablet.png")
    tablet.goto(f"{console_world['url']}/console/orders")
    assert tablet.locator("#orders tbody tr").count() == 4
    assert tablet.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(tablet, "console-orders-tablet.png")
