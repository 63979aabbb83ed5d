"""The reports page in real Chromium: five SVG charts drawn by the server, and a CSV download."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from postal_svc.billing import service as billing
from postal_svc.directory.service import update_agency
from tests.api.journeys import TO_OUT_FOR_DELIVERY, create_order, record, walk
from tests.browser.conftest import console_sign_in, screenshot

pytestmark = pytest.mark.browser

DELIVERED = {"recipient": {"name": "Nguyễn Văn An", "relationship": "self"}}
FAILED = {"failure_reason": "recipient_not_home"}


def a_day_of_orders(world: dict[str, Any]) -> None:
    """Priced orders this month through the API: three online, one at the counter; two
    delivered at the first attempt and one at the second."""
    now = datetime.now(timezone.utc)
    with Session(world["engine"]) as session:
        billing.load_demo_billing(session, now)
        update_agency(session, "AG-LINHTRUNG",
                      {"address_text": "Đường số 9, P. Linh Trung, TP. Thủ Đức, TP.HCM"},
                      now=now)
        session.commit()
        billing.current_book(session)  # see tests/console/test_reports.py on the stale book
    api, headers = world["api"], world["headers"]
    ids = [create_order(api, headers["agency_system"])["id"] for _ in range(3)]
    create_order(api, headers["agency_system"], channel="counter")
    for order_id in ids:
        walk(api, headers["courier"], order_id, *TO_OUT_FOR_DELIVERY)
    record(api, headers["courier"], ids[0], "delivered", **DELIVERED)
    record(api, headers["courier"], ids[1], "delivered", **DELIVERED)
    record(api, headers["courier"], ids[2], "delivery_failed", **FAILED)
    record(api, headers["courier"], ids[2], "out_for_delivery")
    record(api, headers["courier"], ids[2], "delivered", **DELIVERED)


def test_a_dispatcher_reads_the_charts_and_downloads_a_csv(console_world, committed_engine,
                                                           laptop):
    a_day_of_orders({**console_world, "engine": committed_engine})
    url = console_world["url"]
    console_sign_in(laptop, url, "dieuphoi")
    laptop.click("header nav >> text=Báo cáo")
    laptop.wait_for_url("**/console/reports")
    assert laptop.locator("h1").inner_text() == "Báo cáo"
    charts = laptop.locator("svg.chart[role=img]")
    assert charts.count() == 5
    for index in range(5):
        assert charts.nth(index).is_visible()
        assert charts.nth(index).bounding_box()["width"] > 600  # drawn across a laptop
    # The stacked bar of today holds four orders; the first-attempt line has points.
    assert laptop.locator("svg[data-chart=orders-by-channel] rect").count() >= 2
    assert laptop.locator("svg[data-chart=first-attempt-success] circle").count() >= 1
    assert "COVID19-ONLINE-20" in laptop.locator("#revenue-by-promotion").inner_text()
    screenshot(laptop, "console-reports.png")

    with laptop.expect_download() as download_info:
        laptop.click("a[data-csv=orders-by-channel]")
    download = download_info.value
    assert download.suggested_filename.startswith("orders-by-channel-")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert sum(int(row["total"]) for row in rows) == 4
    assert sum(int(row["online_public_service"]) for row in rows) == 3

    with laptop.expect_download() as download_info:
        laptop.click("a[data-csv=first-attempt-success]")
    rows = list(csv.DictReader(io.StringIO(open(download_info.value.path(),
                                                encoding="utf-8-sig").read())))
    assert sum(int(row["ended"]) for row in rows) == 3
    assert sum(int(row["first_attempt"]) for row in rows) == 2

    # The table under a chart holds the same numbers; the page also reads in English.
    laptop.click("#orders-by-channel summary")
    assert laptop.locator("table[data-table=orders-by-channel]").is_visible()
    laptop.goto(f"{url}/console/reports?lang=en&by=week")
    assert laptop.locator("svg.chart").count() == 5
    assert 'lang="en"' in laptop.content()
