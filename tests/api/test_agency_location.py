"""Agencies' desks are placed in a 2025 ward from their address (the origin of their orders)."""
from __future__ import annotations

import pytest

from postal_svc.directory.models import Agency
from tests.conftest import assert_api_error

AGENCIES = "/api/v1/agencies"
LINH_XUAN_CENTRE = (10.8609, 106.78)  # /work/shared/data/geo/hcmc_wards_2025.csv
LONG_PHUOC_CENTRE = (10.8068, 106.85)


def agency_body(**overrides):
    body = {"code": "AG-LINHTRUNG-2", "name": "UBND phường Linh Trung (cũ)",
            "address_text": "Đường số 9, P. Linh Trung, TP. Thủ Đức, TP.HCM",
            "post_office_code": "PO-THUDUC"}
    body.update(overrides)
    return body


def create(client, headers, **overrides):
    response = client.post(AGENCIES, json=agency_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def patch(client, headers, code, changes):
    response = client.patch(f"{AGENCIES}/{code}", json=changes, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_an_agency_in_old_linh_trung_is_placed_in_linh_xuan(client, auth):
    created = create(client, auth["admin"])
    assert created["ward_code"] == "26794"
    assert created["province_code"] == "79"
    assert (created["lat"], created["lon"]) == pytest.approx(LINH_XUAN_CENTRE, abs=1e-6)
    assert client.get(f"{AGENCIES}/AG-LINHTRUNG-2", headers=auth["admin"]).get_json() == created


def test_an_agency_address_without_diacritics_is_placed_too(client, auth):
    created = create(client, auth["admin"], address_text="duong so 9, p linh trung, thu duc, tphcm")
    assert created["ward_code"] == "26794"


def test_an_agency_with_a_structured_address_in_old_units_is_placed(client, auth):
    body = agency_body(address={"line": "Lò Lu", "ward": "Phường Trường Thạnh",
                                "district": "Quận 9", "province": "TP.HCM"})
    del body["address_text"]
    response = client.post(AGENCIES, json=body, headers=auth["admin"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ward_code"] == "26857"


def test_patching_the_address_text_moves_the_agency(client, auth):
    create(client, auth["admin"])
    moved = patch(client, auth["admin"], "AG-LINHTRUNG-2",
                  {"address_text": "Lò Lu, P. Trường Thạnh, Q.9, TP.HCM"})
    assert moved["ward_code"] == "26857"
    assert (moved["lat"], moved["lon"]) == pytest.approx(LONG_PHUOC_CENTRE, abs=1e-6)
    assert client.get(f"{AGENCIES}/AG-LINHTRUNG-2",
                      headers=auth["admin"]).get_json()["ward_code"] == "26857"


def test_patching_a_structured_address_moves_the_agency(client, auth):
    create(client, auth["admin"])
    moved = patch(client, auth["admin"], "AG-LINHTRUNG-2", {
        "address": {"line": "29 Lê Duẩn", "ward": "Bến Nghé", "district": "1"},
        "address_text": None})
    assert moved["ward_code"] == "26740"
    assert moved["province_code"] == "79"


def test_patching_other_fields_keeps_the_agencys_ward(client, auth):
    create(client, auth["admin"])
    renamed = patch(client, auth["admin"], "AG-LINHTRUNG-2", {"name": "UBND phường Linh Xuân"})
    assert renamed["ward_code"] == "26794"
    assert (renamed["lat"], renamed["lon"]) == pytest.approx(LINH_XUAN_CENTRE, abs=1e-6)


def test_an_agency_with_an_unreadable_address_has_no_ward(client, auth):
    created = create(client, auth["admin"], address_text="zzqx wqpt, khu vực không rõ")
    assert created["ward_code"] is None
    assert created["lat"] is None and created["lon"] is None


def test_an_agency_without_any_address_has_no_ward(client, auth):
    body = agency_body()
    del body["address_text"]
    response = client.post(AGENCIES, json=body, headers=auth["admin"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ward_code"] is None


def test_patching_to_an_unreadable_address_clears_the_ward(client, auth):
    create(client, auth["admin"])
    cleared = patch(client, auth["admin"], "AG-LINHTRUNG-2", {"address_text": "zzqx wqpt"})
    assert cleared["ward_code"] is None
    assert cleared["province_code"] is None
    assert cleared["lat"] is None and cleared["lon"] is None


def test_a_refused_agency_patch_does_not_move_it(client, auth, db_session):
    create(client, auth["admin"])
    response = client.patch(f"{AGENCIES}/AG-LINHTRUNG-2",
                            json={"address_text": "Lò Lu, P. Trường Thạnh, Q.9",
                                  "office_hours": [["17:00", "07:30"]]},
                            headers=auth["admin"])
    assert_api_error(response, 422)
    db_session.expire_all()
    assert db_session.get(Agency, "AG-LINHTRUNG-2").ward_code == "26794"


def test_only_admins_place_agencies(client, auth):
    create(client, auth["admin"])
    response = client.patch(f"{AGENCIES}/AG-LINHTRUNG-2",
                            json={"address_text": "P. Bến Nghé, Q.1"}, headers=auth["dispatcher"])
    assert_api_error(response, 403, "forbidden")
    assert client.get(f"{AGENCIES}/AG-LINHTRUNG-2",
                      headers=auth["admin"]).get_json()["ward_code"] == "26794"
