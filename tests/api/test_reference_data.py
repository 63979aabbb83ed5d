"""Agencies and post offices, maintained by admins."""
from __future__ import annotations

import pytest

from postal_svc.directory.models import Agency, PostOffice
from tests.conftest import assert_api_error, order_body

AGENCIES = "/api/v1/agencies"
OFFICES = "/api/v1/post-offices"


def agency_body(**overrides):
    body = {"code": "AG-LINHXUAN", "name": "UBND phường Linh Xuân",
            "address_text": "Đường số 9, Phường Linh Xuân, Thành phố Hồ Chí Minh",
            "phone": "028 3896 1234", "office_hours": [["07:30", "11:30"], ["13:00", "17:00"]],
            "post_office_code": "PO-THUDUC"}
    body.update(overrides)
    return body


def office_body(**overrides):
    body = {"code": "PO-QUAN9", "name": "Bưu điện Quận 9",
            "address_text": "Lê Văn Việt, Phường Tăng Nhơn Phú, Thành phố Hồ Chí Minh",
            "served_ward_codes": ["26800", "26803"]}
    body.update(overrides)
    return body


# -- agencies -------------------------------------------------------------------------------

def test_an_admin_creates_an_agency_and_reads_it_back(client, auth):
    response = client.post(AGENCIES, json=agency_body(), headers=auth["admin"])
    assert response.status_code == 201
    created = response.get_json()
    assert created["code"] == "AG-LINHXUAN"
    assert created["name"] == "UBND phường Linh Xuân"
    assert created["phone"] == "+842838961234"
    assert created["office_hours"] == [["07:30", "11:30"], ["13:00", "17:00"]]
    assert created["post_office_code"] == "PO-THUDUC"
    got = client.get(f"{AGENCIES}/AG-LINHXUAN", headers=auth["admin"])
    assert got.status_code == 200
    assert got.get_json() == created


def test_an_agency_with_a_structured_address(client, auth):
    address = {"line": "Đường số 9", "ward": "Phường Linh Xuân",
               "province": "Thành phố Hồ Chí Minh"}
    body = agency_body(address=address)
    del body["address_text"]
    created = client.post(AGENCIES, json=body, headers=auth["admin"]).get_json()
    assert created["address"] == address


def test_an_agency_without_office_hours_gets_the_usual_ward_office_hours(client, auth):
    body = agency_body()
    del body["office_hours"]
    created = client.post(AGENCIES, json=body, headers=auth["admin"]).get_json()
    assert created["office_hours"] == [["07:30", "11:30"], ["13:00", "17:00"]]


def test_a_new_agency_can_take_orders(client, auth):
    client.post(AGENCIES, json=agency_body(), headers=auth["admin"])
    response = client.post("/api/v1/orders", json=order_body(agency_code="AG-LINHXUAN"),
                           headers=auth["admin"])
    assert response.status_code == 201
    assert response.get_json()["post_office_code"] == "PO-THUDUC"


def test_a_duplicate_agency_code_is_409_and_keeps_the_first(client, auth, count_rows):
    before = count_rows(Agency)
    response = client.post(AGENCIES, json=agency_body(code="AG-LINHTRUNG", name="Impostor"),
                           headers=auth["admin"])
    assert_api_error(response, 409)
    assert count_rows(Agency) == before
    got = client.get(f"{AGENCIES}/AG-LINHTRUNG", headers=auth["admin"]).get_json()
    assert got["name"] == "UBND phường Linh Trung"


@pytest.mark.parametrize("hours", [
    [["17:00", "07:30"]],                       # closes before it opens
    [["07:30", "07:30"]],                       # empty interval
    [["07:30", "11:30"], ["11:00", "17:00"]],   # overlapping
    [["13:00", "17:00"], ["07:30", "11:30"]],   # out of order
    [["25:00", "26:00"]],                       # not a time
    [["7:30", "11:30"]],                        # not HH:MM
    [["07:30"]],                                # not a pair
    [["07:30", "11:30", "13:00"]],
    "07:30-17:00",
    [["07:60", "11:30"]],
])
def test_bad_office_hours_are_422(client, auth, count_rows, hours):
    before = count_rows(Agency)
    response = client.post(AGENCIES, json=agency_body(office_hours=hours), headers=auth["admin"])
    body = assert_api_error(response, 422)
    assert any(path.startswith("office_hours") for path in body["errors"]), body
    assert count_rows(Agency) == before


def test_an_agency_pointing_at_an_unknown_post_office_is_422(client, auth, count_rows):
    before = count_rows(Agency)
    response = client.post(AGENCIES, json=agency_body(post_office_code="PO-NOWHERE"),
                           headers=auth["admin"])
    assert "post_office_code" in assert_api_error(response, 422)["errors"]
    assert count_rows(Agency) == before


