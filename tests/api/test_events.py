"""Tracking events through the API: couriers and dispatchers move orders along the lifecycle.

The expected moves are written out here from DOMAIN.md ("Status lifecycle") and API.md
("Tracking events"), not read from the code.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, update

from postal_svc import create_app
from postal_svc.db import Base
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.webhooks.models import WebhookEvent
from tests.conftest import assert_api_error, order_body, test_settings

ORDERS = "/api/v1/orders"
RD, DP = "result_delivery", "dossier_pickup"
RECIPIENT = {"name": "Nguyễn Văn An", "relationship": "self", "id_last4": "1234"}
# Every event type API.md lists for POST /orders/{id}/events.
EVENT_TYPES = ("collected", "at_post_office", "out_for_delivery", "delivered", "delivery_failed",
               "pickup_scheduled", "picked_up", "pickup_failed", "delivered_to_agency",
               "returning", "returned_to_agency")
CANCEL = "<cancel>"  # in a path below: cancel the order through POST .../cancel

RESULT_PATH = ["collected", "at_post_office", "out_for_delivery", "delivered"]
PICKUP_PATH = ["pickup_scheduled", "picked_up", "at_post_office", "out_for_delivery",
               "delivered_to_agency"]

# How to bring a fresh order (status `created`) to each status, with default max attempts 2.
REACH: dict[str, dict[str, list[str]]] = {
    RD: {
        "created": [],
        "collected": ["collected"],
        "at_post_office": ["collected", "at_post_office"],
        "out_for_delivery": ["collected", "at_post_office", "out_for_delivery"],
        "delivered": RESULT_PATH,
        "delivery_failed": ["collected", "at_post_office", "out_for_delivery", "delivery_failed"],
        "returning": ["collected", "at_post_office", "out_for_delivery", "delivery_failed",
                      "out_for_delivery", "delivery_failed"],
        "returned_to_agency": ["collected", "at_post_office", "returning", "returned_to_agency"],
        "cancelled": [CANCEL],
    },
    DP: {
        "created": [],
        "pickup_scheduled": ["pickup_scheduled"],
        "pickup_failed": ["pickup_scheduled", "pickup_failed"],
        "picked_up": ["pickup_scheduled", "picked_up"],
        "at_post_office": ["pickup_scheduled", "picked_up", "at_post_office"],
        "out_for_delivery": ["pickup_scheduled", "picked_up", "at_post_office",
                             "out_for_delivery"],
        "delivered_to_agency": PICKUP_PATH,
        "cancelled": [CANCEL],
    },
}

# The event types a courier may record in each status (cancelling is not an event type).
ALLOWED: dict[str, dict[str, set[str]]] = {
    RD: {
        "created": {"collected"},
        "collected": {"at_post_office"},
        "at_post_office": {"out_for_delivery", "returning"},
        "out_for_delivery": {"delivered", "delivery_failed"},
        "delivery_failed": {"out_for_delivery", "returning"},
        "returning": {"returned_to_agency"},
        "delivered": set(), "returned_to_agency": set(), "cancelled": set(),
    },
    DP: {
        "created": {"pickup_scheduled"},
        "pickup_scheduled": {"picked_up", "pickup_failed"},
        "pickup_failed": {"pickup_scheduled"},
        "picked_up": {"at_post_office"},
        "at_post_office": {"out_for_delivery"},
        "out_for_delivery": {"delivered_to_agency"},
        "delivered_to_agency": set(), "cancelled": set(),
    },
}


# -- helpers ------------------------------------------------------------------------------------

def create(client: Any, auth: dict[str, dict[str, str]], kind: str = RD,
           **overrides: Any) -> dict[str, Any]:
    response = client.post(ORDERS, json=order_body(kind=kind, **overrides), headers=auth["agency"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def body_for(type_: str, **extra: Any) -> dict[str, Any]:
    """A body that is valid for an event of `type_` on either kind of order."""
    body: dict[str, Any] = {"type": type_}
    if type_ == "delivered":
        body["recipient"] = dict(RECIPIENT)
    if type_ in ("delivery_failed", "pickup_failed"):
        body["failure_reason"] = "recipient_not_home"
    body.update(extra)
    return body


def post_event(client: Any, headers: dict[str, str], order_id: str, type_: str,
               **extra: Any) -> Any:
    return client.post(f"{ORDERS}/{order_id}/events", json=body_for(type_, **extra),
                       headers=headers)


def record(client: Any, headers: dict[str, str], order_id: str, type_: str,
           **extra: Any) -> list[dict[str, Any]]:
    """Every event the request recorded: the one posted, then the lifecycle's follow-ups."""
    response = post_event(client, headers, order_id, type_, **extra)
    assert response.status_code == 201, (type_, response.get_json())
    body = response.get_json()
    follow_ups = body.pop("follow_up_events")
    return [body, *follow_ups]


