"""Scheduled jobs: module-level functions that open their own session; each has a CLI command."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterator
from zlib import crc32

from sqlalchemy import text

from postal_svc.access.login_failures import purge_login_failures
from postal_svc.billing.gateway import PaymentGateway, gateway_from_settings
from postal_svc.db import Database
from postal_svc.config import Settings
from postal_svc.errors import DomainError
from postal_svc.idempotency import purge_expired
from postal_svc.shipments import payment_flows, payments
from postal_svc.shipments.phone_checks import purge_phone_checks
from postal_svc.webhooks.service import WebhookPolicy, deliver_due

log = logging.getLogger("postal_svc.jobs")


@contextmanager
def job_lock(db: Database, name: str) -> Iterator[bool]:
    """On PostgreSQL, hold an advisory lock so only one scheduler process runs `name` at once."""
    if db.dialect_name != "postgresql":
        yield True
        return
    key = crc32(name.encode())
    with db.bind.connect() as connection:  # type: ignore[union-attr]
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        try:
            yield bool(got)
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()


def _purge(db: Database, name: str, purge: Callable[..., int], what: str, *,
           now: datetime) -> int:
    """Run one purge under its job lock (one process at a time); safe to run again."""
    with job_lock(db, name) as mine:
        if not mine:
            return 0
        with db.session() as session:
            purged = purge(session, now=now)
    log.info("purged %d expired %s", purged, what)
    return purged


def purge_idempotency_records(db: Database, *, now: datetime) -> int:
    """Delete idempotency records past their 24 h life. Safe to run any number of times."""
    return _purge(db, "purge_idempotency_records", purge_expired, "idempotency records", now=now)


def purge_phone_check_counts(db: Database, *, now: datetime) -> int:
    """Delete counts of wrong phone_last4 answers that no longer count. Safe to rerun."""
    return _purge(db, "purge_phone_check_counts", purge_phone_checks, "phone check counts",
                  now=now)


def purge_login_failure_counts(db: Database, *, now: datetime) -> int:
    """Delete counts of failed console sign-ins that no longer count. Safe to rerun."""
    return _purge(db, "purge_login_failure_counts", purge_login_failures,
                  "login failure counts", now=now)


def deliver_webhooks(db: Database, settings: Settings, *, now: datetime) -> int:
    """Send the webhook deliveries that are due (first tries and retries)."""
    with job_lock(db, "deliver_webhooks") as mine:
        if not mine:
            return 0
        return deliver_due(db, now=now, policy=WebhookPolicy.from_settings(settings))


@dataclass(frozen=True)
class ReconcileReport:
    events: int = 0
    intents: int = 0
    follow_ups: int = 0


def reconcile_payments(db: Database, settings: Settings, *, now: datetime,
                       gateway: PaymentGateway | None = None) -> ReconcileReport:
    """Settle what a lost or failed webhook left open: Stripe events received but not acted
    on, payments and refunds in a non-final state for `payment_reconcile_after_s`, refunds
    reserved but never sent, intents of cancelled orders still open at Stripe.

    Each is re-read from Stripe and applied in its own transaction; applying is idempotent,
    so running this any number of times, beside the webhooks, changes nothing twice.
    """
    gateway = gateway or gateway_from_settings(settings)
    if gateway is None:
        return ReconcileReport()
    stale = now - timedelta(seconds=settings.payment_reconcile_after_s)
    with job_lock(db, "reconcile_payments") as mine:
        if not mine:
            return ReconcileReport()
        with db.session_factory() as session:
            events = 0
            for row_id in payments.unprocessed_events(session, received_before=stale):
                events += payment_flows.process_stripe_event(session, gateway, row_id, now=now)
            intents = 0
            for intent_id in payments.unsettled_intents(session, checked_before=stale):
                try:
                    intents += payment_flows.refresh_intent(session, gateway, intent_id,
                                                            now=now) is not None
                except DomainError as error:
                    session.rollback()
                    log.warning("re-reading an intent failed: %s", error.code)
            follow_ups = payment_flows.finish_pending_work(session, gateway, now=now,
                                                           created_before=stale)
    report = ReconcileReport(events=events, intents=intents, follow_ups=follow_ups)
    if events or intents or follow_ups:
        log.info("payments reconciled: %s", report)
    return report
