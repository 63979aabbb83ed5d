"""CompiledWrite writes what the same SQLAlchemy statement would, on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, Integer, bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from postal_svc.db import CompiledWrite, Database, make_engine
from postal_svc.migrate import upgrade
from postal_svc.webhooks.models import WebhookEvent

EVENTS = WebhookEvent.__table__
STATEMENT = insert(EVENTS).values(
    public_id=bindparam("public_id"), type="order.status_changed",
    data=bindparam("data", type_=EVENTS.c.data.type),
    created_at=bindparam("created_at", type_=EVENTS.c.created_at.type),
).returning(EVENTS.c.id)
SAIGON = timezone(timedelta(hours=7))


def test_rows_written_by_driver_sql_match_the_statements_own(db_session: Session) -> None:
    write = CompiledWrite.compile(STATEMENT, db_session.get_bind().dialect)
    assert write.returns_rows  # RETURNING: known without asking the cursor
    at = datetime(2026, 11, 28, 9, 30, tzinfo=SAIGON)  # stored as the same instant, in UTC
    data = {"status": "delivered", "amount": 22000, "name": "Nguyễn Văn An", "lines": [1, None]}
    ours = write.first_row(db_session, {"public_id": "evt_driver", "data": data,
                                        "created_at": at})[0]
    theirs = db_session.execute(STATEMENT, {"public_id": "evt_sqlalchemy", "data": data,
                                            "created_at": at}).scalar_one()
    rows = {row.id: row for row in db_session.execute(
        select(EVENTS).where(EVENTS.c.id.in_([ours, theirs])))}
    assert rows[ours].data == rows[theirs].data == data
    assert rows[ours].created_at == rows[theirs].created_at == at
    assert rows[ours].created_at.utcoffset() == timedelta(0)
    assert rows[ours].type == rows[theirs].type == "order.status_changed"


def test_bind_processors_and_error_wrapping_are_sqlalchemys(db_session: Session) -> None:
    write = CompiledWrite.compile(STATEMENT, db_session.get_bind().dialect)
    naive = datetime(2026, 11, 28, 9, 30)
    with pytest.raises(ValueError, match="naive"):  # UTCDateTime refuses it before sending
        write.first_row(db_session, {"public_id": "evt_naive", "data": {}, "created_at": naive})
    db_session.rollback()
    now = datetime.now(timezone.utc)
    write.first_row(db_session, {"public_id": "evt_twice", "data": {}, "created_at": now})
    with pytest.raises(IntegrityError) as twice:  # the unique public id, as SQLAlchemy's
        write.first_row(db_session, {"public_id": "evt_twice", "data": {}, "created_at": now})
    assert twice.value.orig is not None
    assert "parameters hidden" in str(twice.value)  # as the engine says: none in the logs


def test_a_statement_without_rows_gives_none(db_session: Session) -> None:
    CompiledWrite.compile(STATEMENT, db_session.get_bind().dialect).first_row(
        db_session, {"public_id": "evt_rows", "data": {}, "created_at": datetime.now(timezone.utc)})
    write = CompiledWrite.compile(
        update(EVENTS).where(EVENTS.c.public_id == bindparam("public_id"))
        .values(type="order.cancelled"), db_session.get_bind().dialect)
    assert not write.returns_rows  # so the cursor is asked, and says there are none
    assert write.first_row(db_session, {"public_id": "evt_rows"}) is None
    assert db_session.scalar(select(EVENTS.c.type).where(EVENTS.c.public_id == "evt_rows")) \
        == "order.cancelled"


def test_json_beyond_orjson_is_written_by_the_standard_library(db_session: Session) -> None:
    data = {"huge": 2 ** 70, "name": "Trường Thạnh"}
    write = CompiledWrite.compile(STATEMENT, db_session.get_bind().dialect)
    ours = write.first_row(db_session, {"public_id": "evt_huge", "data": data,
                                        "created_at": datetime.now(timezone.utc)})[0]
    theirs = db_session.execute(STATEMENT, {"public_id": "evt_huge_sa", "data": data,
                                            "created_at": datetime.now(timezone.utc)}).scalar_one()
    stored = dict(db_session.execute(select(EVENTS.c.id, EVENTS.c.data)
                                     .where(EVENTS.c.id.in_([ours, theirs]))).all())
    assert stored[ours] == stored[theirs] == data


def test_a_connection_the_server_dropped_is_invalidated(database_url: str) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("a server that drops connections is PostgreSQL's")
    write = CompiledWrite.compile(select(bindparam("n", type_=Integer)), engine.dialect)
    try:
        with Session(engine) as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as dropped:
                write.first_row(session, {"n": 1})
            assert dropped.value.connection_invalidated
        with Session(engine) as session:  # the pool hands out a fresh connection
            assert write.first_row(session, {"n": 7}) == (7,)
    finally:
        engine.dispose()


def test_an_autocommit_session_borrows_a_connection_for_the_statement_alone(
        database_url: str) -> None:
    engine = make_engine(database_url)
    db = Database(engine)
    factory = db.autocommit_session_factory
    if factory is None:
        engine.dispose()
        pytest.skip("sessions without a transaction exist on PostgreSQL only")
    upgrade(engine)
    pid = CompiledWrite.compile(select(func.pg_backend_pid()), engine.dialect)
    write = CompiledWrite.compile(STATEMENT, engine.dialect)
    try:
        with factory() as session:
            new_id = write.first_row(session, {"public_id": "evt_borrowed", "data": {"a": 1},
                                               "created_at": datetime.now(timezone.utc)})[0]
            assert not session.in_transaction()  # the session itself holds nothing
            with engine.connect() as other:  # committed by itself, visible at once
                assert other.scalar(select(EVENTS.c.public_id)
                                    .where(EVENTS.c.id == new_id)) == "evt_borrowed"
            assert engine_of(db).pool.checkedout() == 0  # given back at once
            with pytest.raises(IntegrityError):  # given back on errors too
                write.first_row(session, {"public_id": "evt_borrowed", "data": {},
                                          "created_at": datetime.now(timezone.utc)})
            assert engine_of(db).pool.checkedout() == 0
            # Once the session holds a connection, statements run on it.
            held = session.scalar(select(func.pg_backend_pid()))
            assert pid.first_row(session, {}) == (held,)
        # A borrowed connection the server dropped is invalidated, and so are the pool's
        # older ones (the server likely dropped them too): each is replaced on its next
        # checkout instead of failing a request.
        pool = engine_of(db).pool
        first, second = pool.connect(), pool.connect()  # two pooled connections, both idle
        older = {connection_pid(first), connection_pid(second)}
        first.close()
        second.close()
        with factory() as session:
            dropped = pid.first_row(session, {})[0]
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
            with pytest.raises(DBAPIError) as error:
                for _ in range(10):  # the pool hands its idle connections out in turn
                    pid.first_row(session, {})
            assert error.value.connection_invalidated
            fresh = pid.first_row(session, {})[0]
            assert fresh not in older  # the surviving older connection was replaced too
    finally:
        with engine.begin() as conn:
            conn.execute(EVENTS.delete().where(EVENTS.c.public_id == "evt_borrowed"))
        db.dispose()
        engine.dispose()


def engine_of(db: Database) -> Engine:
    assert db._autocommit_engine is not None
    return db._autocommit_engine


def connection_pid(pooled: Any) -> int:
    with pooled.dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])
