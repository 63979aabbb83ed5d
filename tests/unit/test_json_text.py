"""json_text writes what the standard library would, faster, and refuses what it refuses."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from postal_svc import json_text

BODY = {"name": "Nguyễn Văn An", "total": 22000, "lat": 10.8701, "ok": True, "none": None,
        "lines": [{"code": "postage", "amount": -5500}], 7: "int key"}


def test_the_json_reads_back_as_the_standard_librarys() -> None:
    assert json.loads(json_text.dumps(BODY)) == json.loads(json.dumps(BODY))
    assert json.loads(json_text.dumps_bytes(BODY)) == json.loads(json.dumps(BODY))
    assert "Nguyễn" in json_text.dumps(BODY)  # UTF-8, not \u escapes


def test_integers_beyond_64_bits_fall_back_to_the_standard_library() -> None:
    huge = {"amount": 2 ** 70, "name": "Trường Thạnh"}
    assert json_text.encode(huge) is None
    assert json.loads(json_text.dumps(huge)) == huge


def test_what_json_cannot_hold_is_refused_as_by_the_standard_library() -> None:
    for value in ({"at": datetime(2026, 11, 28, tzinfo=timezone.utc)}, {"x": object()}):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            json_text.dumps(value)


def test_a_lone_surrogate_is_written_escaped_and_nan_as_null() -> None:
    odd = {"name": "Tr\ud800ng", "ward": "Linh Trung"}
    assert json_text.encode(odd) is None  # orjson refuses it: the standard library writes it
    assert json.loads(json_text.dumps(odd)) == odd
    assert json.loads(json_text.dumps_bytes(odd).decode()) == odd
    assert json.loads(json_text.dumps({"lat": float("nan")})) == {"lat": None}
