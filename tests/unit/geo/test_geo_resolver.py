"""Address resolution: old and new units, split wards, points, ambiguity, structured input."""
from __future__ import annotations

import pytest

from postal_svc.geo.gazetteer import get_gazetteer
from postal_svc.geo.resolver import AddressResolver, distance_m, resolve_address

LINH_XUAN = "26794"
LONG_PHUOC = "26857"
SAI_GON = "26740"
# Xã An Phú Tây (Bình Chánh) was split between Phường Bình Đông (default) and Xã Bình Chánh.
AN_PHU_TAY = "27625"
BINH_DONG = "27424"
XA_BINH_CHANH = "27637"


@pytest.mark.parametrize(
    ("address", "old_ward", "new_ward", "new_name"),
    [
        ("Phường Linh Trung, Thành phố Thủ Đức", "Phường Linh Trung", LINH_XUAN, "Phường Linh Xuân"),
        ("Phường Trường Thạnh, Quận 9", "Phường Trường Thạnh", LONG_PHUOC, "Phường Long Phước"),
        ("Phường Bến Nghé, Quận 1", "Phường Bến Nghé", SAI_GON, "Phường Sài Gòn"),
    ],
)
def test_the_domain_examples_resolve_old_wards_to_their_new_wards(
    address: str, old_ward: str, new_ward: str, new_name: str
) -> None:
    r = resolve_address(address)
    assert (r.ward_code, r.ward_name, r.old_ward_name) == (new_ward, new_name, old_ward)
    assert r.units == "old" and r.precision == "ward" and not r.ambiguous
    assert r.province_code == "79" and r.province_name == "Thành phố Hồ Chí Minh"


@pytest.mark.parametrize(
    ("address", "line"),
    [
        ("12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM", "12 Đường số 7"),
        ("12 duong so 7 phuong linh trung thu duc", "12 duong so 7"),
    ],
)
def test_the_two_written_forms_of_the_api_example_give_linh_xuan_with_old_ward_linh_trung(
    address: str, line: str
) -> None:
    r = resolve_address(address)
    assert r.ward_code == LINH_XUAN
    assert r.old_ward_code == "26800" and r.old_ward_name == "Phường Linh Trung"
    assert r.old_district_name == "Thành phố Thủ Đức"
    assert r.old_province_name == "Thành phố Hồ Chí Minh"
    assert r.line == line


def test_the_street_line_keeps_house_numbers_and_street_numbers_and_is_nfc() -> None:
    r = resolve_address("12/3A Đường số 7, P. Linh Trung, TP. Thủ Đức")
    assert r.line == "12/3A Đường số 7"
    assert r.ward_code == LINH_XUAN


def test_duong_so_7_in_the_street_is_not_read_as_phuong_7() -> None:
    r = resolve_address("12 Đường số 7, Quận 3, TP.HCM")
    assert r.ward_code is None and r.precision == "unresolved"
    assert r.line == "12 Đường số 7"


@pytest.mark.parametrize("district", ["Quận 2", "Q.2", "Quận 9", "Q9", "Quận Thủ Đức", "TP Thủ Đức", "Thủ Đức"])
def test_old_district_names_quan_2_quan_9_and_quan_thu_duc_all_mean_thanh_pho_thu_duc(district: str) -> None:
    r = resolve_address(f"Phường Linh Trung, {district}")
    assert r.ward_code == LINH_XUAN and r.old_district_name == "Thành phố Thủ Đức"


def test_a_new_two_level_address_resolves_to_the_new_ward_without_old_fields() -> None:
    r = resolve_address("45 Lê Lợi, Phường Sài Gòn, TP.HCM")
    assert (r.ward_code, r.units, r.line) == (SAI_GON, "new", "45 Lê Lợi")
    assert r.old_ward_code is r.old_ward_name is r.old_district_name is r.old_province_name is None


def test_the_ward_centre_is_returned_when_no_point_is_given() -> None:
    g = get_gazetteer()
    r = resolve_address("Phường Linh Trung, Thủ Đức")
    assert (r.lat, r.lon) == (g.wards[LINH_XUAN].lat, g.wards[LINH_XUAN].lon)


def test_a_split_old_ward_without_a_point_gets_its_default_new_ward_and_is_flagged_ambiguous() -> None:
    r = resolve_address("Xã An Phú Tây, Huyện Bình Chánh")
    assert r.ward_code == BINH_DONG and r.old_ward_code == AN_PHU_TAY
    assert r.ambiguous and set(r.candidates) == {BINH_DONG, XA_BINH_CHANH}
    assert r.precision == "ward"


