"""Order intake through the API: create, read, list with filters and cursors, cancel, duplicates."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from postal_svc import create_app
from postal_svc.pagination import encode_cursor
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.shipments.s10 import is_valid_tracking_number
from tests.conftest import assert_api_error, order_body
from tests.conftest import test_settings as make_settings

ICT = timezone(timedelta(hours=7))
ORDERS = "/api/v1/orders"


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def create(client, headers, **overrides):
    response = client.post(ORDERS, json=order_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# -- create ---------------------------------------------------------------------------------

def test_creating_an_order_returns_201_with_the_order(client, auth):
    body = order_body()
    response = client.post(ORDERS, json=body, headers=auth["agency"])
    assert response.status_code == 201
    order = response.get_json()
    assert order["id"]
    assert order["status"] == "created"
    assert order["kind"] == "result_delivery"
    assert order["agency_code"] == "AG-LINHTRUNG"
    assert order["dossier_code"] == body["dossier_code"]
    assert order["procedure_code"] == "1.001193"
    assert order["channel"] == "online_public_service"
    assert order["parcel"] == {"weight_grams": 150, "pieces": 1, "contents": "Giấy khai sinh"}
    for key in ("ward_code", "ward_name", "province_name", "lat", "lon", "precision"):
        assert key in order["address"], key
    assert order["address"]["precision"] == "ward"
    assert order["address"]["ward_code"] == "26794"
    # The test agencies have no address, so the leg has no origin ward: priced later.
    assert order["price"] == {"status": "pending", "currency": "VND", "lines": [],
                              "total": None, "vat_included": None, "procedure_fee": None,
                              "amount_due": None, "vat_rate": None, "priced_at": None}
    assert order["payment"]["status"] == "unpaid"
    assert order["payment"]["payer"] == "citizen"
    assert order["payment"]["method"] == "online"
    assert order["links"]["self"] == f"{ORDERS}/{order['id']}"


def test_a_new_order_gets_a_valid_s10_tracking_number_with_the_default_prefix(client, auth):
    order = create(client, auth["agency"])
    number = order["tracking_number"]
    assert is_valid_tracking_number(number), number
    assert number.startswith("RR") and number.endswith("VN")


def test_two_orders_never_share_a_tracking_number(client, auth):
    first = create(client, auth["agency"])
    second = create(client, auth["agency"])
    assert first["tracking_number"] != second["tracking_number"]
    assert first["id"] != second["id"]


def test_the_tracking_prefix_is_configurable(connection, database_url, auth):
    app = create_app({"settings": make_settings(database_url, tracking_prefix="XY"),
                      "db_bind": connection})
    response = app.test_client().post(ORDERS, json=order_body(), headers=auth["agency"])
    assert response.status_code == 201
    number = response.get_json()["tracking_number"]
    assert number.startswith("XY")
    assert is_valid_tracking_number(number)


def test_times_are_utc_and_the_order_is_due_at_17_ict_on_a_later_working_day(client, auth):
    order = create(client, auth["agency"])
    created_at, due = parse_time(order["created_at"]), parse_time(order["due_at"])
    assert abs(created_at - datetime.now(timezone.utc)) < timedelta(minutes=5)
    local_due = due.astimezone(ICT)
    assert local_due.weekday() < 5
    assert (local_due.hour, local_due.minute) == (17, 0)
    assert local_due.date() > created_at.astimezone(ICT).date()
    # registered_at defaults to now
    assert parse_time(order["registered_at"]) == created_at


def test_registered_at_given_with_an_offset_comes_back_as_the_same_instant_in_utc(client, auth):
    registered = (datetime.now(ICT) - timedelta(days=10)).replace(microsecond=0)
    order = create(client, auth["agency"], registered_at=registered.isoformat())
    assert parse_time(order["registered_at"]) == registered


def test_the_citizens_deliver_before_sets_due_at(client, auth):
    deadline = (datetime.now(ICT) + timedelta(days=9)).replace(microsecond=0)
    order = create(client, auth["agency"], deliver_before=deadline.isoformat())
    assert parse_time(order["due_at"]) == deadline
    assert parse_time(order["deliver_before"]) == deadline


UNPLACEABLE = {"name": "Nguyễn Văn An", "phone": "0903123456",
               "address_text": "Hẻm sau chợ, gần cây xăng cũ"}


def test_an_unresolved_order_goes_to_its_agencys_post_office(client, auth):
    order = create(client, auth["agency"], citizen=UNPLACEABLE)
    assert order["address"]["precision"] == "unresolved"
    assert order["address"]["ward_code"] is None
    assert order["post_office_code"] == "PO-THUDUC"
    other = create(client, auth["other_agency"], agency_code="AG-BENNGHE", citizen=UNPLACEABLE)
    assert other["post_office_code"] == "PO-SAIGON"


def test_a_resolved_order_goes_to_the_post_office_serving_the_citizens_ward(client, auth):
    order = create(client, auth["other_agency"], agency_code="AG-BENNGHE")
    assert order["address"]["ward_code"] == "26794"  # Linh Trung is part of Linh Xuân since 2025
    assert order["address"]["old_ward_name"] == "Phường Linh Trung"
    assert order["post_office_code"] == "PO-THUDUC"


def test_names_are_trimmed_and_stored_in_nfc(client, auth):
    body = order_body()
    body["citizen"] = {**body["citizen"],
                       "name": "  " + unicodedata.normalize("NFD", "Nguyễn  Văn   Ánh") + "  "}
    body["procedure_name"] = unicodedata.normalize("NFD", " Đăng ký   khai sinh ")
    response = client.post(ORDERS, json=body, headers=auth["agency"])
    assert response.status_code == 201
    order = response.get_json()
    assert order["citizen"]["name"] == "Nguyễn Văn Ánh"
    assert unicodedata.is_normalized("NFC", order["citizen"]["name"])
    assert order["procedure_name"] == "Đăng ký khai sinh"


@pytest.mark.parametrize("written", ["0903123456", "+84 903 123 456", "84903123456", "0903.123.456"])
def test_the_citizens_phone_is_stored_as_e164(client, auth, written):
    body = order_body()
    body["citizen"] = {**body["citizen"], "phone": written}
    response = client.post(ORDERS, json=body, headers=auth["agency"])
    assert response.status_code == 201
    assert response.get_json()["citizen"]["phone"] == "+84903123456"


def test_the_structured_address_is_kept_as_sent(client, auth):
    body = order_body()
    order = client.post(ORDERS, json=body, headers=auth["agency"]).get_json()
    as_sent = order["address"]["as_sent"]
    for part in ("line", "ward", "district", "province"):
        assert as_sent[part] == body["citizen"]["address"][part]


def test_a_free_text_address_is_kept_as_sent_with_its_point(client, auth):
    body = order_body()
    text = "12 duong so 7, p linh trung, thu duc, tp hcm"
    body["citizen"] = {"name": "Nguyễn Văn An", "phone": "0903123456", "address_text": text,
                       "lat": 10.87, "lon": 106.80}
    response = client.post(ORDERS, json=body, headers=auth["agency"])
    assert response.status_code == 201
    as_sent = response.get_json()["address"]["as_sent"]
    assert text in as_sent.values()
    assert as_sent["lat"] == 10.87 and as_sent["lon"] == 106.80


def test_agency_paid_order_on_account(client, auth):
    order = create(client, auth["agency"], payer="agency", payment_method="agency_account",
                   fee_forwarding={"amount": 50000})
    assert order["payment"]["payer"] == "agency"
    assert order["payment"]["method"] == "agency_account"
    assert order["fee_forwarding"] == {"amount": 50000}


def test_a_dossier_pickup_order_starts_created_too(client, auth):
    order = create(client, auth["agency"], kind="dossier_pickup")
    assert order["kind"] == "dossier_pickup"
    assert order["status"] == "created"


def test_the_first_tracking_event_is_created(client, auth):
    order = create(client, auth["agency"])
    response = client.get(f"{ORDERS}/{order['id']}/events", headers=auth["agency"])
    assert response.status_code == 200
    events = response.get_json()["data"]
    assert len(events) == 1
    assert events[0]["type"] == "created"
    assert events[0]["status"] == "created"
    assert events[0]["post_office_code"] == "PO-THUDUC"
    assert parse_time(events[0]["occurred_at"]) == parse_time(order["created_at"])


# -- read -----------------------------------------------------------------------------------

def test_an_order_can_be_read_back_by_id(client, auth):
    order = create(client, auth["agency"])
    response = client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"])
    assert response.status_code == 200
    assert response.get_json() == order


def test_an_unknown_order_id_is_404(client, auth):
    response = client.get(f"{ORDERS}/ord_doesnotexist", headers=auth["admin"])
    assert_api_error(response, 404, "order_not_found")


def test_events_of_an_unknown_order_are_404(client, auth):
    response = client.get(f"{ORDERS}/ord_doesnotexist/events", headers=auth["admin"])
    assert_api_error(response, 404, "order_not_found")


# -- list and filters -----------------------------------------------------------------------

@pytest.fixture
def three_orders(client, auth, db_session):
    """A: Linh Trung result delivery; B: Linh Trung pickup, cancelled (both with addresses no
    gazetteer can place); C: Bến Nghé, landline, created in 2020, resolved to ward precision."""
    unplaceable = {"name": "Nguyễn Văn An", "address_text": "Hẻm sau chợ, gần cây xăng cũ"}
    a = create(client, auth["admin"], citizen={**unplaceable, "phone": "0903123456"})
    b = create(client, auth["admin"], kind="dossier_pickup",
               citizen={**unplaceable, "phone": "0912345678"})
    client.post(f"{ORDERS}/{b['id']}/cancel", json={"reason": "citizen withdrew"},
                headers=auth["admin"])
    c = create(client, auth["admin"], agency_code="AG-BENNGHE",
               citizen={"name": "Trần Thị Bình", "phone": "028 3829 1234",
                        "address_text": "29 Lê Duẩn, P. Bến Nghé, Q.1, TP.HCM"})
    assert c["address"]["precision"] == "ward" and c["post_office_code"] == "PO-SAIGON"
    db_session.execute(update(Order).where(Order.public_id == c["id"]).values(
        created_at=datetime(2020, 3, 1, 3, 0, tzinfo=timezone.utc)))
    db_session.commit()
    return {"A": a, "B": b, "C": c}


def ids_of(response):
    assert response.status_code == 200, response.get_json()
    return [o["id"] for o in response.get_json()["data"]]


@pytest.mark.parametrize(("query", "expected"), [
    ({}, "ABC"),
    ({"status": "created"}, "AC"),
    ({"status": "cancelled"}, "B"),
    ({"kind": "dossier_pickup"}, "B"),
    ({"kind": "result_delivery"}, "AC"),
    ({"agency_code": "AG-BENNGHE"}, "C"),
    ({"agency_code": "AG-LINHTRUNG"}, "AB"),
    ({"agency_code": "AG-NOWHERE"}, ""),
    ({"post_office_code": "PO-THUDUC"}, "AB"),
    ({"post_office_code": "PO-SAIGON"}, "C"),
    ({"phone": "0903123456"}, "A"),
    ({"phone": "+84903123456"}, "A"),
    ({"phone": "84 903 123 456"}, "A"),
    ({"phone": "0903.123.456"}, "A"),
    ({"phone": "+842838291234"}, "C"),
    ({"phone": "028 3829 1234"}, "C"),
    ({"phone": "0977777777"}, ""),
    ({"address_precision": "unresolved"}, "AB"),
    ({"address_precision": "ward"}, "C"),
    ({"address_precision": "street"}, ""),
    ({"created_from": "2021-01-01T00:00:00Z"}, "AB"),
    ({"created_to": "2021-01-01T00:00:00Z"}, "C"),
    ({"created_from": "2020-03-01T00:00:00Z", "created_to": "2020-03-02T00:00:00+07:00"}, "C"),
    ({"created_from": "2020-03-01T10:00:00+07:00"}, "ABC"),   # 03:00Z is inside
    ({"created_from": "2020-03-01T10:00:01+07:00", "created_to": "2021-01-01T00:00:00Z"}, ""),
    ({"status": "created", "agency_code": "AG-LINHTRUNG"}, "A"),
])
def test_list_filters_select_exactly_the_matching_orders(client, auth, three_orders, query, expected):
    got = ids_of(client.get(ORDERS, query_string=query, headers=auth["admin"]))
    assert sorted(got) == sorted(three_orders[k]["id"] for k in expected)


def test_list_filters_by_dossier_code_and_tracking_number(client, auth, three_orders):
    a = three_orders["A"]
    assert ids_of(client.get(ORDERS, query_string={"dossier_code": a["dossier_code"]},
                             headers=auth["admin"])) == [a["id"]]
    assert ids_of(client.get(ORDERS, query_string={"tracking_number": a["tracking_number"]},
                             headers=auth["admin"])) == [a["id"]]
    assert ids_of(client.get(ORDERS, query_string={"tracking_number": "RR000000000VN"},
                             headers=auth["admin"])) == []


@pytest.mark.parametrize("query", [
    {"status": "lost"}, {"kind": "parcel"}, {"address_precision": "exact"},
    {"phone": "12345"}, {"created_from": "yesterday"}, {"created_from": "2020-03-01T00:00:00"},
    {"created_from": "0001-01-01T00:00:00+07:00"},   # before year 1 in UTC
    {"created_to": "9999-12-31T23:59:59-07:00"},     # after year 9999 in UTC
    {"dossier_code": "HS 1"},
])
def test_a_bad_filter_value_is_422(client, auth, query):
    body = assert_api_error(client.get(ORDERS, query_string=query, headers=auth["admin"]), 422)
    assert any(next(iter(query)) in path for path in body["errors"]), body


@pytest.mark.parametrize("query", [{"statu": "cancelled"}, {"agency": "AG-BENNGHE"},
                                   {"page": "2"}])
def test_a_misspelt_filter_is_refused_rather_than_ignored(client, auth, three_orders, query):
    body = assert_api_error(client.get(ORDERS, query_string=query, headers=auth["admin"]), 422)
    assert any(next(iter(query)) in path for path in body["errors"]), body


def test_the_list_is_newest_first(client, auth):
    made = [create(client, auth["agency"])["id"] for _ in range(3)]
    assert ids_of(client.get(ORDERS, headers=auth["agency"])) == list(reversed(made))


def test_cursor_pagination_walks_every_order_once(client, auth):
    made = {create(client, auth["agency"])["id"] for _ in range(7)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = client.get(ORDERS, query_string=query, headers=auth["agency"])
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["data"]) <= 3
        seen.extend(o["id"] for o in page["data"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made


def test_the_last_full_page_has_no_next_cursor(client, auth):
    for _ in range(2):
        create(client, auth["agency"])
    page = client.get(ORDERS, query_string={"limit": 2}, headers=auth["agency"]).get_json()
    assert len(page["data"]) == 2
    assert page["next_cursor"] is None


def test_an_order_created_between_pages_does_not_shift_the_next_page(client, auth):
    made = [create(client, auth["agency"])["id"] for _ in range(4)]
    first = client.get(ORDERS, query_string={"limit": 2}, headers=auth["agency"]).get_json()
    create(client, auth["agency"])
    second = client.get(ORDERS, query_string={"limit": 2, "cursor": first["next_cursor"]},
                        headers=auth["agency"]).get_json()
    walked = [o["id"] for o in first["data"] + second["data"]]
    assert walked == list(reversed(made))


def test_the_default_page_holds_50(client, auth, db_session):
    for _ in range(51):
        create(client, auth["agency"])
    page = client.get(ORDERS, headers=auth["agency"]).get_json()
    assert len(page["data"]) == 50
    assert page["next_cursor"] is not None


@pytest.mark.parametrize("limit", [501, 0, -1, "ten"])
def test_a_limit_outside_1_to_500_is_422(client, auth, limit):
    body = assert_api_error(client.get(ORDERS, query_string={"limit": limit},
                                       headers=auth["admin"]), 422)
    assert any("limit" in path for path in body["errors"]), body


def test_a_limit_of_500_is_allowed(client, auth):
    assert client.get(ORDERS, query_string={"limit": 500}, headers=auth["admin"]).status_code == 200


@pytest.mark.parametrize("cursor", [
    "garbage!", "eyJ4IjoxfQ", encode_cursor([1, 2]), encode_cursor(None), encode_cursor(True),
    encode_cursor("abc"),            # a string where the service pages by number
    encode_cursor(10**27),           # a number no database integer holds
    encode_cursor(1.5)])
def test_a_cursor_the_service_did_not_give_out_is_422(client, auth, cursor):
    body = assert_api_error(client.get(ORDERS, query_string={"cursor": cursor},
                                       headers=auth["admin"]), 422)
    assert "cursor" in body["errors"]


# -- cancel ---------------------------------------------------------------------------------

def test_cancelling_a_new_order_marks_it_cancelled_with_an_event(client, auth):
    order = create(client, auth["agency"])
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "Công dân tự đến nhận"},
                           headers=auth["agency"])
    assert response.status_code == 200
    cancelled = response.get_json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "Công dân tự đến nhận"
    assert cancelled["cancelled_at"] is not None
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()["status"] \
        == "cancelled"
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=auth["agency"]).get_json()["data"]
    assert [e["type"] for e in events] == ["created", "cancelled"]


def test_cancelling_without_a_reason_is_allowed(client, auth):
    order = create(client, auth["agency"], kind="dossier_pickup")
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth["dispatcher"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


def test_cancelling_twice_is_409_invalid_transition_and_changes_nothing(client, auth, count_rows):
    order = create(client, auth["agency"])
    first = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "first"},
                        headers=auth["agency"]).get_json()
    events_before = count_rows(TrackingEvent)
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "second"},
                           headers=auth["agency"])
    assert_api_error(response, 409, "invalid_transition")
    after = client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()
    assert after == first
    assert after["cancel_reason"] == "first"
    assert count_rows(TrackingEvent) == events_before


def test_an_order_in_a_couriers_hands_cannot_be_cancelled(client, auth, db_session):
    order = create(client, auth["agency"])
    db_session.execute(update(Order).where(Order.public_id == order["id"])
                       .values(status="collected"))
    db_session.commit()
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth["agency"])
    assert_api_error(response, 409, "invalid_transition")
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()["status"] \
        == "collected"


def test_cancelling_an_unknown_order_is_404(client, auth):
    response = client.post(f"{ORDERS}/ord_doesnotexist/cancel", json={}, headers=auth["admin"])
    assert_api_error(response, 404, "order_not_found")


# -- duplicates -----------------------------------------------------------------------------

def test_a_second_order_for_the_same_dossier_agency_and_kind_is_409_with_the_existing_id(
        client, auth, count_rows):
    first = create(client, auth["agency"], dossier_code="HS-2020-000123")
    before = count_rows(Order)
    response = client.post(ORDERS, json=order_body(dossier_code="HS-2020-000123"),
                           headers=auth["agency"])
    body = assert_api_error(response, 409, "duplicate_order")
    assert body["existing_id"] == first["id"]
    assert count_rows(Order) == before


def test_the_same_dossier_may_have_one_order_of_each_kind(client, auth):
    delivery = create(client, auth["agency"], dossier_code="HS-2020-000124")
    pickup = create(client, auth["agency"], dossier_code="HS-2020-000124", kind="dossier_pickup")
    assert delivery["id"] != pickup["id"]


def test_the_same_dossier_code_at_another_agency_is_a_different_order(client, auth):
    create(client, auth["agency"], dossier_code="HS-2020-000125")
    create(client, auth["agency"], dossier_code="HS-2020-000125", agency_code="AG-TRUONGTHANH")


def test_a_cancelled_order_still_blocks_a_duplicate(client, auth):
    first = create(client, auth["agency"], dossier_code="HS-2020-000126")
    client.post(f"{ORDERS}/{first['id']}/cancel", json={}, headers=auth["agency"])
    response = client.post(ORDERS, json=order_body(dossier_code="HS-2020-000126"),
                           headers=auth["agency"])
    assert assert_api_error(response, 409, "duplicate_order")["existing_id"] == first["id"]
