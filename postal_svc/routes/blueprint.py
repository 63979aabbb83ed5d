"""flask-smorest's Blueprint with a JSON parser that never turns bad input into a 500."""
from __future__ import annotations

import json
from typing import Any

import flask_smorest
from webargs.flaskparser import FlaskParser


class JsonParser(FlaskParser):
    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            # Absurdly deep nesting is invalid JSON to us, not a crash.
            raise json.JSONDecodeError("JSON nested too deeply", "<deep>", 0) from None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonParser()
