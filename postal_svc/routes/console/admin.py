"""Console area: admin (tariffs, promotions, VAT rates, API clients, webhooks, billing audit).

Admins only (a dispatcher gets 403). The pages live in `admin_billing`, `admin_clients` and
`admin_webhooks`, imported here so their views register on `base.blp`.
"""
from __future__ import annotations

from typing import Any

from postal_svc.routes.console.admin_common import render_admin
from postal_svc.routes.console.base import admin_required, blp


@blp.get("/admin")
@admin_required
def admin() -> Any:
    """The admin index: one link per admin page."""
    return render_admin("index.html")


# The pages register on `blp` when imported (after `admin`, which their templates link to).
from postal_svc.routes.console import (  # noqa: E402,F401
    admin_billing, admin_clients, admin_webhooks)
