"""POST /api/v1/geocode: any address, old or 2025 units, to a 2025 ward, a point and a post office."""
from __future__ import annotations

import pytest

from tests.conftest import assert_api_error

GEOCODE = "/api/v1/geocode"
HCMC = "Thành phố Hồ Chí Minh"

# Ward centres of the 2025 wards, from /work/shared/data/geo/hcmc_wards_2025.csv.
LINH_XUAN = ("26794", "Phường Linh Xuân", 10.8609, 106.78)
LONG_PHUOC = ("26857", "Phường Long Phước", 10.8068, 106.85)
SAI_GON = ("26740", "Phường Sài Gòn", 10.7805, 106.704)
TAN_DINH = ("26737", "Phường Tân Định", 10.7917, 106.693)
THU_DUC = ("26824", "Phường Thủ Đức", 10.8426, 106.757)
CAU_KIEU = ("27058", "Phường Cầu Kiệu", 10.7995, 106.689)
GIA_DINH = ("26944", "Phường Gia Định", 10.7983, 106.699)
HANOI_POINT = (21.0285, 105.8542)

ADDRESS_KEYS = {"line", "ward_code", "ward_name", "province_code", "province_name", "lat", "lon",
                "precision", "ambiguous", "candidates", "old_ward_code", "old_ward_name",
                "old_district_name", "post_office_code"}


def geocode(client, headers, body):
    response = client.post(GEOCODE, json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def assert_at_ward_centre(found, ward):
    code, name, lat, lon = ward
    assert found["ward_code"] == code
    assert found["ward_name"] == name
    assert found["province_code"] == "79"
    assert found["province_name"] == HCMC
    assert found["precision"] == "ward"
    assert (found["lat"], found["lon"]) == pytest.approx((lat, lon), abs=1e-6)


# -- free text -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM",
    "12 Đường số 7, Phường Linh Trung, Thành phố Thủ Đức, Thành phố Hồ Chí Minh",
    "12 duong so 7, p linh trung, thu duc, tp hcm",
    "12 duong so 7 phuong linh trung thu duc",
    "12 ĐƯỜNG SỐ 7, P.LINH TRUNG, Q.THỦ ĐỨC, TPHCM",
])
def test_old_linh_trung_written_any_way_answers_the_2025_ward_linh_xuan_and_the_old_ward(
        client, auth, text):
    found = geocode(client, auth["agency"], {"address_text": text})
    assert set(found) == ADDRESS_KEYS
    assert_at_ward_centre(found, LINH_XUAN)
    assert found["old_ward_code"] == "26800"
    assert found["old_ward_name"] == "Phường Linh Trung"
    assert found["old_district_name"] == "Thành phố Thủ Đức"
    assert found["ambiguous"] is False
    assert found["candidates"] == []
    assert found["post_office_code"] == "PO-THUDUC"


def test_the_street_part_of_a_free_text_address_is_kept_as_the_line(client, auth):
    found = geocode(client, auth["agency"],
                    {"address_text": "12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM"})
    assert found["line"] == "12 Đường số 7"


@pytest.mark.parametrize("text", [
    "Lò Lu, P. Trường Thạnh, Q.9, TP.HCM",
    "lo lu, p truong thanh, q9, tp hcm",
    "Lò Lu, Phường Trường Thạnh, Quận 9",
])
def test_old_truong_thanh_in_quan_9_answers_long_phuoc_served_by_po_thuduc(client, auth, text):
    found = geocode(client, auth["dispatcher"], {"address_text": text})
    assert_at_ward_centre(found, LONG_PHUOC)
    assert found["old_ward_code"] == "26854"
    assert found["old_ward_name"] == "Phường Trường Thạnh"
    assert found["post_office_code"] == "PO-THUDUC"


@pytest.mark.parametrize("text", ["Phường Bến Nghé, Quận 1, TP.HCM", "p ben nghe q1 tphcm",
                                  "P.Bến Nghé, Q.1"])
def test_old_ben_nghe_answers_sai_gon_served_by_po_saigon(client, auth, text):
    found = geocode(client, auth["admin"], {"address_text": text})
    assert_at_ward_centre(found, SAI_GON)
    assert found["old_ward_code"] == "26740"
    assert found["old_ward_name"] == "Phường Bến Nghé"
    assert found["old_district_name"] == "Quận 1"
    assert found["post_office_code"] == "PO-SAIGON"


