"""The dispatcher console under /console/: a second face over the same use cases as the API.

Each area is a module of views on the one `blp`; `base` holds what they share (who is signed in,
the role and post-office checks, friendly errors). The console holds no logic of its own.
"""
from postal_svc.routes.console.base import blp

# The areas register their views on `blp` when imported.
from postal_svc.routes.console import admin, auth, cash, orders, plans, reports, today  # noqa: E402,F401

__all__ = ["blp"]
