"""Report periods: Vietnam dates in, whole days out, refusals with a reason; buckets by grain."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from postal_svc.shipments.reports import (
    MAX_DAYS, Grain, InvalidReportOption, InvalidReportPeriod, ReportPeriod, parse_grain,
    report_period)

TODAY = date(2020, 2, 15)


def test_without_dates_a_report_covers_this_month_in_vietnam_time():
    period = report_period(None, "", today=TODAY)
    assert (period.first_day, period.last_day) == (date(2020, 2, 1), date(2020, 2, 29))
    # 00:00 on 1 February in Vietnam is 17:00 UTC the day before.
    assert period.start == datetime(2020, 1, 31, 17, tzinfo=timezone.utc)
    assert period.end == datetime(2020, 2, 29, 17, tzinfo=timezone.utc)


def test_one_date_is_completed_with_its_month():
    assert report_period("2020-03-10", None, today=TODAY) == ReportPeriod(date(2020, 3, 10),
                                                                          date(2020, 3, 31))
    assert report_period(None, "2020-03-10", today=TODAY) == ReportPeriod(date(2020, 3, 1),
                                                                          date(2020, 3, 10))


@pytest.mark.parametrize(("raw_from", "raw_to", "reason"), [
    ("2020-03-02", "2020-03-01", "from_after_to"),
    ("2020-3-1", "2020-03-31", "malformed_date"),
    ("2020-02-30", "2020-03-31", "malformed_date"),
    ("02/03/2020", None, "malformed_date"),
    ("1999-01-01", "1999-01-31", "year_out_of_range"),
    ("2021-01-01", "2022-01-02", "too_long"),
])
def test_bad_periods_are_refused_with_a_reason(raw_from, raw_to, reason):
    with pytest.raises(InvalidReportPeriod) as refused:
        report_period(raw_from, raw_to, today=TODAY)
    assert refused.value.details["reason"] == reason


def test_a_leap_year_is_the_longest_period():
    assert report_period("2020-01-01", "2020-12-31", today=TODAY).days == MAX_DAYS == 366


def test_weeks_start_on_monday_and_months_on_the_first():
    period = ReportPeriod(date(2020, 3, 1), date(2020, 3, 31))  # 1 March 2020 is a Sunday
    weeks = period.buckets(Grain.WEEK)
    assert weeks[0] == date(2020, 2, 24) and weeks[-1] == date(2020, 3, 30) and len(weeks) == 6
    assert all(week.weekday() == 0 for week in weeks)
    assert ReportPeriod(date(2019, 12, 15), date(2020, 2, 1)).buckets(Grain.MONTH) == [
        date(2019, 12, 1), date(2020, 1, 1), date(2020, 2, 1)]
    assert len(period.buckets(Grain.DAY)) == 31


def test_rates_go_by_day_for_a_month_and_by_week_beyond_unless_asked():
    month = ReportPeriod(date(2020, 3, 1), date(2020, 3, 31))
    quarter = ReportPeriod(date(2020, 1, 1), date(2020, 3, 31))
    assert parse_grain(None, month) is Grain.DAY and parse_grain("", quarter) is Grain.WEEK
    assert parse_grain("day", quarter) is Grain.DAY
    with pytest.raises(InvalidReportOption):
        parse_grain("month", month)