@pytest.mark.parametrize("text, ward, old_ward_code", [
    ("F.7, Q.Phú Nhuận, TP.HCM", CAU_KIEU, "27052"),
    ("12 Phan Đăng Lưu, F.7, Q.Bình Thạnh", GIA_DINH, "26926"),
    ("p7 q binh thanh", GIA_DINH, "26926"),
])
def test_numbered_wards_written_f_dot_and_q_dot_are_read(client, auth, text, ward, old_ward_code):
    found = geocode(client, auth["courier"], {"address_text": text})
    assert_at_ward_centre(found, ward)
    assert found["old_ward_code"] == old_ward_code
    assert found["old_ward_name"] == "Phường 7"
    assert found["post_office_code"] is None  # no reference office serves these wards


# Fixed with this test: the resolver accepted a ward under the wrong district when its name was
# unique in any old province of the new province, so these went to old Vũng Tàu's Phường 7.
@pytest.mark.parametrize("text", ["F.7, Q.9, TP.HCM", "Phường 7, Quận 1, TP.HCM"])
def test_a_ward_number_the_named_district_never_had_is_not_answered_with_confidence(
        client, auth, text):
    found = geocode(client, auth["agency"], {"address_text": text})
    assert found["precision"] == "unresolved" or found["ambiguous"] is True, found
    assert found["old_district_name"] != "Thành phố Vũng Tàu", found


def test_an_address_in_2025_units_answers_the_ward_and_no_old_ward(client, auth):
    found = geocode(client, auth["agency"],
                    {"address_text": "Đường số 9, Phường Linh Xuân, Thành phố Hồ Chí Minh"})
    assert_at_ward_centre(found, LINH_XUAN)
    assert found["old_ward_code"] is None
    assert found["old_ward_name"] is None
    assert found["old_district_name"] is None
    assert found["post_office_code"] == "PO-THUDUC"


# -- structured address ----------------------------------------------------------------------

def test_a_structured_address_in_old_units_answers_the_2025_ward_and_the_old_ward(client, auth):
    address = {"line": "12 Đường số 7", "ward": "Phường Linh Trung",
               "district": "Thành phố Thủ Đức", "province": "Thành phố Hồ Chí Minh"}
    found = geocode(client, auth["agency"], {"address": address})
    assert_at_ward_centre(found, LINH_XUAN)
    assert found["line"] == "12 Đường số 7"
    assert found["old_ward_code"] == "26800"
    assert found["old_ward_name"] == "Phường Linh Trung"
    assert found["post_office_code"] == "PO-THUDUC"


def test_a_structured_address_with_a_bare_ward_number_and_abbreviated_district(client, auth):
    found = geocode(client, auth["agency"],
                    {"address": {"line": "1 Phan Xích Long", "ward": "7", "district": "Phú Nhuận"}})
    assert_at_ward_centre(found, CAU_KIEU)
    assert found["old_ward_code"] == "27052"


def test_a_structured_address_with_a_point_in_the_ward_is_street_precise(client, auth):
    point = {"lat": 10.8622, "lon": 106.7791}
    found = geocode(client, auth["agency"], {"address": {
        "line": "12 Đường số 7", "ward": "Linh Trung", "district": "Thủ Đức", **point}})
    assert found["ward_code"] == "26794"
    assert found["precision"] == "street"
    assert (found["lat"], found["lon"]) == (point["lat"], point["lon"])


# -- points ---------------------------------------------------------------------------------

def test_a_point_inside_the_ward_gives_street_precision_at_that_point(client, auth):
    found = geocode(client, auth["agency"], {
        "address_text": "12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM",
        "lat": 10.8620, "lon": 106.7790})
    assert found["ward_code"] == "26794"
    assert found["precision"] == "street"
    assert (found["lat"], found["lon"]) == (10.8620, 106.7790)
    assert found["post_office_code"] == "PO-THUDUC"


def test_a_point_far_from_the_ward_is_ignored_and_the_ward_centre_is_answered(client, auth):
    found = geocode(client, auth["agency"], {
        "address_text": "12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM",
        "lat": HANOI_POINT[0], "lon": HANOI_POINT[1]})
    assert_at_ward_centre(found, LINH_XUAN)
    assert (found["lat"], found["lon"]) != HANOI_POINT


