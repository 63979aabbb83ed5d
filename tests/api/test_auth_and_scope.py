"""Who may call what: 401 without a valid key, 403 for the wrong role, 404 outside one's scope."""
from __future__ import annotations

import pytest

from postal_svc.access.service import authenticate, revoke_client
from postal_svc.shipments.models import Order
from tests.conftest import assert_api_error, order_body

ORDERS = "/api/v1/orders"


def create(client, headers, **overrides):
    response = client.post(ORDERS, json=order_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def listed_ids(client, headers):
    response = client.get(ORDERS, headers=headers)
    assert response.status_code == 200
    return {o["id"] for o in response.get_json()["data"]}


# -- 401 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "psk_no_scheme",
    "Bearer psk_thiskeywasneverissued0000000000000000000", "Bearer not-even-our-format",
    "Bearer " + "psk_" + "a" * 300])
def test_a_request_without_a_valid_key_is_401_with_a_bearer_challenge(client, reference_data,
                                                                     count_rows, header):
    headers = {} if header is None else {"Authorization": header}
    response = client.post(ORDERS, json=order_body(), headers=headers)
    assert_api_error(response, 401, "unauthorized")
    assert "Bearer" in response.headers.get("WWW-Authenticate", "")
    assert count_rows(Order) == 0


@pytest.mark.parametrize("path", [ORDERS, f"{ORDERS}/ord_x", f"{ORDERS}/ord_x/events",
                                  "/api/v1/agencies", "/api/v1/post-offices",
                                  "/api/v1/agencies/AG-LINHTRUNG"])
def test_reading_without_a_key_is_401(client, reference_data, path):
    response = client.get(path)
    assert_api_error(response, 401, "unauthorized")
    assert "Bearer" in response.headers.get("WWW-Authenticate", "")


def test_a_revoked_key_is_401(client, make_key, reference_data, db_session, now, count_rows):
    key = make_key("agency_system", ["AG-LINHTRUNG"])
    caller = authenticate(db_session, key)
    assert caller is not None
    revoke_client(db_session, caller.client_id, now=now)
    db_session.commit()
    response = client.post(ORDERS, json=order_body(), headers={"Authorization": f"Bearer {key}"})
    assert_api_error(response, 401, "unauthorized")
    assert "Bearer" in response.headers.get("WWW-Authenticate", "")
    assert count_rows(Order) == 0


def test_the_bearer_scheme_is_case_insensitive(client, make_key, reference_data):
    key = make_key("agency_system", ["AG-LINHTRUNG"])
    response = client.post(ORDERS, json=order_body(), headers={"Authorization": f"bearer {key}"})
    assert response.status_code == 201


# -- 403 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["dispatcher", "courier"])
def test_dispatchers_and_couriers_may_not_create_orders(client, auth, count_rows, role):
    response = client.post(ORDERS, json=order_body(), headers=auth[role])
    assert_api_error(response, 403, "forbidden")
    assert count_rows(Order) == 0


def test_a_courier_may_not_cancel_an_order(client, auth):
    order = create(client, auth["agency"])
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth["courier"])
    assert_api_error(response, 403, "forbidden")
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth["admin"]).get_json()["status"] \
        == "created"


AGENCY = {"code": "AG-NEW", "name": "UBND phường Mới", "post_office_code": "PO-THUDUC"}
OFFICE = {"code": "PO-NEW", "name": "Bưu điện Mới", "served_ward_codes": ["99999"]}


@pytest.mark.parametrize("role", ["agency", "dispatcher", "courier"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/agencies", AGENCY),
    ("patch", "/api/v1/agencies/AG-LINHTRUNG", {"name": "Hijacked"}),
    ("post", "/api/v1/post-offices", OFFICE),
    ("patch", "/api/v1/post-offices/PO-THUDUC", {"served_ward_codes": []}),
])
def test_only_admins_write_agencies_and_post_offices(client, auth, role, method, path, body):
    response = getattr(client, method)(path, json=body, headers=auth[role])
    assert_api_error(response, 403, "forbidden")
    agency = client.get("/api/v1/agencies/AG-LINHTRUNG", headers=auth["admin"]).get_json()
    office = client.get("/api/v1/post-offices/PO-THUDUC", headers=auth["admin"]).get_json()
    assert agency["name"] == "UBND phường Linh Trung"
    assert office["served_ward_codes"] == ["26794", "26857"]
    assert client.get("/api/v1/agencies/AG-NEW", headers=auth["admin"]).status_code == 404
    assert client.get("/api/v1/post-offices/PO-NEW", headers=auth["admin"]).status_code == 404


@pytest.mark.parametrize("role", ["agency", "dispatcher", "courier"])
def test_every_client_may_read_reference_data(client, auth, role):
    assert client.get("/api/v1/post-offices", headers=auth[role]).status_code == 200
    assert client.get("/api/v1/agencies", headers=auth[role]).status_code == 200


# -- 404 outside the caller's scope ---------------------------------------------------------

