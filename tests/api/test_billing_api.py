"""Billing through the API: quotes, tariffs, promotions, VAT rates, the audit trail, statements."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from postal_svc.billing import service
from postal_svc.billing.codec import encode_tariff_version
from postal_svc.billing.demo_tariffs import hcmc_2020_tariff
from postal_svc.billing.models import BillingAuditEntry, PromotionRecord, Quote, TariffVersionRecord
from postal_svc.billing.tax import default_vat_rates
from postal_svc.directory.service import update_agency
from postal_svc.shipments.models import Order
from tests.billing_support import make_order
from tests.conftest import assert_api_error

ICT = timezone(timedelta(hours=7))
UTC = timezone.utc
QUOTES = "/api/v1/quotes"
COVID = "COVID19-ONLINE-20"
# The agency's desk and a citizen in the same old district (Thủ Đức), written in old units.
AGENCY_ADDRESS = "12 Đường số 9, Phường Linh Trung, Thành phố Thủ Đức, Thành phố Hồ Chí Minh"
CITIZEN_ADDRESS = "5 Lê Văn Chí, Phường Linh Chiểu, Thành phố Thủ Đức, Thành phố Hồ Chí Minh"


@pytest.fixture
def billing(db_session: Session, reference_data, now) -> None:
    """The demo billing data, and AG-LINHTRUNG's desk placed in its ward."""
    service.load_demo_billing(db_session, now)
    update_agency(db_session, "AG-LINHTRUNG", {"address_text": AGENCY_ADDRESS}, now=now)
    db_session.commit()


def quote_body(**overrides) -> dict:
    body = {"kind": "result_delivery", "channel": "online_public_service",
            "agency_code": "AG-LINHTRUNG", "citizen": {"address_text": CITIZEN_ADDRESS},
            "parcel": {"weight_grams": 100}, "payer": "citizen", "payment_method": "online"}
    body.update(overrides)
    return body


def quote(client, headers, **overrides) -> dict:
    response = client.post(QUOTES, json=quote_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def future(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


# -- quotes ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("registered_at", "total"), [
    ("2020-02-14T23:59:59+07:00", 26_000),
    ("2020-02-15T00:00:00+07:00", 20_800),
    ("2020-02-14T16:59:59Z", 26_000),
    ("2020-02-14T17:00:00Z", 20_800),
])
def test_a_quote_at_either_side_of_the_covid_promotion_start_in_any_offset(
        client, auth, billing, registered_at, total):
    body = quote(client, auth["agency"], registered_at=registered_at)
    assert body["price"]["total"] == total
    assert body["price"]["zone"] == "intra_district"
    assert body["price"]["tariff_version"] == "HCM-BCCI-2020"
    assert body["price"]["promotion_codes"] == ([COVID] if total == 20_800 else [])


def test_a_quote_answers_the_price_object_with_integer_money_and_a_30_minute_validity(
        client, auth, billing):
    body = quote(client, auth["dispatcher"], registered_at="2020-03-02T09:30:00+07:00",
                 fee_forwarding={"amount": 50_000})
    assert body["id"].startswith("quo_")
    created = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires - created == timedelta(minutes=30)
    price = body["price"]
    assert [(line["code"], line["amount"]) for line in price["lines"]] == [
        ("postage", 26_000), ("promotion", -5_200), ("fee_forwarding", 8_000)]
    assert (price["total"], price["procedure_fee"], price["amount_due"]) == (
        28_800, 50_000, 78_800)
    assert (price["vat_rate"], price["currency"], price["priced_at"]) == (
        "10%", "VND", "2020-03-02T02:30:00Z")
    assert all(type(price[key]) is int for key in ("total", "vat_included", "amount_due"))


def test_the_counter_channel_gets_no_online_discount(client, auth, billing):
    body = quote(client, auth["agency"], channel="counter",
                 registered_at="2020-03-02T09:30:00+07:00")
    assert (body["price"]["total"], body["price"]["promotion_codes"]) == (26_000, [])


@pytest.mark.parametrize(("registered_at", "rate"), [
    ("2022-01-31T23:59:59+07:00", "10%"), ("2022-02-01T00:00:00+07:00", "8%"),
    ("2022-12-31T23:59:59+07:00", "8%"), ("2023-01-01T00:00:00+07:00", "10%"),
])
def test_a_quote_carries_the_vat_rate_of_its_vietnam_registration_date(
        client, auth, billing, registered_at, rate):
    assert quote(client, auth["agency"], registered_at=registered_at)["price"]["vat_rate"] == rate


