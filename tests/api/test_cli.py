"""The `postal-svc` command on a throw-away SQLite database."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient, StaffUser
from postal_svc.access.service import Role, authenticate
from postal_svc.access.staff import SignInRefused, sign_in
from postal_svc.cli import main
from postal_svc.db import make_engine
from postal_svc.demo import DEMO_CLIENTS, DEMO_STAFF
from postal_svc.directory.models import Agency, PostOffice, ServedWard


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


@pytest.fixture
def run(database_file: str, monkeypatch: pytest.MonkeyPatch):
    # Whatever the developer's shell says, the commands here must use the temporary file.
    for name in ("POSTAL_ENVIRONMENT", "POSTAL_TRACKING_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(main, list(args), env={"POSTAL_DATABASE_URL": database_file},
                             catch_exceptions=False)
    return _run


@pytest.fixture
def cli_engine(database_file: str):
    engine = make_engine(database_file)
    yield engine
    engine.dispose()


def counts(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {model.__name__: int(session.scalar(select(func.count()).select_from(model)))
                for model in (PostOffice, Agency, ServedWard, ApiClient, StaffUser)}


@pytest.fixture
def upgraded(run):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    return run


def test_db_upgrade_creates_the_schema(run, cli_engine):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    tables = set(inspect(cli_engine).get_table_names())
    assert {"orders", "agencies", "post_offices", "api_clients", "idempotency_records",
            "tracking_events", "alembic_version"} <= tables


def test_db_upgrade_twice_is_harmless(upgraded, cli_engine):
    assert upgraded("db", "upgrade").exit_code == 0
    assert "orders" in inspect(cli_engine).get_table_names()


def test_demo_load_fills_an_empty_database_and_a_second_run_adds_nothing(upgraded, cli_engine):
    first = upgraded("demo", "load")
    assert first.exit_code == 0, first.output
    after_first = counts(cli_engine)
    assert after_first["PostOffice"] >= 2
    assert after_first["Agency"] >= 3
    assert after_first["ServedWard"] > 0
    # Each console user acts through an API client of their own, whose key is never issued.
    assert after_first["ApiClient"] == len(DEMO_CLIENTS) + len(DEMO_STAFF)
    assert after_first["StaffUser"] == len(DEMO_STAFF)
    second = upgraded("demo", "load")
    assert second.exit_code == 0, second.output
    assert counts(cli_engine) == after_first


def test_demo_keys_authenticate_with_their_roles(upgraded, cli_engine):
    upgraded("demo", "load")
    with Session(cli_engine) as session:
        for demo_client in DEMO_CLIENTS:
            caller = authenticate(session, demo_client.key)
            assert caller is not None
            assert caller.role is demo_client.role


def test_demo_load_refuses_production(upgraded, cli_engine, monkeypatch):
    monkeypatch.setenv("POSTAL_ENVIRONMENT", "production")
    monkeypatch.setenv("POSTAL_SECRET_KEY", "a-real-production-secret-of-32-characters-or-more")
    result = upgraded("demo", "load")
    assert result.exit_code != 0
    assert counts(cli_engine)["ApiClient"] == 0


def test_clients_create_prints_a_working_key_alone_on_the_last_line(upgraded, cli_engine):
    result = upgraded("clients", "create", "--name", "Courier Nguyễn", "--role", "courier",
                      "--scope", "BD-THUDUC")
    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n").splitlines()[-1]
    assert key == key.strip() and " " not in key
    with Session(cli_engine) as session:
        caller = authenticate(session, key)
        assert caller is not None
        assert caller.role is Role.COURIER
        assert caller.scope == frozenset({"BD-THUDUC"})
        assert caller.name == "Courier Nguyễn"
        stored = session.scalar(select(ApiClient).where(ApiClient.id == caller.client_id))
        assert stored is not None
        assert key not in (stored.key_hash, stored.key_prefix)


def test_a_comma_separated_scope_gives_every_code(upgraded, cli_engine):
    result = upgraded("clients", "create", "--name", "One-stop", "--role", "agency_system",
                      "--scope", "UBND-LINHTRUNG, UBND-TRUONGTHANH")
    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n").splitlines()[-1]
    with Session(cli_engine) as session:
        caller = authenticate(session, key)
    assert caller is not None
    assert caller.scope == frozenset({"UBND-LINHTRUNG", "UBND-TRUONGTHANH"})


def test_each_created_client_gets_its_own_key(upgraded):
    keys = {upgraded("clients", "create", "--name", f"c{i}", "--role", "admin")
            .output.rstrip("\n").splitlines()[-1] for i in range(2)}
    assert len(keys) == 2


@pytest.mark.parametrize("role", ["dispatcher", "courier", "agency_system"])
def test_a_scoped_role_without_a_scope_is_refused(upgraded, cli_engine, role):
    result = upgraded("clients", "create", "--name", "No scope", "--role", role)
    assert result.exit_code != 0
    assert counts(cli_engine)["ApiClient"] == 0


def test_an_unknown_role_is_refused(upgraded, cli_engine):
    result = upgraded("clients", "create", "--name", "Root", "--role", "root")
    assert result.exit_code != 0
    assert counts(cli_engine)["ApiClient"] == 0


def test_an_admin_needs_no_scope(upgraded, cli_engine):
    result = upgraded("clients", "create", "--name", "Ops", "--role", "admin")
    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n").splitlines()[-1]
    with Session(cli_engine) as session:
        caller = authenticate(session, key)
    assert caller is not None
    assert caller.role is Role.ADMIN


def test_jobs_purge_idempotency_runs_on_an_empty_database(upgraded):
    result = upgraded("jobs", "purge-idempotency")
    assert result.exit_code == 0, result.output
    assert "purged 0" in result.output


def test_jobs_purge_phone_checks_runs_on_an_empty_database(upgraded):
    result = upgraded("jobs", "purge-phone-checks")
    assert result.exit_code == 0, result.output
    assert "purged 0 phone check counts" in result.output


def test_jobs_purge_login_failures_runs_on_an_empty_database(upgraded):
    result = upgraded("jobs", "purge-login-failures")
    assert result.exit_code == 0, result.output
    assert "purged 0 login failure counts" in result.output


def test_users_set_password_lifts_the_lock_out(upgraded, cli_engine, database_file):
    env = {"POSTAL_DATABASE_URL": database_file}
    created = CliRunner().invoke(main, ["users", "create", "--username", "lan", "--role",
                                        "admin"], input="correct-horse-battery\n", env=env)
    assert created.exit_code == 0, created.output
    now = datetime.now(timezone.utc)
    with Session(cli_engine) as session:
        for _ in range(5):
            with pytest.raises(SignInRefused):
                sign_in(session, "lan", "not-the-password", now=now)
        session.commit()
    result = CliRunner().invoke(main, ["users", "set-password", "--username", "lan"],
                                input="a-new-password-after-the-leak\n", env=env)
    assert result.exit_code == 0, result.output
    with Session(cli_engine) as session:
        assert sign_in(session, "lan", "a-new-password-after-the-leak", now=now).username == "lan"


def test_a_short_production_secret_is_refused_with_a_clear_message(upgraded, monkeypatch):
    monkeypatch.setenv("POSTAL_ENVIRONMENT", "production")
    monkeypatch.setenv("POSTAL_SECRET_KEY", "too-short")
    result = upgraded("demo", "load")
    assert result.exit_code != 0
    assert "POSTAL_SECRET_KEY" in result.output


def test_revoking_a_client_stops_its_key(upgraded, cli_engine):
    created = upgraded("clients", "create", "--name", "Old system", "--role", "admin")
    key = created.output.strip().splitlines()[-1]
    client_id = int(created.output.split("created client ")[1].split()[0])
    assert upgraded("clients", "revoke", str(client_id)).exit_code == 0
    with Session(cli_engine) as session:
        assert authenticate(session, key) is None


def test_users_create_reads_the_password_from_stdin_and_scopes_a_dispatcher(
        upgraded, cli_engine, database_file):
    env = {"POSTAL_DATABASE_URL": database_file}
    assert upgraded("demo", "load").exit_code == 0
    created = CliRunner().invoke(main, ["users", "create", "--username", "Minh", "--role",
                                        "dispatcher", "--post-office", "BD-THUDUC"],
                                 input="a-long-enough-password\n", env=env)
    assert created.exit_code == 0, created.output
    assert "a-long-enough-password" not in created.output
    with Session(cli_engine) as session:
        user = sign_in(session, "minh", "a-long-enough-password",
                       now=datetime.now(timezone.utc))
        assert (user.role, user.post_office_codes) == ("dispatcher", ["BD-THUDUC"])


@pytest.mark.parametrize("args, password, message", [
    (["--role", "dispatcher"], "a-long-enough-password", "needs a post office"),
    (["--role", "dispatcher", "--post-office", "BD-NOWHERE"], "a-long-enough-password",
     "Unknown post office"),
    (["--role", "admin"], "short", "10 to 1024 characters"),
])
def test_users_create_refuses_what_a_console_user_cannot_be(upgraded, cli_engine,
                                                            database_file, args, password,
                                                            message):
    env = {"POSTAL_DATABASE_URL": database_file}
    assert upgraded("demo", "load").exit_code == 0
    result = CliRunner().invoke(main, ["users", "create", "--username", "tuan", *args],
                                input=password + "\n", env=env)
    assert result.exit_code != 0
    assert message in result.output
    with Session(cli_engine) as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)
                              .where(StaffUser.username == "tuan")) == 0
