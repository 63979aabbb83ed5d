"""Guessing the phone's last digits: wrong answers are counted per tracking number in the
database, and after five in a day even the right digits unlock nothing."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from postal_svc import create_app
from postal_svc.access.service import create_client
from postal_svc.db import Database
from postal_svc.directory.service import create_agency, create_post_office
from postal_svc.jobs import purge_phone_check_counts
from postal_svc.shipments.phone_checks import PhoneCheck, wrong_answers
from postal_svc.shipments.tracking import track
from tests.api.journeys import create_order
from tests.conftest import order_body, test_settings

RIGHT = "3456"  # order_body()'s citizen phone is 0903123456
WRONG = ["0000", "1111", "2222", "4444", "5555", "6666"]
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def number(client, auth) -> str:
    return str(create_order(client, auth["agency"])["tracking_number"])


def unlocks(session: Session, number: str, digits: str, at: datetime) -> bool:
    return track(session, number, phone_last4=digits, now=at).private is not None


def test_the_right_digits_at_first_unlock_the_delivery_window(db_session, number):
    assert unlocks(db_session, number, RIGHT, T0)
    # Asking again with the right digits is no guess: it keeps working.
    for minute in range(10):
        assert unlocks(db_session, number, RIGHT, T0 + timedelta(minutes=minute))
    assert wrong_answers(db_session, number, now=T0) == 0


def test_after_five_wrong_answers_the_right_digits_unlock_nothing(db_session, number):
    for i, digits in enumerate(WRONG[:5]):
        assert not unlocks(db_session, number, digits, T0 + timedelta(minutes=i))
    assert wrong_answers(db_session, number, now=T0) == 5
    assert not unlocks(db_session, number, RIGHT, T0 + timedelta(minutes=5))
    assert track(db_session, number, phone_last4=RIGHT, now=T0) == track(db_session, number,
                                                                         now=T0)


def test_four_wrong_answers_still_leave_the_right_digits_working(db_session, number):
    for digits in WRONG[:4]:
        unlocks(db_session, number, digits, T0)
    assert unlocks(db_session, number, RIGHT, T0)


def test_wrong_answers_to_one_number_leave_every_other_number_unlocked(db_session, client, auth,
                                                                       number):
    other = create_order(client, auth["agency"])["tracking_number"]
    for digits in WRONG:
        unlocks(db_session, number, digits, T0)
    assert unlocks(db_session, other, RIGHT, T0)
    assert not unlocks(db_session, number, RIGHT, T0)


def test_wrong_answers_age_out_after_a_day_each_and_then_the_right_digits_work(
        db_session, number):
    for digits in WRONG[:4]:
        unlocks(db_session, number, digits, T0)
    unlocks(db_session, number, WRONG[4], T0 + timedelta(hours=6))
    assert not unlocks(db_session, number, RIGHT, T0 + timedelta(hours=6, minutes=1))
    assert not unlocks(db_session, number, RIGHT, T0 + timedelta(hours=24))
    # The first four are more than a day old; the fifth alone is under the limit.
    assert unlocks(db_session, number, RIGHT, T0 + timedelta(hours=25))
    assert wrong_answers(db_session, number, now=T0 + timedelta(hours=25)) == 1


def test_after_a_whole_day_without_guesses_the_right_digits_work_again(db_session, number):
    for digits in WRONG:
        unlocks(db_session, number, digits, T0)
    assert not unlocks(db_session, number, RIGHT, T0 + timedelta(hours=23, minutes=59))
    assert not unlocks(db_session, number, RIGHT, T0 + timedelta(hours=24))
    assert unlocks(db_session, number, RIGHT, T0 + timedelta(hours=25))


@pytest.mark.parametrize("malformed", ["", "abcd", "345", "34567", "３４５６", " 3456"])
def test_answers_that_are_not_four_ascii_digits_are_no_guess_and_not_counted(
        db_session, number, malformed):
    for _ in range(6):
        assert not unlocks(db_session, number, malformed, T0)
    assert wrong_answers(db_session, number, now=T0) == 0
    assert unlocks(db_session, number, RIGHT, T0)


def test_the_purge_job_deletes_only_counts_that_no_longer_count_and_can_run_again(
        committed_engine):
    with Session(committed_engine) as session:
        session.add_all([
            PhoneCheck(tracking_number="RR000000001VN", bucket_start=T0 - timedelta(hours=30),
                       wrong_count=5),
            PhoneCheck(tracking_number="RR000000001VN", bucket_start=T0 - timedelta(hours=2),
                       wrong_count=1),
            PhoneCheck(tracking_number="RR000000002VN", bucket_start=T0 - timedelta(days=3),
                       wrong_count=2)])
        session.commit()
    db = Database(committed_engine)
    assert purge_phone_check_counts(db, now=T0) == 2
    assert purge_phone_check_counts(db, now=T0) == 0
    with Session(committed_engine) as session:
        assert session.execute(select(PhoneCheck.tracking_number, PhoneCheck.wrong_count)).all() \
            == [("RR000000001VN", 1)]


@pytest.mark.postgres
def test_twenty_simultaneous_wrong_answers_are_all_counted(committed_engine: Engine,
                                                           database_url: str) -> None:
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức"}, now=now)
        create_agency(session, {"code": "AG-LINHTRUNG", "name": "UBND phường Linh Trung",
                                "post_office_code": "PO-THUDUC"}, now=now)
        _, key = create_client(session, name="one-stop", role="agency_system",
                               scope=["AG-LINHTRUNG"], now=now)
        session.commit()
    app = create_app({"settings": test_settings(database_url), "db_bind": committed_engine})
    created = app.test_client().post("/api/v1/orders", json=order_body(),
                                     headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["tracking_number"]

    barrier = threading.Barrier(20)
    failures: list[BaseException] = []

    def guess(i: int) -> None:
        try:
            barrier.wait()
            with Session(committed_engine) as session:
                assert track(session, number, phone_last4=f"{i % 10}{i % 10}00",
                             now=now).private is None
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    with Session(committed_engine) as session:
        assert wrong_answers(session, number, now=now) == 20
        assert not unlocks(session, number, RIGHT, now)
