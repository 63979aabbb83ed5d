"""Text hygiene for names and address lines: Unicode NFC, trimmed, single spaces."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL = re.compile(_CONTROL_CHARACTERS)
# What the cleaning would change inside a string (apart from NFC and the ends): a control
# character, white space other than a plain space, or two spaces in a row.
_NEEDS_CLEANING = re.compile(_CONTROL_CHARACTERS + r"|[^\S ]|  ")


def clean_text(value: str) -> str:
    """NFC-normalise, drop control characters, collapse runs of white space, trim."""
    if unicodedata.is_normalized("NFC", value) and not _NEEDS_CLEANING.search(value):
        return value.strip()  # already clean inside: most input, at a third of the cost
    value = unicodedata.normalize("NFC", value)
    value = _CONTROL.sub("", value)
    return _SPACES.sub(" ", value).strip()
