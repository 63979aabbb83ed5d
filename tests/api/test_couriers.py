"""Couriers API: admins keep couriers as reference data; dispatchers read their own office's."""
from __future__ import annotations

import pytest

from postal_svc.directory.couriers import Courier
from tests.conftest import assert_api_error

COURIERS = "/api/v1/couriers"


def courier_body(**overrides):
    body = {"code": "PO-THUDUC-C1", "name": "Trần Văn Bình", "post_office_code": "PO-THUDUC",
            "capacity_items": 60, "capacity_kg": 30,
            "shifts": [["07:30", "11:30"], ["13:00", "17:00"]]}
    body.update(overrides)
    return body


def test_an_admin_registers_a_courier_with_capacity_in_kg_stored_as_grams(client, auth, db_session):
    response = client.post(COURIERS, json=courier_body(capacity_kg=12.5), headers=auth["admin"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["capacity_kg"] == 12.5 and body["capacity_items"] == 60
    assert body["shifts"] == [["07:30", "11:30"], ["13:00", "17:00"]] and body["active"] is True
    assert db_session.get(Courier, "PO-THUDUC-C1").capacity_g == 12_500


def test_a_courier_without_shifts_rides_the_usual_office_hours(client, auth):
    body = courier_body()
    del body["shifts"]
    response = client.post(COURIERS, json=body, headers=auth["admin"])
    assert response.get_json()["shifts"] == [["07:30", "11:30"], ["13:00", "17:00"]]


@pytest.mark.parametrize("role", ["dispatcher", "courier", "agency"])
def test_only_an_admin_registers_couriers(client, auth, role, count_rows):
    assert_api_error(client.post(COURIERS, json=courier_body(), headers=auth[role]), 403)
    assert count_rows(Courier) == 0


def test_registering_without_a_key_is_401(client, auth):
    assert_api_error(client.post(COURIERS, json=courier_body()), 401)


def test_a_duplicate_courier_code_is_409(client, auth):
    client.post(COURIERS, json=courier_body(), headers=auth["admin"])
    assert_api_error(client.post(COURIERS, json=courier_body(name="Other"), headers=auth["admin"]),
                     409, "already_exists")


@pytest.mark.parametrize("changes", [
    {"capacity_kg": -1}, {"capacity_kg": "heavy"}, {"capacity_items": 0},
    {"capacity_items": "60"}, {"shifts": [["11:30", "07:30"]]}, {"shifts": [["7h", "11h"]]},
    {"shifts": []}, {"shifts": [["07:30", "11:30"], ["11:00", "17:00"]]},
    {"post_office_code": "PO-NOWHERE"}, {"speed_profile": "rocket"}, {"surprise": 1},
    {"capacity_kg": None},
])
def test_a_bad_courier_is_422_and_nothing_is_written(client, auth, changes, count_rows):
    body = assert_api_error(client.post(COURIERS, json=courier_body(**changes),
                                        headers=auth["admin"]), 422)
    assert body["errors"]
    assert count_rows(Courier) == 0


def test_a_courier_key_must_belong_to_a_courier_client(client, auth, db_session):
    from postal_svc.access.models import ApiClient

    admin_id = db_session.query(ApiClient.id).filter(ApiClient.role == "admin").scalar()
    assert_api_error(client.post(COURIERS, json=courier_body(client_id=admin_id),
                                 headers=auth["admin"]), 422, "invalid_courier")
    courier_id = db_session.query(ApiClient.id).filter(ApiClient.role == "courier").scalar()
    response = client.post(COURIERS, json=courier_body(client_id=courier_id), headers=auth["admin"])
    assert response.get_json()["client_id"] == courier_id
    assert_api_error(client.post(COURIERS, json=courier_body(code="C2", client_id=courier_id),
                                 headers=auth["admin"]), 422, "invalid_courier")


def test_dispatchers_list_only_their_offices_couriers(client, auth):
    client.post(COURIERS, json=courier_body(), headers=auth["admin"])
    client.post(COURIERS, json=courier_body(code="PO-SAIGON-C1", post_office_code="PO-SAIGON"),
                headers=auth["admin"])
    mine = client.get(COURIERS, headers=auth["dispatcher"]).get_json()["data"]
    assert [c["code"] for c in mine] == ["PO-THUDUC-C1"]
    filtered = client.get(f"{COURIERS}?post_office_code=PO-THUDUC", headers=auth["dispatcher"])
    assert [c["code"] for c in filtered.get_json()["data"]] == ["PO-THUDUC-C1"]
    assert_api_error(client.get(f"{COURIERS}?post_office_code=PO-SAIGON",
                                headers=auth["dispatcher"]), 404)
    assert_api_error(client.get(f"{COURIERS}/PO-SAIGON-C1", headers=auth["dispatcher"]), 404)
    everyone = client.get(COURIERS, headers=auth["admin"]).get_json()["data"]
    assert {c["code"] for c in everyone} == {"PO-THUDUC-C1", "PO-SAIGON-C1"}
    assert_api_error(client.get(COURIERS, headers=auth["agency"]), 403)


def test_patching_a_courier_changes_only_what_is_sent(client, auth):
    client.post(COURIERS, json=courier_body(), headers=auth["admin"])
    response = client.patch(f"{COURIERS}/PO-THUDUC-C1", json={"capacity_kg": 20, "active": False},
                            headers=auth["admin"])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["capacity_kg"], body["active"], body["capacity_items"]) == (20, False, 60)
    assert_api_error(client.patch(f"{COURIERS}/PO-THUDUC-C1", json={"shifts": [["x", "y"]]},
                                  headers=auth["admin"]), 422)
    assert_api_error(client.patch(f"{COURIERS}/PO-THUDUC-C1", json={"active": True},
                                  headers=auth["dispatcher"]), 403)
    assert_api_error(client.patch(f"{COURIERS}/NOBODY", json={"active": True},
                                  headers=auth["admin"]), 404, "courier_not_found")
