"""UPU S10 tracking numbers: the check digit and the shape of a valid number."""
from __future__ import annotations

import pytest

from postal_svc.shipments.s10 import check_digit, format_tracking_number, is_valid_tracking_number


def test_domain_example_serial_12345678_has_check_digit_5():
    # 1*8 + 2*6 + 3*4 + 4*2 + 5*3 + 6*5 + 7*9 + 8*7 = 204; 204 mod 11 = 6; 11 - 6 = 5
    assert check_digit(12345678) == 5


def test_domain_example_formats_as_rr123456785vn():
    assert format_tracking_number("RR", 12345678) == "RR123456785VN"


def test_a_check_of_10_becomes_0():
    # 00000008: 8*7 = 56; 56 mod 11 = 1; 11 - 1 = 10 -> 0
    assert check_digit(8) == 0
    assert format_tracking_number("RR", 8) == "RR000000080VN"


def test_a_check_of_11_becomes_5():
    # 10000500: 1*8 + 5*5 = 33; 33 mod 11 = 0; 11 - 0 = 11 -> 5
    assert check_digit(10000500) == 5


@pytest.mark.parametrize(("serial", "expected"), [
    (1, 4),          # 1*7 = 7; 11 - 7 = 4
    (10, 2),         # 1*9 = 9; 11 - 9 = 2
    (3, 1),          # 3*7 = 21; 21 mod 11 = 10; 11 - 10 = 1
    (12000000, 2),   # 1*8 + 2*6 = 20; 20 mod 11 = 9; 11 - 9 = 2
    (99999999, 5),   # 9*(8+6+4+2+3+5+9+7) = 396 = 36*11; 11 - 0 = 11 -> 5
    (0, 5),          # sum 0; 11 - 0 = 11 -> 5
])
def test_check_digit_matches_hand_computed_values(serial, expected):
    assert check_digit(serial) == expected


def test_serial_is_zero_padded_to_eight_digits():
    assert format_tracking_number("XY", 1) == "XY000000014VN"


@pytest.mark.parametrize("serial", [-1, 100_000_000])
def test_a_serial_outside_eight_digits_is_refused(serial):
    with pytest.raises(ValueError):
        check_digit(serial)


@pytest.mark.parametrize("number", ["RR123456785VN", "XY000000080VN", "RR100005005VN"])
def test_well_formed_numbers_with_the_right_check_digit_are_valid(number):
    assert is_valid_tracking_number(number)


@pytest.mark.parametrize("number", [
    "RR123456784VN",    # wrong check digit
    "RR123456780VN",    # wrong check digit
    "rr123456785vn",    # lower case
    "R1123456785VN",    # service indicator not two letters
    "RR12345678VN",     # check digit missing
    "RR1234567855VN",   # one digit too many
    "RR123456785V",     # country code cut short
    "RR123456785V1",    # country code not letters
    " RR123456785VN",   # leading space
    "RR123456785VN ",   # trailing space
    "RR 12345678 5 VN",
    "",
    "RR12345A785VN",
])
def test_malformed_or_miscounted_numbers_are_invalid(number):
    assert not is_valid_tracking_number(number)



def test_only_the_right_check_digit_of_a_serial_is_valid():
    valid = [d for d in "0123456789" if is_valid_tracking_number(f"RR12345678{d}VN")]
    assert valid == ["5"]
