"""Pooled PostgreSQL connections: one that sat idle is checked before use, so a connection the
server dropped meanwhile (restart, failover, idle timeout) is replaced, never handed to a request."""
from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from postal_svc import db

pytestmark = pytest.mark.postgres


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(engine: Engine,
                                                                     monkeypatch):
    pooled = db.make_engine(engine.url.render_as_string(hide_password=False),
                            pool_size=1, max_overflow=0)
    try:
        with pooled.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
            admin.commit()
        # As if the connection had sat in the pool longer than the idle limit.
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", -1.0)
        with pooled.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first_pid
    finally:
        pooled.dispose()


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine, monkeypatch):
    pooled = db.make_engine(engine.url.render_as_string(hide_password=False),
                            pool_size=1, max_overflow=0)
    pings = []
    monkeypatch.setattr(pooled.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    try:
        for _ in range(3):
            with pooled.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", -1.0)
        with pooled.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        pooled.dispose()
