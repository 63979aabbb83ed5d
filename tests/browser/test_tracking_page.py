"""The citizen's tracking page in real Chromium on a 360 px phone, without JavaScript."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.api.journeys import (
    FULL_NAME, PHONE_FORMS, TO_OUT_FOR_DELIVERY, create_order, record, walk)
from tests.browser.conftest import no_horizontal_overflow, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def on_its_way(world):
    api, headers = world["api"], world["headers"]
    before = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    order = create_order(api, headers["agency_system"],
                         deliver_after=(before - timedelta(hours=3)).isoformat(),
                         deliver_before=before.isoformat())
    walk(api, headers["dispatcher"], order["id"], *TO_OUT_FOR_DELIVERY)
    record(api, headers["courier"], order["id"], "delivery_failed",
           failure_reason="recipient_not_home")
    record(api, headers["dispatcher"], order["id"], "out_for_delivery")
    return order


def test_the_form_leads_to_a_readable_timeline_on_a_360_px_phone(world, phone, on_its_way):
    number = on_its_way["tracking_number"]
    phone.goto(f"{world['url']}/track")
    assert phone.locator("html").get_attribute("lang") == "vi"
    assert no_horizontal_overflow(phone)
    phone.fill("#tn", f"{number[:2].lower()} {number[2:]}")
    phone.click("button[type=submit]")
    phone.wait_for_url(f"**/track/{number}")

    assert phone.locator("h1").inner_text() == number
    assert phone.locator(".status").inner_text() == "Đang giao"
    steps = phone.locator("ol.timeline li")
    assert steps.count() == 6
    assert "Đang giao" in steps.first.inner_text()  # newest on top
    assert "Người nhận không có nhà" in steps.nth(1).inner_text()
    assert "Đã tiếp nhận yêu cầu" in steps.last.inner_text()
    box = steps.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert "N*** V*** A" in phone.locator(".facts").inner_text()
    text = phone.locator("body").inner_text()
    for secret in (FULL_NAME, "12 Đường số 7", *PHONE_FORMS):
        assert secret not in text
    assert no_horizontal_overflow(phone)
    screenshot(phone, "tracking-360.png")


def test_the_phone_digits_reveal_the_window_and_english_is_remembered(world, phone, on_its_way):
    number = on_its_way["tracking_number"]
    phone.goto(f"{world['url']}/track/{number}")
    assert phone.locator("dt", has_text="Khung giờ giao").count() == 0
    phone.fill("#p4", "3456")
    phone.click("form.card button[type=submit]")
    phone.wait_for_url(f"**/track/{number}?phone_last4=3456")
    assert phone.locator("dt", has_text="Khung giờ giao").count() == 1
    assert "Liên kết thanh toán" in phone.locator(".facts").inner_text()

    phone.click("a.lang")
    assert phone.locator(".status").inner_text() == "Out for delivery"
    assert phone.locator("dt", has_text="Delivery window").count() == 1
    phone.goto(f"{world['url']}/track")
    assert phone.locator("h1").inner_text() == "Track an item"
    assert no_horizontal_overflow(phone)
    screenshot(phone, "tracking-form-en-360.png")


def test_an_unknown_number_is_a_friendly_page(world, phone):
    response = phone.goto(f"{world['url']}/track/RR123456785VN")
    assert response is not None and response.status == 404
    assert "Không tìm thấy bưu gửi có mã này" in phone.locator("body").inner_text()
    assert no_horizontal_overflow(phone)