def read(client: Any, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    response = client.get(f"{ORDERS}/{order_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def events_of(client: Any, headers: dict[str, str], order_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{ORDERS}/{order_id}/events", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def bring_to(client: Any, auth: dict[str, dict[str, str]], kind: str,
             status: str) -> dict[str, Any]:
    order = create(client, auth, kind)
    for move in REACH[kind][status]:
        if move == CANCEL:
            response = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "test"},
                                   headers=auth["agency"])
            assert response.status_code == 200, response.get_json()
        else:
            record(client, auth["courier"], order["id"], move)
    assert read(client, auth["agency"], order["id"])["status"] == status
    return order


def snapshot(client: Any, auth: dict[str, dict[str, str]], order_id: str, count_rows: Any) -> tuple:
    order = read(client, auth["admin"], order_id)
    return (order["status"], order["attempt_count"], order["updated_at"],
            order["payment"]["status"], order["cash_collected"],
            len(events_of(client, auth["admin"], order_id)),
            count_rows(TrackingEvent), count_rows(WebhookEvent))


# -- the happy paths ----------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["courier", "dispatcher"])
def test_staff_of_the_orders_post_office_walk_a_result_delivery_to_delivered(client, auth, actor):
    order = create(client, auth, RD)
    assert order["status"] == "created"
    for step in RESULT_PATH:
        data = record(client, auth[actor], order["id"], step)
        assert [(e["type"], e["status"]) for e in data] == [(step, step)]
        assert data[0]["actor_role"] == actor
        assert data[0]["post_office_code"] == "PO-THUDUC"
        assert read(client, auth["agency"], order["id"])["status"] == step
    delivered = read(client, auth["agency"], order["id"])
    assert delivered["delivered_at"] is not None
    assert delivered["attempt_count"] == 0
    last = events_of(client, auth["agency"], order["id"])[-1]
    assert last["data"]["recipient"] == RECIPIENT


@pytest.mark.parametrize("actor", ["courier", "dispatcher"])
def test_staff_of_the_orders_post_office_walk_a_dossier_pickup_to_the_agency(client, auth, actor):
    order = create(client, auth, DP)
    for step in PICKUP_PATH:
        extra = ({"recipient": {"name": "Trần Thị Bình", "relationship": "agency_staff"}}
                 if step == "delivered_to_agency" else {})
        data = record(client, auth[actor], order["id"], step, **extra)
        assert [(e["type"], e["status"]) for e in data] == [(step, step)]
        assert read(client, auth["agency"], order["id"])["status"] == step
    done = read(client, auth["agency"], order["id"])
    assert done["status"] == "delivered_to_agency"
    assert done["delivered_at"] is not None
    assert events_of(client, auth["agency"], order["id"])[-1]["data"]["recipient"] == {
        "name": "Trần Thị Bình", "relationship": "agency_staff", "id_last4": None}