@pytest.mark.parametrize(("field", "value"), [
    ("code", ""), ("code", "AG LINH XUAN"), ("name", "   "), ("phone", "12345"),
    ("colour", "blue")])
def test_a_bad_agency_field_is_422(client, auth, field, value):
    body = assert_api_error(client.post(AGENCIES, json=agency_body(**{field: value}),
                                        headers=auth["admin"]), 422)
    assert field in body["errors"], body


def test_an_agency_with_both_address_forms_is_422(client, auth):
    body = agency_body(address={"line": "Đường số 9"})
    assert_api_error(client.post(AGENCIES, json=body, headers=auth["admin"]), 422)


def test_patching_an_agency_changes_only_what_is_sent(client, auth):
    response = client.patch(f"{AGENCIES}/AG-LINHTRUNG",
                            json={"name": "UBND phường Linh Xuân", "post_office_code": "PO-SAIGON"},
                            headers=auth["admin"])
    assert response.status_code == 200
    patched = response.get_json()
    assert patched["name"] == "UBND phường Linh Xuân"
    assert patched["post_office_code"] == "PO-SAIGON"
    assert patched["office_hours"] == [["07:30", "11:30"], ["13:00", "17:00"]]
    assert client.get(f"{AGENCIES}/AG-LINHTRUNG", headers=auth["admin"]).get_json() == patched


def test_orders_of_an_agency_moved_to_another_office_go_there(client, auth):
    client.patch(f"{AGENCIES}/AG-LINHTRUNG", json={"post_office_code": "PO-SAIGON"},
                 headers=auth["admin"])
    unplaceable = {"name": "Nguyễn Văn An", "phone": "0903123456",
                   "address_text": "Hẻm sau chợ, gần cây xăng cũ"}
    order = client.post("/api/v1/orders", json=order_body(citizen=unplaceable),
                        headers=auth["agency"]).get_json()
    assert order["address"]["precision"] == "unresolved"
    assert order["post_office_code"] == "PO-SAIGON"


@pytest.mark.parametrize("changes", [
    {"post_office_code": "PO-NOWHERE"}, {"office_hours": [["17:00", "07:30"]]},
    {"phone": "not a phone"}, {"code": "AG-OTHER"}])
def test_a_bad_agency_patch_is_422_and_changes_nothing(client, auth, changes):
    before = client.get(f"{AGENCIES}/AG-LINHTRUNG", headers=auth["admin"]).get_json()
    assert_api_error(client.patch(f"{AGENCIES}/AG-LINHTRUNG", json=changes,
                                  headers=auth["admin"]), 422)
    assert client.get(f"{AGENCIES}/AG-LINHTRUNG", headers=auth["admin"]).get_json() == before


def test_an_unknown_agency_is_404(client, auth):
    assert_api_error(client.get(f"{AGENCIES}/AG-NOWHERE", headers=auth["admin"]), 404)
    assert_api_error(client.patch(f"{AGENCIES}/AG-NOWHERE", json={"name": "x"},
                                  headers=auth["admin"]), 404)


