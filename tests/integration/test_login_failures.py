"""Failed console sign-ins are counted per username in the database, for every process alike:
atomically, forgotten after a day, purged by a job."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from postal_svc.access.login_failures import (
    LockoutPolicy, LoginFailure, count_failure, failures_of, username_digest)
from postal_svc.access.staff import SignInRefused, create_staff_user, sign_in
from postal_svc.db import Database
from postal_svc.jobs import purge_login_failure_counts

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
PASSWORD = "correct-horse-battery"


def test_failures_left_unlocked_for_a_day_are_forgotten(db_session):
    for minute in range(4):
        assert count_failure(db_session, "lan", now=T0 + timedelta(minutes=minute)) is None
    assert failures_of(db_session, "lan") == 4
    assert count_failure(db_session, "lan", now=T0 + timedelta(hours=24, minutes=4)) is None
    assert failures_of(db_session, "lan") == 1


def test_the_fifth_failure_locks_and_later_ones_are_counted_without_lengthening_the_lock(
        db_session):
    policy = LockoutPolicy()
    answers = [count_failure(db_session, "nobody", now=T0 + timedelta(minutes=i), policy=policy)
               for i in range(8)]
    locked_until = T0 + timedelta(minutes=4) + policy.lockout
    assert answers == [None] * 4 + [locked_until] * 4
    assert failures_of(db_session, "nobody") == 8


def test_the_purge_job_deletes_only_counts_that_no_longer_count_and_can_run_again(
        committed_engine):
    with Session(committed_engine) as session:
        session.add_all([
            LoginFailure(username_digest=username_digest("old"), failures=3,
                         last_failure_at=T0 - timedelta(hours=30)),
            LoginFailure(username_digest=username_digest("old-lock"), failures=5,
                         locked_until=T0 - timedelta(hours=29),
                         last_failure_at=T0 - timedelta(hours=30)),
            LoginFailure(username_digest=username_digest("recent"), failures=2,
                         last_failure_at=T0 - timedelta(hours=2)),
            LoginFailure(username_digest=username_digest("still-locked"), failures=5,
                         locked_until=T0 + timedelta(days=2),
                         last_failure_at=T0 - timedelta(days=3))])
        session.commit()
    db = Database(committed_engine)
    assert purge_login_failure_counts(db, now=T0) == 2
    assert purge_login_failure_counts(db, now=T0) == 0
    with Session(committed_engine) as session:
        assert set(session.scalars(select(LoginFailure.username_digest))) == {
            username_digest("recent"), username_digest("still-locked")}


@pytest.mark.postgres
@pytest.mark.parametrize("username", ["lan", "nobody"])
def test_twenty_simultaneous_wrong_passwords_are_all_counted(committed_engine: Engine,
                                                             username: str) -> None:
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        create_staff_user(session, username="lan", role="admin", password=PASSWORD,
                          office_exists=lambda code: False, now=now)
        session.commit()

    barrier = threading.Barrier(20)
    refusals: list[datetime | None] = []
    failures: list[BaseException] = []

    def guess(i: int) -> None:
        try:
            barrier.wait()
            with Session(committed_engine) as session:
                try:
                    sign_in(session, username, f"wrong-password-{i}", now=now)
                except SignInRefused as refused:
                    refusals.append(refused.locked_until)
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    assert len(refusals) == 20
    # Checked one at a time: four plain refusals, then the lock from the fifth on.
    assert refusals.count(None) == 4
    assert set(refusals) - {None} == {now + LockoutPolicy().lockout}
    with Session(committed_engine) as session:
        assert failures_of(session, username) == 20
        with pytest.raises(SignInRefused) as refused:
            sign_in(session, username, PASSWORD, now=now)
        assert refused.value.locked_until == now + LockoutPolicy().lockout