def test_the_events_are_listed_oldest_first_from_the_created_event_on(client, auth):
    order = create(client, auth, RD)
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    for i, step in enumerate(RESULT_PATH):
        # Dated in the order they happened; the courier's phone sent them a bit later.
        when = (start + timedelta(milliseconds=i)).isoformat()
        record(client, auth["courier"], order["id"], step, occurred_at=when, note=f"step {i}")
    listed = events_of(client, auth["agency"], order["id"])
    assert [e["type"] for e in listed] == ["created", *RESULT_PATH]
    assert [e["note"] for e in listed[1:]] == [f"step {i}" for i in range(4)]
    ids = [e["id"] for e in listed]
    assert ids == sorted(ids)
    assert all(e["occurred_at"].endswith("Z") for e in listed)
    times = [datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")) for e in listed[1:]]
    assert times == sorted(times)
    assert times[0] == start


def test_an_event_keeps_its_note_and_the_point_where_it_happened(client, auth):
    order = create(client, auth, RD)
    data = record(client, auth["courier"], order["id"], "collected", note="Một cửa, quầy 3",
                  lat=10.8700, lon=106.8030)
    assert (data[0]["note"], data[0]["lat"], data[0]["lon"]) == ("Một cửa, quầy 3", 10.87, 106.803)


# -- every other move is refused and writes nothing -----------------------------------------

STATES = [pytest.param(kind, status, id=f"{kind}:{status}")
          for kind in (RD, DP) for status in REACH[kind]]


@pytest.mark.parametrize(("kind", "status"), STATES)
def test_every_move_the_lifecycle_forbids_is_409_invalid_transition_and_writes_nothing(
        client, auth, count_rows, kind, status):
    order = bring_to(client, auth, kind, status)
    before = snapshot(client, auth, order["id"], count_rows)
    refused = [t for t in EVENT_TYPES if t not in ALLOWED[kind][status]]
    assert refused
    for type_ in refused:
        response = post_event(client, auth["courier"], order["id"], type_)
        body = assert_api_error(response, 409, "invalid_transition")
        assert body["current_status"] == status, type_
        assert body["requested_status"] == type_
        assert snapshot(client, auth, order["id"], count_rows) == before, type_


ALLOWED_MOVES = [pytest.param(kind, status, type_, id=f"{kind}:{status}->{type_}")
                 for kind in (RD, DP) for status in REACH[kind]
                 for type_ in sorted(ALLOWED[kind][status])]


@pytest.mark.parametrize(("kind", "status", "type_"), ALLOWED_MOVES)
def test_every_move_the_lifecycle_allows_is_recorded(client, auth, count_rows, kind, status,
                                                     type_):
    order = bring_to(client, auth, kind, status)
    events_before = count_rows(TrackingEvent)
    data = record(client, auth["dispatcher"], order["id"], type_)
    assert data[0]["type"] == type_
    assert count_rows(TrackingEvent) == events_before + len(data)
    assert read(client, auth["agency"], order["id"])["status"] == data[-1]["status"]


# -- failed attempts ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "failure", "at"), [
    (RD, "delivery_failed", "out_for_delivery"), (DP, "pickup_failed", "pickup_scheduled")])
def test_a_failed_attempt_without_a_reason_is_422_and_writes_nothing(client, auth, count_rows,
                                                                     kind, failure, at):
    order = bring_to(client, auth, kind, at)
    before = snapshot(client, auth, order["id"], count_rows)
    response = client.post(f"{ORDERS}/{order['id']}/events", json={"type": failure},
                           headers=auth["courier"])
    body = assert_api_error(response, 422, "invalid_event")
    assert "failure_reason" in body["errors"]
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_an_unknown_failure_reason_is_422(client, auth, count_rows):
    order = bring_to(client, auth, RD, "out_for_delivery")
    before = snapshot(client, auth, order["id"], count_rows)
    response = post_event(client, auth["courier"], order["id"], "delivery_failed",
                          failure_reason="dog_in_the_yard")
    body = assert_api_error(response, 422, "validation_error")
    assert "failure_reason" in body["errors"]
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_documents_incomplete_is_refused_for_a_result_delivery(client, auth, count_rows):
    order = bring_to(client, auth, RD, "out_for_delivery")
    before = snapshot(client, auth, order["id"], count_rows)
    response = post_event(client, auth["courier"], order["id"], "delivery_failed",
                          failure_reason="documents_incomplete")
    body = assert_api_error(response, 422, "invalid_event")
    assert "failure_reason" in body["errors"]
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_documents_incomplete_is_a_reason_a_pickup_can_fail_for(client, auth):
    order = bring_to(client, auth, DP, "pickup_scheduled")
    data = record(client, auth["courier"], order["id"], "pickup_failed",
                  failure_reason="documents_incomplete", note="Thiếu tờ khai")
    assert [(e["status"], e["failure_reason"]) for e in data] == [
        ("pickup_failed", "documents_incomplete")]
    assert read(client, auth["agency"], order["id"])["attempt_count"] == 1


