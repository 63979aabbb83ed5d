"""UPU S10 tracking numbers: 2 letters, 8-digit serial, check digit, country code."""
from __future__ import annotations

import re

_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_PATTERN = re.compile(r"([A-Z]{2})(\d{8})(\d)([A-Z]{2})")
MAX_SERIAL = 99_999_999


def check_digit(serial: int) -> int:
    """S10 check digit of an 8-digit serial: 11 - (weighted sum mod 11); 10 -> 0, 11 -> 5."""
    if not 0 <= serial <= MAX_SERIAL:
        raise ValueError("an S10 serial has 8 digits")
    total = sum(int(d) * w for d, w in zip(f"{serial:08d}", _WEIGHTS))
    c = 11 - total % 11
    return {10: 0, 11: 5}.get(c, c)


def format_tracking_number(prefix: str, serial: int, country: str = "VN") -> str:
    return f"{prefix}{serial:08d}{check_digit(serial)}{country}"


def is_valid_tracking_number(value: str) -> bool:
    """True when `value` has the S10 form and its check digit is right."""
    match = _PATTERN.fullmatch(value)
    return bool(match) and check_digit(int(match.group(2))) == int(match.group(3))
