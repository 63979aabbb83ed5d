"""Idempotency-Key: a retried create replays the first answer instead of creating twice."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient
from postal_svc.access.service import authenticate, create_client
from postal_svc.db import Database
from postal_svc.idempotency import IdempotencyRecord, purge_expired, request_fingerprint
from postal_svc.jobs import purge_idempotency_records
from postal_svc.shipments.models import Order
from tests.conftest import assert_api_error, order_body

ORDERS = "/api/v1/orders"


def keyed(headers, key):
    return {**headers, "Idempotency-Key": key}


def client_id_of(db_session, headers):
    caller = authenticate(db_session, headers["Authorization"].removeprefix("Bearer "))
    assert caller is not None
    return caller.client_id


def test_same_key_and_same_body_replays_the_first_answer_with_one_order(client, auth, count_rows):
    body = order_body()
    headers = keyed(auth["agency"], "order-HS-1")
    first = client.post(ORDERS, json=body, headers=headers)
    second = client.post(ORDERS, json=body, headers=headers)
    third = client.post(ORDERS, json=body, headers=headers)
    assert first.status_code == second.status_code == third.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert third.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json() == third.get_json()
    assert count_rows(Order) == 1


def test_the_same_body_with_keys_in_another_order_is_the_same_request(client, auth, count_rows):
    body = order_body()
    headers = keyed(auth["agency"], "order-HS-reordered")
    first = client.post(ORDERS, json=body, headers=headers)
    reordered = json.dumps(dict(reversed(list(body.items()))), ensure_ascii=False)
    again = client.post(ORDERS, data=reordered, content_type="application/json", headers=headers)
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert count_rows(Order) == 1


def test_same_key_with_a_different_body_is_409_idempotency_key_reused(client, auth, count_rows):
    headers = keyed(auth["agency"], "order-HS-2")
    first = client.post(ORDERS, json=order_body(), headers=headers)
    assert first.status_code == 201
    response = client.post(ORDERS, json=order_body(), headers=headers)
    assert_api_error(response, 409, "idempotency_key_reused")
    assert count_rows(Order) == 1


def test_the_same_key_on_another_endpoint_is_a_different_request(client, auth, count_rows):
    headers = keyed(auth["agency"], "shared-key")
    order = client.post(ORDERS, json=order_body(), headers=headers).get_json()
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=headers)
    assert_api_error(response, 409, "idempotency_key_reused")
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()["status"] \
        == "created"


def test_an_error_answer_is_not_stored_so_a_retry_is_answered_afresh(client, auth, count_rows):
    body = order_body(dossier_code="HS-IDEM-DUP")
    client.post(ORDERS, json=body, headers=auth["agency"])
    headers = keyed(auth["agency"], "dup-key")
    first = client.post(ORDERS, json=body, headers=headers)
    second = client.post(ORDERS, json=body, headers=headers)
    assert_api_error(first, 409, "duplicate_order")
    assert_api_error(second, 409, "duplicate_order")
    assert "Idempotent-Replayed" not in second.headers
    assert count_rows(Order) == 1
    assert count_rows(IdempotencyRecord) == 0


def test_keys_are_per_client(client, auth, make_key, count_rows):
    twin = {"Authorization": f"Bearer {make_key('agency_system', ['AG-LINHTRUNG'], 'twin')}"}
    first = client.post(ORDERS, json=order_body(), headers=keyed(auth["agency"], "k-1"))
    other_body = client.post(ORDERS, json=order_body(), headers=keyed(twin, "k-1"))
    assert first.status_code == other_body.status_code == 201
    assert "Idempotent-Replayed" not in other_body.headers
    assert other_body.get_json()["id"] != first.get_json()["id"]
    assert count_rows(Order) == 2


def test_another_client_sending_the_same_key_and_body_is_not_served_the_first_answer(
        client, auth, make_key, count_rows):
    twin = {"Authorization": f"Bearer {make_key('agency_system', ['AG-LINHTRUNG'], 'twin')}"}
    body = order_body()
    client.post(ORDERS, json=body, headers=keyed(auth["agency"], "k-2"))
    response = client.post(ORDERS, json=body, headers=keyed(twin, "k-2"))
    assert "Idempotent-Replayed" not in response.headers
    assert_api_error(response, 409, "duplicate_order")
    assert count_rows(Order) == 1


def test_a_key_longer_than_255_characters_is_422(client, auth, count_rows):
    response = client.post(ORDERS, json=order_body(), headers=keyed(auth["agency"], "k" * 256))
    body = assert_api_error(response, 422)
    assert "Idempotency-Key" in body["errors"]
    assert count_rows(Order) == 0
    assert count_rows(IdempotencyRecord) == 0


def test_a_key_of_255_characters_is_accepted(client, auth):
    response = client.post(ORDERS, json=order_body(), headers=keyed(auth["agency"], "k" * 255))
    assert response.status_code == 201


def test_a_blank_key_is_422(client, auth, count_rows):
    response = client.post(ORDERS, json=order_body(), headers=keyed(auth["agency"], "   "))
    assert_api_error(response, 422)
    assert count_rows(Order) == 0


def test_a_failed_request_does_not_poison_its_key(client, auth, count_rows):
    headers = keyed(auth["agency"], "order-HS-3")
    bad = order_body()
    bad["parcel"]["weight_grams"] = 0
    assert_api_error(client.post(ORDERS, json=bad, headers=headers), 422)
    assert count_rows(IdempotencyRecord) == 0
    fixed = client.post(ORDERS, json=order_body(), headers=headers)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers
    assert count_rows(Order) == 1


def test_a_failed_business_rule_does_not_poison_its_key_either(client, auth, count_rows):
    headers = keyed(auth["agency"], "order-HS-4")
    assert_api_error(client.post(ORDERS, json=order_body(agency_code="AG-NOWHERE"),
                                 headers=headers), 422, "unknown_agency")
    assert client.post(ORDERS, json=order_body(), headers=headers).status_code == 201


def _hold(db_session: Session, client_id: int, key: str, body: dict, *, locked_at: datetime,
          expires_at: datetime, status: int | None = None, response: str | None = None,
          path: str = ORDERS) -> None:
    payload = json.dumps(body).encode()
    db_session.add(IdempotencyRecord(
        client_id=client_id, key=key, request_hash=request_fingerprint("POST", path, payload),
        response_status=status, response_body=response, locked_at=locked_at,
        created_at=locked_at, expires_at=expires_at))
    db_session.commit()


def test_a_request_still_in_flight_with_the_same_key_is_409_request_in_progress(
        client, auth, db_session, now, count_rows):
    body = order_body()
    _hold(db_session, client_id_of(db_session, auth["agency"]), "in-flight", body,
          locked_at=now, expires_at=now + timedelta(hours=24))
    response = client.post(ORDERS, json=body, headers=keyed(auth["agency"], "in-flight"))
    assert_api_error(response, 409, "request_in_progress")
    assert count_rows(Order) == 0


def test_a_claim_abandoned_by_a_crashed_worker_is_taken_over(client, auth, db_session, now,
                                                             count_rows):
    body = order_body()
    _hold(db_session, client_id_of(db_session, auth["agency"]), "crashed", body,
          locked_at=now - timedelta(minutes=10), expires_at=now + timedelta(hours=23))
    response = client.post(ORDERS, json=body, headers=keyed(auth["agency"], "crashed"))
    assert response.status_code == 201
    assert count_rows(Order) == 1
    again = client.post(ORDERS, json=body, headers=keyed(auth["agency"], "crashed"))
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == response.get_json()


def test_an_expired_record_is_replaced_by_a_fresh_request(client, auth, db_session, now,
                                                          count_rows):
    body = order_body()
    old = now - timedelta(hours=30)
    _hold(db_session, client_id_of(db_session, auth["agency"]), "yesterday", body,
          locked_at=old, expires_at=now - timedelta(hours=6), status=201,
          response='{"id": "ord_from_yesterday"}')
    response = client.post(ORDERS, json=body, headers=keyed(auth["agency"], "yesterday"))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert response.get_json()["id"] != "ord_from_yesterday"
    assert count_rows(Order) == 1
    assert count_rows(IdempotencyRecord) == 1


def test_an_expired_record_with_another_body_does_not_block_the_key(client, auth, db_session,
                                                                    now):
    _hold(db_session, client_id_of(db_session, auth["agency"]), "reused-tomorrow", order_body(),
          locked_at=now - timedelta(hours=30), expires_at=now - timedelta(hours=6), status=201,
          response="{}")
    response = client.post(ORDERS, json=order_body(), headers=keyed(auth["agency"],
                                                                    "reused-tomorrow"))
    assert response.status_code == 201


def test_an_idempotent_agency_create_replays_too(client, auth, count_rows):
    headers = keyed(auth["admin"], "agency-1")
    body = {"code": "AG-IDEM", "name": "UBND phường Idem", "post_office_code": "PO-THUDUC"}
    first = client.post("/api/v1/agencies", json=body, headers=headers)
    second = client.post("/api/v1/agencies", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.get_json() == first.get_json()


# -- purging --------------------------------------------------------------------------------

def _records(session: Session, client_id: int, now: datetime) -> None:
    for key, expires in (("gone-1", now - timedelta(hours=1)), ("gone-2", now - timedelta(days=3)),
                         ("kept-1", now + timedelta(hours=1)), ("kept-2", now + timedelta(hours=23))):
        session.add(IdempotencyRecord(client_id=client_id, key=key, request_hash="0" * 64,
                                      response_status=201, response_body="{}",
                                      locked_at=now - timedelta(hours=24), created_at=now,
                                      expires_at=expires))


def test_purge_expired_deletes_only_expired_records(db_session, now):
    client, _ = create_client(db_session, name="purger", role="admin", now=now)
    _records(db_session, client.id, now)
    db_session.flush()
    assert purge_expired(db_session, now=now) == 2
    left = db_session.scalars(select(IdempotencyRecord.key)).all()
    assert sorted(left) == ["kept-1", "kept-2"]
    assert purge_expired(db_session, now=now) == 0


def test_the_purge_job_deletes_only_expired_records_and_can_run_again(committed_engine):
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        client, _ = create_client(session, name="purger", role="admin", now=now)
        _records(session, client.id, now)
        session.commit()
    db = Database(committed_engine)
    assert purge_idempotency_records(db, now=now) == 2
    assert purge_idempotency_records(db, now=now) == 0
    with Session(committed_engine) as session:
        assert sorted(session.scalars(select(IdempotencyRecord.key))) == ["kept-1", "kept-2"]
        assert session.scalar(select(ApiClient.name)) == "purger"
