"""The bare baseline for bench/tracking.py: minimal Flask + SQLAlchemy Core, same two reads."""
from __future__ import annotations

import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["BASELINE_DATABASE_URL"], pool_size=10, max_overflow=20)
app = Flask(__name__)
ORDER = text("SELECT id, status, kind, due_at, ward_name FROM orders WHERE tracking_number = :tn")
EVENTS = text("SELECT status, occurred_at, ward_code, post_office_code FROM tracking_events "
              "WHERE order_id = :id ORDER BY id")


@app.get("/t/<tracking_number>")
def track(tracking_number: str) -> object:
    with engine.connect() as conn:
        order = conn.execute(ORDER, {"tn": tracking_number}).mappings().first()
        if order is None:
            abort(404)
        events = conn.execute(EVENTS, {"id": order["id"]}).mappings().all()
    return jsonify({"status": order["status"], "kind": order["kind"],
                    "due_at": order["due_at"].isoformat(), "ward": order["ward_name"],
                    "events": [{"status": e["status"], "at": e["occurred_at"].isoformat(),
                                "ward": e["ward_code"], "post_office": e["post_office_code"]}
                               for e in events]})
