"""Response schemas for bodies a presenter (`routes/presenters.py`) has already built.

Presenters turn domain objects into the wire shape (ISO timestamps, nested objects, links), so
dumping their output through marshmallow again, field by field, only re-copies it: on the
intake and public-tracking paths that second pass cost as much as pricing an order. A
`PresentedSchema` still documents the response (OpenAPI) but passes the body through. Under
`app.testing` it dumps for real and refuses a body that differs, so every API test checks that
the presenters keep to the documented schemas (an undeclared key, a missing one, a wrong type).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from marshmallow import Schema


class PresenterMismatch(AssertionError):
    """A presenter's body and its documented schema disagree (raised in tests only)."""


class PresentedSchema(Schema):
    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if has_app_context() and current_app.testing:
            dumped = super().dump(obj, many=many)
            if dumped != obj:
                raise PresenterMismatch(
                    f"{type(self).__name__}: the presenter's body differs from the schema's "
                    f"dump of it at {', '.join(_differences(obj, dumped))}")
        return obj


def _differences(body: Any, dumped: Any, path: str = "$") -> list[str]:
    """Where two JSON-like values differ, as paths (`$.data[0].order.price`)."""
    if isinstance(body, dict) and isinstance(dumped, dict):
        found: list[str] = []
        for key in sorted(set(body) | set(dumped), key=str):
            if key not in dumped:
                found.append(f"{path}.{key} (not in the schema)")
            elif key not in body:
                found.append(f"{path}.{key} (missing from the body)")
            else:
                found += _differences(body[key], dumped[key], f"{path}.{key}")
        return found
    if isinstance(body, list) and isinstance(dumped, list) and len(body) == len(dumped):
        return [d for i, (b, x) in enumerate(zip(body, dumped))
                for d in _differences(b, x, f"{path}[{i}]")]
    return [] if body == dumped else [f"{path} ({body!r} != {dumped!r})"]
