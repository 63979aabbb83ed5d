"""Keyset pagination with opaque cursors: `{"data": [...], "next_cursor": ...}`."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from postal_svc.errors import RuleViolation

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(value: Any) -> str:
    raw = json.dumps({"k": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise RuleViolation("The cursor is not one this service gave out.",
                            errors={"cursor": ["Invalid cursor."]}) from None


def paginate(session: Session, stmt: Select[Any], key: InstrumentedAttribute[Any], *,
             limit: int, cursor: str | None, descending: bool = False) -> Page[Any]:
    """Run `stmt` ordered by the unique `key`, one page after `cursor`."""
    if cursor is not None:
        after = decode_cursor(cursor)
        # Only a value this key could hold: a string for an integer key (or a number past
        # 64 bits) would otherwise reach the database and fail there.
        expected = key.type.python_type
        if (not isinstance(after, expected) or isinstance(after, bool)
                or (isinstance(after, int) and not -2**63 <= after < 2**63)):
            raise RuleViolation("The cursor is not one this service gave out.",
                                errors={"cursor": ["Invalid cursor."]})
        stmt = stmt.where(key < after if descending else key > after)
    stmt = stmt.order_by(key.desc() if descending else key.asc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key.key)) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)
