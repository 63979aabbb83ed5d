"""Normalisation of Vietnamese address text: folding, keys, tokens and abbreviations."""
from __future__ import annotations

import unicodedata

import pytest

from postal_svc.geo.normalize import Level, compact_key, fold, has_diacritics, nfc, tokenize


def _levels(text: str) -> list[tuple[str, frozenset[Level] | None]]:
    """(folded word, levels of the type word it starts, if any) for each token."""
    return [(t.fold, t.marker.levels if t.marker else None) for t in tokenize(text)]


def test_folding_drops_diacritics_and_turns_d_with_stroke_into_d() -> None:
    assert fold("Phường Linh Trung, Thành phố Thủ Đức") == "phuong linh trung, thanh pho thu duc"
    assert fold("ĐƯỜNG ĐỒNG KHỞI") == "duong dong khoi"


def test_decomposed_input_folds_like_precomposed_input() -> None:
    decomposed = unicodedata.normalize("NFD", "Bà Rịa – Vũng Tàu")
    assert fold(decomposed) == fold("Bà Rịa – Vũng Tàu") == "ba ria – vung tau"
    assert nfc(decomposed) == "Bà Rịa – Vũng Tàu"


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Phường 07", "phuong7"),
        ("Phường 7", "phuong7"),
        ("Thủ Dầu Một", "thudaumot"),
        ("Đắk R'Lấp", "dakrlap"),
        ("Văn Miếu - Quốc Tử Giám", "vanmieuquoctugiam"),
    ],
)
def test_compact_keys_ignore_case_accents_spaces_punctuation_and_leading_zeros(written: str, key: str) -> None:
    assert compact_key(written) == key


def test_accents_are_detected_only_when_present() -> None:
    assert has_diacritics("Quán Thánh")
    assert not has_diacritics("Quan Thanh")


@pytest.mark.parametrize("written", ["P7", "P.7", "F.7", "P. 7", "Phường 07", "phuong 7", "F7", "Ward 7"])
def test_every_way_of_writing_phuong_7_gives_a_ward_type_word_and_the_number_7(written: str) -> None:
    tokens = tokenize(written)
    assert tokens[0].marker is not None and Level.WARD in tokens[0].marker.levels
    assert tokens[-1].fold == "7"


@pytest.mark.parametrize("written", ["Q.9", "Q9", "Q 9", "Quận 9", "Quận 09", "District 9"])
def test_every_way_of_writing_quan_9_gives_a_district_type_word_and_the_number_9(written: str) -> None:
    tokens = tokenize(written)
    assert tokens[0].marker is not None and tokens[0].marker.levels == frozenset({Level.DISTRICT})
    assert tokens[-1].fold == "9"


@pytest.mark.parametrize(
    ("written", "unit_type"),
    [("H. Củ Chi", "Huyện"), ("TX. Thuận An", "Thị xã"), ("X. Bà Điểm", "Xã"), ("TT. Hóc Môn", "Thị trấn"),
     ("Thị trấn Hóc Môn", "Thị trấn"), ("Đặc khu Côn Đảo", "Đặc khu"), ("Thị xã Tân Uyên", "Thị xã")],
)
def test_unit_type_abbreviations_expand_to_their_official_type(written: str, unit_type: str) -> None:
    marker = tokenize(written)[0].marker
    assert marker is not None and marker.unit_type == unit_type and marker.hard


@pytest.mark.parametrize("written", ["TP.HCM", "Tp HCM", "T.P Hồ Chí Minh", "Thành phố Hồ Chí Minh"])
def test_thanh_pho_abbreviations_may_announce_a_district_or_a_province(written: str) -> None:
    marker = tokenize(written)[0].marker
    assert marker is not None and marker.levels == frozenset({Level.DISTRICT, Level.PROVINCE})


def test_street_words_are_tagged_and_duong_so_7_is_not_a_ward_type_word() -> None:
    tokens = tokenize("12 Đường số 7")
    assert [t.fold for t in tokens] == ["12", "duong", "so", "7"]
    assert tokens[1].street
    assert all(t.marker is None for t in tokens)


def test_house_numbers_with_slashes_stay_one_word() -> None:
    tokens = tokenize("12/3A Nguyễn Trãi")
    assert tokens[0].fold == "12/3a"
    assert tokens[0].marker is None


def test_a_name_syllable_spelt_like_a_type_word_is_not_a_hard_type_word() -> None:
    # "Quán Thánh" and "Phương Liệt" are names; "quan" without accents could be either.
    assert tokenize("Quán Thánh")[0].marker is None
    assert tokenize("Phương Liệt")[0].marker is None
    soft = tokenize("quan thanh")[0].marker
    assert soft is not None and not soft.hard


def test_commas_separate_parts_but_a_dash_inside_a_province_name_does_not() -> None:
    tokens = tokenize("P. Thắng Tam, Bà Rịa - Vũng Tàu")
    assert [t.segment for t in tokens] == [0, 0, 0, 1, 1, 1, 1]


def test_offsets_point_back_into_the_original_text() -> None:
    text = "12 Đường số 7, P. Linh Trung"
    tokens = tokenize(text)
    assert [text[t.start:t.end] for t in tokens] == ["12", "Đường", "số", "7", "P", "Linh", "Trung"]


def test_postcodes_and_country_names_are_ignorable() -> None:
    tokens = tokenize("TP.HCM 700000, Việt Nam")
    assert [t.ignorable for t in tokens] == [False, False, True, True, True]
    assert _levels("TP.HCM")[0][1] is not None