def test_a_reason_on_an_event_that_is_not_a_failure_is_422(client, auth):
    order = create(client, auth, RD)
    response = post_event(client, auth["courier"], order["id"], "collected",
                          failure_reason="recipient_not_home")
    assert_api_error(response, 422, "invalid_event")


def test_after_a_first_failed_delivery_the_courier_may_go_out_again(client, auth):
    order = bring_to(client, auth, RD, "out_for_delivery")
    first = record(client, auth["courier"], order["id"], "delivery_failed")
    assert [e["status"] for e in first] == ["delivery_failed"]
    assert read(client, auth["agency"], order["id"])["attempt_count"] == 1
    record(client, auth["courier"], order["id"], "out_for_delivery")
    record(client, auth["courier"], order["id"], "delivered")
    done = read(client, auth["agency"], order["id"])
    assert (done["status"], done["attempt_count"]) == ("delivered", 1)


def test_the_second_failed_delivery_answers_both_events_and_the_result_is_returning(client, auth):
    order = bring_to(client, auth, RD, "out_for_delivery")
    record(client, auth["courier"], order["id"], "delivery_failed",
           failure_reason="recipient_not_home")
    record(client, auth["courier"], order["id"], "out_for_delivery")
    data = record(client, auth["courier"], order["id"], "delivery_failed",
                  failure_reason="address_not_found", note="Không tìm thấy số nhà")
    assert [e["status"] for e in data] == ["delivery_failed", "returning"]
    failed, automatic = data
    assert failed["failure_reason"] == "address_not_found"
    assert failed["note"] == "Không tìm thấy số nhà"
    assert automatic["data"] == {"automatic": True, "reason": "attempts_exhausted"}
    assert automatic["failure_reason"] is None and automatic["note"] is None
    now = read(client, auth["agency"], order["id"])
    assert (now["status"], now["attempt_count"]) == ("returning", 2)
    assert [e["status"] for e in events_of(client, auth["agency"], order["id"])][-2:] == [
        "delivery_failed", "returning"]
    # The way back ends at the agency.
    record(client, auth["courier"], order["id"], "returned_to_agency")
    assert read(client, auth["agency"], order["id"])["status"] == "returned_to_agency"


def test_the_201_body_is_the_posted_event_itself_with_its_follow_ups_beside_it(client, auth):
    order = bring_to(client, auth, RD, "out_for_delivery")
    first = post_event(client, auth["courier"], order["id"], "delivery_failed")
    assert first.status_code == 201
    body = first.get_json()
    listed = events_of(client, auth["agency"], order["id"])
    assert body == {**listed[-1], "follow_up_events": []}
    record(client, auth["courier"], order["id"], "out_for_delivery")
    last = post_event(client, auth["courier"], order["id"], "delivery_failed",
                      failure_reason="address_not_found")
    body = last.get_json()
    listed = events_of(client, auth["agency"], order["id"])
    assert (body["status"], body["failure_reason"]) == ("delivery_failed", "address_not_found")
    assert body == {**listed[-2], "follow_up_events": [listed[-1]]}
    assert body["follow_up_events"][0]["status"] == "returning"


