"""Operations endpoints: liveness, readiness, Prometheus metrics."""
from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import text

from postal_svc.migrate import head_revision
from postal_svc.routes import common

blp = Blueprint("ops", __name__)
log = logging.getLogger("postal_svc.ops")

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("postal_http_requests_total", "HTTP requests answered",
                   ["method", "endpoint", "status"], registry=REGISTRY)
LATENCY = Histogram("postal_http_request_duration_seconds", "Time to answer HTTP requests",
                    ["method", "endpoint"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


@lru_cache(maxsize=1)
def _expected_head() -> str:
    return head_revision()


@blp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers and its schema is at the migrations' head."""
    try:
        with common.database().session_factory() as db_session:
            current = db_session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # any database failure means not ready
        log.warning("readiness check: database unreachable", exc_info=True)
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    expected = _expected_head()
    if current != expected:
        return jsonify({"status": "unavailable", "database": "ok",
                        "migrations": {"current": current, "head": expected}}), 503
    return jsonify({"status": "ready", "database": "ok", "migrations": {"current": current}}), 200


@blp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format (per worker process)."""
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


# Any other method a client sends is counted as "other": a label value per made-up method
# would let anyone grow the metrics without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# Each series is looked up once, not per request (the label sets are bounded).
@lru_cache(maxsize=1024)
def _latency(method: str, endpoint: str) -> Any:
    return LATENCY.labels(method, endpoint)


@lru_cache(maxsize=4096)
def _count(method: str, endpoint: str, status: int) -> Any:
    return REQUESTS.labels(method, endpoint, str(status))


def install_metrics(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        method = request.method if request.method in METHODS else "other"
        endpoint = request.endpoint or "unmatched"
        started = g.get("started")
        if started is not None:
            _latency(method, endpoint).observe(time.perf_counter() - started)
        _count(method, endpoint, response.status_code).inc()
        return response
