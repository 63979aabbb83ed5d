"""Vietnamese phone numbers (mobile and landline) normalised to E.164."""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")
# Mobile: 0 + 3|5|7|8|9 + 8 digits. Landline (since 2017): 0 + 2 + area code and subscriber,
# 11 digits in all (e.g. 028 3829 1234 in Ho Chi Minh City).
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")


class InvalidPhone(ValueError):
    pass


def normalize_vn_phone(raw: str) -> str:
    """Return +84... for a Vietnamese number written with 0, 84 or +84; raise InvalidPhone."""
    compact = _SEPARATORS.sub("", raw.strip())
    if compact.startswith("+84"):
        national = "0" + compact[3:]
    elif compact.startswith("0084"):
        national = "0" + compact[4:]
    elif compact.startswith("84") and len(compact) in (11, 12):
        national = "0" + compact[2:]
    else:
        national = compact
    if national.startswith("00"):
        raise InvalidPhone("Not a Vietnamese phone number.")
    if not (_MOBILE.fullmatch(national) or _LANDLINE.fullmatch(national)):
        raise InvalidPhone("Not a Vietnamese mobile or landline number.")
    return "+84" + national[1:]


def mask_phone(e164: str) -> str:
    """`*******456`: the national number with all but its last three digits hidden."""
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    return "*" * max(len(national) - 3, 0) + national[-3:]