def test_a_retried_event_with_the_same_idempotency_key_replays_the_same_body(client, auth,
                                                                             count_rows):
    order = bring_to(client, auth, RD, "out_for_delivery")
    record(client, auth["courier"], order["id"], "delivery_failed")
    record(client, auth["courier"], order["id"], "out_for_delivery")
    headers = {**auth["courier"], "Idempotency-Key": "last-attempt-1"}
    first = post_event(client, headers, order["id"], "delivery_failed")
    events_after_first = count_rows(TrackingEvent)
    again = post_event(client, headers, order["id"], "delivery_failed")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert [e["status"] for e in again.get_json()["follow_up_events"]] == ["returning"]
    assert count_rows(TrackingEvent) == events_after_first


def test_the_second_failed_pickup_answers_both_events_and_the_order_is_cancelled(client, auth):
    order = bring_to(client, auth, DP, "pickup_scheduled")
    record(client, auth["courier"], order["id"], "pickup_failed")
    record(client, auth["courier"], order["id"], "pickup_scheduled")
    data = record(client, auth["courier"], order["id"], "pickup_failed",
                  failure_reason="recipient_not_home")
    assert [e["status"] for e in data] == ["pickup_failed", "cancelled"]
    assert data[1]["data"] == {"automatic": True, "reason": "attempts_exhausted"}
    now = read(client, auth["agency"], order["id"])
    assert (now["status"], now["attempt_count"]) == ("cancelled", 2)
    assert now["cancelled_at"] is not None
    assert now["cancel_reason"] == "attempts_exhausted"


def test_the_automatic_step_is_published_after_the_failure_it_follows(client, auth, db_session):
    order = bring_to(client, auth, RD, "out_for_delivery")
    record(client, auth["courier"], order["id"], "delivery_failed")
    record(client, auth["courier"], order["id"], "out_for_delivery")
    record(client, auth["courier"], order["id"], "delivery_failed")
    published = [e.data for e in db_session.scalars(
        select(WebhookEvent).where(WebhookEvent.data["order_id"].as_string() == order["id"])
        .order_by(WebhookEvent.id))]
    assert [(d["previous_status"], d["status"], d["automatic"]) for d in published][-2:] == [
        ("out_for_delivery", "delivery_failed", False), ("delivery_failed", "returning", True)]


@pytest.fixture
def three_attempts_client(connection, database_url):
    app = create_app({"settings": test_settings(database_url, max_delivery_attempts=3),
                      "db_bind": connection, "TESTING": True})
    return app.test_client()


def test_with_three_allowed_attempts_the_second_failure_still_allows_a_third_try(
        three_attempts_client, auth):
    client = three_attempts_client
    order = bring_to(client, auth, RD, "out_for_delivery")
    for _ in range(2):
        assert [e["status"] for e in record(client, auth["courier"], order["id"],
                                            "delivery_failed")] == ["delivery_failed"]
        record(client, auth["courier"], order["id"], "out_for_delivery")
    last = record(client, auth["courier"], order["id"], "delivery_failed")
    assert [e["status"] for e in last] == ["delivery_failed", "returning"]
    assert read(client, auth["agency"], order["id"])["attempt_count"] == 3


# -- proof of delivery and personal data ----------------------------------------------------

def test_a_delivery_without_a_recipient_is_422(client, auth, count_rows):
    order = bring_to(client, auth, RD, "out_for_delivery")
    before = snapshot(client, auth, order["id"], count_rows)
    response = client.post(f"{ORDERS}/{order['id']}/events", json={"type": "delivered"},
                           headers=auth["courier"])
    body = assert_api_error(response, 422, "invalid_event")
    assert "recipient" in body["errors"]
    assert snapshot(client, auth, order["id"], count_rows) == before


