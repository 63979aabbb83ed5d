"""Intake prices every placed order, keeps the snapshot, and honours quotes exactly."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from postal_svc.billing import service
from postal_svc.directory.service import update_agency
from tests.billing_support import tariff_document
from tests.conftest import assert_api_error, order_body

ORDERS = "/api/v1/orders"
QUOTES = "/api/v1/quotes"
COVID = "COVID19-ONLINE-20"
# Linh Trung's desk and a citizen in the same 2025 ward (Linh Xuân, 26794).
AGENCY_ADDRESS = "Đường số 9, P. Linh Trung, TP. Thủ Đức, TP.HCM"


@pytest.fixture
def billing(db_session: Session, reference_data, now) -> None:
    service.load_demo_billing(db_session, now)
    update_agency(db_session, "AG-LINHTRUNG", {"address_text": AGENCY_ADDRESS}, now=now)
    db_session.commit()


def create(client, headers, **overrides):
    response = client.post(ORDERS, json=order_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_online_order_is_priced_at_intake_with_the_open_ended_covid_discount(
        client, auth, billing):
    # 2025-07-01 tariff, same ward: 26,000 for 100 g + one 100 g step of 1,500 = 27,500;
    # the 20% online promotion (open-ended since 2020-02-15) takes 5,500 off.
    order = create(client, auth["agency"])
    price = order["price"]
    assert price["status"] == "priced"
    assert [(line["code"], line["amount"]) for line in price["lines"]] == [
        ("postage", 27_500), ("promotion", -5_500)]
    assert (price["total"], price["amount_due"], price["procedure_fee"]) == (22_000, 22_000, 0)
    assert (price["tariff_version"], price["zone"]) == ("HCM-BCCI-2025-07", "intra_ward")
    assert price["promotion_codes"] == [COVID]
    assert price["vat_rate"] == "8%"  # Decree 174/2025: 8% until 2026-12-31
    assert sum(line["vat"] for line in price["lines"]) == price["vat_included"]


def test_a_counter_order_pays_the_full_tariff(client, auth, billing):
    order = create(client, auth["agency"], channel="counter")
    assert (order["price"]["total"], order["price"]["promotion_codes"]) == (27_500, [])


def test_a_stored_price_never_changes_when_the_promotion_is_closed_later(
        client, auth, billing, db_session, now):
    order = create(client, auth["agency"])
    service.update_promotion(db_session, COVID, {"valid_until": (now + timedelta(seconds=1)).isoformat()},
                             actor=service.Actor(client_id=None, name="test"), now=now)
    db_session.commit()
    again = client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()
    assert again["price"] == order["price"]


def test_an_order_naming_its_quote_gets_exactly_the_quoted_price_once(client, auth, billing):
    quote = client.post(QUOTES, json={
        "kind": "result_delivery", "channel": "online_public_service",
        "agency_code": "AG-LINHTRUNG",
        "citizen": {"address": order_body()["citizen"]["address"]},
        "parcel": {"weight_grams": 150}, "payer": "citizen", "payment_method": "online",
        "registered_at": "2020-03-02T09:30:00+07:00"}, headers=auth["agency"])
    assert quote.status_code == 201, quote.get_json()
    quoted = quote.get_json()
    # Quoted for 2020 (the 2020 tariff); the order, registered now, still gets that price.
    order = create(client, auth["agency"], quote_id=quoted["id"])
    assert {k: v for k, v in order["price"].items() if k != "status"} == quoted["price"]
    second = client.post(ORDERS, json=order_body(quote_id=quoted["id"]), headers=auth["agency"])
    assert_api_error(second, 422, "quote_used")


def test_an_order_whose_facts_differ_from_the_quote_is_refused(client, auth, billing):
    quote = client.post(QUOTES, json={
        "kind": "result_delivery", "channel": "online_public_service",
        "agency_code": "AG-LINHTRUNG",
        "citizen": {"address": order_body()["citizen"]["address"]},
        "parcel": {"weight_grams": 150}, "payer": "citizen", "payment_method": "online"},
        headers=auth["agency"]).get_json()
    response = client.post(ORDERS, json=order_body(quote_id=quote["id"],
                                                   parcel={"weight_grams": 900}),
                           headers=auth["agency"])
    assert_api_error(response, 422, "quote_mismatch")


def test_an_unplaced_order_is_priced_when_a_dispatcher_fixes_its_address(client, auth, billing):
    order = create(client, auth["agency"], citizen={
        "name": "Nguyễn Văn An", "phone": "0903123456",
        "address_text": "Hẻm sau chợ, gần cây xăng cũ"})
    assert order["price"]["status"] == "pending"
    fixed = client.patch(f"{ORDERS}/{order['id']}/address", json={"ward_code": "26794"},
                         headers=auth["dispatcher"])
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["price"]["total"] == 22_000


def test_an_exempt_beneficiary_pays_no_postage(client, auth, billing):
    order = create(client, auth["agency"], beneficiary_category="heroic_mother")
    assert order["price"]["total"] == 0
    assert [line["code"] for line in order["price"]["lines"]][:2] == ["postage", "exemption"]


def test_an_order_priced_with_a_book_gone_stale_is_repriced_before_it_is_stored(
        client, auth, billing):
    create(client, auth["agency"])  # this process now knows the current tariff book
    soon = datetime.now(timezone.utc) + timedelta(seconds=60)
    created = client.post("/api/v1/promotions", json={
        "code": "EXTRA-1K", "kind": "amount_off", "value": 1_000, "stackable": True,
        "valid_from": soon.isoformat()}, headers=auth["admin"])
    assert created.status_code == 201, created.get_json()
    # Registered two minutes ahead (within the tolerated clock skew): the new promotion applies.
    order = create(client, auth["agency"],
                   registered_at=(soon + timedelta(seconds=60)).isoformat())
    assert order["price"]["promotion_codes"] == [COVID, "EXTRA-1K"]
    assert order["price"]["total"] == 21_000
    stored = client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()
    assert stored["price"] == order["price"]


def test_an_order_the_fresh_book_refuses_is_refused_and_nothing_is_written(
        client, auth, billing):
    # The process priced with a book gone stale; the fresh one (a tariff version taking
    # effect in a minute, accepting items up to 120 g only) refuses the 150 g item.
    create(client, auth["agency"])  # this process now knows the current tariff book
    soon = datetime.now(timezone.utc) + timedelta(seconds=60)
    light = tariff_document("HCM-LIGHT", soon, max_weight_g=120)
    published = client.post("/api/v1/tariffs", json=light, headers=auth["admin"])
    assert published.status_code == 201, published.get_json()
    body = order_body(registered_at=(soon + timedelta(seconds=60)).isoformat(),
                      parcel={"weight_grams": 150, "pieces": 1})
    response = client.post(ORDERS, json=body, headers=auth["agency"])
    assert_api_error(response, 422, "weight_out_of_range")
    listed = client.get(f"{ORDERS}?dossier_code={body['dossier_code']}",
                        headers=auth["agency"]).get_json()
    assert listed["data"] == []


def test_a_refusal_from_a_stale_book_is_checked_against_the_current_one(client, auth, billing):
    # The process last learnt a book in which a 120 g limit applies from `soon`; since then a
    # later version (from `soon` + 30 s) raised the limit again. The stale book's refusal of
    # a 150 g item must not stand: the tariff in force at registration accepts it.
    soon = datetime.now(timezone.utc) + timedelta(seconds=60)
    light = tariff_document("HCM-LIGHT", soon, max_weight_g=120)
    assert client.post("/api/v1/tariffs", json=light, headers=auth["admin"]).status_code == 201
    body = order_body(registered_at=(soon + timedelta(seconds=60)).isoformat(),
                      parcel={"weight_grams": 150, "pieces": 1})
    assert_api_error(client.post(ORDERS, json=body, headers=auth["agency"]), 422,
                     "weight_out_of_range")  # the process now knows the light book
    heavy = tariff_document("HCM-AGAIN", soon + timedelta(seconds=30))
    assert client.post("/api/v1/tariffs", json=heavy, headers=auth["admin"]).status_code == 201
    accepted = client.post(ORDERS, json=body, headers=auth["agency"])
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["price"]["tariff_version"] == "HCM-AGAIN"