# -- split old wards -------------------------------------------------------------------------

def test_a_split_old_ward_without_a_point_is_ambiguous_at_its_default_new_ward(client, auth):
    # Old Phường Đa Kao (Quận 1) went to Sài Gòn (default) and Tân Định.
    found = geocode(client, auth["agency"],
                    {"address_text": "12 Đinh Tiên Hoàng, P. Đa Kao, Quận 1, TP.HCM"})
    assert found["ambiguous"] is True
    assert sorted(found["candidates"]) == ["26737", "26740"]
    assert_at_ward_centre(found, SAI_GON)
    assert found["old_ward_code"] == "26737"
    assert found["old_ward_name"] == "Phường Đa Kao"
    assert found["post_office_code"] == "PO-SAIGON"


def test_a_split_old_ward_with_a_point_near_the_other_new_ward_answers_that_ward(client, auth):
    point = (10.7912, 106.6935)  # by Tân Định's centre, inside old Đa Kao's surroundings
    found = geocode(client, auth["agency"], {
        "address_text": "12 Đinh Tiên Hoàng, P. Đa Kao, Quận 1, TP.HCM",
        "lat": point[0], "lon": point[1]})
    assert found["ward_code"] == "26737"
    assert found["ward_name"] == "Phường Tân Định"
    assert found["ambiguous"] is False
    assert found["candidates"] == []
    assert found["precision"] == "street"
    assert (found["lat"], found["lon"]) == point
    assert found["post_office_code"] is None  # Tân Định is served by no reference office


def test_split_linh_tay_defaults_to_thu_duc_and_a_point_picks_linh_xuan_and_its_office(
        client, auth):
    # Old Linh Tây went to Thủ Đức (default) and Linh Xuân.
    text = "5 Kha Vạn Cân, P. Linh Tây, TP. Thủ Đức"
    default = geocode(client, auth["agency"], {"address_text": text})
    assert default["ambiguous"] is True
    assert sorted(default["candidates"]) == ["26794", "26824"]
    assert_at_ward_centre(default, THU_DUC)
    assert default["post_office_code"] is None

    picked = geocode(client, auth["agency"],
                     {"address_text": text, "lat": 10.8590, "lon": 106.7720})
    assert picked["ward_code"] == "26794"
    assert picked["ambiguous"] is False
    assert picked["precision"] == "street"
    assert picked["post_office_code"] == "PO-THUDUC"


# -- unreadable ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["zzqx wqpt", "!!! ??? ...", "12 Đường số 7",
                                  "Phường 99, Quận 1, TP.HCM"])
def test_an_address_without_a_ward_is_answered_unresolved_not_refused(client, auth, text):
    found = geocode(client, auth["agency"], {"address_text": text})
    assert found["precision"] == "unresolved"
    assert found["ward_code"] is None
    assert found["ward_name"] is None
    assert found["lat"] is None and found["lon"] is None
    assert found["post_office_code"] is None


def test_an_old_district_without_its_ward_lists_the_wards_it_became(client, auth):
    found = geocode(client, auth["agency"], {"address_text": "Phường 99, Quận 1, TP.HCM"})
    assert found["precision"] == "unresolved"
    assert found["old_district_name"] == "Quận 1"
    assert {"26737", "26740"} <= set(found["candidates"])


def test_an_unreadable_address_with_a_point_stays_unresolved(client, auth):
    found = geocode(client, auth["agency"],
                    {"address_text": "zzqx wqpt", "lat": 10.8609, "lon": 106.78})
    assert found["precision"] == "unresolved"
    assert found["ward_code"] is None


# -- who may call -----------------------------------------------------------------------------

def test_geocoding_without_a_key_is_401(client, reference_data):
    response = client.post(GEOCODE, json={"address_text": "P. Linh Trung, TP. Thủ Đức"})
    assert_api_error(response, 401, "unauthorized")


def test_geocoding_with_an_unknown_key_is_401(client, reference_data):
    response = client.post(GEOCODE, json={"address_text": "P. Linh Trung, TP. Thủ Đức"},
                           headers={"Authorization": "Bearer psk_not_a_real_key"})
    assert_api_error(response, 401, "unauthorized")


