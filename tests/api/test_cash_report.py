"""The end-of-day cash report: per courier and post office, JSON and CSV, reconciling with the
cash-on-delivery orders delivered that Vietnam day."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from postal_svc.shipments.models import Order
from tests.api.journeys import create_order, record
from tests.conftest import assert_api_error
from tests.payments_support import set_price

ICT = timezone(timedelta(hours=7))
REPORTS = "/api/v1/cash-reports"
DAY = (datetime.now(ICT) - timedelta(days=2)).date()
AT = {  # Vietnam times on DAY (and the first instant of the next day)
    "morning": datetime(DAY.year, DAY.month, DAY.day, 8, 0, tzinfo=ICT),
    "delivery": datetime(DAY.year, DAY.month, DAY.day, 10, 30, tzinfo=ICT),
    "last_second": datetime(DAY.year, DAY.month, DAY.day, 23, 59, 59, tzinfo=ICT),
    "next_day": datetime(DAY.year, DAY.month, DAY.day, tzinfo=ICT) + timedelta(days=1),
}


def delivered(client, auth, db_session, courier_headers, *, amount: int, at: datetime,
              method: str = "cash_on_delivery") -> dict:
    order = create_order(client, auth["agency"], payment_method=method)
    set_price(db_session, order["id"], amount)
    db_session.execute(update(Order).where(Order.public_id == order["id"])
                       .values(created_at=AT["morning"] - timedelta(days=1)))
    db_session.commit()
    for step in ("collected", "at_post_office", "out_for_delivery"):
        record(client, courier_headers, order["id"], step,
               occurred_at=AT["morning"].isoformat())
    record(client, courier_headers, order["id"], "delivered", occurred_at=at.isoformat(),
           recipient={"name": "Nguyễn Văn An", "relationship": "self"})
    return order


@pytest.fixture
def day(client, auth, db_session, make_key):
    """Two couriers of PO-THUDUC: Minh delivers two COD orders on DAY, Bình one, plus an order
    paid online and a COD order delivered at midnight (the next day)."""
    minh = {"Authorization": f"Bearer {make_key('courier', ['PO-THUDUC'], name='Bưu tá Minh')}"}
    binh = {"Authorization": f"Bearer {make_key('courier', ['PO-THUDUC'], name='Bưu tá Bình')}"}
    orders = {
        "minh_1": delivered(client, auth, db_session, minh, amount=20_800, at=AT["delivery"]),
        "minh_2": delivered(client, auth, db_session, minh, amount=34_000,
                            at=AT["last_second"]),
        "binh_1": delivered(client, auth, db_session, binh, amount=26_000, at=AT["delivery"]),
        "online": delivered(client, auth, db_session, binh, amount=30_000, at=AT["delivery"],
                            method="online"),
        "tomorrow": delivered(client, auth, db_session, minh, amount=15_000,
                              at=AT["next_day"]),
    }
    return orders


def report(client, headers, **args):
    params = {"post_office_code": "PO-THUDUC", "date": DAY.isoformat(), **args}
    response = client.get(REPORTS, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_report_sums_each_couriers_cash_and_the_totals_equal_the_orders(client, auth, day):
    body = report(client, auth["dispatcher"])
    assert (body["date"], body["timezone"], body["currency"]) == \
        (DAY.isoformat(), "Asia/Ho_Chi_Minh", "VND")
    couriers = {c["name"]: c for c in body["couriers"]}
    assert set(couriers) == {"Bưu tá Minh", "Bưu tá Bình"}
    assert (couriers["Bưu tá Minh"]["orders"], couriers["Bưu tá Minh"]["cash_collected_vnd"]) \
        == (2, 54_800)
    assert (couriers["Bưu tá Bình"]["orders"], couriers["Bưu tá Bình"]["cash_collected_vnd"]) \
        == (1, 26_000)
    listed = {line["order_id"] for c in body["couriers"] for line in c["lines"]}
    assert listed == {day["minh_1"]["id"], day["minh_2"]["id"], day["binh_1"]["id"]}
    # The totals reconcile with the delivered cash-on-delivery orders themselves.
    collected = [client.get(f"/api/v1/orders/{day[k]['id']}",
                            headers=auth["dispatcher"]).get_json()["cash_collected"]
                 for k in ("minh_1", "minh_2", "binh_1")]
    assert body["totals"] == {"orders": 3, "cash_collected_vnd": sum(collected),
                              "orders_without_amount": 0}
    assert sum(c["cash_collected_vnd"] for c in body["couriers"]) == sum(collected) == 80_800


def test_the_day_is_a_vietnam_day(client, auth, day):
    next_day = report(client, auth["admin"], date=(DAY + timedelta(days=1)).isoformat())
    assert [line["order_id"] for c in next_day["couriers"] for line in c["lines"]] == \
        [day["tomorrow"]["id"]]
    midnight = AT["next_day"].astimezone(timezone.utc)  # 00:00 in Vietnam is 17:00Z
    assert next_day["period_start"] == midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert midnight.hour == 17


def test_the_csv_lists_orders_courier_subtotals_and_the_total(client, auth, day):
    response = client.get(REPORTS + ".csv", headers=auth["dispatcher"], query_string={
        "post_office_code": "PO-THUDUC", "date": DAY.isoformat()})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"cash-PO-THUDUC-{DAY.isoformat()}.csv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "row" and rows[0][-1] == "cash_collected_vnd"
    kinds = Counter(row[0] for row in rows[1:])
    assert kinds == {"order": 3, "courier_total": 2, "total": 1}
    assert rows[-1][0] == "total" and rows[-1][-2:] == ["3", "80800"]
    assert sum(int(r[-1]) for r in rows if r[0] == "order") == 80_800
    assert sum(int(r[-1]) for r in rows if r[0] == "courier_total") == 80_800


def test_another_office_sees_nothing_of_this_one(client, auth, day):
    assert report(client, auth["other_dispatcher"], post_office_code="PO-SAIGON")["totals"] == \
        {"orders": 0, "cash_collected_vnd": 0, "orders_without_amount": 0}
    assert_api_error(client.get(REPORTS, headers=auth["other_dispatcher"], query_string={
        "post_office_code": "PO-THUDUC", "date": DAY.isoformat()}), 404, "post_office_not_found")


@pytest.mark.parametrize("role", ["courier", "agency"])
def test_couriers_and_government_systems_may_not_read_the_report(client, auth, role):
    assert_api_error(client.get(REPORTS, headers=auth[role], query_string={
        "post_office_code": "PO-THUDUC", "date": "2020-03-02"}), 403)


@pytest.mark.parametrize("query", [
    {"post_office_code": "PO-THUDUC", "date": "02/03/2020"},
    {"post_office_code": "PO-THUDUC", "date": "2020-02-30"},
    {"post_office_code": "PO-THUDUC", "date": "1999-12-31"},
    {"post_office_code": "PO-THUDUC"},
    {"date": "2020-03-02"},
    {"post_office_code": "PO-THUDUC", "date": "2020-03-02", "courier": "x"},
])
def test_a_bad_query_is_422(client, auth, query):
    assert_api_error(client.get(REPORTS, headers=auth["dispatcher"], query_string=query), 422)
    assert_api_error(client.get(REPORTS + ".csv", headers=auth["dispatcher"],
                                query_string=query), 422)


def test_an_unknown_office_is_404(client, auth):
    assert_api_error(client.get(REPORTS, headers=auth["admin"], query_string={
        "post_office_code": "PO-NOWHERE", "date": "2020-03-02"}), 404, "post_office_not_found")
