"""Scheduled jobs: module-level functions that open their own session; each has a CLI command."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator
from zlib import crc32

from sqlalchemy import text

from postal_svc.db import Database
from postal_svc.config import Settings
from postal_svc.idempotency import purge_expired
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


def purge_idempotency_records(db: Database, *, now: datetime) -> int:
    """Delete idempotency records past their 24 h life. Safe to run any number of times."""
    with job_lock(db, "purge_idempotency_records") as mine:
        if not mine:
            return 0
        with db.session() as session:
            purged = purge_expired(session, now=now)
    log.info("purged %d expired idempotency records", purged)
    return purged


def webhook_policy(settings: Settings) -> WebhookPolicy:
    return WebhookPolicy(allow_private_targets=settings.webhook_allow_private_targets,
                         allow_http=settings.webhook_allow_http,
                         retry_for=timedelta(hours=settings.webhook_retry_hours))


def deliver_webhooks(db: Database, settings: Settings, *, now: datetime) -> int:
    """Send the webhook deliveries that are due (first tries and retries)."""
    with job_lock(db, "deliver_webhooks") as mine:
        if not mine:
            return 0
        return deliver_due(db, now=now, policy=webhook_policy(settings))
