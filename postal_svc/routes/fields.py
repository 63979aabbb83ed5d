"""marshmallow fields shared by the API schemas."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from postal_svc.phones import InvalidPhone, normalize_vn_phone
from postal_svc.text import clean_text


class StrictInteger(fields.Integer):
    """An integer that must be a JSON integer: no strings, no floats, no booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


class CleanString(fields.String):
    """A string stored in NFC, trimmed, with single spaces; blank after cleaning is missing."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = clean_text(super()._deserialize(value, attr, data, **kwargs))
        if not text:
            raise ValidationError("Must not be blank.")
        return text


class CodeString(fields.String):
    """An identifier from another system: printable, trimmed, no inner white space."""

    def __init__(self, max_length: int = 64, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = clean_text(super()._deserialize(value, attr, data, **kwargs))
        if (not text or len(text) > self.max_length or not text.isprintable()
                or any(c.isspace() for c in text)):
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
