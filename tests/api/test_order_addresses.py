"""Where orders go: intake resolves the citizen's address; dispatchers fix what it could not."""
from __future__ import annotations

import pytest

from postal_svc.shipments.models import Order, TrackingEvent
from tests.conftest import assert_api_error, order_body

ORDERS = "/api/v1/orders"
HCMC = "Thành phố Hồ Chí Minh"

# Ward centres of the 2025 wards, from /work/shared/data/geo/hcmc_wards_2025.csv.
LINH_XUAN = ("26794", "Phường Linh Xuân", 10.8609, 106.78)
LONG_PHUOC = ("26857", "Phường Long Phước", 10.8068, 106.85)
SAI_GON = ("26740", "Phường Sài Gòn", 10.7805, 106.704)
TAN_DINH = ("26737", "Phường Tân Định", 10.7917, 106.693)
THU_DUC = ("26824", "Phường Thủ Đức", 10.8426, 106.757)

UNREADABLE = "zzqx wqpt, khu vực không rõ"
DA_KAO = "12 Đinh Tiên Hoàng, P. Đa Kao, Quận 1, TP.HCM"  # split: Sài Gòn (default) or Tân Định
LINH_TAY = "5 Kha Vạn Cân, P. Linh Tây, TP. Thủ Đức"  # split: Thủ Đức (default) or Linh Xuân


def citizen(address_text=None, address=None, **point):
    person = {"name": "Nguyễn Văn An", "phone": "0903123456"}
    if address_text is not None:
        person["address_text"] = address_text
    if address is not None:
        person["address"] = address
    person.update(point)
    return person


