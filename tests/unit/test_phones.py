"""Vietnamese phone numbers as citizens write them, stored as E.164, masked on public pages."""
from __future__ import annotations

import pytest

from postal_svc.phones import InvalidPhone, mask_phone, normalize_vn_phone


@pytest.mark.parametrize("written", [
    "0903123456",
    "84903123456",
    "+84903123456",
    "+84 903 123 456",
    "0903 123 456",
    "0903.123.456",
    "090.312.3456",
    " 0903123456 ",
    "(+84) 903-123-456",
])
def test_a_mobile_number_written_any_accepted_way_becomes_the_same_e164(written):
    assert normalize_vn_phone(written) == "+84903123456"


@pytest.mark.parametrize(("written", "e164"), [
    ("0323456789", "+84323456789"),   # Viettel 03x
    ("0523456789", "+84523456789"),   # 05x
    ("0703456789", "+84703456789"),   # 07x
    ("0813456789", "+84813456789"),   # 08x
    ("0843123456", "+84843123456"),   # a mobile prefix that itself starts with 84
    ("84843123456", "+84843123456"),
])
def test_every_current_mobile_prefix_is_accepted(written, e164):
    assert normalize_vn_phone(written) == e164


@pytest.mark.parametrize("written", [
    "028 3829 1234",
    "02838291234",
    "842838291234",
    "+84 28 3829 1234",
    "028.3829.1234",
])
def test_a_landline_with_its_area_code_becomes_e164(written):
    assert normalize_vn_phone(written) == "+842838291234"


@pytest.mark.parametrize("written", [
    "090312345",        # mobile one digit short
    "09031234567",      # mobile one digit long
    "0283829123",       # landline one digit short
    "028382912345",     # landline one digit long
    "+8490312345",      # +84 and too short
    "+849031234567",    # +84 and too long
    "0103123456",       # 01x: no longer a mobile prefix
    "0603123456",       # 06x: not a prefix
    "0403123456",       # 04x: not a prefix
    "0003123456",
    "903123456",        # national number without its 0
    "0903abc456",
    "09O3123456",       # letter O instead of zero
    "0903123456x",
    "+1 202 555 0100",  # not Vietnamese
    "",
    "   ",
    "++84903123456",
])
def test_wrong_lengths_prefixes_and_letters_are_refused(written):
    with pytest.raises(InvalidPhone):
        normalize_vn_phone(written)


def test_the_e164_output_is_plus_84_and_digits_only():
    e164 = normalize_vn_phone("0903 123.456")
    assert e164.startswith("+84")
    assert e164[1:].isdigit()


def test_a_normalised_number_normalises_to_itself():
    once = normalize_vn_phone("0903.123.456")
    assert normalize_vn_phone(once) == once


def test_mask_shows_only_the_last_three_digits_of_the_national_number():
    assert mask_phone("+84903123456") == "*******456"


def test_mask_of_a_landline_hides_all_but_three_digits():
    assert mask_phone("+842838291234") == "********234"