@pytest.mark.parametrize("relationship", ["self", "family", "authorised"])
def test_the_recipient_name_relationship_and_id_last4_are_kept_as_proof(client, auth,
                                                                        relationship):
    order = bring_to(client, auth, RD, "out_for_delivery")
    recipient = {"name": "Lê Thị Cúc", "relationship": relationship, "id_last4": "0042"}
    data = record(client, auth["courier"], order["id"], "delivered", recipient=recipient)
    assert data[0]["data"]["recipient"] == recipient
    assert events_of(client, auth["agency"], order["id"])[-1]["data"]["recipient"] == recipient


def test_an_unknown_relationship_is_422(client, auth):
    order = bring_to(client, auth, RD, "out_for_delivery")
    response = post_event(client, auth["courier"], order["id"], "delivered",
                          recipient={"name": "A", "relationship": "neighbour_s_cat"})
    body = assert_api_error(response, 422, "validation_error")
    assert "recipient.relationship" in body["errors"]


WHOLE_ID = "012345678901"


def all_stored_text(db_session) -> str:
    """Every row of every table, as text: where a leaked value would show."""
    db_session.expire_all()
    chunks = []
    for table in Base.metadata.sorted_tables:
        for row in db_session.execute(select(table)):
            chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


@pytest.mark.parametrize("id_number", [WHOLE_ID, "079203004567", "271234567"])
def test_a_whole_id_number_in_id_last4_is_422_and_is_kept_nowhere(
        client, auth, count_rows, db_session, caplog, id_number):
    order = bring_to(client, auth, RD, "out_for_delivery")
    before = snapshot(client, auth, order["id"], count_rows)
    caplog.set_level(logging.DEBUG)
    response = client.post(
        f"{ORDERS}/{order['id']}/events",
        json={"type": "delivered", "recipient": {"name": "Nguyễn Văn An", "relationship": "self",
                                                 "id_last4": id_number}},
        headers={**auth["courier"], "Idempotency-Key": "pod-1"})
    body = assert_api_error(response, 422, "validation_error")
    assert "recipient.id_last4" in body["errors"]
    assert id_number not in response.get_data(as_text=True)
    assert id_number not in caplog.text
    assert snapshot(client, auth, order["id"], count_rows) == before
    assert id_number not in all_stored_text(db_session)


@pytest.mark.parametrize("id_last4", [
    "12345", "123", "", "12a4", "12 34",
    "１２３４",   # full-width digits: \d takes them, a person reading the ID card does not
    "١٢٣٤",     # Arabic-Indic digits
    "1234\n",   # a trailing newline slips through a `$` anchor
], ids=["five", "three", "empty", "letter", "space", "fullwidth", "arabic_indic", "newline"])
def test_id_last4_is_exactly_four_ascii_digits(client, auth, count_rows, id_last4):
    order = bring_to(client, auth, RD, "out_for_delivery")
    before = snapshot(client, auth, order["id"], count_rows)
    response = post_event(client, auth["courier"], order["id"], "delivered",
                          recipient={"name": "Nguyễn Văn An", "relationship": "self",
                                     "id_last4": id_last4})
    body = assert_api_error(response, 422, "validation_error")
    assert "recipient.id_last4" in body["errors"]
    assert snapshot(client, auth, order["id"], count_rows) == before


# -- cash on delivery -----------------------------------------------------------------------

def test_an_unpriced_cash_on_delivery_order_cannot_go_out_until_it_has_a_price(
        client, auth, db_session):
    # An order is unpriced while an end of its leg has no ward (the test agencies have no
    # address): the courier would not know how much cash to collect.
    order = create(client, auth, RD, payment_method="cash_on_delivery")
    assert order["payment"]["status"] == "due_on_delivery"
    assert read(client, auth["agency"], order["id"])["price"]["status"] == "pending"
    for step in RESULT_PATH[:2]:
        record(client, auth["courier"], order["id"], step)
    response = post_event(client, auth["courier"], order["id"], "out_for_delivery")
    assert_api_error(response, 422, "price_pending")
    done = read(client, auth["agency"], order["id"])
    assert (done["status"], done["payment"]["status"]) == ("at_post_office", "due_on_delivery")


