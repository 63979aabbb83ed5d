"""JSON text by orjson, with the standard library for what orjson does not take.

orjson writes the service's JSON (API bodies, the database's JSON columns) about ten times
faster than the standard library. What it refuses, chiefly an integer beyond 64 bits or a
string with a lone surrogate, is written by the standard library instead (with \\u escapes,
which can always be encoded), so such values are still written. Unlike the standard
library's defaults, orjson writes non-ASCII text as UTF-8 rather than \\u escapes, leaves no
spaces after separators, writes NaN and infinities as null (JSON has no such numbers; the
standard library wrote `NaN`, which PostgreSQL refuses) and also writes UUIDs and enums.
Dates and dataclasses are not written natively: they go to `default` (or are refused, as by
the standard library).
"""
from __future__ import annotations

import json
from typing import Any, Callable

import orjson

_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_NON_STR_KEYS)


def encode(obj: Any, *, default: Callable[[Any], Any] | None = None, indent: bool = False,
           sort_keys: bool = False) -> bytes | None:
    """`obj` as UTF-8 JSON, or None where orjson cannot write it (use the standard library)."""
    option = _OPTIONS | (orjson.OPT_INDENT_2 if indent else 0) \
        | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        return orjson.dumps(obj, default=default, option=option)
    except TypeError:  # orjson.JSONEncodeError is one
        return None


def dumps_bytes(obj: Any) -> bytes:
    """`obj` as compact UTF-8 JSON; raises TypeError for what JSON cannot hold."""
    encoded = encode(obj)
    if encoded is None:
        return json.dumps(obj, separators=(",", ":")).encode()
    return encoded


def dumps(obj: Any) -> str:
    """`obj` as compact JSON text; raises TypeError for what JSON cannot hold."""
    return dumps_bytes(obj).decode()
