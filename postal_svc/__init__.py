"""postal-svc: the post office's side of public postal services for administrative procedures."""
from __future__ import annotations

from typing import Any


def create_app(test_config: dict[str, Any] | None = None) -> Any:
    """Build the Flask app (see postal_svc.app); imported lazily so the domain stays Flask-free."""
    from postal_svc.app import create_app as _create_app

    return _create_app(test_config)
