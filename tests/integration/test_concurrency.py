"""Intake under concurrency (PostgreSQL in CI, SQLite too): races never create a second order."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from postal_svc import create_app
from postal_svc.access.service import create_client
from postal_svc.billing import service
from postal_svc.db import Database
from postal_svc.directory.service import create_agency, create_post_office, update_agency
from postal_svc.routes import common
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.shipments.s10 import is_valid_tracking_number
from tests.billing_support import tariff_document
from tests.conftest import order_body, test_settings


CONCURRENCY = 50


@pytest.fixture
def live(committed_engine: Engine, database_url: str) -> Iterator[dict[str, Any]]:
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức"}, now=now)
        create_agency(session, {"code": "AG-LINHTRUNG", "name": "UBND phường Linh Trung",
                                "post_office_code": "PO-THUDUC"}, now=now)
        _, key = create_client(session, name="one-stop", role="agency_system",
                               scope=["AG-LINHTRUNG"], now=now)
        session.commit()
    app = create_app({"settings": test_settings(database_url), "db_bind": committed_engine})
    yield {"app": app, "headers": {"Authorization": f"Bearer {key}"}, "engine": committed_engine}
    app.extensions["postal"].db.dispose()  # its pool of connections without a transaction


def run_at_once(count: int, request: Callable[[int], Any]) -> list[Any]:
    """Start `count` requests in threads released together by a barrier."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = request(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def count_orders(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def assert_one_order_and_duplicates_naming_it(results: list[tuple[int, dict[str, Any]]]) -> None:
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 1, statuses
    assert statuses[409] == CONCURRENCY - 1, statuses
    winner = next(payload for status, payload in results if status == 201)
    assert all(payload["code"] == "duplicate_order" and payload["existing_id"] == winner["id"]
               for status, payload in results if status == 409)


def test_fifty_simultaneous_identical_requests_with_one_key_create_exactly_one_order(
        live: dict[str, Any]) -> None:
    body = order_body()
    headers = {**live["headers"], "Idempotency-Key": "retry-storm-1"}

    def post(_: int) -> tuple[int, dict[str, Any], str | None]:
        response = live["app"].test_client().post("/api/v1/orders", json=body, headers=headers)
        return response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")

    results = run_at_once(CONCURRENCY, post)
    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in results if r[0] == 201]
    assert created, "at least the first request succeeds"
    assert len({r[1]["id"] for r in created}) == 1
    assert all(r[1]["code"] == "request_in_progress" for r in results if r[0] == 409)
    assert count_orders(live["engine"]) == 1


def test_fifty_simultaneous_requests_with_one_natural_key_and_different_keys_create_one_order(
        live: dict[str, Any]) -> None:
    body = order_body()

    def post(i: int) -> tuple[int, dict[str, Any]]:
        headers = {**live["headers"], "Idempotency-Key": f"distinct-{i}"}
        response = live["app"].test_client().post("/api/v1/orders", json=body, headers=headers)
        return response.status_code, response.get_json()

    assert_one_order_and_duplicates_naming_it(run_at_once(CONCURRENCY, post))
    assert count_orders(live["engine"]) == 1


def test_fifty_simultaneous_requests_with_one_natural_key_and_no_idempotency_key_create_one_order(
        live: dict[str, Any]) -> None:
    # Without Idempotency-Key, intake writes in one statement outside a transaction on
    # PostgreSQL: the natural key alone must still hold, and the order come with its event.
    body = order_body()

    def post(_: int) -> tuple[int, dict[str, Any]]:
        response = live["app"].test_client().post("/api/v1/orders", json=body,
                                                  headers=live["headers"])
        return response.status_code, response.get_json()

    assert_one_order_and_duplicates_naming_it(run_at_once(CONCURRENCY, post))
    assert count_orders(live["engine"]) == 1
    with Session(live["engine"]) as session:
        events = session.scalars(select(TrackingEvent.type)).all()
    assert events == ["created"]


def test_single_statement_sessions_commit_each_statement_on_postgresql(
        live: dict[str, Any]) -> None:
    app = live["app"]
    with app.test_request_context("/api/v1/orders", method="POST"):
        connection = common.session(single_statement=True).connection()
        if connection.dialect.name != "postgresql":
            pytest.skip("sessions without a transaction exist on PostgreSQL only")
        assert connection.connection.driver_connection.autocommit is True
    with app.test_request_context("/api/v1/orders", method="POST"):
        assert common.session().connection().connection.driver_connection.autocommit is False


def test_the_pool_without_transactions_is_made_on_first_use_only(committed_engine: Engine) -> None:
    db = Database(committed_engine)
    assert db._autocommit_engine is None  # the CLI, scheduler and planner never ask for it
    factory = db.autocommit_session_factory
    if committed_engine.dialect.name != "postgresql":
        assert factory is None
        return
    assert factory is not None and db.autocommit_session_factory is factory
    assert db._autocommit_engine is not None
    db.dispose()


