"""Batch intake: 207 with one result per item, in input order; good items go through."""
from __future__ import annotations

from postal_svc.idempotency import IdempotencyRecord
from postal_svc.shipments.models import Order
from postal_svc.shipments.s10 import is_valid_tracking_number
from tests.conftest import assert_api_error, order_body

BATCH = "/api/v1/orders/batch"


def batch(client, headers, items, **kwargs):
    return client.post(BATCH, json={"orders": items}, headers=headers, **kwargs)


def test_a_batch_of_good_orders_is_207_with_each_order_in_input_order(client, auth, count_rows):
    items = [order_body(dossier_code=f"HS-B-{i}") for i in range(3)]
    response = batch(client, auth["agency"], items)
    assert response.status_code == 207
    results = response.get_json()["data"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert [r["order"]["dossier_code"] for r in results] == ["HS-B-0", "HS-B-1", "HS-B-2"]
    for result in results:
        assert is_valid_tracking_number(result["order"]["tracking_number"])
        assert "error" not in result or result["error"] is None
    assert (response.get_json()["created"], response.get_json()["failed"]) == (3, 0)
    assert count_rows(Order) == 3


def test_batch_orders_can_be_read_back_like_single_orders(client, auth):
    result = batch(client, auth["agency"], [order_body()]).get_json()["data"][0]
    got = client.get(f"/api/v1/orders/{result['order']['id']}", headers=auth["agency"])
    assert got.status_code == 200
    assert got.get_json() == result["order"]


def test_good_items_are_created_even_when_others_fail(client, auth, count_rows):
    bad_weight = order_body(dossier_code="HS-B-bad")
    bad_weight["parcel"]["weight_grams"] = 0
    items = [
        order_body(dossier_code="HS-B-1"),
        bad_weight,
        order_body(dossier_code="HS-B-2"),
        order_body(dossier_code="HS-B-3", agency_code="AG-NOWHERE"),
        order_body(dossier_code="HS-B-4"),
    ]
    response = batch(client, auth["agency"], items)
    assert response.status_code == 207
    results = response.get_json()["data"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [201, 422, 201, 422, 201]
    assert "parcel.weight_grams" in results[1]["error"]["errors"]
    assert results[3]["error"]["code"] == "unknown_agency"
    for failed in (results[1], results[3]):
        error = failed["error"]
        assert {"code", "status", "message", "errors"} <= set(error)
        assert error["status"] == 422
        assert "order" not in failed or failed["order"] is None
    assert count_rows(Order) == 3
    listed = client.get("/api/v1/orders", headers=auth["agency"]).get_json()["data"]
    assert sorted(o["dossier_code"] for o in listed) == ["HS-B-1", "HS-B-2", "HS-B-4"]


def test_a_duplicate_within_the_batch_fails_with_the_first_items_id(client, auth, count_rows):
    items = [order_body(dossier_code="HS-B-DUP"), order_body(dossier_code="HS-B-DUP"),
             order_body(dossier_code="HS-B-DUP", kind="dossier_pickup")]
    results = batch(client, auth["agency"], items).get_json()["data"]
    assert [r["status"] for r in results] == [201, 409, 201]
    assert results[1]["error"]["code"] == "duplicate_order"
    assert results[1]["error"]["status"] == 409
    assert results[1]["error"]["existing_id"] == results[0]["order"]["id"]
    assert count_rows(Order) == 2


def test_a_duplicate_of_an_existing_order_fails_with_its_id(client, auth, count_rows):
    existing = client.post("/api/v1/orders", json=order_body(dossier_code="HS-B-OLD"),
                           headers=auth["agency"]).get_json()
    results = batch(client, auth["agency"], [order_body(dossier_code="HS-B-NEW"),
                                             order_body(dossier_code="HS-B-OLD")]).get_json()["data"]
    assert [r["status"] for r in results] == [201, 409]
    assert results[1]["error"]["code"] == "duplicate_order"
    assert results[1]["error"]["existing_id"] == existing["id"]
    assert count_rows(Order) == 2


def test_a_batch_where_every_item_fails_is_still_207_and_writes_nothing(client, auth, count_rows):
    results = batch(client, auth["agency"], [order_body(agency_code="AG-BENNGHE"), "junk"])
    assert results.status_code == 207
    assert [r["status"] for r in results.get_json()["data"]] == [422, 422]
    assert count_rows(Order) == 0


def test_a_non_object_item_fails_on_its_own_with_422(client, auth, count_rows):
    items = [order_body(), "not an order", 42, None, [order_body()], order_body()]
    response = batch(client, auth["agency"], items)
    assert response.status_code == 207
    results = response.get_json()["data"]
    assert [r["status"] for r in results] == [201, 422, 422, 422, 422, 201]
    for failed in results[1:5]:
        assert failed["error"]["status"] == 422
        assert failed["error"]["message"]
    assert count_rows(Order) == 2


def test_501_items_are_refused_and_nothing_is_written(client, auth, count_rows):
    items = [order_body() for _ in range(501)]
    assert_api_error(batch(client, auth["agency"], items), 422)
    assert count_rows(Order) == 0


def test_500_items_are_accepted(client, auth, count_rows):
    items = [order_body() for _ in range(500)]
    response = batch(client, auth["agency"], items)
    assert response.status_code == 207
    assert all(r["status"] == 201 for r in response.get_json()["data"])
    assert count_rows(Order) == 500


def test_an_empty_batch_is_422(client, auth):
    body = assert_api_error(batch(client, auth["agency"], []), 422)
    assert "orders" in body["errors"]


def test_a_batch_without_an_orders_list_is_422(client, auth, count_rows):
    for payload in ({}, {"orders": order_body()}, {"orders": "all"}):
        response = client.post(BATCH, json=payload, headers=auth["agency"])
        assert "orders" in assert_api_error(response, 422)["errors"]
    assert count_rows(Order) == 0


def test_a_batch_with_an_idempotency_key_replays_the_whole_answer(client, auth, count_rows):
    items = [order_body(), order_body(agency_code="AG-NOWHERE"), order_body()]
    headers = {**auth["agency"], "Idempotency-Key": "batch-2020-03-02-001"}
    first = batch(client, headers, items)
    second = batch(client, headers, items)
    assert first.status_code == second.status_code == 207
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert second.get_json() == first.get_json()
    assert count_rows(Order) == 2
    assert count_rows(IdempotencyRecord) == 1


def test_the_same_batch_key_with_other_orders_is_409_idempotency_key_reused(client, auth,
                                                                           count_rows):
    headers = {**auth["agency"], "Idempotency-Key": "batch-2020-03-02-002"}
    assert batch(client, headers, [order_body()]).status_code == 207
    response = batch(client, headers, [order_body()])
    assert_api_error(response, 409, "idempotency_key_reused")
    assert count_rows(Order) == 1


def test_dispatchers_and_couriers_may_not_send_batches(client, auth, count_rows):
    for role in ("dispatcher", "courier"):
        assert_api_error(batch(client, auth[role], [order_body()]), 403, "forbidden")
    assert count_rows(Order) == 0