def test_a_quote_without_registered_at_is_priced_now_on_the_new_units(client, auth, billing):
    body = quote(client, auth["agency"])
    # Since 2025-07-01 zones are by ward: Linh Xuân and Thủ Đức wards are different wards.
    assert (body["price"]["tariff_version"], body["price"]["zone"]) == (
        "HCM-BCCI-2025-07", "intra_province")


def test_a_quote_for_a_future_registration_is_422_and_writes_nothing(client, auth, billing,
                                                                     count_rows):
    response = client.post(QUOTES, json=quote_body(registered_at=future(hours=1)),
                           headers=auth["agency"])
    body = assert_api_error(response, 422, "invalid_quote")
    assert "registered_at" in body["errors"]
    assert count_rows(Quote) == 0


def test_an_address_that_cannot_be_placed_in_a_ward_is_422_address_unresolved(
        client, auth, billing, count_rows):
    response = client.post(QUOTES, json=quote_body(citizen={"address_text": "zzz qqq xxx"}),
                           headers=auth["agency"])
    assert_api_error(response, 422, "address_unresolved")
    assert count_rows(Quote) == 0


def test_an_agency_without_a_known_desk_needs_an_origin_address(client, auth, billing):
    no_desk = quote_body(agency_code="AG-TRUONGTHANH", registered_at="2020-03-02T09:30:00+07:00")
    body = assert_api_error(client.post(QUOTES, json=no_desk, headers=auth["agency"]), 422,
                            "address_unresolved")
    assert "origin" in body["errors"]
    priced = quote(client, auth["agency"], agency_code="AG-TRUONGTHANH",
                   registered_at="2020-03-02T09:30:00+07:00",
                   origin={"address_text": AGENCY_ADDRESS})
    assert priced["price"]["total"] == 20_800


def test_an_agency_system_quotes_only_for_its_own_agencies(client, auth, billing):
    response = client.post(QUOTES, json=quote_body(), headers=auth["other_agency"])
    assert_api_error(response, 422, "unknown_agency")
    assert client.post(QUOTES, json=quote_body(), headers=auth["courier"]).status_code == 403


def test_a_payment_method_unfit_for_the_payer_is_422(client, auth, billing):
    response = client.post(QUOTES, json=quote_body(payer="agency", payment_method="online"),
                           headers=auth["agency"])
    assert "payment_method" in assert_api_error(response, 422)["errors"]


@pytest.mark.parametrize("bad", [
    {"parcel": {"weight_grams": 0}}, {"kind": "parcel"}, {"registered_at": "2020-02-15"},
    {"citizen": {"address_text": "x", "address": {"line": "y"}}}, {"unknown": 1},
    {"fee_forwarding": {"amount": 1.5}},
])
def test_malformed_quote_requests_are_422_in_the_error_shape(client, auth, billing, bad):
    assert_api_error(client.post(QUOTES, json=quote_body(**bad), headers=auth["agency"]), 422)


