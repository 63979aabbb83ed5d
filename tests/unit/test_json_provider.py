"""The orjson-backed JSON provider writes the same JSON the standard library would."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from decimal import Decimal

from flask import Flask

from postal_svc.routes.json_provider import FastJSONProvider


def make_app(debug: bool = False) -> Flask:
    app = Flask(__name__)
    app.debug = debug
    app.json = FastJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    return app


@dataclasses.dataclass
class Point:
    lat: float
    lon: float


def test_bodies_read_back_as_the_standard_librarys_would() -> None:
    app = make_app()
    body = {"name": "Nguyễn Văn An", "total": 22000, "lat": 10.8701, "ok": True, "none": None,
            "at": datetime(2026, 11, 28, 5, 0, tzinfo=timezone.utc), "money": Decimal("1.50"),
            "point": Point(10.87, 106.8), "lines": [{"code": "postage", "amount": -5500}]}
    with app.app_context():
        written = app.json.dumps(body)
        response = app.json.response(body)
    expected = json.loads(json.dumps(body, default=app.json.default))
    assert json.loads(written) == expected
    assert json.loads(response.get_data()) == expected
    assert response.mimetype == "application/json"
    assert "Nguyễn" in response.get_data(as_text=True)  # UTF-8, not \u escapes
    assert list(json.loads(written)) == list(body)  # keys keep their order


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    app = make_app()
    huge = 10 ** 30  # beyond 64 bits
    with app.app_context():
        assert json.loads(app.json.response({"n": huge}).get_data()) == {"n": huge}
        assert json.loads(app.json.dumps([huge])) == [huge]


def test_debug_answers_are_indented() -> None:
    app = make_app(debug=True)
    with app.app_context():
        text = app.json.response({"a": 1}).get_data(as_text=True)
    assert text == '{\n  "a": 1\n}\n'
