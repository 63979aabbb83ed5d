"""When an order is due: working days in Vietnam time, or the citizen's own deadline."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from postal_svc.shipments.service_level import due_at

ICT = timezone(timedelta(hours=7))
UTC = timezone.utc


def ict(*args: int) -> datetime:
    return datetime(*args, tzinfo=ICT)


# 2020-03-02 is a Monday; 2020-03-06 a Friday; 2020-03-07/08 the weekend.

def test_three_working_days_from_a_monday_end_thursday_at_17_ict():
    due = due_at(accepted_at=ict(2020, 3, 2, 9, 0), deliver_before=None, working_days=3)
    assert due == ict(2020, 3, 5, 17, 0)


def test_working_days_skip_the_weekend():
    # Wednesday -> Thursday, Friday, (weekend), Monday
    due = due_at(accepted_at=ict(2020, 3, 4, 10, 0), deliver_before=None, working_days=3)
    assert due == ict(2020, 3, 9, 17, 0)


def test_an_order_accepted_on_saturday_counts_from_monday():
    due = due_at(accepted_at=ict(2020, 3, 7, 10, 0), deliver_before=None, working_days=1)
    assert due == ict(2020, 3, 9, 17, 0)


def test_one_working_day_from_a_friday_is_monday():
    due = due_at(accepted_at=ict(2020, 3, 6, 10, 0), deliver_before=None, working_days=1)
    assert due == ict(2020, 3, 9, 17, 0)


def test_an_order_accepted_friday_2330_ict_is_due_wednesday_17_ict():
    accepted = ict(2020, 3, 6, 23, 30)  # still Friday in Vietnam (16:30Z)
    due = due_at(accepted_at=accepted, deliver_before=None, working_days=3)
    assert due == ict(2020, 3, 11, 17, 0)


def test_an_order_accepted_friday_0630_ict_counts_from_friday_not_from_thursday_utc():
    accepted = datetime(2020, 3, 5, 23, 30, tzinfo=UTC)  # Friday 06:30 in Vietnam
    due = due_at(accepted_at=accepted, deliver_before=None, working_days=3)
    assert due == ict(2020, 3, 11, 17, 0)  # Mon, Tue, Wed; a UTC count would say Tuesday


def test_an_order_accepted_monday_0600_ict_counts_from_monday_not_from_sunday_utc():
    accepted = datetime(2020, 3, 1, 23, 0, tzinfo=UTC)  # Monday 06:00 in Vietnam
    due = due_at(accepted_at=accepted, deliver_before=None, working_days=3)
    assert due == ict(2020, 3, 5, 17, 0)  # Thursday; a UTC count would say Wednesday


def test_due_at_is_given_in_utc():
    due = due_at(accepted_at=ict(2020, 3, 2, 9, 0), deliver_before=None, working_days=3)
    assert due.utcoffset() == timedelta(0)
    assert due == datetime(2020, 3, 5, 10, 0, tzinfo=UTC)


def test_the_citizens_deliver_before_wins_over_working_days():
    deadline = ict(2020, 3, 20, 11, 0)
    due = due_at(accepted_at=ict(2020, 3, 2, 9, 0), deliver_before=deadline, working_days=3)
    assert due == deadline
    assert due.utcoffset() == timedelta(0)


def test_a_deliver_before_sooner_than_the_working_days_still_wins():
    deadline = ict(2020, 3, 3, 11, 0)
    due = due_at(accepted_at=ict(2020, 3, 2, 9, 0), deliver_before=deadline, working_days=3)
    assert due == deadline


@pytest.mark.parametrize("working_days", [1, 2, 5, 10])
def test_due_day_is_always_a_weekday_at_17_ict(working_days):
    for offset in range(7):
        accepted = ict(2020, 3, 2, 12, 0) + timedelta(days=offset)
        due = due_at(accepted_at=accepted, deliver_before=None, working_days=working_days)
        local = due.astimezone(ICT)
        assert local.weekday() < 5
        assert (local.hour, local.minute) == (17, 0)
        assert local.date() > accepted.date()


def test_ten_working_days_span_two_weekends():
    due = due_at(accepted_at=ict(2020, 3, 2, 9, 0), deliver_before=None, working_days=10)
    assert due == ict(2020, 3, 16, 17, 0)