def test_tracking_numbers_allocated_concurrently_are_unique_and_valid(live: dict[str, Any]) -> None:
    def post(i: int) -> tuple[int, dict[str, Any]]:
        response = live["app"].test_client().post("/api/v1/orders", json=order_body(),
                                                  headers=live["headers"])
        return response.status_code, response.get_json()

    results = run_at_once(CONCURRENCY, post)
    assert all(status == 201 for status, _ in results), Counter(s for s, _ in results)
    numbers = [payload["tracking_number"] for _, payload in results]
    assert len(set(numbers)) == CONCURRENCY
    assert all(is_valid_tracking_number(n) for n in numbers)


def test_simultaneous_creates_of_one_agency_code_give_one_201_and_409s_never_a_500(
        live: dict[str, Any], committed_engine: Engine) -> None:
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        _, admin_key = create_client(session, name="admin", role="admin", now=now)
        session.commit()
    headers = {"Authorization": f"Bearer {admin_key}"}

    def post(_: int) -> int:
        response = live["app"].test_client().post(
            "/api/v1/agencies", json={"code": "AG-RACE", "name": "UBND phường Đua"},
            headers=headers)
        return response.status_code

    statuses = Counter(run_at_once(8, post))
    assert statuses[201] == 1, statuses
    assert statuses[409] == 7, statuses


def test_a_request_whose_idempotency_key_was_taken_over_cannot_store_its_answer(
        committed_engine: Engine) -> None:
    from postal_svc.idempotency import (
        Claim, RequestInProgress, claim_key, record_response, request_fingerprint)

    db = Database(committed_engine)
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        client, _ = create_client(session, name="slow system", role="admin", now=now)
        session.commit()
        client_id = client.id
    fingerprint = request_fingerprint("POST", "/api/v1/orders", b"{}")
    first = claim_key(db, client_id=client_id, key="k", fingerprint=fingerprint, now=now,
                      ttl=timedelta(hours=24), lock_timeout=timedelta(seconds=60))
    later = now + timedelta(seconds=61)
    second = claim_key(db, client_id=client_id, key="k", fingerprint=fingerprint, now=later,
                       ttl=timedelta(hours=24), lock_timeout=timedelta(seconds=60))
    assert isinstance(first, Claim) and isinstance(second, Claim)
    assert first.record_id == second.record_id
    with Session(committed_engine) as session:
        with pytest.raises(RequestInProgress):
            record_response(session, first, status=201, body="{}")
        session.rollback()
        record_response(session, second, status=201, body='{"id": "second"}')
        session.commit()


def test_public_tracking_on_a_live_engine_reads_without_digits_and_still_counts_wrong_ones(
        live: dict[str, Any]) -> None:
    # Lookups without digits run outside a transaction on PostgreSQL; with digits they still
    # count wrong answers and lock the details after five.
    created = live["app"].test_client().post("/api/v1/orders", json=order_body(),
                                             headers=live["headers"]).get_json()
    number = created["tracking_number"]

    def look(_: int) -> tuple[int, dict[str, Any]]:
        response = live["app"].test_client().get(f"/api/v1/tracking/{number}")
        return response.status_code, response.get_json()

    results = run_at_once(10, look)
    assert {status for status, _ in results} == {200}
    assert all(body["tracking_number"] == number and "delivery_window" not in body
               and [e["status"] for e in body["events"]] == ["created"] for _, body in results)
    client = live["app"].test_client()
    assert client.get(f"/track/{number}").status_code == 200
    assert "delivery_window" in client.get(f"/api/v1/tracking/{number}?phone_last4=3456").get_json()
    for _ in range(5):
        assert "delivery_window" not in client.get(
            f"/api/v1/tracking/{number}?phone_last4=0000").get_json()
    assert "delivery_window" not in client.get(
        f"/api/v1/tracking/{number}?phone_last4=3456").get_json()


def test_without_idempotency_key_an_order_the_fresh_book_refuses_writes_nothing(
        live: dict[str, Any], committed_engine: Engine) -> None:
    # On PostgreSQL this order is written outside a transaction, so the check that its tariff
    # book is current must come before the write, not after it.
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        service.load_demo_billing(session, now)
        update_agency(session, "AG-LINHTRUNG",
                      {"address_text": "Đường số 9, P. Linh Trung, TP. Thủ Đức, TP.HCM"}, now=now)
        _, admin_key = create_client(session, name="admin", role="admin", now=now)
        session.commit()
    client = live["app"].test_client()
    first = client.post("/api/v1/orders", json=order_body(), headers=live["headers"])
    assert first.status_code == 201, first.get_json()  # the process now knows the book
    soon = now + timedelta(seconds=60)
    light = tariff_document("HCM-LIGHT", soon, max_weight_g=120)
    published = client.post("/api/v1/tariffs", json=light,
                            headers={"Authorization": f"Bearer {admin_key}"})
    assert published.status_code == 201, published.get_json()
    body = order_body(registered_at=(soon + timedelta(seconds=60)).isoformat(),
                      parcel={"weight_grams": 150, "pieces": 1})
    refused = client.post("/api/v1/orders", json=body, headers=live["headers"])
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["code"] == "weight_out_of_range"
    assert count_orders(live["engine"]) == 1
    light_enough = client.post("/api/v1/orders", json={**body, "parcel": {"weight_grams": 100}},
                               headers=live["headers"])
    assert light_enough.status_code == 201, light_enough.get_json()
    assert light_enough.get_json()["price"]["tariff_version"] == "HCM-LIGHT"
