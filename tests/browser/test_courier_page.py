"""The courier's page in real Chromium on a 360 px phone, without JavaScript: sign in, deliver
one stop, fail another with a reason."""
from __future__ import annotations

import pytest

from tests.api.journeys import TO_OUT_FOR_DELIVERY, create_order, order_status, walk
from tests.browser.conftest import no_horizontal_overflow, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def two_stops(world):
    api, headers = world["api"], world["headers"]
    orders = [create_order(api, headers["agency_system"]) for _ in range(2)]
    for order in orders:
        walk(api, headers["dispatcher"], order["id"], *TO_OUT_FOR_DELIVERY)
    return orders


def test_a_courier_delivers_one_stop_and_fails_another_from_a_phone(world, phone, two_stops):
    first, second = two_stops
    phone.goto(f"{world['url']}/courier/")
    phone.wait_for_url("**/courier/login")
    phone.fill("#key", world["keys"]["courier"])
    phone.click("button[type=submit]")
    phone.wait_for_url("**/courier/")
    assert phone.locator("h1").inner_text() == "Điểm giao hôm nay"
    assert phone.locator("li.stop").count() == 2
    assert no_horizontal_overflow(phone)
    screenshot(phone, "courier-360.png")

    stop = phone.locator(f"li#{first['id']}")
    assert "12 Đường số 7" in stop.inner_text() and "Nguyễn Văn An" in stop.inner_text()
    stop.locator("input[name=recipient_name]").fill("Nguyễn Thị Hoa")
    stop.locator("select[name=relationship]").select_option("family")
    stop.locator("input[name=id_last4]").fill("0427")
    stop.locator("button.ok").click()
    phone.wait_for_load_state()
    assert "đã ghi nhận “Đã giao thành công”" in phone.locator("p.note").inner_text()

    stop = phone.locator(f"li#{second['id']}")
    stop.locator("select[name=failure_reason]").select_option("recipient_not_home")
    stop.locator("button.fail").click()
    phone.wait_for_load_state()
    assert "Giao không thành công" in phone.locator("p.note").inner_text()
    # The failed stop stays, now offering a new attempt; the delivered one is gone.
    assert phone.locator("li.stop").count() == 1
    assert phone.locator(f"li#{second['id']} button", has_text="Đi giao lại").count() == 1
    assert no_horizontal_overflow(phone)
    screenshot(phone, "courier-after-360.png")

    api, dispatcher = world["api"], world["headers"]["dispatcher"]
    assert order_status(api, dispatcher, first["id"]) == "delivered"
    assert order_status(api, dispatcher, second["id"]) == "delivery_failed"
    events = api.get(f"/api/v1/orders/{first['id']}/events", headers=dispatcher).get_json()
    assert events["data"][-1]["data"]["recipient"]["name"] == "Nguyễn Thị Hoa"

    phone.click("button.link")  # sign out
    phone.wait_for_url("**/courier/login")
    phone.goto(f"{world['url']}/courier/")
    phone.wait_for_url("**/courier/login")