@pytest.mark.parametrize("outsider", ["other_agency", "other_dispatcher"])
def test_an_order_outside_the_callers_scope_is_404_like_an_unknown_one(client, auth, outsider):
    order = create(client, auth["agency"])
    for suffix in ("", "/events"):
        hidden = client.get(f"{ORDERS}/{order['id']}{suffix}", headers=auth[outsider])
        unknown = client.get(f"{ORDERS}/ord_00000000000000000000{suffix}", headers=auth[outsider])
        assert_api_error(hidden, 404, "order_not_found")
        assert hidden.get_json() == unknown.get_json()
    assert order["id"] not in listed_ids(client, auth[outsider])


@pytest.mark.parametrize("outsider", ["other_agency", "other_dispatcher"])
def test_an_order_outside_the_callers_scope_cannot_be_cancelled(client, auth, outsider):
    order = create(client, auth["agency"])
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth[outsider])
    assert_api_error(response, 404, "order_not_found")
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()["status"] \
        == "created"


def test_filtering_by_an_agency_outside_the_scope_shows_nothing(client, auth):
    create(client, auth["other_agency"], agency_code="AG-BENNGHE")
    response = client.get(ORDERS, query_string={"agency_code": "AG-BENNGHE"},
                          headers=auth["agency"])
    assert response.get_json()["data"] == []


def test_an_agency_system_sees_exactly_the_orders_of_its_agencies(client, auth):
    linh_trung = create(client, auth["agency"])
    truong_thanh = create(client, auth["agency"], agency_code="AG-TRUONGTHANH")
    ben_nghe = create(client, auth["other_agency"], agency_code="AG-BENNGHE")
    assert listed_ids(client, auth["agency"]) == {linh_trung["id"], truong_thanh["id"]}
    assert listed_ids(client, auth["other_agency"]) == {ben_nghe["id"]}


BEN_NGHE_CITIZEN = {"name": "Trần Thị Bình", "phone": "0912345678",
                    "address_text": "29 Lê Duẩn, P. Bến Nghé, Q.1, TP.HCM"}


@pytest.mark.parametrize("role", ["dispatcher", "courier"])
def test_staff_of_po_thuduc_see_the_orders_delivered_in_its_wards(client, auth, role):
    linh_trung = create(client, auth["agency"])
    truong_thanh = create(client, auth["agency"], agency_code="AG-TRUONGTHANH")
    ben_nghe = create(client, auth["other_agency"], agency_code="AG-BENNGHE",
                      citizen=BEN_NGHE_CITIZEN)
    assert ben_nghe["post_office_code"] == "PO-SAIGON"
    assert linh_trung["post_office_code"] == truong_thanh["post_office_code"] == "PO-THUDUC"
    assert listed_ids(client, auth[role]) == {linh_trung["id"], truong_thanh["id"]}
    assert client.get(f"{ORDERS}/{linh_trung['id']}", headers=auth[role]).status_code == 200
    assert_api_error(client.get(f"{ORDERS}/{ben_nghe['id']}", headers=auth[role]), 404,
                     "order_not_found")


def test_the_dispatcher_of_another_office_sees_only_its_own_orders(client, auth):
    create(client, auth["agency"])
    ben_nghe = create(client, auth["other_agency"], agency_code="AG-BENNGHE",
                      citizen=BEN_NGHE_CITIZEN)
    assert listed_ids(client, auth["other_dispatcher"]) == {ben_nghe["id"]}


def test_a_dispatcher_may_cancel_an_order_of_its_office(client, auth):
    order = create(client, auth["agency"])
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=auth["dispatcher"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


def test_an_admin_sees_every_order(client, auth):
    made = {create(client, auth["agency"])["id"],
            create(client, auth["agency"], agency_code="AG-TRUONGTHANH")["id"],
            create(client, auth["other_agency"], agency_code="AG-BENNGHE")["id"]}
    assert listed_ids(client, auth["admin"]) == made
    for order_id in made:
        assert client.get(f"{ORDERS}/{order_id}", headers=auth["admin"]).status_code == 200


def test_an_admin_may_create_orders_for_any_agency(client, auth):
    assert create(client, auth["admin"], agency_code="AG-BENNGHE")["agency_code"] == "AG-BENNGHE"


def test_an_order_whose_ward_is_served_by_another_office_goes_to_that_office(client, auth):
    order = create(client, auth["agency"], citizen=BEN_NGHE_CITIZEN)
    assert order["post_office_code"] == "PO-SAIGON"
    assert order["address"]["ward_code"] == "26740"
    assert order["address"]["precision"] == "ward"
    assert listed_ids(client, auth["other_dispatcher"]) == {order["id"]}
    assert listed_ids(client, auth["dispatcher"]) == set()
    # the agency that placed it still sees it
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).status_code == 200


def test_agency_systems_see_only_their_own_agencies(client, auth):
    listed = client.get("/api/v1/agencies", headers=auth["agency"]).get_json()["data"]
    assert {a["code"] for a in listed} == {"AG-LINHTRUNG", "AG-TRUONGTHANH"}
    assert_api_error(client.get("/api/v1/agencies/AG-BENNGHE", headers=auth["agency"]), 404)
