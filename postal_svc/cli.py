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
    try:
        settings = Settings.from_env()
        settings.validate()
    except ValueError as error:
        raise click.ClickException(f"configuration: {error}") from None
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
    from postal_svc.demo import DEMO_CLIENTS, DEMO_STAFF, load_demo

    settings = _settings()
    if settings.environment == "production":
        raise click.ClickException("demo data has well-known keys; refusing in production")
    with _database(settings).session() as session:
        added = load_demo(session, now=utcnow())
    click.echo("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in added.items()) + " added")
    for client in DEMO_CLIENTS:
        click.echo(f"  {client.role.value:<14} {client.key}")
    for staff in DEMO_STAFF:
        click.echo(f"  console {staff.role.value:<10} /console/login  {staff.username} / {staff.password}")


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


@clients.command("revoke")
@click.argument("client_id", type=int)
def clients_revoke(client_id: int) -> None:
    """Revoke a client's key at once (processes that remember it forget it within
    POSTAL_AUTH_CACHE_SECONDS)."""
    from postal_svc.access.service import revoke_client

    settings = _settings()
    try:
        with _database(settings).session() as session:
            revoke_client(session, client_id, now=utcnow())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"client {client_id} revoked")


@main.group()
def users() -> None:
    """Console users (dispatchers and admins)."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["dispatcher", "admin"]))
@click.option("--post-office", "post_office", default="",
              help="Post office codes, comma-separated (required for a dispatcher).")
def users_create(username: str, role: str, post_office: str) -> None:
    """Create a console user; the password is read from stdin (its first line)."""
    from postal_svc.access.staff import create_staff_user
    from postal_svc.directory.models import PostOffice

    password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()
    try:
        with _database(settings).session() as session:
            user = create_staff_user(session, username=username, role=role, password=password,
                                     post_office_codes=post_office.split(",") if post_office else [],
                                     office_exists=lambda code: session.get(PostOffice, code) is not None,
                                     now=utcnow())
            name = user.username
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"created {role} {name}; sign in at /console/login")


@users.command("set-password")
@click.option("--username", required=True)
def users_set_password(username: str) -> None:
    """Set a console user's password (read from stdin) and lift any lock-out."""
    from postal_svc.access.staff import set_password

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with _database(_settings()).session() as session:
            set_password(session, username, password)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"password set for {username}")


@main.group()
def jobs() -> None:
    """Run a scheduled job once, now."""


@jobs.command("purge-idempotency")
def jobs_purge_idempotency() -> None:
    """Delete expired idempotency records."""
    from postal_svc import jobs as job_functions

    purged = job_functions.purge_idempotency_records(_database(_settings()), now=utcnow())
    click.echo(f"purged {purged} records")


@jobs.command("purge-phone-checks")
def jobs_purge_phone_checks() -> None:
    """Delete counts of wrong phone_last4 answers that no longer count."""
    from postal_svc import jobs as job_functions

    purged = job_functions.purge_phone_check_counts(_database(_settings()), now=utcnow())
    click.echo(f"purged {purged} phone check counts")


@jobs.command("purge-login-failures")
def jobs_purge_login_failures() -> None:
    """Delete counts of failed console sign-ins that no longer count."""
    from postal_svc import jobs as job_functions

    purged = job_functions.purge_login_failure_counts(_database(_settings()), now=utcnow())
    click.echo(f"purged {purged} login failure counts")


@jobs.command("deliver-webhooks")
def jobs_deliver_webhooks() -> None:
    """Send the webhook deliveries that are due."""
    from postal_svc import jobs as job_functions

    settings = _settings()
    sent = job_functions.deliver_webhooks(_database(settings), settings, now=utcnow())
    click.echo(f"attempted {sent} deliveries")


