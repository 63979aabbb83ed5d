"""Closing the open-ended Covid-19 promotion from the console in real Chromium: two clicks, the
confirmation shows the exact Vietnam instant, and pricing stops the discount at that instant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from postal_svc.billing import service
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.models import PromotionRecord
from postal_svc.billing.pricing import price_order
from tests.browser.conftest import console_sign_in, screenshot

pytestmark = pytest.mark.browser

ICT = timezone(timedelta(hours=7))
COVID = "COVID19-ONLINE-20"


def online_order_facts() -> PricingFacts:
    """A result delivered in Hồ Chí Minh City for a dossier registered online."""
    return PricingFacts(kind="result_delivery", channel="online_public_service",
                        agency_code="AG-LINHTRUNG", origin=AreaRef("26794", None, "79"),
                        destination=AreaRef("26740", None, "79"), weight_g=100,
                        payment_method="online")


def promotions_applied(engine, instant: datetime) -> list[str]:
    with Session(engine) as session:
        book = service.load_book(session)
    return price_order(online_order_facts(), instant, book).to_dict()["promotion_codes"]


def test_an_admin_closes_the_covid_promotion_in_two_clicks(console_world, committed_engine,
                                                           laptop):
    with Session(committed_engine) as session:
        service.load_demo_billing(session, datetime.now(timezone.utc))
        session.commit()
    url = console_world["url"]
    console_sign_in(laptop, url, "quantri")
    laptop.click("header nav >> text=Quản trị")
    laptop.click("text=Khuyến mãi")
    row = laptop.locator(f"#promotion-{COVID}")
    assert "không thời hạn" in row.inner_text()

    row.locator("text=Kết thúc khuyến mãi").click()  # click 1
    laptop.wait_for_url(f"**/console/admin/promotions/{COVID}/end")
    shown = laptop.locator("#ends-at").inner_text()
    assert shown.endswith("(giờ Việt Nam, UTC+7)")
    ends_at = datetime.fromisoformat(
        laptop.locator("input[name=valid_until]").get_attribute("value"))
    assert shown == ends_at.astimezone(ICT).strftime("%H:%M:%S %d/%m/%Y") + \
        " (giờ Việt Nam, UTC+7)"
    screenshot(laptop, "console-admin-close-promotion-confirm.png")

    laptop.click("button:has-text('Xác nhận')")  # click 2
    laptop.wait_for_url("**/console/admin/promotions")
    row = laptop.locator(f"#promotion-{COVID}")
    assert shown in row.locator("td.ends").inner_text()
    assert "không thời hạn" not in row.inner_text()
    assert f"Khuyến mãi {COVID} kết thúc lúc {shown}" in laptop.locator(".note").inner_text()
    screenshot(laptop, "console-admin-close-promotion-done.png")

    with Session(committed_engine) as session:
        assert session.get(PromotionRecord, COVID).valid_until == ends_at
    assert promotions_applied(committed_engine, ends_at - timedelta(seconds=1)) == [COVID]
    assert promotions_applied(committed_engine, ends_at) == []