@pytest.mark.parametrize("role", ["admin", "agency", "dispatcher", "courier"])
def test_every_role_may_geocode(client, auth, role):
    found = geocode(client, auth[role], {"address_text": "P. Bến Nghé, Q.1"})
    assert found["ward_code"] == "26740"


# -- validation -------------------------------------------------------------------------------

LINE = {"line": "12 Đường số 7", "ward": "Phường Linh Trung"}


@pytest.mark.parametrize("body, field", [
    ({"address": LINE, "address_text": "P. Linh Trung"}, "address"),
    ({}, "address"),
    ({"lat": 10.86, "lon": 106.78}, "address"),
    ({"address_text": "P. Linh Trung", "lat": 10.86}, "lon"),
    ({"address_text": "P. Linh Trung", "lon": 106.78}, "lat"),
    ({"address_text": "P. Linh Trung", "lat": 91, "lon": 106.78}, "lat"),
    ({"address_text": "P. Linh Trung", "lat": -90.5, "lon": 106.78}, "lat"),
    ({"address_text": "P. Linh Trung", "lat": 10.86, "lon": 181}, "lon"),
    ({"address_text": "P. Linh Trung", "lat": "north", "lon": 106.78}, "lat"),
    ({"address_text": "P. Linh Trung", "lat": None, "lon": 106.78}, "lat"),
    ({"address": {**LINE, "lat": 10.86}}, "address.lon"),
    ({"address": {**LINE, "lat": 91, "lon": 106.78}}, "address.lat"),
    ({"address": LINE, "lat": 10.86, "lon": 106.78}, "lat"),
    ({"address": {"ward": "Phường Linh Trung"}}, "address.line"),
    ({"address": "P. Linh Trung"}, "address"),
    ({"address_text": "   "}, "address_text"),
    ({"address_text": ""}, "address_text"),
    ({"address_text": 12}, "address_text"),
    ({"address_text": ["P. Linh Trung"]}, "address_text"),
    ({"address_text": "x" * 1001}, "address_text"),
    ({"address_text": "P. Linh Trung", "zoom": 3}, "zoom"),
])
def test_a_bad_geocode_request_is_422_validation_error(client, auth, body, field):
    response = client.post(GEOCODE, json=body, headers=auth["agency"])
    error = assert_api_error(response, 422, "validation_error")
    assert field in error["errors"], error


@pytest.mark.parametrize("raw", ['{"address_text": "P. Linh Trung", "lat": NaN, "lon": 106.78}',
                                 '{"address_text": "P. Linh Trung", "lat": Infinity, "lon": 1}'])
def test_a_non_finite_coordinate_is_refused(client, auth, raw):
    response = client.post(GEOCODE, data=raw, content_type="application/json",
                           headers=auth["agency"])
    assert response.status_code in (400, 422)
    assert_api_error(response, response.status_code)


@pytest.mark.parametrize("raw", ["[]", '"P. Linh Trung"', "null", "{bad json}", "42"])
def test_a_body_that_is_not_an_object_is_4xx(client, auth, raw):
    response = client.post(GEOCODE, data=raw, content_type="application/json",
                           headers=auth["agency"])
    assert 400 <= response.status_code < 500
    assert_api_error(response, response.status_code)


@pytest.mark.parametrize("text", [
    "Phường", "Quận", "P.", "F.", "Q.", "TP.HCM", "Việt Nam", "Hà Nội", "Quận 1",
    "🏠 12 đường 🙂, p. linh trung", "1" * 1000, "a " * 500, "P. " * 300, ",,,,,,,,",
    "Phường Phường Phường Quận Quận", "Xã Long Sơn, Bà Rịa - Vũng Tàu",
    "Đặc khu Côn Đảo", "Thị trấn Củ Chi, Huyện Củ Chi", "\u0301\u0300 ̣",
    "Phường 7, Quận 9, Hà Nội", "P. Linh Trung, TP. Thủ Đức, Thành phố Đà Nẵng",
])
def test_odd_addresses_never_cause_a_server_error(client, auth, text):
    response = client.post(GEOCODE, json={"address_text": text}, headers=auth["agency"])
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 200:
        found = response.get_json()
        assert found["precision"] in ("street", "ward", "unresolved")
        assert (found["ward_code"] is None) == (found["precision"] == "unresolved")
    else:
        assert_api_error(response, 422, "validation_error")
