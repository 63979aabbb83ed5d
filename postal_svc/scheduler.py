"""The scheduler process (APScheduler 3): runs the jobs in postal_svc.jobs on a timetable."""
from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from postal_svc import jobs
from postal_svc.clock import utcnow
from postal_svc.config import Settings
from postal_svc.db import Database, make_engine
from postal_svc.logs import configure_logging

log = logging.getLogger("postal_svc.scheduler")


def build_scheduler(settings: Settings, db: Database) -> BlockingScheduler:
    """A scheduler with every job registered; durable work lives in our own tables."""
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True,
                                                                "max_instances": 1,
                                                                "misfire_grace_time": 300})
    scheduler.add_job(
        lambda: jobs.purge_idempotency_records(db, now=utcnow()),
        IntervalTrigger(minutes=settings.scheduler_idempotency_purge_minutes),
        id="purge_idempotency_records", name="Purge expired idempotency records",
        next_run_time=utcnow() + timedelta(seconds=5))
    scheduler.add_job(
        lambda: jobs.purge_phone_check_counts(db, now=utcnow()),
        IntervalTrigger(minutes=settings.scheduler_idempotency_purge_minutes),
        id="purge_phone_check_counts", name="Purge expired counts of wrong phone digits",
        next_run_time=utcnow() + timedelta(seconds=7))
    scheduler.add_job(
        lambda: jobs.purge_login_failure_counts(db, now=utcnow()),
        IntervalTrigger(minutes=settings.scheduler_idempotency_purge_minutes),
        id="purge_login_failure_counts", name="Purge expired counts of failed console sign-ins",
        next_run_time=utcnow() + timedelta(seconds=8))
    scheduler.add_job(
        lambda: jobs.deliver_webhooks(db, settings, now=utcnow()),
        IntervalTrigger(seconds=settings.scheduler_webhook_seconds),
        id="deliver_webhooks", name="Deliver outbound webhooks")
    if settings.payments_enabled:
        scheduler.add_job(
            lambda: jobs.reconcile_payments(db, settings, now=utcnow()),
            IntervalTrigger(seconds=settings.scheduler_payments_seconds),
            id="reconcile_payments", name="Reconcile payments with Stripe",
            next_run_time=utcnow() + timedelta(seconds=10))
    if settings.scheduler_plans_seconds > 0:
        from postal_svc.routing.planning import SpeedProfiles, run_queued_plans

        speeds = SpeedProfiles.from_settings(settings)
        scheduler.add_job(
            lambda: run_queued_plans(db, limit=10, speeds=speeds),
            IntervalTrigger(seconds=settings.scheduler_plans_seconds),
            id="run_queued_plans", name="Solve queued route plans")
    return scheduler


def run(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    db = Database(make_engine(settings.database_url))
    scheduler = build_scheduler(settings, db)
    log.info("scheduler starting with %d jobs", len(scheduler.get_jobs()))
    scheduler.start()
