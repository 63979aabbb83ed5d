"""Public tracking API: masked, labelled in Vietnamese and English, more only with the right
phone digits, 404 for unknown numbers and 429 when a client asks too often.

Expectations come from API.md ("Public tracking", "General rules") and DOMAIN.md ("Personal
data", "Status lifecycle").
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from postal_svc import create_app
from tests.api.journeys import (
    ADDRESS_LINE, FULL_NAME, PHONE_FORMS, TO_OUT_FOR_DELIVERY, create_order, record, walk)
from tests.conftest import assert_api_error, test_settings

TRACKING = "/api/v1/tracking"


def track(client, number, **query):
    return client.get(f"{TRACKING}/{number}", query_string=query)


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def out_for_delivery(client, auth):
    """An order on its way to the citizen, with a coordinate and a note on one event."""
    order = create_order(client, auth["agency"])
    walk(client, auth["dispatcher"], order["id"], "collected", "at_post_office")
    record(client, auth["courier"], order["id"], "out_for_delivery", lat=10.87, lon=106.8,
           note="Gọi 0903123456 trước, nhà cạnh tiệm Nguyễn Văn An")
    return order


# -- what anyone may see ---------------------------------------------------------------------

def test_tracking_needs_no_api_key_and_answers_status_with_vietnamese_and_english_labels(
        client, out_for_delivery):
    response = track(client, out_for_delivery["tracking_number"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["tracking_number"] == out_for_delivery["tracking_number"]
    assert body["status"] == "out_for_delivery"
    assert body["status_label"] == {"vi": "Đang giao", "en": "Out for delivery"}


def test_events_come_oldest_first_with_labels_and_place_as_ward_and_post_office(
        client, out_for_delivery):
    events = track(client, out_for_delivery["tracking_number"]).get_json()["events"]
    assert [e["status"] for e in events] == ["created", *TO_OUT_FOR_DELIVERY]
    times = [parse_time(e["occurred_at"]) for e in events]
    assert times == sorted(times)
    assert events[0]["status_label"] == {"vi": "Đã tiếp nhận yêu cầu", "en": "Request received"}
    assert events[2]["status_label"]["en"] == "At the post office"
    for event in events:
        assert event["place"] == {"ward_name": out_for_delivery["address"]["ward_name"],
                                  "post_office_code": "PO-THUDUC"}
        assert set(event) == {"occurred_at", "status", "status_label", "failure_reason",
                              "failure_reason_label", "place"}


def test_events_never_carry_coordinates_notes_or_actors(client, out_for_delivery):
    text = track(client, out_for_delivery["tracking_number"]).get_data(as_text=True)
    for word in ('"lat"', '"lon"', "10.87", "106.8", '"note"', "tiệm", '"actor', '"data"',
                 '"recipient":{"name":"Ng'):
        assert word not in text, word


def test_the_recipient_is_masked_name_by_initials_and_phone_by_last_three_digits(
        client, out_for_delivery):
    body = track(client, out_for_delivery["tracking_number"]).get_json()
    assert body["recipient"] == {"name": "N*** V*** A", "phone": "*******456"}


def test_no_address_line_phone_or_full_name_appears_anywhere_in_the_answer(
        client, out_for_delivery):
    for query in ({}, {"phone_last4": "3456"}):
        response = track(client, out_for_delivery["tracking_number"], **query)
        raw = response.get_data(as_text=True)
        decoded = json.dumps(response.get_json(), ensure_ascii=False)
        for text in (raw, decoded):
            for secret in (FULL_NAME, ADDRESS_LINE, "Đường số 7", "Văn An", *PHONE_FORMS):
                assert secret not in text, (secret, query)
        assert "address" not in response.get_json()


def test_expected_delivery_is_the_due_time_and_the_end_of_the_citizens_window(client, auth):
    before = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    after = before - timedelta(hours=4)
    with_window = create_order(client, auth["agency"], deliver_after=after.isoformat(),
                               deliver_before=before.isoformat())
    without = create_order(client, auth["agency"])

    body = track(client, with_window["tracking_number"]).get_json()
    assert body["expected_delivery"] == {"due_at": with_window["due_at"],
                                         "window_end": with_window["deliver_before"]}
    assert parse_time(body["expected_delivery"]["window_end"]) == before
    # Without the phone digits the start of the window stays private.
    assert "delivery_window" not in body and "pay_url" not in body
    assert with_window["deliver_after"] not in json.dumps(body)

    body = track(client, without["tracking_number"]).get_json()
    assert body["expected_delivery"] == {"due_at": without["due_at"], "window_end": None}


def test_a_failed_attempt_shows_its_reason_in_both_languages(client, auth, out_for_delivery):
    record(client, auth["courier"], out_for_delivery["id"], "delivery_failed",
           failure_reason="recipient_not_home")
    body = track(client, out_for_delivery["tracking_number"]).get_json()
    assert body["status_label"] == {"vi": "Giao không thành công",
                                    "en": "Delivery attempt failed"}
    last = body["events"][-1]
    assert last["failure_reason"] == "recipient_not_home"
    assert last["failure_reason_label"] == {"vi": "Người nhận không có nhà",
                                            "en": "Recipient not at home"}
    assert body["events"][0]["failure_reason"] is None
    assert body["events"][0]["failure_reason_label"] is None


def test_a_dossier_on_its_way_is_labelled_as_going_to_the_agency(client, auth):
    order = create_order(client, auth["agency"], kind="dossier_pickup")
    walk(client, auth["dispatcher"], order["id"], "pickup_scheduled", "picked_up",
         "at_post_office", "out_for_delivery")
    body = track(client, order["tracking_number"]).get_json()
    assert body["kind"] == "dossier_pickup"
    assert body["status_label"] == {"vi": "Đang chuyển hồ sơ đến cơ quan",
                                    "en": "On the way to the agency"}
    assert [e["status"] for e in body["events"]][1] == "pickup_scheduled"


def test_a_tracking_number_is_found_however_it_is_typed(client, out_for_delivery):
    number = out_for_delivery["tracking_number"]
    spaced = f"{number[:2].lower()} {number[2:6]} {number[6:10]}-{number[10:].lower()}"
    response = track(client, spaced)
    assert response.status_code == 200
    assert response.get_json()["tracking_number"] == number


# -- the last 4 digits of the phone ----------------------------------------------------------

def test_the_right_phone_digits_add_the_delivery_window_and_the_pay_link(client, auth):
    before = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    after = before - timedelta(hours=4)
    order = create_order(client, auth["agency"], deliver_after=after.isoformat(),
                         deliver_before=before.isoformat())
    body = track(client, order["tracking_number"], phone_last4="3456").get_json()
    assert body["delivery_window"] == {"deliver_after": order["deliver_after"],
                                       "deliver_before": order["deliver_before"]}
    assert parse_time(body["delivery_window"]["deliver_after"]) == after
    # Online payment of an unpaid order: the key is there, null while the order has no price
    # (and this server no payment provider); tests/api/test_payments.py has the link itself.
    assert "pay_url" in body and body["pay_url"] is None
    assert body["recipient"] == {"name": "N*** V*** A", "phone": "*******456"}


@pytest.mark.parametrize("wrong", ["0000", "3455", "456", "23456", "34567", "abcd", "", " 3456",
                                   "3456 ", "３４５６", "1234", "+84903123456", "0903123456"])
def test_wrong_phone_digits_answer_exactly_what_no_digits_answer(client, auth, wrong):
    order = create_order(client, auth["agency"],
                         deliver_before=(datetime.now(timezone.utc)
                                         + timedelta(days=2)).isoformat())
    plain = track(client, order["tracking_number"])
    guessed = track(client, order["tracking_number"], phone_last4=wrong)
    assert guessed.status_code == plain.status_code == 200
    assert guessed.get_data() == plain.get_data()
    assert "delivery_window" not in guessed.get_json()


def test_the_phone_digits_are_compared_with_the_citizens_own_phone(client, auth):
    mine = create_order(client, auth["agency"])
    theirs = create_order(client, auth["agency"], citizen={
        **mine["citizen"], "phone": "0912000789",
        "address": {"line": "1 Võ Văn Ngân", "ward": "Phường Linh Chiểu",
                    "district": "Thành phố Thủ Đức", "province": "Thành phố Hồ Chí Minh"}})
    assert "delivery_window" in track(client, mine["tracking_number"],
                                      phone_last4="3456").get_json()
    assert "delivery_window" not in track(client, theirs["tracking_number"],
                                          phone_last4="3456").get_json()
    assert "delivery_window" in track(client, theirs["tracking_number"],
                                      phone_last4="0789").get_json()


# -- not found ---------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [
    "RR123456785VN",           # well-formed, with a right check digit, but unknown
    "RR123456784VN",           # wrong check digit
    "NOT-A-NUMBER", "x" * 300, "RR12345678", "'; DROP TABLE orders; --", "%00", "RR1234%2F5VN",
])
def test_an_unknown_or_malformed_number_is_404_tracking_not_found(client, reference_data, number):
    body = assert_api_error(track(client, number), 404, "tracking_not_found")
    assert body["errors"] == {}


# -- rate limits -------------------------------------------------------------------------------

@pytest.fixture
def limited(connection, database_url):
    """An app allowing 3 tracking requests a minute per client."""
    settings = test_settings(database_url, tracking_rate_per_minute=3)
    return create_app({"settings": settings, "db_bind": connection, "TESTING": True})


def test_too_many_requests_from_one_client_get_429_rate_limited_with_retry_after(
        limited, out_for_delivery):
    client = limited.test_client()
    number = out_for_delivery["tracking_number"]
    assert [track(client, number).status_code for _ in range(3)] == [200, 200, 200]
    response = track(client, number)
    assert_api_error(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    # Unknown numbers count too: guessing numbers is what the limit is for.
    assert_api_error(track(client, "RR123456785VN"), 429, "rate_limited")


def test_the_limit_is_per_client_address(limited, out_for_delivery):
    number = out_for_delivery["tracking_number"]
    first = limited.test_client()
    for _ in range(3):
        track(first, number)
    assert track(first, number).status_code == 429
    other = limited.test_client()
    response = other.get(f"{TRACKING}/{number}", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(connection, database_url,
                                                             out_for_delivery):
    number = out_for_delivery["tracking_number"]
    untrusting = create_app({"settings": test_settings(database_url, tracking_rate_per_minute=1),
                             "db_bind": connection}).test_client()
    assert track(untrusting, number).status_code == 200
    spoofed = untrusting.get(f"{TRACKING}/{number}", headers={"X-Forwarded-For": "198.51.100.7"})
    assert spoofed.status_code == 429

    trusting = create_app({"settings": test_settings(database_url, tracking_rate_per_minute=1,
                                                     trusted_proxy_count=1),
                           "db_bind": connection}).test_client()
    behind = {"X-Forwarded-For": "198.51.100.7"}
    assert trusting.get(f"{TRACKING}/{number}", headers=behind).status_code == 200
    assert trusting.get(f"{TRACKING}/{number}", headers=behind).status_code == 429
    other = {"X-Forwarded-For": "198.51.100.8"}
    assert trusting.get(f"{TRACKING}/{number}", headers=other).status_code == 200


def test_a_limit_of_zero_turns_rate_limiting_off(connection, database_url, out_for_delivery):
    client = create_app({"settings": test_settings(database_url, tracking_rate_per_minute=0),
                         "db_bind": connection}).test_client()
    statuses = {track(client, out_for_delivery["tracking_number"]).status_code
                for _ in range(80)}
    assert statuses == {200}


def test_staff_apis_are_not_limited_by_the_tracking_limit(limited, auth, out_for_delivery):
    client = limited.test_client()
    for _ in range(3):
        track(client, out_for_delivery["tracking_number"])
    response = client.get(f"/api/v1/orders/{out_for_delivery['id']}", headers=auth["agency"])
    assert response.status_code == 200


# -- documented ------------------------------------------------------------------------------

def test_the_openapi_spec_documents_public_tracking_without_auth(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/tracking/{tracking_number}"]["get"]
    assert operation["security"] == []
    assert any(p["name"] == "phone_last4" for p in operation["parameters"])
    assert {"200", "404", "429"} <= set(operation["responses"])
