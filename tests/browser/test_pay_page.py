"""The citizen's pay page in real Chromium on a 360 px phone, paying test cards against
localstripe: its Stripe.js stand-in draws the card field and runs 3-D Secure, and its signed
webhooks reach the server too (they must then change nothing)."""
from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postal_svc.billing.models import StripeEvent
from postal_svc.webhooks.models import WebhookEvent
from tests.api.journeys import create_order
from tests.browser.conftest import no_horizontal_overflow, screenshot
from tests.payments_support import CARD_3DS, CARD_DECLINED, CARD_OK, set_price

pytestmark = pytest.mark.browser


@pytest.fixture
def order(pay_world) -> dict[str, Any]:
    created = create_order(pay_world["api"], pay_world["headers"]["agency_system"])
    with Session(pay_world["engine"]) as session:
        set_price(session, created["id"])
    return created


def read(pay_world, order_id: str) -> dict[str, Any]:
    response = pay_world["api"].get(f"/api/v1/orders/{order_id}",
                                    headers=pay_world["headers"]["agency_system"])
    assert response.status_code == 200
    return response.get_json()


def count(engine, model, **where: Any) -> int:
    with Session(engine) as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int(session.scalar(stmt) or 0)


def wait_for_stripe_event(engine, type_: str, timeout_s: float = 15) -> None:
    """localstripe sends its webhook a second after the payment: wait until it was kept."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if count(engine, StripeEvent, type=type_):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {type_} webhook from localstripe")


def enter_card(page: Any, number: str) -> None:
    """Type a card into the card field (localstripe's stand-in: one input per part)."""
    field = page.locator("#card-element")
    field.locator("input[placeholder=number]").wait_for()
    for name, value in (("number", number), ("exp_month", "12"), ("exp_year", "34"),
                        ("cvc", "123"), ("postal_code", "70000")):
        field.locator(f"input[placeholder={name}]").fill(value)


def open_pay_page(pay_world, page: Any, order: dict[str, Any]) -> None:
    pay_url = read(pay_world, order["id"])["payment"]["pay_url"]
    page.goto(pay_world["url"] + pay_url)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Thanh toán bưu phí"
    assert page.locator(".amount").inner_text() == "20.800 đ"


def test_a_citizen_pays_with_a_test_card_on_a_phone(pay_world, phone_with_js, order):
    page = phone_with_js
    open_pay_page(pay_world, page, order)
    enter_card(page, CARD_OK)
    assert no_horizontal_overflow(page)
    screenshot(page, "pay-360.png")
    page.click("#pay-button")
    page.locator(".note.paid").wait_for()
    assert "Đã thanh toán" in page.locator(".note.paid").inner_text()
    assert read(pay_world, order["id"])["payment"]["status"] == "paid"
    screenshot(page, "pay-done-360.png")
    wait_for_stripe_event(pay_world["engine"], "payment_intent.succeeded")
    # The webhook came after the page had settled the payment: it changed nothing.
    assert count(pay_world["engine"], WebhookEvent, type="payment.succeeded") == 1


def test_a_declined_card_says_so_and_a_good_card_then_pays(pay_world, phone_with_js, order):
    page = phone_with_js
    open_pay_page(pay_world, page, order)
    enter_card(page, CARD_DECLINED)
    page.click("#pay-button")
    message = page.locator("#pay-message.error")
    message.wait_for()
    assert "Thẻ bị từ chối" in message.inner_text()
    assert read(pay_world, order["id"])["payment"]["status"] == "unpaid"
    wait_for_stripe_event(pay_world["engine"], "payment_intent.payment_failed")
    enter_card(page, CARD_OK)
    page.click("#pay-button")
    page.locator(".note.paid").wait_for()
    assert read(pay_world, order["id"])["payment"]["status"] == "paid"
    wait_for_stripe_event(pay_world["engine"], "payment_intent.succeeded")


def test_a_3d_secure_card_is_paid_after_the_check(pay_world, phone_with_js, order):
    page = phone_with_js
    open_pay_page(pay_world, page, order)
    enter_card(page, CARD_3DS)
    page.click("#pay-button")
    # localstripe's stand-in for the bank's 3-D Secure dialog.
    page.get_by_role("button", name="Complete authentication").click()
    page.locator(".note.paid").wait_for()
    assert read(pay_world, order["id"])["payment"]["status"] == "paid"
    wait_for_stripe_event(pay_world["engine"], "payment_intent.succeeded")
    assert count(pay_world["engine"], WebhookEvent, type="payment.succeeded") == 1