def test_agencies_are_listed_page_by_page_with_a_cursor(client, auth):
    for code in ("AG-A1", "AG-A2", "AG-A3"):
        client.post(AGENCIES, json=agency_body(code=code), headers=auth["admin"])
    everyone = {"AG-LINHTRUNG", "AG-TRUONGTHANH", "AG-BENNGHE", "AG-A1", "AG-A2", "AG-A3"}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(AGENCIES, query_string=query, headers=auth["admin"]).get_json()
        assert len(page["data"]) <= 4
        seen.extend(a["code"] for a in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == everyone


def test_a_bad_list_limit_or_cursor_is_422(client, auth):
    from postal_svc.pagination import encode_cursor
    for query in ({"limit": 501}, {"limit": 0}, {"cursor": "garbage!"},
                  {"cursor": encode_cursor(5)},    # a number where codes are paged
                  {"page": 2}):                     # not a parameter of these lists
        assert_api_error(client.get(AGENCIES, query_string=query, headers=auth["admin"]), 422)
        assert_api_error(client.get(OFFICES, query_string=query, headers=auth["admin"]), 422)


# -- post offices ---------------------------------------------------------------------------

def test_an_admin_creates_a_post_office_and_reads_it_back(client, auth):
    response = client.post(OFFICES, json=office_body(), headers=auth["admin"])
    assert response.status_code == 201
    created = response.get_json()
    assert created["code"] == "PO-QUAN9"
    assert sorted(created["served_ward_codes"]) == ["26800", "26803"]
    got = client.get(f"{OFFICES}/PO-QUAN9", headers=auth["admin"])
    assert got.status_code == 200
    assert got.get_json() == created


def test_a_duplicate_post_office_code_is_409(client, auth, count_rows):
    before = count_rows(PostOffice)
    response = client.post(OFFICES, json=office_body(code="PO-THUDUC", served_ward_codes=[]),
                           headers=auth["admin"])
    assert_api_error(response, 409)
    assert count_rows(PostOffice) == before


def test_a_ward_already_served_by_another_office_is_409_ward_already_served(client, auth,
                                                                            count_rows):
    before = count_rows(PostOffice)
    response = client.post(OFFICES, json=office_body(served_ward_codes=["26800", "26794"]),
                           headers=auth["admin"])
    body = assert_api_error(response, 409, "ward_already_served")
    assert "served_ward_codes" in body["errors"]
    assert count_rows(PostOffice) == before
    assert_api_error(client.get(f"{OFFICES}/PO-QUAN9", headers=auth["admin"]), 404)


def test_patching_a_ward_away_from_its_office_is_409_and_changes_nothing(client, auth):
    response = client.patch(f"{OFFICES}/PO-SAIGON", json={"served_ward_codes": ["26740", "26794"]},
                            headers=auth["admin"])
    assert_api_error(response, 409, "ward_already_served")
    saigon = client.get(f"{OFFICES}/PO-SAIGON", headers=auth["admin"]).get_json()
    thuduc = client.get(f"{OFFICES}/PO-THUDUC", headers=auth["admin"]).get_json()
    assert saigon["served_ward_codes"] == ["26740"]
    assert sorted(thuduc["served_ward_codes"]) == ["26794", "26857"]


def test_patching_served_ward_codes_replaces_the_whole_set(client, auth):
    response = client.patch(f"{OFFICES}/PO-THUDUC", json={"served_ward_codes": ["26857", "26800"]},
                            headers=auth["admin"])
    assert response.status_code == 200
    assert sorted(response.get_json()["served_ward_codes"]) == ["26800", "26857"]
    got = client.get(f"{OFFICES}/PO-THUDUC", headers=auth["admin"]).get_json()
    assert sorted(got["served_ward_codes"]) == ["26800", "26857"]
    # the ward given up is free for another office now
    taken = client.post(OFFICES, json=office_body(served_ward_codes=["26794"]),
                        headers=auth["admin"])
    assert taken.status_code == 201


def test_patching_served_ward_codes_to_empty_frees_every_ward(client, auth):
    response = client.patch(f"{OFFICES}/PO-SAIGON", json={"served_ward_codes": []},
                            headers=auth["admin"])
    assert response.get_json()["served_ward_codes"] == []
    assert client.post(OFFICES, json=office_body(served_ward_codes=["26740"]),
                       headers=auth["admin"]).status_code == 201


def test_patching_a_post_office_name_keeps_its_wards(client, auth):
    response = client.patch(f"{OFFICES}/PO-THUDUC", json={"name": "Bưu điện TP Thủ Đức"},
                            headers=auth["admin"])
    assert response.status_code == 200
    assert response.get_json()["name"] == "Bưu điện TP Thủ Đức"
    assert sorted(response.get_json()["served_ward_codes"]) == ["26794", "26857"]


def test_the_same_ward_twice_in_one_office_counts_once(client, auth):
    created = client.post(OFFICES, json=office_body(served_ward_codes=["26800", "26800"]),
                          headers=auth["admin"])
    assert created.status_code == 201
    assert created.get_json()["served_ward_codes"] == ["26800"]


@pytest.mark.parametrize(("field", "value"), [
    ("code", ""), ("name", ""), ("served_ward_codes", "26800"), ("lat", 91), ("colour", "red")])
def test_a_bad_post_office_field_is_422(client, auth, count_rows, field, value):
    before = count_rows(PostOffice)
    body = assert_api_error(client.post(OFFICES, json=office_body(**{field: value}),
                                        headers=auth["admin"]), 422)
    assert field in body["errors"], body
    assert count_rows(PostOffice) == before


def test_an_unknown_post_office_is_404(client, auth):
    assert_api_error(client.get(f"{OFFICES}/PO-NOWHERE", headers=auth["admin"]), 404)
    assert_api_error(client.patch(f"{OFFICES}/PO-NOWHERE", json={"name": "x"},
                                  headers=auth["admin"]), 404)


def test_post_offices_are_listed_page_by_page_with_a_cursor(client, auth):
    for code in ("PO-A1", "PO-A2", "PO-A3"):
        client.post(OFFICES, json=office_body(code=code, served_ward_codes=[]),
                    headers=auth["admin"])
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(OFFICES, query_string=query, headers=auth["admin"]).get_json()
        seen.extend(p["code"] for p in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == {"PO-THUDUC", "PO-SAIGON", "PO-A1", "PO-A2", "PO-A3"}