@pytest.mark.parametrize(("price", "total_vnd", "expected"), [
    # The amount due is what the payer hands over: postage and the forwarded procedure fee.
    ({"currency": "VND", "lines": [], "total": 26000, "procedure_fee": 8000,
      "amount_due": 34000}, 26000, 34000),
    # A snapshot from before amount_due existed: the total is what is due.
    ({"currency": "VND", "lines": [], "total": 20800}, 20800, 20800),
])
def test_delivering_a_priced_cash_on_delivery_order_records_the_amount_due(
        client, auth, db_session, price, total_vnd, expected):
    order = create(client, auth, RD, payment_method="cash_on_delivery")
    db_session.execute(update(Order).where(Order.public_id == order["id"])
                       .values(price=price, total_vnd=total_vnd))
    db_session.commit()
    for step in RESULT_PATH:
        data = record(client, auth["courier"], order["id"], step)
    assert data[0]["data"]["cash_collected_vnd"] == expected
    done = read(client, auth["agency"], order["id"])
    assert (done["payment"]["status"], done["cash_collected"]) == ("paid", expected)


def test_delivering_an_order_paid_online_collects_no_cash(client, auth):
    order = create(client, auth, RD, payment_method="online")
    for step in RESULT_PATH:
        data = record(client, auth["courier"], order["id"], step)
    assert "cash_collected_vnd" not in (data[0]["data"] or {})
    done = read(client, auth["agency"], order["id"])
    assert (done["payment"]["status"], done["cash_collected"]) == ("unpaid", None)


# -- time -----------------------------------------------------------------------------------

def test_an_event_dated_in_the_future_is_422_and_writes_nothing(client, auth, count_rows):
    order = create(client, auth, RD)
    before = snapshot(client, auth, order["id"], count_rows)
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    response = post_event(client, auth["courier"], order["id"], "collected", occurred_at=tomorrow)
    body = assert_api_error(response, 422, "invalid_event")
    assert "occurred_at" in body["errors"]
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_an_event_dated_before_the_order_existed_is_422(client, auth):
    order = create(client, auth, RD)
    last_year = (datetime.now(timezone.utc) - timedelta(days=365)).isoformat()
    response = post_event(client, auth["courier"], order["id"], "collected",
                          occurred_at=last_year)
    body = assert_api_error(response, 422, "invalid_event")
    assert "occurred_at" in body["errors"]


def test_an_event_time_without_an_offset_is_422(client, auth):
    order = create(client, auth, RD)
    response = post_event(client, auth["courier"], order["id"], "collected",
                          occurred_at="2020-03-02T09:00:00")
    body = assert_api_error(response, 422, "validation_error")
    assert "occurred_at" in body["errors"]