def test_a_split_old_ward_with_a_point_nearer_another_new_ward_picks_that_ward() -> None:
    g = get_gazetteer()
    point = (10.670, 106.595)  # inside old An Phú Tây, nearer Xã Bình Chánh's centre
    assert distance_m(point, (g.wards[XA_BINH_CHANH].lat, g.wards[XA_BINH_CHANH].lon)) < distance_m(
        point, (g.wards[BINH_DONG].lat, g.wards[BINH_DONG].lon)
    )
    r = resolve_address("Xã An Phú Tây, Huyện Bình Chánh", lat=point[0], lon=point[1])
    assert r.ward_code == XA_BINH_CHANH and not r.ambiguous and r.candidates == ()
    assert r.precision == "street" and (r.lat, r.lon) == point


def test_a_split_old_ward_with_a_point_nearer_the_default_keeps_the_default_without_ambiguity() -> None:
    r = resolve_address("Xã An Phú Tây, Huyện Bình Chánh", lat=10.695, lon=106.612)
    assert r.ward_code == BINH_DONG and not r.ambiguous and r.precision == "street"


def test_a_point_far_from_a_split_old_ward_does_not_choose_among_its_new_wards() -> None:
    r = resolve_address("Xã An Phú Tây, Huyện Bình Chánh", lat=10.90, lon=106.90)
    assert r.ward_code == BINH_DONG and r.ambiguous and r.precision == "ward"
    g = get_gazetteer()
    assert (r.lat, r.lon) == (g.wards[BINH_DONG].lat, g.wards[BINH_DONG].lon)


def test_a_point_near_the_ward_gives_street_precision_with_that_point() -> None:
    r = resolve_address("Phường Linh Trung, Thủ Đức", lat=10.8601, lon=106.7702)
    assert r.precision == "street" and (r.lat, r.lon) == (10.8601, 106.7702)


def test_a_point_far_from_the_ward_is_ignored_and_the_ward_centre_kept() -> None:
    r = resolve_address("Phường Linh Trung, Thủ Đức", lat=10.7769, lon=106.7009)  # Quận 1
    assert r.precision == "ward" and r.ward_code == LINH_XUAN
    assert (r.lat, r.lon) != (10.7769, 106.7009)


def test_the_street_radius_is_configurable() -> None:
    point = (10.8609 + 0.018, 106.78)  # about 2 km north of Linh Xuân's centre
    wide = AddressResolver(street_radius_m=3000).resolve("Phường Linh Xuân, TP.HCM", lat=point[0], lon=point[1])
    narrow = AddressResolver(street_radius_m=1000).resolve("Phường Linh Xuân, TP.HCM", lat=point[0], lon=point[1])
    assert wide.precision == "street" and narrow.precision == "ward"


def test_a_numbered_ward_without_its_district_is_ambiguous_and_unresolved() -> None:
    r = resolve_address("Phường 7, TP.HCM")
    assert r.ward_code is None and r.precision == "unresolved"
    assert r.ambiguous and len(r.candidates) > 3
    assert r.province_code == "79"


def test_a_numbered_ward_with_its_district_resolves() -> None:
    r = resolve_address("123 Nguyễn Đình Chiểu, P.6, Q.3, TP.HCM")
    assert r.ward_code == "27139" and r.ward_name == "Phường Xuân Hòa" and not r.ambiguous
    assert r.line == "123 Nguyễn Đình Chiểu"


def test_a_district_without_a_ward_lists_the_wards_it_became_but_chooses_none() -> None:
    r = resolve_address("12 Nguyen Hue, District 1, Ho Chi Minh City")
    assert r.ward_code is None and r.precision == "unresolved" and r.ambiguous
    assert set(r.candidates) == {"26737", SAI_GON, "26743", "26758"}
    assert r.old_district_name == "Quận 1"


def test_a_district_written_with_its_type_word_is_not_taken_for_the_new_ward_of_the_same_name() -> None:
    r = resolve_address("Quận Gò Vấp, TP.HCM")
    assert r.ward_code is None and r.ambiguous and "26884" in r.candidates


def test_a_bare_name_that_is_both_a_new_ward_and_an_old_district_gives_the_ward_but_says_it_is_ambiguous() -> None:
    r = resolve_address("Phú Nhuận, TP.HCM")
    assert r.ward_code == "27073" and r.ambiguous and {"27043", "27058", "27073"} <= set(r.candidates)


def test_a_ward_under_the_wrong_district_is_tolerated_when_its_name_is_unique_in_the_province() -> None:
    r = resolve_address("Phường Thảo Điền, Quận 1, TP.HCM")
    assert r.ward_code == "27118" and r.old_district_name == "Thành phố Thủ Đức" and not r.ambiguous


