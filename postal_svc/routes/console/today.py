"""Today: counts by status and the orders that need attention."""
from __future__ import annotations

from typing import Any

from flask import render_template

from postal_svc.routes.console.base import blp, staff_required


@blp.get("/")
@staff_required
def today() -> Any:
    return render_template("console/today.html")
