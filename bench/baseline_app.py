"""The bare baseline for bench/intake.py: minimal Flask + SQLAlchemy inserting the same JSON.

Imported once with BASELINE_CREATE_TABLES=1 to create its table (bench/intake.py does).
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import JSON, BigInteger, Column, DateTime, MetaData, Table, create_engine, func, insert
from sqlalchemy.dialects import postgresql

metadata = MetaData()
baseline_orders = Table(
    "baseline_orders", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("body", JSON().with_variant(postgresql.JSONB(), "postgresql")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)

engine = create_engine(os.environ["BASELINE_DATABASE_URL"], pool_size=10, max_overflow=20)
# bench/intake.py creates the table before the workers start: two workers creating it at
# once can collide, and the loser fails to boot.
if os.environ.get("BASELINE_CREATE_TABLES") == "1":
    metadata.create_all(engine)
app = Flask(__name__)


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200


@app.post("/orders")
def create() -> tuple[object, int]:
    body = request.get_json()
    with engine.begin() as conn:
        new_id = conn.execute(insert(baseline_orders).values(body=body)
                              .returning(baseline_orders.c.id)).scalar_one()
    return jsonify({"id": new_id, **body}), 201
