"""marshmallow fields shared by the API schemas."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from marshmallow import ValidationError, fields

from postal_svc.phones import InvalidPhone, normalize_vn_phone
from postal_svc.text import clean_text


class StrictInteger(fields.Integer):
    """An integer that must be a JSON integer: no strings, no floats, no booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


# A lone surrogate ("\ud800" in JSON) cannot be stored as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")
# The same characters as str.isspace (both use Unicode's white space property).
_WHITE_SPACE = re.compile(r"\s")


def _check_encodable(text: str) -> None:
    # Refused here, not in the database driver.
    if _SURROGATE.search(text):
        raise ValidationError("Not valid Unicode text.")


class CleanString(fields.String):
    """A string stored in NFC, trimmed, with single spaces; blank after cleaning is missing."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = clean_text(super()._deserialize(value, attr, data, **kwargs))
        _check_encodable(text)
        if not text:
            raise ValidationError("Must not be blank.")
        return text


class CodeString(fields.String):
    """An identifier from another system: printable, trimmed, no inner white space."""

    def __init__(self, max_length: int = 64, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        text = clean_text(raw)
        # Checked on what was sent: a control character inside a code is refused, not
        # silently dropped (which could merge two different codes into one).
        if (not text or len(text) > self.max_length or not raw.strip().isprintable()
                or _WHITE_SPACE.search(text)):
            raise ValidationError(
                f"Must be 1 to {self.max_length} printable characters without spaces.")
        return text


class VietnamesePhone(fields.String):
    """A Vietnamese mobile or landline number, accepted as written, stored as E.164."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_vn_phone(raw)
        except InvalidPhone as error:
            raise ValidationError(str(error)) from None


class UtcDateTime(fields.AwareDateTime):
    """An instant with an offset, returned in UTC; instants UTC cannot hold are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError:
            raise ValidationError("Out of range.") from None
