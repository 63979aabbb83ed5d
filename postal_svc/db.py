"""Database plumbing: declarative base, column types, engine and session factory."""
from __future__ import annotations

import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from sqlalchemy import JSON, BigInteger, DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from postal_svc import json_text

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant stored in UTC; SQLite, which forgets offsets, gets UTC back too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, so big keys are plain integers there.
BigIntPK = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention set before the first migration."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; take over BEGIN ourselves
    # (the SQLAlchemy-documented recipe). BEGIN IMMEDIATE takes the write lock up front,
    # so two writers queue on busy_timeout instead of failing on a lock upgrade.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for PostgreSQL (psycopg 3) or SQLite with the settings we rely on."""
    # Statement parameters hold names, phones and addresses: never put them in an exception
    # message, which would carry them into the logs.
    kwargs.setdefault("hide_parameters", True)
    # JSON columns are written by orjson (a tenth of the standard library's time); read
    # by the standard library, which keeps integers beyond 64 bits exact.
    if url.startswith("sqlite"):
        kwargs.setdefault("json_serializer", json_text.dumps)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("json_serializer", json_text.dumps_bytes)  # psycopg takes bytes
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


# A pooled connection that sat unused this long is pinged before it is handed out: a restarted
# server, a failover or a firewall may have dropped it meanwhile. A connection in steady use is
# not, which spares each request of a busy process one round trip (what pool_pre_ping costs).
PING_AFTER_IDLE_S = 10.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get("checked_in_at")
        if last_used is None or time.monotonic() - last_used < PING_AFTER_IDLE_S:
            return  # just opened, or in steady use
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means "do not use it"
            raise exc.DisconnectionError("stale pooled connection") from error
        if not alive:
            raise exc.DisconnectionError("stale pooled connection")


_DATABASE_KEYS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_key(session: Session) -> str:
    """The database a session talks to, as its URL without the password: the key of the
    per-process caches that hold one entry per database (every engine on it shares it)."""
    engine = session.get_bind().engine
    key = _DATABASE_KEYS.get(engine)
    if key is None:
        key = _DATABASE_KEYS[engine] = engine.url.render_as_string(hide_password=True)
    return key


# In the `info` of sessions whose every statement commits by itself (no transaction).
AUTOCOMMIT_SESSION = "postal_autocommit"