@jobs.command("reconcile-payments")
def jobs_reconcile_payments() -> None:
    """Re-read unsettled payments, refunds and Stripe events from Stripe and settle them."""
    from postal_svc import jobs as job_functions

    settings = _settings()
    if not settings.payments_enabled:
        raise click.ClickException(
            "no Stripe key configured (POSTAL_STRIPE_SECRET_KEY); the embedded localstripe "
            "of `postal-svc serve` is reconciled by its own scheduler")
    report = job_functions.reconcile_payments(_database(settings), settings, now=utcnow())
    click.echo(f"reconciled: {report.events} events, {report.intents} payments, "
               f"{report.follow_ups} refunds and cancellations")


@main.group()
def plans() -> None:
    """Route plans."""


@plans.command("run-queued")
@click.option("--limit", default=100, show_default=True, type=int)
def plans_run_queued(limit: int) -> None:
    """Solve the queued route plans now, oldest first (a worker beside the web app)."""
    from postal_svc import models  # noqa: F401  (every table on the metadata)
    from postal_svc.routing.planning import SpeedProfiles, run_queued_plans

    settings = _settings()
    outcome = run_queued_plans(_database(settings), limit=limit,
                               speeds=SpeedProfiles.from_settings(settings))
    click.echo("solved: " + (", ".join(f"{n} {status}" for status, n in sorted(outcome.items()))
                             or "nothing queued"))


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
    """Run the app under gunicorn, with the scheduler process beside it (and localstripe, for
    test-card payments offline, when no Stripe key is configured)."""
    from gunicorn.app.base import BaseApplication

    settings = _settings()
    emulator = None
    if not settings.stripe_secret_key:
        emulator = _start_embedded_stripe(host, port)
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

    payments_note = (f"localstripe at {emulator.url}" if emulator is not None
                     else "Stripe" if settings.payments_enabled else "off")
    click.echo(f"postal-svc on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs; "
               f"database: {'SQLite' if settings.is_sqlite else 'PostgreSQL'}; "
               f"payments: {payments_note})")
    click.echo(f"console: http://{host}:{port}/console/  (sign in as a user from "
               "`postal-svc users create`; with demo data: dieuphoi / demo-dieuphoi, "
               "quantri / demo-quantri)")
    try:
        _Server().run()
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if emulator is not None:
            emulator.stop()


def _start_embedded_stripe(host: str, port: int) -> Any:
    """No Stripe key: start localstripe on 127.0.0.1 and point the app, its workers and the
    scheduler at it (through POSTAL_STRIPE_* in the environment they inherit), so the demo
    takes test-card payments offline. None (payments off) when localstripe is missing."""
    import secrets

    from postal_svc import stripe_emulator

    if not stripe_emulator.installed():
        click.echo("payments off: no POSTAL_STRIPE_SECRET_KEY and localstripe is not installed",
                   err=True)
        return None
    try:
        # Keep the emulator's state across restarts (our database remembers its intents);
        # an unreadable state file is dropped.
        emulator = stripe_emulator.start_localstripe(from_scratch=False)
    except stripe_emulator.EmulatorUnavailable:
        emulator = stripe_emulator.start_localstripe(from_scratch=True)
    webhook_secret = os.environ.get("POSTAL_STRIPE_WEBHOOK_SECRET") \
        or "whsec_local_" + secrets.token_hex(16)
    os.environ.update({
        "POSTAL_STRIPE_SECRET_KEY": stripe_emulator.SECRET_KEY,
        "POSTAL_STRIPE_PUBLISHABLE_KEY": stripe_emulator.PUBLISHABLE_KEY,
        "POSTAL_STRIPE_API_BASE": emulator.url,
        "POSTAL_STRIPE_JS_URL": emulator.js_url,
        "POSTAL_STRIPE_WEBHOOK_SECRET": webhook_secret,
    })
    local_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    emulator.register_webhook(f"http://{local_host}:{port}/webhooks/stripe", webhook_secret)
    return emulator


if __name__ == "__main__":
    main()
