"""Presented response schemas pass bodies through, and check them against the schema in tests."""
from __future__ import annotations

import pytest
from flask import Flask
from marshmallow import fields

from postal_svc.routes.presented import PresentedSchema, PresenterMismatch


class _Thing(PresentedSchema):
    id = fields.String()
    count = fields.Integer()


def test_outside_tests_the_body_is_passed_through_untouched():
    app = Flask(__name__)
    body = {"id": "x", "count": 1, "extra": True}
    with app.app_context():
        assert _Thing().dump(body) is body


def test_in_tests_a_body_that_strays_from_its_schema_is_refused_with_the_path():
    app = Flask(__name__)
    app.testing = True
    with app.app_context():
        assert _Thing().dump({"id": "x", "count": 1}) == {"id": "x", "count": 1}
        with pytest.raises(PresenterMismatch, match=r"\$\.extra \(not in the schema\)"):
            _Thing().dump({"id": "x", "count": 1, "extra": True})
        with pytest.raises(PresenterMismatch, match=r"\$\.count"):
            _Thing().dump({"id": "x", "count": "1"})
