"""The console's Cash page: each courier's end-of-day cash, from the cash-reports use case."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.api.journeys import create_order, record, saigon_citizen
from tests.payments_support import set_price

ICT = timezone(timedelta(hours=7))
CASH = "/console/cash"


def delivered(client, agency, courier, db_session, *, amount: int, method: str = "cash_on_delivery",
              **body) -> dict:
    """An order walked by ``courier`` from collection to delivery now, priced ``amount``."""
    order = create_order(client, agency, payment_method=method, **body)
    set_price(db_session, order["id"], amount)
    for step in ("collected", "at_post_office", "out_for_delivery"):
        record(client, courier, order["id"], step)
    record(client, courier, order["id"], "delivered",
           recipient={"name": "Nguyễn Văn An", "relationship": "self"})
    return order


@pytest.fixture
def day(client, auth, db_session, make_key):
    """Today: Minh delivers two COD orders for Thủ Đức, Bình one and one paid online; a courier
    of Sài Gòn delivers one COD order there."""
    def courier(name: str, office: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_key('courier', [office], name=name)}"}
    minh, binh = courier("Bưu tá Minh", "PO-THUDUC"), courier("Bưu tá Bình", "PO-THUDUC")
    saigon = courier("Bưu tá Sài Gòn", "PO-SAIGON")
    return {
        "minh": [delivered(client, auth["agency"], minh, db_session, amount=20_800),
                 delivered(client, auth["agency"], minh, db_session, amount=34_000)],
        "binh": [delivered(client, auth["agency"], binh, db_session, amount=26_000),
                 delivered(client, auth["agency"], binh, db_session, amount=30_000,
                           method="online")],
        "saigon": [delivered(client, auth["other_agency"], saigon, db_session, amount=99_000,
                             agency_code="AG-BENNGHE", citizen=saigon_citizen())],
    }


def today() -> str:
    return datetime.now(ICT).date().isoformat()


def test_the_cash_page_shows_each_couriers_orders_and_cash_and_the_total(signed_in, day):
    page = signed_in().get(CASH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = html.split('id="cash-couriers"')[1]
    assert "Bưu tá Minh" in rows and "54.800 đ" in rows
    assert "Bưu tá Bình" in rows and "26.000 đ" in rows
    assert '<span class="n" id="total-orders">3</span>' in html
    assert '<span class="n" id="total-cash">80.800 đ</span>' in html
    for order in day["minh"] + day["binh"][:1]:
        assert order["tracking_number"] in rows
    assert day["binh"][1]["tracking_number"] not in rows  # paid online: no cash
    assert f'value="{today()}"' in html


def test_a_dispatcher_sees_only_their_offices_cash(signed_in, day):
    thu_duc = signed_in()
    html = thu_duc.get(CASH).get_data(as_text=True)
    assert "PO-SAIGON" not in html and day["saigon"][0]["tracking_number"] not in html
    assert thu_duc.get(f"{CASH}?post_office_code=PO-SAIGON").status_code == 404
    assert thu_duc.get(f"{CASH}.csv?post_office_code=PO-SAIGON").status_code == 404
    saigon = signed_in(offices=("PO-SAIGON",)).get(CASH).get_data(as_text=True)
    assert day["saigon"][0]["tracking_number"] in saigon and "99.000 đ" in saigon
    assert day["minh"][0]["tracking_number"] not in saigon


def test_an_admin_reads_any_offices_cash(signed_in, day):
    admin = signed_in("admin")
    html = admin.get(f"{CASH}?post_office_code=PO-SAIGON").get_data(as_text=True)
    assert day["saigon"][0]["tracking_number"] in html
    assert 'value="PO-THUDUC"' in html and 'value="PO-SAIGON" selected' in html


def test_another_day_has_its_own_cash(signed_in, day):
    yesterday = (datetime.now(ICT) - timedelta(days=1)).date().isoformat()
    html = signed_in().get(f"{CASH}?date={yesterday}").get_data(as_text=True)
    assert "Không có đơn thu hộ nào được giao trong ngày này." in html
    assert '<span class="n" id="total-orders">0</span>' in html


def test_the_csv_is_the_same_as_the_apis(signed_in, day, client, auth):
    console = signed_in().get(f"{CASH}.csv?post_office_code=PO-THUDUC&date={today()}")
    api = client.get("/api/v1/cash-reports.csv", headers=auth["dispatcher"],
                     query_string={"post_office_code": "PO-THUDUC", "date": today()})
    assert console.status_code == api.status_code == 200
    assert console.mimetype == "text/csv"
    assert console.data == api.data
    assert console.headers["Content-Disposition"] == api.headers["Content-Disposition"]
    assert console.data.decode("utf-8-sig").splitlines()[-1] == "total,,,,,,3,80800"


@pytest.mark.parametrize("query", ["date=2025-02-30", "date=yesterday", "date=1999-12-31",
                                   "date=2025-03-02%00"])
def test_a_bad_date_is_answered_with_the_reason(signed_in, day, query):
    browser = signed_in()
    page = browser.get(f"{CASH}?{query}")
    assert page.status_code == 422
    assert "Ngày phải có dạng YYYY-MM-DD" in page.get_data(as_text=True)
    assert browser.get(f"{CASH}.csv?{query}").status_code == 422


@pytest.mark.parametrize("office", ["PO-NOWHERE", "PO-THUDUC%00", "x" * 40])
def test_an_unknown_office_is_not_found(signed_in, day, office):
    browser = signed_in("admin")
    assert browser.get(f"{CASH}?post_office_code={office}").status_code == 404
    assert browser.get(f"{CASH}.csv?post_office_code={office}").status_code == 404


def test_the_cash_page_asks_a_stranger_to_sign_in(console, reference_data):
    for path in (CASH, f"{CASH}.csv"):
        answer = console.get(path)
        assert answer.status_code == 303 and "/console/login" in answer.headers["Location"]