def test_a_province_that_contradicts_the_ward_makes_the_answer_ambiguous() -> None:
    r = resolve_address("Phường Bến Nghé, Quận 1, Hà Nội")
    assert r.ward_code == SAI_GON and r.ambiguous


@pytest.mark.parametrize(
    "address", ["P. Linh Trungg, Thủ Đức", "Phường Linh Trrung, Thủ Đức", "Phuong Linh Turng, Thu Duc"]
)
def test_one_typo_in_a_long_word_is_forgiven(address: str) -> None:
    assert resolve_address(address).ward_code == LINH_XUAN


def test_a_typo_in_a_short_word_is_not_guessed() -> None:
    r = resolve_address("P. Bếm Nghé, Q.1")  # "bem" has 3 letters: too short to correct safely
    assert r.ward_code is None and r.precision == "unresolved"


def test_accents_tell_apart_communes_that_fold_alike_and_their_absence_is_reported_as_ambiguous() -> None:
    assert resolve_address("Xã Cẩm Giàng, Hải Phòng").ward_code == "10903"
    assert resolve_address("Xã Cẩm Giang, Hải Phòng").ward_code == "10888"
    r = resolve_address("Xa Cam Giang, Hai Phong")
    assert r.ward_code is None and r.ambiguous and set(r.candidates) == {"10888", "10903"}


def test_island_districts_without_wards_map_straight_to_their_special_zone() -> None:
    r = resolve_address("Huyện Côn Đảo, Bà Rịa - Vũng Tàu")
    assert r.ward_code == "26732" and r.ward_name == "Đặc khu Côn Đảo" and r.units == "old"


def test_other_provinces_resolve_with_their_own_province() -> None:
    r = resolve_address("25 Hàng Bài, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội")
    assert (r.ward_code, r.province_code, r.province_name) == ("00082", "01", "Thành phố Hà Nội")
    assert r.old_province_name == "Thành phố Hà Nội"


def test_a_missing_province_is_inferred_from_a_district_that_exists_in_one_province_only() -> None:
    r = resolve_address("Phường Hàng Bài, Hoàn Kiếm")
    assert (r.ward_code, r.province_code) == ("00082", "01")


def test_the_default_province_applies_when_the_address_names_none() -> None:
    assert resolve_address("Phường 8").ward_code is None  # many Phường 8 in HCMC
    r = resolve_address("Phường 8", default_province_code="68")  # only Đà Lạt has one in Lâm Đồng
    assert (r.ward_code, r.province_code) == ("24778", "68")


def test_an_unknown_default_province_is_refused() -> None:
    with pytest.raises(ValueError, match="default province"):
        resolve_address("Phường 8", default_province_code="99")


def test_structured_parts_resolve_like_text_and_keep_the_line_as_given() -> None:
    r = resolve_address(
        line=" 12 Đường số 7 ", ward="Phường Linh Trung", district="Thành phố Thủ Đức",
        province="Thành phố Hồ Chí Minh",
    )
    assert (r.ward_code, r.line, r.old_ward_name) == (LINH_XUAN, "12 Đường số 7", "Phường Linh Trung")


def test_a_bare_number_in_the_ward_or_district_part_is_a_ward_or_district_number() -> None:
    r = resolve_address(ward="6", district="3", province="TP.HCM")
    assert r.ward_code == "27139"


def test_text_and_parts_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either"):
        resolve_address("Phường Linh Trung", ward="Phường Linh Trung")


@pytest.mark.parametrize(("lat", "lon"), [(10.8, None), (None, 106.7), (95.0, 106.7), (10.8, 200.0)])
def test_an_incomplete_or_impossible_point_is_refused(lat: float | None, lon: float | None) -> None:
    with pytest.raises(ValueError):
        resolve_address("Phường Linh Trung, Thủ Đức", lat=lat, lon=lon)


@pytest.mark.parametrize("address", ["", "   ", "asdf qwer", "Việt Nam"])
def test_text_without_any_unit_is_unresolved_not_an_error(address: str) -> None:
    r = resolve_address(address)
    assert r.ward_code is None and r.precision == "unresolved" and not r.ambiguous and r.lat is None


def test_the_resolution_serialises_to_a_plain_dict() -> None:
    d = resolve_address("Xã An Phú Tây, Huyện Bình Chánh").as_dict()
    assert d["ward_code"] == BINH_DONG and d["candidates"] == sorted([BINH_DONG, XA_BINH_CHANH])
    assert set(d) == {
        "line", "ward_code", "ward_name", "province_code", "province_name", "old_ward_code", "old_ward_name",
        "old_district_name", "old_province_name", "lat", "lon", "precision", "ambiguous", "candidates", "units",
    }