def test_a_retried_quote_with_the_same_idempotency_key_replays_the_same_quote(
        client, auth, billing, count_rows):
    headers = {**auth["agency"], "Idempotency-Key": "quote-1"}
    body = quote_body(registered_at="2020-03-02T09:30:00+07:00")
    first = client.post(QUOTES, json=body, headers=headers)
    again = client.post(QUOTES, json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count_rows(Quote) == 1


# -- promotions ------------------------------------------------------------------------------

def test_closing_the_promotion_in_the_future_keeps_earlier_prices_and_snapshots(
        client, auth, billing, db_session):
    earlier = quote(client, auth["agency"], registered_at="2020-03-02T09:30:00+07:00")
    order = make_order(db_session, price=earlier["price"], agency_code="AG-LINHTRUNG",
                       registered_at=datetime(2020, 3, 2, 2, 30, tzinfo=UTC))
    db_session.commit()
    closes_at = future(hours=1)
    response = client.patch(f"/api/v1/promotions/{COVID}", json={"valid_until": closes_at},
                            headers=auth["admin"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["valid_until"] == datetime.fromisoformat(closes_at).astimezone(UTC) \
        .isoformat().replace("+00:00", "Z")
    assert body["state"] == "active"
    assert quote(client, auth["agency"], registered_at="2020-03-02T09:30:00+07:00")["price"] == \
        earlier["price"]
    stored = client.get(f"/api/v1/orders/{order.public_id}", headers=auth["admin"]).get_json()
    assert stored["price"]["total"] == 20_800
    assert {k: v for k, v in stored["price"].items() if k != "status"} == earlier["price"]


def test_a_valid_until_in_the_past_is_422_and_changes_nothing(client, auth, billing, db_session):
    response = client.patch(f"/api/v1/promotions/{COVID}",
                            json={"valid_until": future(minutes=-1)}, headers=auth["admin"])
    body = assert_api_error(response, 422, "retroactive_change")
    assert "valid_until" in body["errors"]
    db_session.expire_all()
    assert db_session.get(PromotionRecord, COVID).valid_until is None


def test_changing_the_percentage_of_a_running_promotion_is_422(client, auth, billing):
    response = client.patch(f"/api/v1/promotions/{COVID}", json={"value": "30"},
                            headers=auth["admin"])
    assert_api_error(response, 422, "retroactive_change")


def test_a_promotion_is_created_read_and_listed(client, auth, billing):
    document = {"code": "HOTLINE-5K", "kind": "amount_off", "value": 5_000,
                "valid_from": future(days=1), "eligibility": {"channels": ["hotline"]},
                "description": "Giảm 5.000 đ qua tổng đài"}
    created = client.post("/api/v1/promotions", json=document, headers=auth["admin"])
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["state"] == "scheduled"
    assert client.get("/api/v1/promotions/HOTLINE-5K",
                      headers=auth["dispatcher"]).get_json()["value"] == 5_000
    listed = client.get("/api/v1/promotions", headers=auth["admin"]).get_json()
    assert [p["code"] for p in listed["data"]] == [COVID, "HOTLINE-5K"]
    assert listed["next_cursor"] is None
    again = client.post("/api/v1/promotions", json=document, headers=auth["admin"])
    assert_api_error(again, 409, "promotion_exists")
    assert_api_error(client.get("/api/v1/promotions/NOPE", headers=auth["admin"]), 404,
                     "promotion_not_found")


def test_a_promotion_starting_in_the_past_is_422(client, auth, billing):
    response = client.post("/api/v1/promotions", json={
        "code": "BACKDATED", "kind": "percent_off", "value": "50",
        "valid_from": "2020-01-01T00:00:00+07:00"}, headers=auth["admin"])
    assert_api_error(response, 422, "retroactive_change")


# -- tariffs and tax rates -------------------------------------------------------------------

def tariff_document(**overrides) -> dict:
    document = {**encode_tariff_version(hcmc_2020_tariff()), "code": "HCM-NEXT",
                "effective_from": future(days=30)}
    document.update(overrides)
    return document


def test_an_admin_publishes_a_future_tariff_version_and_anyone_on_staff_reads_it(
        client, auth, billing, count_rows):
    response = client.post("/api/v1/tariffs", json=tariff_document(), headers=auth["admin"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"] == "HCM-NEXT" and body["effective_from"].endswith("Z")
    assert body["zones"][0]["base_price_vnd"] == 26_000
    read = client.get("/api/v1/tariffs/HCM-NEXT", headers=auth["dispatcher"])
    assert read.status_code == 200 and read.get_json()["zones"] == body["zones"]
    listed = client.get("/api/v1/tariffs?limit=2", headers=auth["admin"]).get_json()
    assert [t["code"] for t in listed["data"]] == ["HCM-BCCI-2020", "HCM-BCCI-2025-07"]
    rest = client.get(f"/api/v1/tariffs?cursor={listed['next_cursor']}",
                      headers=auth["admin"]).get_json()
    assert [t["code"] for t in rest["data"]] == ["HCM-NEXT"]
    assert count_rows(TariffVersionRecord) == 3


def test_a_tariff_version_in_the_past_or_inconsistent_is_422_and_a_duplicate_409(
        client, auth, billing, count_rows):
    past = client.post("/api/v1/tariffs", json=tariff_document(
        effective_from="2021-01-01T00:00:00+07:00"), headers=auth["admin"])
    assert_api_error(past, 422, "retroactive_change")
    broken = tariff_document()
    broken["zones"][0]["base_price_vnd"] = "26000"
    body = assert_api_error(client.post("/api/v1/tariffs", json=broken, headers=auth["admin"]),
                            422, "invalid_tariff")
    assert body["errors"] == {"zones.0.base_price_vnd": ["must be a whole number"]}
    assert_api_error(client.post("/api/v1/tariffs", json=tariff_document(code="HCM-BCCI-2020"),
                                 headers=auth["admin"]), 409, "tariff_version_exists")
    assert_api_error(client.post("/api/v1/tariffs", json={**tariff_document(), "typo": 1},
                                 headers=auth["admin"]), 422)
    assert count_rows(TariffVersionRecord) == 2
    assert_api_error(client.get("/api/v1/tariffs/NOPE", headers=auth["admin"]), 404,
                     "tariff_version_not_found")


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/tariffs", {"description": "nul \u0000 inside"}),
    ("/api/v1/tariffs", {"base_weight_g": 10**20}),
    ("/api/v1/promotions", {"code": "P", "kind": "amount_off", "value": 10**25,
                            "valid_from": "2099-01-01T00:00:00Z"}),
    ("/api/v1/promotions", {"code": "P", "kind": "percent_off", "value": "10",
                            "valid_from": "2099-01-01T00:00:00Z", "priority": 2**40}),
    ("/api/v1/tax-rates", {"category": "standard", "rate": "1E-15", "valid_from": "2099-01-01",
                           "legal_basis": "x"}),
    ("/api/v1/tax-rates", {"category": "standard", "rate": "0.05", "valid_from": "2099-01-01",
                           "legal_basis": "x" * 301}),
])
def test_values_no_column_could_hold_are_422_never_500(client, auth, billing, path, body,
                                                       count_rows):
    if path == "/api/v1/tariffs":
        body = tariff_document(**body)
    assert_api_error(client.post(path, json=body, headers=auth["admin"]), 422)
    # Only the demo data's rows: two tariff versions, one promotion, the VAT table.
    assert count_rows(BillingAuditEntry) == 3 + len(default_vat_rates())


def test_the_vat_table_is_listed_and_a_future_row_is_added(client, auth, billing):
    table = client.get("/api/v1/tax-rates?category=standard&limit=500",
                       headers=auth["dispatcher"]).get_json()["data"]
    reduced = [row for row in table if row["rate"] == "0.08"]
    assert reduced[0] == {**reduced[0], "valid_from": "2022-02-01", "valid_until": "2023-01-01",
                          "rate_percent": "8%"}
    last = max(table, key=lambda row: row["valid_from"])
    assert (last["rate"], last["valid_until"]) == ("0.1", None)
    new_from = "2031-01-01"
    response = client.post("/api/v1/tax-rates", json={
        "category": "standard", "rate": "0.09", "valid_from": new_from,
        "legal_basis": "Nghị định giả định"}, headers=auth["admin"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["rate_percent"] == "9%"
    table = client.get("/api/v1/tax-rates?category=standard&limit=500",
                       headers=auth["admin"]).get_json()["data"]
    assert [row["valid_until"] for row in table if row["valid_from"] == last["valid_from"]] == [
        new_from]
    past = client.post("/api/v1/tax-rates", json={"category": "standard", "rate": "0.05",
                                                  "valid_from": "2020-01-01", "legal_basis": "x"},
                       headers=auth["admin"])
    assert_api_error(past, 422, "retroactive_change")


@pytest.mark.parametrize("role", ["agency", "dispatcher", "courier"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/tariffs", {"code": "X"}),
    ("post", "/api/v1/promotions", {"code": "X"}),
    ("patch", f"/api/v1/promotions/{COVID}", {"valid_until": None}),
    ("post", "/api/v1/tax-rates", {"category": "standard"}),
])
def test_only_admins_change_billing_data(client, auth, billing, role, method, path, body):
    response = getattr(client, method)(path, json=body, headers=auth[role])
    assert_api_error(response, 403)


@pytest.mark.parametrize("role", ["agency", "courier"])
def test_agency_systems_and_couriers_do_not_read_billing_administration(client, auth, billing,
                                                                         role):
    for path in ("/api/v1/tariffs", "/api/v1/promotions", "/api/v1/tax-rates",
                 "/api/v1/billing-audit"):
        assert_api_error(client.get(path, headers=auth[role]), 403)


def test_every_admin_change_is_in_the_audit_trail_with_before_and_after(client, auth, billing,
                                                                        count_rows):
    closes_at = future(days=2)
    assert client.patch(f"/api/v1/promotions/{COVID}", json={"valid_until": closes_at},
                        headers=auth["admin"]).status_code == 200
    trail = client.get(f"/api/v1/billing-audit?entity=promotion&entity_key={COVID}",
                       headers=auth["admin"]).get_json()["data"]
    latest = trail[0]
    assert (latest["action"], latest["actor"]) == ("update", "test client")
    assert latest["actor_client_id"] is not None
    assert latest["before"]["valid_until"] is None and latest["after"]["valid_until"]
    assert trail[-1]["action"] == "create" and trail[-1]["actor"] == "demo"
    assert_api_error(client.get("/api/v1/billing-audit", headers=auth["dispatcher"]), 403)
    assert count_rows(BillingAuditEntry) >= 2


# -- statements ------------------------------------------------------------------------------

@pytest.fixture
def march_orders(client, auth, billing, db_session):
    """Agency-paid orders of AG-LINHTRUNG around March 2020 (Vietnam time), with snapshots."""
    def priced(registered_at: str, **overrides) -> dict:
        return quote(client, auth["admin"], registered_at=registered_at, payer="agency",
                     payment_method="agency_account", **overrides)["price"]

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text)

    first_instant = "2020-03-01T00:00:00+07:00"  # 2020-02-29T17:00Z: in March in Vietnam
    inside = [
        make_order(db_session, price=priced(first_instant), registered_at=at(first_instant),
                   agency_code="AG-LINHTRUNG"),
        make_order(db_session, price=priced("2020-03-15T10:00:00+07:00",
                                            fee_forwarding={"amount": 50_000}),
                   registered_at=at("2020-03-15T10:00:00+07:00"), agency_code="AG-LINHTRUNG"),
        make_order(db_session, price=priced("2020-03-31T23:59:59+07:00", channel="counter",
                                            parcel={"weight_grams": 350}),
                   registered_at=at("2020-03-31T23:59:59+07:00"), agency_code="AG-LINHTRUNG",
                   kind="dossier_pickup"),
    ]
    unpriced = make_order(db_session, price=None, registered_at=at("2020-03-20T08:00:00+07:00"),
                          agency_code="AG-LINHTRUNG")
    outside = [
        make_order(db_session, price=priced("2020-02-29T23:59:59+07:00"),
                   registered_at=at("2020-02-29T23:59:59+07:00"), agency_code="AG-LINHTRUNG"),
        make_order(db_session, price=priced("2020-04-01T00:00:00+07:00"),
                   registered_at=at("2020-04-01T00:00:00+07:00"), agency_code="AG-LINHTRUNG"),
        make_order(db_session, price=priced("2020-03-10T10:00:00+07:00"),
                   registered_at=at("2020-03-10T10:00:00+07:00"), agency_code="AG-LINHTRUNG",
                   status="cancelled"),
        make_order(db_session, price=priced("2020-03-10T10:00:00+07:00"),
                   registered_at=at("2020-03-10T10:00:00+07:00"), agency_code="AG-LINHTRUNG",
                   payer="citizen"),
        make_order(db_session, price=priced("2020-03-10T10:00:00+07:00"),
                   registered_at=at("2020-03-10T10:00:00+07:00"), agency_code="AG-BENNGHE"),
    ]
    db_session.commit()
    return {"inside": inside, "unpriced": unpriced, "outside": outside}


STATEMENT_QUERY = "agency_code=AG-LINHTRUNG&month=2020-03"


def test_the_statement_lists_the_agency_paid_orders_of_the_vietnam_month_and_sums_their_snapshots(
        client, auth, march_orders):
    response = client.get(f"/api/v1/statements?{STATEMENT_QUERY}", headers=auth["admin"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    inside = march_orders["inside"]
    assert [line["tracking_number"] for line in body["lines"]] == [
        o.tracking_number for o in inside]
    totals = body["totals"]
    assert totals["orders"] == 3
    assert totals["total"] == sum(o.total_vnd for o in inside) == 20_800 + 28_800 + 30_500
    assert totals["vat_included"] == sum(o.price["vat_included"] for o in inside)
    assert totals["procedure_fee"] == 50_000
    assert totals["amount_due"] == sum(o.price["amount_due"] for o in inside)
    assert totals["postage"] + totals["promotion"] + totals["fee_forwarding"] == totals["total"]
    assert body["lines"][1]["price_lines"] == inside[1].price["lines"]
    assert body["lines"][2]["kind"] == "dossier_pickup"
    assert body["period"] == {"from": "2020-02-29T17:00:00Z", "to": "2020-03-31T17:00:00Z",
                              "timezone": "Asia/Ho_Chi_Minh"}
    assert [item["tracking_number"] for item in body["unpriced"]] == [
        march_orders["unpriced"].tracking_number]


def test_the_csv_statement_has_a_header_the_orders_and_a_totals_row_equal_to_the_json(
        client, auth, march_orders):
    response = client.get(f"/api/v1/statements.csv?{STATEMENT_QUERY}", headers=auth["admin"])
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, *orders, totals = rows
    assert header[:3] == ["tracking_number", "dossier_code", "registered_at"]
    assert len(orders) == 3 + 1  # three priced orders and the unpriced one
    column = header.index("total")
    priced = [row for row in orders if row[-1] != "unpriced"]
    assert sum(int(row[column]) for row in priced) == int(totals[column]) == 80_100
    json_totals = client.get(f"/api/v1/statements?{STATEMENT_QUERY}",
                             headers=auth["admin"]).get_json()["totals"]
    for name in ("postage", "promotion", "fee_forwarding", "total", "vat_included",
                 "procedure_fee", "amount_due"):
        assert int(totals[header.index(name)]) == json_totals[name], name
    assert totals[0] == "TOTAL"


def test_the_pdf_statement_is_an_a4_document_set_in_a_font_with_vietnamese_glyphs(
        client, auth, march_orders):
    response = client.get(f"/api/v1/statements.pdf?{STATEMENT_QUERY}", headers=auth["agency"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    content = response.get_data()
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [ 0 0 841.8898 595.2756 ]" in content  # A4 landscape, in points
    if "X-Statement-Font" not in response.headers:
        assert b"DejaVuSans" in content or b"NotoSans" in content


def test_an_agency_system_reads_its_own_agencies_statements_only(client, auth, march_orders):
    assert client.get(f"/api/v1/statements?{STATEMENT_QUERY}",
                      headers=auth["agency"]).status_code == 200
    for path in ("/api/v1/statements", "/api/v1/statements.csv", "/api/v1/statements.pdf"):
        response = client.get(f"{path}?{STATEMENT_QUERY}", headers=auth["other_agency"])
        assert_api_error(response, 404, "agency_not_found")
    assert_api_error(client.get("/api/v1/statements?agency_code=NOPE&month=2020-03",
                                headers=auth["admin"]), 404)
    assert_api_error(client.get(f"/api/v1/statements?{STATEMENT_QUERY}",
                                headers=auth["dispatcher"]), 403)


@pytest.mark.parametrize("query", ["agency_code=AG-LINHTRUNG&month=2020-13",
                                   "agency_code=AG-LINHTRUNG&month=03-2020",
                                   "agency_code=AG-LINHTRUNG", "month=2020-03",
                                   f"{STATEMENT_QUERY}&extra=1"])
def test_a_bad_statement_query_is_422(client, auth, billing, query):
    assert_api_error(client.get(f"/api/v1/statements?{query}", headers=auth["admin"]), 422)


def test_a_month_without_orders_has_an_empty_statement_with_zero_totals(client, auth, billing):
    body = client.get("/api/v1/statements?agency_code=AG-LINHTRUNG&month=2019-12",
                      headers=auth["admin"]).get_json()
    assert body["lines"] == [] and body["totals"]["total"] == 0 == body["totals"]["orders"]
    pdf = client.get("/api/v1/statements.pdf?agency_code=AG-LINHTRUNG&month=2019-12",
                     headers=auth["admin"])
    assert pdf.status_code == 200


def test_the_openapi_document_lists_the_billing_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/quotes", "/api/v1/tariffs", "/api/v1/tariffs/{code}",
                 "/api/v1/promotions/{code}", "/api/v1/tax-rates", "/api/v1/statements",
                 "/api/v1/statements.csv", "/api/v1/statements.pdf"):
        assert path in paths, path


def test_orders_carry_order_facts_unchanged_by_billing(db_session, billing):
    # A guard for the helpers: an order row with no snapshot stays unpriced.
    order = make_order(db_session, price=None, registered_at=datetime(2020, 3, 1, tzinfo=ICT),
                       agency_code="AG-LINHTRUNG")
    assert db_session.get(Order, order.id).total_vnd is None
