"""Bad input gets a 4xx in the API error shape, and nothing is written."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from postal_svc import create_app
from postal_svc.idempotency import IdempotencyRecord
from postal_svc.shipments.models import Order, TrackingEvent
from tests.conftest import assert_api_error, order_body
from tests.conftest import test_settings as make_settings

ORDERS = "/api/v1/orders"
ICT = timezone(timedelta(hours=7))


@pytest.fixture
def nothing_written(count_rows):
    """Call it after the request: orders, events and idempotency records are as before."""
    before = (count_rows(Order), count_rows(TrackingEvent), count_rows(IdempotencyRecord))

    def check() -> None:
        assert (count_rows(Order), count_rows(TrackingEvent), count_rows(IdempotencyRecord)) \
            == before
    return check


DROP = object()  # with_citizen(address=DROP) removes the field


def with_citizen(**changes):
    body = order_body()
    citizen = {**body["citizen"], **changes}
    body["citizen"] = {k: v for k, v in citizen.items() if v is not DROP}
    return body


def with_parcel(**changes):
    body = order_body()
    body["parcel"] = {**body["parcel"], **changes}
    return body


def post(client, headers, body, **kwargs):
    return client.post(ORDERS, json=body, headers=headers, **kwargs)


def refused(response, field: str | None = None, status: int = 422, code: str | None = None):
    body = assert_api_error(response, status, code)
    if field is not None:
        assert field in body["errors"], body
    return body


def iso(moment: datetime) -> str:
    return moment.isoformat()


# -- malformed and oversized bodies ---------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"kind": "result_delivery",', "{bad json}", "nul", "{'a': 1}"])
def test_malformed_json_is_400_malformed_json(client, auth, nothing_written, raw):
    response = client.post(ORDERS, data=raw, content_type="application/json",
                           headers=auth["agency"])
    assert_api_error(response, 400, "malformed_json")
    nothing_written()


def test_a_body_over_the_size_limit_is_413_request_too_large(connection, database_url, auth,
                                                             nothing_written):
    app = create_app({"settings": make_settings(database_url, max_content_length=2048),
                      "db_bind": connection})
    body = order_body(procedure_name="x" * 400)
    body["parcel"]["contents"] = "y" * 400
    body["citizen"]["address_text"] = "z" * 1000
    del body["citizen"]["address"]
    assert len(json.dumps(body).encode()) > 2048
    response = app.test_client().post(ORDERS, json=body, headers=auth["agency"])
    assert_api_error(response, 413, "request_too_large")
    nothing_written()


def test_a_body_under_the_size_limit_is_accepted_by_the_same_app(connection, database_url, auth):
    app = create_app({"settings": make_settings(database_url, max_content_length=2048),
                      "db_bind": connection})
    body = order_body()
    assert len(json.dumps(body).encode()) < 2048
    assert app.test_client().post(ORDERS, json=body, headers=auth["agency"]).status_code == 201


@pytest.mark.parametrize("payload", [[order_body()], "an order", 42, None, True, []])
def test_a_json_body_that_is_not_an_object_is_a_4xx_not_a_5xx(client, auth, nothing_written,
                                                             payload):
    response = client.post(ORDERS, data=json.dumps(payload), content_type="application/json",
                           headers=auth["agency"])
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert_api_error(response, response.status_code)
    nothing_written()


@pytest.mark.parametrize("with_idempotency_key", [False, True])
@pytest.mark.parametrize("raw", ["[" * 100_000 + "]" * 100_000,
                                 '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_absurdly_deep_json_is_a_4xx_not_a_5xx(client, auth, nothing_written, raw,
                                               with_idempotency_key):
    headers = dict(auth["agency"])
    if with_idempotency_key:
        headers["Idempotency-Key"] = "deep-json"
    response = client.post(ORDERS, data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 400, response.status_code
    assert_api_error(response, 400, "malformed_json")
    nothing_written()


def test_a_body_sent_without_a_json_content_type_is_refused(client, auth, nothing_written):
    response = client.post(ORDERS, data=json.dumps(order_body()), content_type="text/plain",
                           headers=auth["agency"])
    assert 400 <= response.status_code < 500
    assert_api_error(response, response.status_code)
    nothing_written()


# -- weight ---------------------------------------------------------------------------------

@pytest.mark.parametrize("weight", [0, -1, 30001, 1_000_000])
def test_a_weight_outside_1_to_30000_grams_is_refused(client, auth, nothing_written, weight):
    refused(post(client, auth["agency"], with_parcel(weight_grams=weight)), "parcel.weight_grams")
    nothing_written()


@pytest.mark.parametrize("weight", [1, 30000])
def test_the_weight_limits_themselves_are_accepted(client, auth, weight):
    response = post(client, auth["agency"], with_parcel(weight_grams=weight))
    assert response.status_code == 201
    assert response.get_json()["parcel"]["weight_grams"] == weight


@pytest.mark.parametrize("weight", ["150", 150.0, 150.5, True, False, None, [150], {"g": 150}])
def test_a_weight_that_is_not_a_json_integer_is_refused(client, auth, nothing_written, weight):
    refused(post(client, auth["agency"], with_parcel(weight_grams=weight)), "parcel.weight_grams")
    nothing_written()


@pytest.mark.parametrize("pieces", [0, 101, "1", 1.5])
def test_a_bad_number_of_pieces_is_refused(client, auth, nothing_written, pieces):
    refused(post(client, auth["agency"], with_parcel(pieces=pieces)), "parcel.pieces")
    nothing_written()


@pytest.mark.parametrize("amount", [0, -8000, "8000", 8000.0])
def test_a_bad_fee_forwarding_amount_is_refused(client, auth, nothing_written, amount):
    refused(post(client, auth["agency"], order_body(fee_forwarding={"amount": amount})),
            "fee_forwarding.amount")
    nothing_written()


# -- shape: unknown and missing fields, enums ---------------------------------------------

@pytest.mark.parametrize(("where", "field"), [
    ("top", "colour"), ("top", "total"), ("citizen", "id_number"), ("parcel", "value_vnd"),
    ("address", "zip")])
def test_unknown_fields_are_refused(client, auth, nothing_written, where, field):
    body = order_body()
    target = {"top": body, "citizen": body["citizen"], "parcel": body["parcel"],
              "address": body["citizen"]["address"]}[where]
    target[field] = "x"
    response = refused(post(client, auth["agency"], body))
    assert any(path.endswith(field) for path in response["errors"]), response
    nothing_written()


@pytest.mark.parametrize("path", [
    "kind", "agency_code", "dossier_code", "channel", "citizen", "parcel", "payer",
    "citizen.name", "citizen.phone", "parcel.weight_grams", "citizen.address.line"])
def test_a_missing_required_field_is_named_in_the_errors(client, auth, nothing_written, path):
    body = order_body()
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    del target[leaf]
    refused(post(client, auth["agency"], body), path)
    nothing_written()


@pytest.mark.parametrize(("field", "value"), [
    ("kind", "parcel"), ("channel", "email"), ("payer", "state"), ("payment_method", "bitcoin"),
    ("kind", None), ("agency_code", ""), ("dossier_code", "   "), ("dossier_code", "HS 2020 1"),
    ("dossier_code", "x" * 65), ("agency_code", 123),
    ("dossier_code", "HS\u0000X"),      # a control character is refused, not dropped
    ("dossier_code", "HS\tX"),
    ("procedure_name", "Khai sinh \ud800"),   # a lone surrogate cannot be stored
    ("procedure_code", "1.00\udfff")])
def test_a_bad_top_level_value_is_refused(client, auth, nothing_written, field, value):
    refused(post(client, auth["agency"], order_body(**{field: value})), field)
    nothing_written()


@pytest.mark.parametrize("name", ["", "   ", None, "x" * 201])
def test_a_blank_or_overlong_citizen_name_is_refused(client, auth, nothing_written, name):
    refused(post(client, auth["agency"], with_citizen(name=name)), "citizen.name")
    nothing_written()


@pytest.mark.parametrize("email", ["not-an-email", "a@", 42])
def test_a_bad_email_is_refused(client, auth, nothing_written, email):
    refused(post(client, auth["agency"], with_citizen(email=email)), "citizen.email")
    nothing_written()


# -- phone ----------------------------------------------------------------------------------

@pytest.mark.parametrize("phone", ["090312345", "0103123456", "0903abc456", "+1 202 555 0100",
                                   "", 903123456, None])
def test_a_bad_phone_is_refused(client, auth, nothing_written, phone):
    refused(post(client, auth["agency"], with_citizen(phone=phone)), "citizen.phone")
    nothing_written()


# -- address forms --------------------------------------------------------------------------

def test_both_address_and_address_text_is_refused(client, auth, nothing_written):
    body = with_citizen(address_text="12 duong so 7, linh trung, thu duc")
    refused(post(client, auth["agency"], body))
    nothing_written()


def test_neither_address_nor_address_text_is_refused(client, auth, nothing_written):
    refused(post(client, auth["agency"], with_citizen(address=DROP)))
    nothing_written()


@pytest.mark.parametrize("point", [{"lat": 10.87}, {"lon": 106.8}])
def test_half_a_point_inside_the_address_is_refused(client, auth, nothing_written, point):
    body = order_body()
    body["citizen"]["address"].update(point)
    response = refused(post(client, auth["agency"], body))
    assert any(p.startswith("citizen.address.") for p in response["errors"]), response
    nothing_written()


@pytest.mark.parametrize("point", [{"lat": 10.87}, {"lon": 106.8}])
def test_half_a_point_with_a_free_text_address_is_refused(client, auth, nothing_written, point):
    body = with_citizen(address=DROP, address_text="12 duong so 7, linh trung", **point)
    refused(post(client, auth["agency"], body))
    nothing_written()


@pytest.mark.parametrize("point", [{"lat": 91, "lon": 106.8}, {"lat": 10.8, "lon": 181},
                                   {"lat": "10.8", "lon": "north"}])
def test_a_point_off_the_globe_is_refused(client, auth, nothing_written, point):
    body = order_body()
    body["citizen"]["address"].update(point)
    refused(post(client, auth["agency"], body))
    nothing_written()


def test_a_whole_point_inside_the_address_is_accepted(client, auth):
    body = order_body()
    body["citizen"]["address"].update({"lat": 10.87, "lon": 106.80})
    assert post(client, auth["agency"], body).status_code == 201


# -- times ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["2020-02-15T09:30:00", "15/02/2020", "yesterday", 1581733800,
                                   "0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00"])
def test_a_registered_at_without_an_offset_or_not_a_time_is_refused(client, auth,
                                                                    nothing_written, value):
    refused(post(client, auth["agency"], order_body(registered_at=value)), "registered_at")
    nothing_written()


def test_an_order_registered_in_the_future_is_refused(client, auth, nothing_written):
    future = datetime.now(ICT) + timedelta(minutes=30)
    refused(post(client, auth["agency"], order_body(registered_at=iso(future))), "registered_at")
    nothing_written()


def test_an_order_registered_a_minute_ahead_is_tolerated_as_clock_skew(client, auth):
    ahead = datetime.now(ICT) + timedelta(minutes=1)
    assert post(client, auth["agency"], order_body(registered_at=iso(ahead))).status_code == 201


def test_an_order_registered_more_than_180_days_ago_is_refused(client, auth, nothing_written):
    old = datetime.now(ICT) - timedelta(days=181)
    refused(post(client, auth["agency"], order_body(registered_at=iso(old))), "registered_at")
    nothing_written()


def test_an_order_registered_179_days_ago_is_accepted(client, auth):
    old = datetime.now(ICT) - timedelta(days=179)
    assert post(client, auth["agency"], order_body(registered_at=iso(old))).status_code == 201


@pytest.mark.parametrize("gap", [timedelta(0), timedelta(hours=-2)])
def test_deliver_after_at_or_after_deliver_before_is_refused(client, auth, nothing_written, gap):
    before = datetime.now(ICT) + timedelta(days=5)
    body = order_body(deliver_after=iso(before - gap), deliver_before=iso(before))
    refused(post(client, auth["agency"], body), "deliver_before")
    nothing_written()


def test_a_deliver_before_in_the_past_is_refused(client, auth, nothing_written):
    past = datetime.now(ICT) - timedelta(hours=1)
    refused(post(client, auth["agency"], order_body(deliver_before=iso(past))), "deliver_before")
    nothing_written()


@pytest.mark.parametrize(("field", "value"), [
    ("deliver_before", "9999-12-31T23:59:59-07:00"), ("deliver_after", "0001-01-01T00:00:00+07:00")])
def test_a_delivery_window_beyond_what_utc_can_hold_is_refused(client, auth, nothing_written,
                                                               field, value):
    refused(post(client, auth["agency"], order_body(**{field: value})), field)
    nothing_written()


def _surrogate_in_address_line():
    body = order_body()
    body["citizen"]["address"]["line"] = "12 Đường số 7 \udc00"
    return body


@pytest.mark.parametrize(("body", "field"), [
    (with_citizen(name="Nguyễn \ud800"), "citizen.name"),
    (_surrogate_in_address_line(), "citizen.address.line")])
def test_a_lone_surrogate_in_the_citizens_name_or_address_is_refused(client, auth,
                                                                     nothing_written, body, field):
    response = client.post(ORDERS, data=json.dumps(body), content_type="application/json",
                           headers=auth["agency"])
    refused(response, field)
    nothing_written()


def test_a_naive_deliver_before_is_refused(client, auth, nothing_written):
    refused(post(client, auth["agency"], order_body(deliver_before="2030-01-01T10:00:00")),
            "deliver_before")
    nothing_written()


def test_a_proper_delivery_window_is_accepted(client, auth):
    start = datetime.now(ICT) + timedelta(days=2)
    body = order_body(deliver_after=iso(start), deliver_before=iso(start + timedelta(hours=4)))
    assert post(client, auth["agency"], body).status_code == 201


# -- payer and payment method ---------------------------------------------------------------

@pytest.mark.parametrize(("payer", "method"), [
    ("agency", "online"), ("agency", "cash_on_delivery"), ("citizen", "agency_account")])
def test_a_payment_method_the_payer_cannot_use_is_refused(client, auth, nothing_written,
                                                         payer, method):
    body = order_body(payer=payer, payment_method=method)
    refused(post(client, auth["agency"], body), "payment_method")
    nothing_written()


@pytest.mark.parametrize(("payer", "method"), [
    ("citizen", "online"), ("citizen", "cash_on_delivery"), ("agency", "agency_account")])
def test_every_allowed_payer_and_method_pair_is_accepted(client, auth, payer, method):
    response = post(client, auth["agency"], order_body(payer=payer, payment_method=method))
    assert response.status_code == 201
    assert response.get_json()["payment"]["method"] == method


# -- agency and scope -----------------------------------------------------------------------

def test_an_unknown_agency_is_422_unknown_agency(client, auth, nothing_written):
    response = post(client, auth["admin"], order_body(agency_code="AG-NOWHERE"))
    refused(response, "agency_code", code="unknown_agency")
    nothing_written()


def test_an_agency_outside_the_callers_scope_looks_exactly_like_an_unknown_one(
        client, auth, nothing_written):
    outside = post(client, auth["agency"], order_body(agency_code="AG-BENNGHE"))
    unknown = post(client, auth["agency"], order_body(agency_code="AG-NOWHERE"))
    refused(outside, "agency_code", code="unknown_agency")
    assert outside.get_json() == unknown.get_json()
    nothing_written()


def test_a_quote_id_that_does_not_exist_is_422_quote_not_found(client, auth, nothing_written):
    response = post(client, auth["agency"], order_body(quote_id="quo_doesnotexist"))
    refused(response, "quote_id", code="quote_not_found")
    nothing_written()


def test_several_broken_rules_are_reported_together(client, auth, nothing_written):
    body = order_body(payer="agency", payment_method="online",
                      registered_at=iso(datetime.now(ICT) - timedelta(days=400)))
    response = refused(post(client, auth["agency"], body))
    assert {"payment_method", "registered_at"} <= set(response["errors"])
    nothing_written()


@pytest.mark.parametrize("path", [
    "/api/v1/orders/%00", "/api/v1/orders/ord_%00/events", "/api/v1/agencies/AG%00",
    "/api/v1/post-offices/PO%00", "/api/v1/webhook-endpoints/we_%00/deliveries",
    "/api/v1/promotions/COVID%00", "/api/v1/tariffs/T%00"])
def test_a_nul_byte_in_an_api_path_is_404_not_a_5xx(client, auth, path):
    response = client.get(path, headers=auth["admin"])
    assert_api_error(response, 404)