class Database:
    """An engine (or a test connection) and the session factory bound to it."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        self._autocommit_engine: Engine | None = None
        self._autocommit_factory: sessionmaker[Session] | None = None
        self._autocommit_lock = threading.Lock()
        if isinstance(bind, Connection):
            # Tests: every session joins the test's outer transaction through savepoints.
            self.session_factory = sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
        else:
            self.session_factory = sessionmaker(bind=bind, expire_on_commit=False)

    @property
    def autocommit_session_factory(self) -> sessionmaker[Session] | None:
        """Sessions whose every statement commits on its own (no BEGIN, no COMMIT: two round
        trips fewer), for work done in one statement; None where that is not available
        (SQLite, or a test's connection). Made on first use, so the CLI, the scheduler and
        the planner, which never ask, build no second engine."""
        if self._autocommit_factory is not None:
            return self._autocommit_factory
        if isinstance(self.bind, Connection) or self.bind.dialect.name != "postgresql":
            return None
        with self._autocommit_lock:
            if self._autocommit_factory is None:
                # A pool of its own whose connections stay in autocommit: switching a pooled
                # connection in and out of it on every checkout costs more than it saves.
                # Nor is a connection rolled back when it returns to the pool: in
                # autocommit it never holds a transaction to roll back.
                self._autocommit_engine = make_engine(
                    self.bind.url.render_as_string(hide_password=False),
                    isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
                self._autocommit_factory = sessionmaker(
                    bind=self._autocommit_engine, expire_on_commit=False,
                    info={AUTOCOMMIT_SESSION: True})
            return self._autocommit_factory

    def dispose(self) -> None:
        """Close the pooled connections this object opened itself (not the bind's)."""
        if self._autocommit_engine is not None:
            self._autocommit_engine.dispose()

    @property
    def dialect_name(self) -> str:
        return self.bind.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for a job or a command; commits on success, rolls back on error."""
        with self.session_factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


@dataclass(frozen=True)
class CompiledWrite:
    """A write statement SQLAlchemy compiles once, run on the driver's cursor of a session's
    connection.

    For the hottest write of the service (intake's 50 parameters): SQLAlchemy's per-call work
    for a statement (compiled-cache lookup, parameter processing, execution context, result
    metadata) costs more CPU than the driver's, so this does that work once. It keeps what
    matters of SQLAlchemy's handling: the session's connection and transaction, the bind
    processors SQLAlchemy would apply (UTC instants, JSON), its exception classes (an
    IntegrityError is SQLAlchemy's, with the parameters hidden as the engine says) and the
    invalidation of a connection the server dropped (with every older connection of its
    pool, as SQLAlchemy does). Not kept: the cursor-execute and handle-error events and SQL
    echo, which see nothing of these statements. The row comes back as the driver gives
    it (no result processors), so use it for statements that return plain ids and strings.
    """

    sql: str
    defaults: dict[str, Any]  # every parameter, with the values bound in the statement itself
    processors: dict[str, Callable[[Any], Any]]
    positions: tuple[str, ...] | None  # the parameters' order for a positional paramstyle
    # Known from the statement to give rows (RETURNING, SELECT); else the cursor says, since
    # asking it builds its column descriptions on every call.
    returns_rows: bool = False

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> "CompiledWrite":
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        processors = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        returns_rows = bool(compiled.effective_returning) or bool(
            getattr(statement, "is_select", False))
        return cls(sql=compiled.string, defaults=dict(compiled.params), processors=processors,
                   positions=positions, returns_rows=returns_rows)

    def first_row(self, session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run the statement with `params`; its first row, or None when it returns none.

        In the session's transaction; or, for a session whose every statement commits by
        itself (`Database.autocommit_session_factory`) and that holds no connection yet, on
        a connection borrowed from its pool for this statement alone: there is no
        transaction to join, and the session's own transaction bookkeeping around a
        connection costs more CPU than the statement's driver call.
        """
        bound = {**self.defaults, **params}
        for name, process in self.processors.items():
            bound[name] = process(bound[name])
        args: Any = bound if self.positions is None else tuple(bound[n] for n in self.positions)
        if session.info.get(AUTOCOMMIT_SESSION) and not session.in_transaction():
            engine = session.get_bind()
            assert isinstance(engine, Engine)
            try:
                pooled = engine.raw_connection()
            except engine.dialect.loaded_dbapi.Error as error:
                raise _as_sqlalchemy_error(error, engine, None, None) from error
            try:
                return self._run(pooled, args, engine, invalidate=pooled.invalidate)
            finally:
                pooled.close()  # back to the pool, or discarded if invalidated
        connection = session.connection()
        return self._run(connection.connection, args, connection.engine,
                         invalidate=connection.invalidate)

    def _run(self, pooled: PoolProxiedConnection, args: Any, engine: Engine,
             invalidate: Callable[[BaseException], None]) -> tuple[Any, ...] | None:
        dialect = engine.dialect
        dbapi_connection = pooled.dbapi_connection
        cursor = None
        try:
            cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(self.sql, args)
            return cursor.fetchone() if self.returns_rows or cursor.description else None
        except dialect.loaded_dbapi.Error as error:
            invalidated = dialect.is_disconnect(error, dbapi_connection, cursor)
            if invalidated:
                # As SQLAlchemy does: the server dropped this connection, so it likely dropped
                # every connection opened before it too (a restart, a failover); those are
                # replaced when next checked out instead of failing a request each.
                engine.pool._invalidate(pooled, error, _checkin=False)
                invalidate(error)
            raise _as_sqlalchemy_error(error, engine, self.sql, args,
                                       invalidated=invalidated) from error
        except BaseException as error:
            if not isinstance(error, Exception):  # interrupted mid-statement: state unknown
                invalidate(error)
            raise
        finally:
            if cursor is not None:
                cursor.close()


def _as_sqlalchemy_error(error: Exception, engine: Engine, statement: str | None, args: Any, *,
                         invalidated: bool = False) -> exc.DBAPIError:
    """A driver's exception as SQLAlchemy would raise it (IntegrityError, OperationalError,
    ...), with the parameters hidden if the engine says so."""
    return exc.DBAPIError.instance(
        statement, args, error, engine.dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters, dialect=engine.dialect,
        connection_invalidated=invalidated)