def create(client, headers, **overrides):
    response = client.post(ORDERS, json=order_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def create_at(client, headers, text, agency_code="AG-LINHTRUNG", **point):
    return create(client, headers, agency_code=agency_code, citizen=citizen(text, **point))


def patch_address(client, headers, order_id, body):
    return client.patch(f"{ORDERS}/{order_id}/address", json=body, headers=headers)


def get(client, headers, order_id):
    response = client.get(f"{ORDERS}/{order_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def listed_ids(client, headers, query):
    response = client.get(f"{ORDERS}?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [o["id"] for o in response.get_json()["data"]]


def events_of(client, headers, order_id):
    response = client.get(f"{ORDERS}/{order_id}/events", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def assert_ward(address, ward, precision="ward"):
    code, name, lat, lon = ward
    assert address["ward_code"] == code
    assert address["ward_name"] == name
    assert address["province_code"] == "79"
    assert address["province_name"] == HCMC
    assert address["precision"] == precision
    if precision == "ward":
        assert (address["lat"], address["lon"]) == pytest.approx((lat, lon), abs=1e-6)


# -- intake ---------------------------------------------------------------------------------

def test_intake_stores_the_resolved_2025_ward_the_old_ward_and_the_serving_post_office(
        client, auth):
    created = create(client, auth["agency"])  # structured: Phường Linh Trung, TP Thủ Đức
    address = created["address"]
    assert_ward(address, LINH_XUAN)
    assert address["line"] == "12 Đường số 7"
    assert address["old_ward_code"] == "26800"
    assert address["old_ward_name"] == "Phường Linh Trung"
    assert address["old_district_name"] == "Thành phố Thủ Đức"
    assert address["ambiguous"] is False
    assert address["candidates"] == []
    assert created["post_office_code"] == "PO-THUDUC"
    assert get(client, auth["agency"], created["id"])["address"] == address


def test_intake_of_free_text_without_diacritics_resolves_the_same_ward(client, auth):
    created = create_at(client, auth["agency"], "12 duong so 7, p linh trung, thu duc, tp hcm")
    assert_ward(created["address"], LINH_XUAN)
    assert created["address"]["old_ward_name"] == "Phường Linh Trung"
    assert created["post_office_code"] == "PO-THUDUC"


def test_intake_keeps_the_citizens_point_when_it_lies_in_the_ward(client, auth):
    created = create_at(client, auth["agency"], "12 Đường số 7, P. Linh Trung, TP. Thủ Đức",
                        lat=10.8620, lon=106.7790)
    assert_ward(created["address"], LINH_XUAN, precision="street")
    assert (created["address"]["lat"], created["address"]["lon"]) == (10.8620, 106.7790)


def test_intake_ignores_a_citizens_point_far_from_the_ward(client, auth):
    created = create_at(client, auth["agency"], "12 Đường số 7, P. Linh Trung, TP. Thủ Đức",
                        lat=21.0285, lon=105.8542)
    assert_ward(created["address"], LINH_XUAN, precision="ward")


def test_the_post_office_comes_from_the_citizens_ward_not_from_the_agency(client, auth):
    # AG-LINHTRUNG is collected by PO-THUDUC; the citizen lives in old Bến Nghé (PO-SAIGON).
    created = create_at(client, auth["agency"], "29 Lê Duẩn, P. Bến Nghé, Q.1, TP.HCM")
    assert_ward(created["address"], SAI_GON)
    assert created["address"]["old_ward_name"] == "Phường Bến Nghé"
    assert created["post_office_code"] == "PO-SAIGON"


def test_old_truong_thanh_goes_to_long_phuoc_and_po_thuduc(client, auth):
    created = create_at(client, auth["agency"], "Lò Lu, P. Trường Thạnh, Q.9, TP.HCM",
                        agency_code="AG-TRUONGTHANH")
    assert_ward(created["address"], LONG_PHUOC)
    assert created["post_office_code"] == "PO-THUDUC"


def test_a_ward_no_office_serves_falls_back_to_the_agencys_post_office(client, auth):
    created = create_at(client, auth["other_agency"], "Phường Tân Định, Thành phố Hồ Chí Minh",
                        agency_code="AG-BENNGHE")
    assert_ward(created["address"], TAN_DINH)
    assert created["post_office_code"] == "PO-SAIGON"


def test_an_unreadable_address_is_accepted_unresolved_with_the_agencys_post_office(
        client, auth, count_rows):
    before = count_rows(Order)
    created = create_at(client, auth["agency"], UNREADABLE)
    assert count_rows(Order) == before + 1
    address = created["address"]
    assert address["precision"] == "unresolved"
    assert address["ward_code"] is None
    assert address["ward_name"] is None
    assert address["lat"] is None and address["lon"] is None
    assert created["post_office_code"] == "PO-THUDUC"
    assert created["status"] == "created"


def test_unresolved_orders_are_listed_with_address_precision_unresolved(client, auth):
    unresolved = create_at(client, auth["agency"], UNREADABLE)
    resolved = create(client, auth["agency"])
    for who in ("dispatcher", "agency", "admin"):
        ids = listed_ids(client, auth[who], "address_precision=unresolved")
        assert unresolved["id"] in ids, who
        assert resolved["id"] not in ids, who
    ward_ids = listed_ids(client, auth["dispatcher"], "address_precision=ward")
    assert resolved["id"] in ward_ids
    assert unresolved["id"] not in ward_ids


def test_an_unknown_address_precision_filter_is_422(client, auth):
    response = client.get(f"{ORDERS}?address_precision=fuzzy", headers=auth["dispatcher"])
    assert_api_error(response, 422, "validation_error")


def test_a_split_old_ward_gives_an_ambiguous_order_at_the_default_ward(client, auth):
    created = create_at(client, auth["agency"], DA_KAO)
    address = created["address"]
    assert_ward(address, SAI_GON)
    assert address["ambiguous"] is True
    assert sorted(address["candidates"]) == ["26737", "26740"]
    assert address["old_ward_name"] == "Phường Đa Kao"
    assert created["post_office_code"] == "PO-SAIGON"


def test_ambiguous_orders_are_listed_with_address_ambiguous_true(client, auth):
    ambiguous = create_at(client, auth["agency"], LINH_TAY)
    clear = create(client, auth["agency"])
    ids = listed_ids(client, auth["dispatcher"], "address_ambiguous=true")
    assert ambiguous["id"] in ids
    assert clear["id"] not in ids
    not_ambiguous = listed_ids(client, auth["dispatcher"], "address_ambiguous=false")
    assert clear["id"] in not_ambiguous
    assert ambiguous["id"] not in not_ambiguous


def test_a_split_old_ward_with_a_point_near_the_other_ward_is_not_ambiguous(client, auth):
    created = create_at(client, auth["agency"], LINH_TAY, lat=10.8590, lon=106.7720)
    address = created["address"]
    assert_ward(address, LINH_XUAN, precision="street")
    assert address["ambiguous"] is False
    assert created["post_office_code"] == "PO-THUDUC"


def test_a_batch_resolves_each_order_and_accepts_unresolved_ones(client, auth):
    body = {"orders": [order_body(citizen=citizen("P. Bến Nghé, Q.1")),
                       order_body(citizen=citizen(UNREADABLE))]}
    response = client.post(f"{ORDERS}/batch", json=body, headers=auth["agency"])
    assert response.status_code == 207
    first, second = response.get_json()["data"]
    assert first["status"] == 201 and second["status"] == 201
    assert first["order"]["address"]["ward_code"] == "26740"
    assert first["order"]["post_office_code"] == "PO-SAIGON"
    assert second["order"]["address"]["precision"] == "unresolved"
    assert second["order"]["post_office_code"] == "PO-THUDUC"


# -- PATCH /orders/{id}/address -------------------------------------------------------------

def test_a_dispatcher_sets_the_ward_of_an_unresolved_order_at_the_ward_centre(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    response = patch_address(client, auth["dispatcher"], order["id"], {"ward_code": "26794"})
    assert response.status_code == 200, response.get_json()
    fixed = response.get_json()
    assert_ward(fixed["address"], LINH_XUAN, precision="ward")
    assert fixed["address"]["ambiguous"] is False
    assert fixed["post_office_code"] == "PO-THUDUC"
    assert get(client, auth["dispatcher"], order["id"])["address"] == fixed["address"]
    assert order["id"] not in listed_ids(client, auth["dispatcher"],
                                         "address_precision=unresolved")


def test_setting_the_ward_clears_the_ambiguity_and_the_candidates(client, auth):
    order = create_at(client, auth["agency"], LINH_TAY)
    assert order["address"]["ambiguous"] is True
    assert order["post_office_code"] == "PO-THUDUC"  # Thủ Đức ward: unserved, agency's office
    fixed = patch_address(client, auth["dispatcher"], order["id"],
                          {"ward_code": "26794"}).get_json()
    assert_ward(fixed["address"], LINH_XUAN)
    assert fixed["address"]["ambiguous"] is False
    assert fixed["address"]["candidates"] == []
    assert order["id"] not in listed_ids(client, auth["dispatcher"], "address_ambiguous=true")


def test_moving_an_order_to_a_ward_of_another_office_hands_it_to_that_office(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    assert order["post_office_code"] == "PO-THUDUC"
    response = patch_address(client, auth["dispatcher"], order["id"], {"ward_code": "26740"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["post_office_code"] == "PO-SAIGON"
    assert_ward(response.get_json()["address"], SAI_GON)

    gone = client.get(f"{ORDERS}/{order['id']}", headers=auth["dispatcher"])
    assert_api_error(gone, 404, "order_not_found")
    assert order["id"] not in listed_ids(client, auth["dispatcher"], "limit=500")
    seen = get(client, auth["other_dispatcher"], order["id"])
    assert seen["post_office_code"] == "PO-SAIGON"
    assert order["id"] in listed_ids(client, auth["other_dispatcher"], "limit=500")
    # The agency that placed it still sees it.
    assert get(client, auth["agency"], order["id"])["post_office_code"] == "PO-SAIGON"


def test_a_ward_no_office_serves_hands_the_order_back_to_the_agencys_office(client, auth):
    order = create_at(client, auth["agency"], "P. Bến Nghé, Q.1")
    assert order["post_office_code"] == "PO-SAIGON"
    fixed = patch_address(client, auth["other_dispatcher"], order["id"],
                          {"ward_code": "26737"}).get_json()
    assert_ward(fixed["address"], TAN_DINH)
    assert fixed["post_office_code"] == "PO-THUDUC"


def test_a_point_alone_picks_the_ward_with_the_nearest_centre_at_street_precision(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    point = {"lat": 10.8590, "lon": 106.7790}
    response = patch_address(client, auth["dispatcher"], order["id"], point)
    assert response.status_code == 200, response.get_json()
    address = response.get_json()["address"]
    assert_ward(address, LINH_XUAN, precision="street")
    assert (address["lat"], address["lon"]) == (point["lat"], point["lon"])
    assert response.get_json()["post_office_code"] == "PO-THUDUC"


def test_a_point_alone_near_sai_gon_moves_the_order_to_po_saigon(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    response = patch_address(client, auth["dispatcher"], order["id"],
                             {"lat": 10.7800, "lon": 106.7035})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["address"]["ward_code"] == "26740"
    assert response.get_json()["post_office_code"] == "PO-SAIGON"


def test_a_point_alone_far_from_every_ward_is_422_invalid_address(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    response = patch_address(client, auth["dispatcher"], order["id"],
                             {"lat": 48.8566, "lon": 2.3522})
    assert_api_error(response, 422, "invalid_address")
    assert get(client, auth["dispatcher"], order["id"])["address"]["precision"] == "unresolved"


def test_a_ward_with_a_point_within_3_km_of_its_centre_is_street_precise(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    point = {"lat": 10.8700, "lon": 106.7900}  # about 1.5 km from Linh Xuân's centre
    response = patch_address(client, auth["dispatcher"], order["id"],
                             {"ward_code": "26794", **point})
    assert response.status_code == 200, response.get_json()
    address = response.get_json()["address"]
    assert_ward(address, LINH_XUAN, precision="street")
    assert (address["lat"], address["lon"]) == (point["lat"], point["lon"])


def test_a_ward_with_a_point_far_from_it_is_422_and_changes_nothing(client, auth, count_rows):
    order = create_at(client, auth["agency"], UNREADABLE)
    events_before = count_rows(TrackingEvent)
    response = patch_address(client, auth["dispatcher"], order["id"],
                             {"ward_code": "26794", "lat": 10.7805, "lon": 106.704})  # Sài Gòn
    assert_api_error(response, 422, "invalid_address")
    after = get(client, auth["dispatcher"], order["id"])
    assert after["address"] == order["address"]
    assert after["post_office_code"] == "PO-THUDUC"
    assert after["updated_at"] == order["updated_at"]
    assert count_rows(TrackingEvent) == events_before


@pytest.mark.parametrize("ward_code", ["99999", "ABC", "0"])
def test_an_unknown_ward_code_is_422_invalid_address(client, auth, ward_code, count_rows):
    order = create_at(client, auth["agency"], UNREADABLE)
    events_before = count_rows(TrackingEvent)
    response = patch_address(client, auth["dispatcher"], order["id"], {"ward_code": ward_code})
    body = assert_api_error(response, 422, "invalid_address")
    assert "ward_code" in body["errors"]
    assert get(client, auth["dispatcher"], order["id"])["address"] == order["address"]
    assert count_rows(TrackingEvent) == events_before


@pytest.mark.parametrize("body, field", [
    ({}, "ward_code"),
    ({"lat": 10.86}, "lon"),
    ({"lon": 106.78}, "lat"),
    ({"ward_code": "26794", "lat": 91, "lon": 106.78}, "lat"),
    ({"lat": 10.86, "lon": -181}, "lon"),
    ({"ward_code": None}, "ward_code"),
    ({"ward_code": 26794}, "ward_code"),
    ({"ward_code": ""}, "ward_code"),
    ({"ward_code": "26794", "precision": "street"}, "precision"),
])
def test_a_bad_address_correction_is_422_validation_error(client, auth, body, field):
    order = create_at(client, auth["agency"], UNREADABLE)
    response = patch_address(client, auth["dispatcher"], order["id"], body)
    error = assert_api_error(response, 422, "validation_error")
    assert field in error["errors"], error
    assert get(client, auth["dispatcher"], order["id"])["address"] == order["address"]


def test_the_address_of_a_cancelled_order_cannot_change(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    cancelled = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "trùng hồ sơ"},
                            headers=auth["agency"])
    assert cancelled.status_code == 200, cancelled.get_json()
    response = patch_address(client, auth["dispatcher"], order["id"], {"ward_code": "26794"})
    assert_api_error(response, 409, "order_finished")
    assert get(client, auth["dispatcher"], order["id"])["address"]["precision"] == "unresolved"


@pytest.mark.parametrize("role", ["agency", "courier"])
def test_agency_systems_and_couriers_may_not_fix_addresses(client, auth, role):
    order = create_at(client, auth["agency"], UNREADABLE)
    response = patch_address(client, auth[role], order["id"], {"ward_code": "26794"})
    assert_api_error(response, 403, "forbidden")
    assert get(client, auth["admin"], order["id"])["address"]["precision"] == "unresolved"


def test_another_offices_dispatcher_gets_404(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)  # PO-THUDUC
    response = patch_address(client, auth["other_dispatcher"], order["id"],
                             {"ward_code": "26740"})
    assert_api_error(response, 404, "order_not_found")
    after = get(client, auth["admin"], order["id"])
    assert after["address"]["precision"] == "unresolved"
    assert after["post_office_code"] == "PO-THUDUC"


def test_an_unknown_order_is_404(client, auth):
    response = patch_address(client, auth["dispatcher"], "ord_00000000000000000000",
                             {"ward_code": "26794"})
    assert_api_error(response, 404, "order_not_found")


def test_fixing_without_a_key_is_401(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    response = patch_address(client, {}, order["id"], {"ward_code": "26794"})
    assert_api_error(response, 401, "unauthorized")


def test_an_address_correction_is_recorded_as_an_event_with_the_post_office(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    before = events_of(client, auth["dispatcher"], order["id"])
    assert [e["type"] for e in before] == ["created"]
    patch_address(client, auth["dispatcher"], order["id"], {"ward_code": "26794"})
    events = events_of(client, auth["dispatcher"], order["id"])
    assert [e["type"] for e in events] == ["created", "address_corrected"]
    corrected = events[-1]
    assert corrected["post_office_code"] == "PO-THUDUC"
    assert corrected["ward_code"] == "26794"
    assert corrected["status"] == "created"


def test_an_event_is_recorded_for_each_correction(client, auth):
    order = create_at(client, auth["agency"], UNREADABLE)
    patch_address(client, auth["dispatcher"], order["id"], {"ward_code": "26857"})
    patch_address(client, auth["dispatcher"], order["id"], {"ward_code": "26794"})
    events = events_of(client, auth["dispatcher"], order["id"])
    corrections = [e for e in events if e["type"] == "address_corrected"]
    assert [e["ward_code"] for e in corrections] == ["26857", "26794"]


def test_an_admin_may_fix_any_order(client, auth):
    thuduc = create_at(client, auth["agency"], UNREADABLE)
    saigon = create_at(client, auth["other_agency"], UNREADABLE, agency_code="AG-BENNGHE")
    assert saigon["post_office_code"] == "PO-SAIGON"
    for order, ward in ((thuduc, "26740"), (saigon, "26794")):
        response = patch_address(client, auth["admin"], order["id"], {"ward_code": ward})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["address"]["ward_code"] == ward
    assert get(client, auth["admin"], thuduc["id"])["post_office_code"] == "PO-SAIGON"
    assert get(client, auth["admin"], saigon["id"])["post_office_code"] == "PO-THUDUC"


def test_the_dispatcher_of_the_office_may_fix_a_resolved_order_too(client, auth):
    order = create(client, auth["agency"])  # Linh Xuân, ward precision
    response = patch_address(client, auth["dispatcher"], order["id"],
                             {"ward_code": "26794", "lat": 10.8620, "lon": 106.7790})
    assert response.status_code == 200, response.get_json()
    address = response.get_json()["address"]
    assert address["precision"] == "street"
    assert (address["lat"], address["lon"]) == (10.8620, 106.7790)
