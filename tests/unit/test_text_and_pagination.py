"""Text hygiene (NFC, white space) and opaque pagination cursors."""
from __future__ import annotations

import base64
import json
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postal_svc.errors import RuleViolation
from postal_svc.pagination import decode_cursor, encode_cursor
from postal_svc.text import clean_text


def test_decomposed_vietnamese_is_stored_composed():
    composed = "Nguyễn Văn Ánh, Phường Linh Trung, Thủ Đức"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed  # the input really is decomposed
    cleaned = clean_text(decomposed)
    assert cleaned == composed
    assert unicodedata.is_normalized("NFC", cleaned)


def test_stacked_diacritics_compose_into_one_character_each():
    # "ệ" written as e + circumflex + dot below: one code point after cleaning
    assert clean_text("Nghe\u0302\u0323 An") == "Nghệ An"
    assert len(clean_text("e\u0302\u0323")) == 1


def test_white_space_is_trimmed_and_collapsed():
    assert clean_text("  Nguyễn \t Văn\n\nAn  ") == "Nguyễn Văn An"


def test_non_breaking_and_other_unicode_spaces_collapse_too():
    assert clean_text("Nguyễn\u00a0Văn\u2003An") == "Nguyễn Văn An"


def test_control_characters_are_dropped():
    assert clean_text("Nguy\x00ễn\x07 Văn An\x7f") == "Nguyễn Văn An"


def test_only_white_space_cleans_to_empty():
    assert clean_text(" \t\n ") == ""


def test_clean_text_leaves_clean_text_alone():
    text = "12 Đường số 7, P. Linh Trung"
    assert clean_text(text) == text


@pytest.mark.parametrize("value", [0, 1, 123456789012, "AG-LINHTRUNG", "Đường số 7"])
def test_a_cursor_round_trips_its_value(value):
    assert decode_cursor(encode_cursor(value)) == value


def test_a_cursor_is_url_safe_and_unpadded():
    cursor = encode_cursor("ÿÿÿ-some/value+with?chars")
    assert "=" not in cursor
    assert all(c.isalnum() or c in "-_" for c in cursor)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("garbage", [
    "garbage!",
    "%%%%",
    "a",
    "",
    _b64(b"not json"),
    _b64(json.dumps({"x": 1}).encode()),   # JSON, but not a cursor
    _b64(json.dumps([1, 2]).encode()),
    _b64(b"\xff\xfe\xfd"),
])
def test_a_garbage_cursor_is_a_rule_violation_on_the_cursor_field(garbage):
    with pytest.raises(RuleViolation) as raised:
        decode_cursor(garbage)
    assert "cursor" in raised.value.errors


def _clean_the_long_way(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value)
    return re.sub(r"\s+", " ", value).strip()


@settings(max_examples=2000)
@given(st.text(alphabet=st.sampled_from(
    ["a", "ễ", "e", "\u0302", "\u0323", " ", "\t", "\n", "\x00", "\x1f", "\x7f",
     "\u00a0", "\u2003", "\u1e9e", "Đ"])))
def test_clean_text_gives_what_the_full_cleaning_gives(value):
    # The shortcut for text that is already clean inside must never change the outcome.
    assert clean_text(value) == _clean_the_long_way(value)
