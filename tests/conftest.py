"""Shared fixtures: a fresh database per test session, one rolled-back transaction per test.

SQLite by default; set POSTAL_TEST_DATABASE_URL to a PostgreSQL server URL
(postgresql+psycopg://user@host:port/anydb) and a fresh database is created on that server
for the run and dropped afterwards.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from postal_svc import create_app
from postal_svc.access.service import create_client
from postal_svc.config import Settings
from postal_svc.db import Base, make_engine
from postal_svc.directory.service import create_agency, create_post_office
from postal_svc.migrate import upgrade

SERVER_URL = os.environ.get("POSTAL_TEST_DATABASE_URL")
ON_POSTGRES = bool(SERVER_URL and SERVER_URL.startswith("postgresql"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set POSTAL_TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    server = make_url(SERVER_URL)  # type: ignore[arg-type]
    name = f"postal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """The test's outer transaction; everything the test and its requests write is undone."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    with Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False) as session:
        yield session


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc)


def test_settings(database_url: str, **overrides: Any) -> Settings:
    # Keys are looked up on every request in tests, so a revoked key fails at once.
    overrides.setdefault("auth_cache_seconds", 0)
    overrides.setdefault("reference_cache_seconds", 0)
    return Settings(database_url=database_url, environment="test", log_json=False,
                    log_level="WARNING", **overrides)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
def app(connection: Connection, settings: Settings) -> Any:
    app = create_app({"settings": settings, "db_bind": connection, "TESTING": True})
    return app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def reference_data(db_session: Session, now: datetime) -> dict[str, Any]:
    """Two post offices, three agencies (two served by the first office)."""
    create_post_office(db_session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức",
                                    "served_ward_codes": ["26794", "26857"]}, now=now)
    create_post_office(db_session, {"code": "PO-SAIGON", "name": "Bưu điện Sài Gòn",
                                    "served_ward_codes": ["26740"]}, now=now)
    create_agency(db_session, {"code": "AG-LINHTRUNG", "name": "UBND phường Linh Trung",
                               "post_office_code": "PO-THUDUC"}, now=now)
    create_agency(db_session, {"code": "AG-TRUONGTHANH", "name": "UBND phường Trường Thạnh",
                               "post_office_code": "PO-THUDUC"}, now=now)
    create_agency(db_session, {"code": "AG-BENNGHE", "name": "UBND phường Bến Nghé",
                               "post_office_code": "PO-SAIGON"}, now=now)
    db_session.commit()
    return {"post_offices": ["PO-THUDUC", "PO-SAIGON"],
            "agencies": ["AG-LINHTRUNG", "AG-TRUONGTHANH", "AG-BENNGHE"]}


@pytest.fixture
def make_key(db_session: Session, now: datetime) -> Callable[..., str]:
    """make_key(role, scope=[...]) -> a working API key for a new client."""
    def _make(role: str, scope: list[str] | None = None, name: str = "test client") -> str:
        _, key = create_client(db_session, name=name, role=role, scope=scope or [], now=now)
        db_session.commit()
        return key
    return _make


@pytest.fixture
def auth(make_key: Callable[..., str], reference_data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Authorization headers for one client of each role, scoped to the Thủ Đức side."""
    def header(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}
    return {
        "admin": header(make_key("admin")),
        "agency": header(make_key("agency_system", ["AG-LINHTRUNG", "AG-TRUONGTHANH"])),
        "other_agency": header(make_key("agency_system", ["AG-BENNGHE"])),
        "dispatcher": header(make_key("dispatcher", ["PO-THUDUC"])),
        "other_dispatcher": header(make_key("dispatcher", ["PO-SAIGON"])),
        "courier": header(make_key("courier", ["PO-THUDUC"])),
    }


def order_body(**overrides: Any) -> dict[str, Any]:
    """A valid result-delivery order for AG-LINHTRUNG; override any top-level field."""
    body: dict[str, Any] = {
        "kind": "result_delivery",
        "agency_code": "AG-LINHTRUNG",
        "dossier_code": f"HS-{uuid.uuid4().hex[:12]}",
        "procedure_code": "1.001193",
        "procedure_name": "Đăng ký khai sinh",
        "channel": "online_public_service",
        "citizen": {"name": "Nguyễn Văn An", "phone": "0903123456",
                    "address": {"line": "12 Đường số 7", "ward": "Phường Linh Trung",
                                "district": "Thành phố Thủ Đức",
                                "province": "Thành phố Hồ Chí Minh"}},
        "parcel": {"weight_grams": 150, "pieces": 1, "contents": "Giấy khai sinh"},
        "payer": "citizen",
        "payment_method": "online",
    }
    body.update(overrides)
    return body


@pytest.fixture
def committed_engine(engine: Engine) -> Iterator[Engine]:
    """The real engine, for tests whose requests must commit (concurrency); tables are
    emptied afterwards."""
    yield engine
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


# -- helpers for the API tests ---------------------------------------------------------------

def assert_api_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Check the API.md error shape {code, status, message, errors}; return the body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert {"code", "status", "message", "errors"} <= set(body), body
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def count_rows(db_session: Session) -> Callable[[type], int]:
    """count_rows(Model) -> how many rows the test's transaction holds for that model."""
    from sqlalchemy import func, select

    def _count(model: type) -> int:
        return int(db_session.scalar(select(func.count()).select_from(model)) or 0)
    return _count


# -- payments: a real localstripe (a separate process) for the whole test session ------------

@pytest.fixture(scope="session")
def localstripe() -> Iterator[Any]:
    """localstripe on a free loopback port, started once (only by tests that ask for it).
    Nobody is registered for its webhooks: tests that need them start their own."""
    from postal_svc.stripe_emulator import EmulatorUnavailable, start_localstripe

    try:
        emulator = start_localstripe()
    except EmulatorUnavailable as error:
        pytest.fail(f"localstripe is needed for the payment tests: {error}")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Console users are created and signed in by the hundred here: hash their passwords at a
    low scrypt cost. Each hash carries its parameters, so checking is the same code;
    tests/unit/test_password_hashing.py checks the production cost."""
    from postal_svc.access import staff

    patch = pytest.MonkeyPatch()
    patch.setattr(staff, "scrypt_cost", (2 ** 10, 8, 1))
    yield
    patch.undo()
