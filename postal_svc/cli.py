"""The `postal-svc` command: migrations, demo data, clients, the server and the scheduler."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from postal_svc.clock import utcnow
from postal_svc.config import Settings
from postal_svc.db import Database, make_engine
from postal_svc.errors import DomainError


def _settings() -> Settings:
    settings = Settings.from_env()
    settings.validate()
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return settings


def _database(settings: Settings) -> Database:
    return Database(make_engine(settings.database_url))


@click.group()
def main() -> None:
    """postal-svc: public postal service for administrative procedures."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (or REVISION)."""
    from postal_svc.migrate import upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine, revision)
    click.echo(f"database at {revision}")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
def demo_load() -> None:
    """Load demo post offices, agencies and clients (safe to run twice)."""
    from postal_svc.demo import DEMO_CLIENTS, load_demo

    settings = _settings()
    if settings.environment == "production":
        raise click.ClickException("demo data has well-known keys; refusing in production")
    with _database(settings).session() as session:
        added = load_demo(session, now=utcnow())
    click.echo("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in added.items()) + " added")
    for client in DEMO_CLIENTS:
        click.echo(f"  {client.role.value:<14} {client.key}")


@main.group()
def clients() -> None:
    """API clients."""


@clients.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice(["agency_system", "dispatcher", "courier", "admin"]))
@click.option("--scope", default="", help="Agency or post office codes, comma-separated.")
def clients_create(name: str, role: str, scope: str) -> None:
    """Create a client; its API key is printed once, alone on the last line."""
    from postal_svc.access.service import create_client

    settings = _settings()
    try:
        with _database(settings).session() as session:
            client, key = create_client(session, name=name, role=role,
                                        scope=scope.split(",") if scope else [], now=utcnow())
            client_id = client.id
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"created client {client_id} ({role}); the key is shown once:")
    click.echo(key)


@main.group()
def jobs() -> None:
    """Run a scheduled job once, now."""


@jobs.command("purge-idempotency")
def jobs_purge_idempotency() -> None:
    """Delete expired idempotency records."""
    from postal_svc import jobs as job_functions

    purged = job_functions.purge_idempotency_records(_database(_settings()), now=utcnow())
    click.echo(f"purged {purged} records")


@jobs.command("deliver-webhooks")
def jobs_deliver_webhooks() -> None:
    """Send the webhook deliveries that are due."""
    from postal_svc import jobs as job_functions

    settings = _settings()
    sent = job_functions.deliver_webhooks(_database(settings), settings, now=utcnow())
    click.echo(f"attempted {sent} deliveries")


@main.command()
def scheduler() -> None:
    """Run the scheduler process alone (production: one or more of these beside the app)."""
    from postal_svc.scheduler import run

    run(_settings())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--with-scheduler/--without-scheduler", default=True, show_default=True)
def serve(host: str, port: int, workers: int, with_scheduler: bool) -> None:
    """Run the app under gunicorn, with the scheduler process beside it."""
    from gunicorn.app.base import BaseApplication

    settings = _settings()
    children: list[subprocess.Popen[Any]] = []
    if with_scheduler:
        children.append(subprocess.Popen([sys.executable, "-m", "postal_svc.cli", "scheduler"],
                                         env=os.environ.copy()))

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            # Path without query string, no referrer: queries may carry personal data
            # (?phone=, ?phone_last4=) and personal data never goes into a log.
            self.cfg.set("access_log_format",
                         '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"')

        def load(self) -> Any:
            from postal_svc import create_app
            return create_app()

    click.echo(f"postal-svc on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs; "
               f"database: {'SQLite' if settings.is_sqlite else 'PostgreSQL'})")
    try:
        _Server().run()
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