def test_an_event_time_in_vietnam_time_is_stored_and_shown_in_utc(client, auth):
    order = create(client, auth, RD)
    vietnam = timezone(timedelta(hours=7))
    moment = datetime.now(vietnam).replace(microsecond=0) - timedelta(minutes=1)
    data = record(client, auth["courier"], order["id"], "collected",
                  occurred_at=moment.isoformat())
    assert data[0]["occurred_at"] == moment.astimezone(timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# -- who may record events ------------------------------------------------------------------

def test_a_government_system_may_not_record_events(client, auth, count_rows):
    order = create(client, auth, RD)
    before = snapshot(client, auth, order["id"], count_rows)
    response = post_event(client, auth["agency"], order["id"], "collected")
    assert_api_error(response, 403, "forbidden")
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_a_government_system_may_read_the_events_of_its_orders(client, auth):
    order = create(client, auth, RD)
    record(client, auth["courier"], order["id"], "collected")
    assert [e["type"] for e in events_of(client, auth["agency"], order["id"])] == [
        "created", "collected"]


@pytest.mark.parametrize("who", ["courier_elsewhere", "other_dispatcher"])
def test_staff_of_another_post_office_get_404_and_write_nothing(client, auth, make_key,
                                                                 count_rows, who):
    headers = ({"Authorization": f"Bearer {make_key('courier', ['PO-SAIGON'])}"}
               if who == "courier_elsewhere" else auth["other_dispatcher"])
    order = create(client, auth, RD)
    before = snapshot(client, auth, order["id"], count_rows)
    assert_api_error(post_event(client, headers, order["id"], "collected"), 404, "order_not_found")
    assert_api_error(client.get(f"{ORDERS}/{order['id']}/events", headers=headers), 404,
                     "order_not_found")
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_another_agencys_system_cannot_read_the_events(client, auth):
    order = create(client, auth, RD)
    response = client.get(f"{ORDERS}/{order['id']}/events", headers=auth["other_agency"])
    assert_api_error(response, 404, "order_not_found")


def test_an_event_for_an_unknown_order_is_404(client, auth):
    response = post_event(client, auth["courier"], "ord_doesnotexist", "collected")
    assert_api_error(response, 404, "order_not_found")


def test_an_unknown_event_type_is_422(client, auth):
    order = create(client, auth, RD)
    response = client.post(f"{ORDERS}/{order['id']}/events", json={"type": "lost_in_the_river"},
                           headers=auth["courier"])
    body = assert_api_error(response, 422, "validation_error")
    assert "type" in body["errors"]


def test_cancelled_cannot_be_recorded_as_an_event(client, auth):
    # Cancelling has its own endpoint, for the roles that may cancel.
    order = create(client, auth, RD)
    response = client.post(f"{ORDERS}/{order['id']}/events", json={"type": "cancelled"},
                           headers=auth["courier"])
    assert_api_error(response, 422, "validation_error")
    assert read(client, auth["agency"], order["id"])["status"] == "created"


# -- cancelling -----------------------------------------------------------------------------

CANCELLABLE = {RD: {"created"}, DP: {"created", "pickup_scheduled", "pickup_failed"}}


@pytest.mark.parametrize(("kind", "status"), STATES)
def test_cancel_is_allowed_only_before_the_item_is_in_a_couriers_hands(client, auth, count_rows,
                                                                         kind, status):
    order = bring_to(client, auth, kind, status)
    before = snapshot(client, auth, order["id"], count_rows)
    response = client.post(f"{ORDERS}/{order['id']}/cancel",
                           json={"reason": "Công dân tự đến nhận"}, headers=auth["agency"])
    if status in CANCELLABLE[kind]:
        assert response.status_code == 200, response.get_json()
        cancelled = response.get_json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancel_reason"] == "Công dân tự đến nhận"
        assert cancelled["cancelled_at"] is not None
        last = events_of(client, auth["agency"], order["id"])[-1]
        assert (last["type"], last["note"]) == ("cancelled", "Công dân tự đến nhận")
    else:
        body = assert_api_error(response, 409, "invalid_transition")
        assert body["current_status"] == status
        assert snapshot(client, auth, order["id"], count_rows) == before


@pytest.mark.parametrize("role", ["admin", "agency", "dispatcher"])
def test_admins_government_systems_and_dispatchers_may_cancel(client, auth, role):
    order = create(client, auth, RD)
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth[role])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"


def test_a_courier_may_not_cancel(client, auth, count_rows):
    order = create(client, auth, RD)
    before = snapshot(client, auth, order["id"], count_rows)
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth["courier"])
    assert_api_error(response, 403, "forbidden")
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_another_agencys_system_cannot_cancel_an_order_it_cannot_see(client, auth, count_rows):
    order = create(client, auth, RD)
    before = snapshot(client, auth, order["id"], count_rows)
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={},
                           headers=auth["other_agency"])
    assert_api_error(response, 404, "order_not_found")
    assert snapshot(client, auth, order["id"], count_rows) == before


def test_a_cancelled_order_cannot_be_cancelled_again(client, auth):
    order = bring_to(client, auth, RD, "cancelled")
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth["agency"])
    assert_api_error(response, 409, "invalid_transition")
