"""Report figures for the console, aggregated in the database (GROUP BY), in Vietnam days.

Every figure covers a report period of whole Vietnam days and the orders the caller may see
(`intake.scoped`), optionally narrowed to one post office. Days, weeks and months are cut in
Asia/Ho_Chi_Minh time inside the database: PostgreSQL converts with `timezone()`, SQLite
shifts by +7 hours (Vietnam has no daylight saving time, so the two always agree).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger, ColumnElement, Select, String, and_, case, cast, column, func, literal_column,
    select, true)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.clock import VIETNAM
from postal_svc.directory.models import PostOffice
from postal_svc.errors import NotFound, RuleViolation
from postal_svc.shipments.intake import CHANNELS, scoped
from postal_svc.shipments.lifecycle import FAILED, Status
from postal_svc.shipments.models import Order, TrackingEvent

MAX_DAYS = 366
ONLINE = "online_public_service"
# An order reached its destination: the citizen (a result) or the agency (a dossier).
DELIVERED = (Status.DELIVERED.value, Status.DELIVERED_TO_AGENCY.value)
# Where an order ends when it was not delivered: a result goes back to the agency; a dossier
# pickup ends cancelled (by the lifecycle after its last failed attempt, or by the citizen).
ENDED_UNDELIVERED = (Status.RETURNING.value, Status.RETURNED_TO_AGENCY.value,
                     Status.CANCELLED.value)
FAILED_ATTEMPTS = tuple(status.value for status in FAILED.values())
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZONE = "'Asia/Ho_Chi_Minh'"  # a literal, so SELECT and GROUP BY render the same expression


class InvalidReportPeriod(RuleViolation):
    """`reason` in details: malformed_date, year_out_of_range, from_after_to, too_long."""

    code = "invalid_report_period"


class InvalidReportOption(RuleViolation):
    code = "invalid_report_option"


class ReportPostOfficeNotFound(NotFound):
    code = "post_office_not_found"


class Grain(StrEnum):
    """How finely a rate is cut: Vietnam days, weeks from Monday, or calendar months."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class ReportPeriod:
    """Whole Vietnam days `first_day`..`last_day`, both included."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=VIETNAM)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(),
                                tzinfo=VIETNAM)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def default_grain(self) -> Grain:
        """Days fit a month on a screen; longer periods read better by week."""
        return Grain.DAY if self.days <= 31 else Grain.WEEK

    def buckets(self, grain: Grain) -> list[date]:
        """The first day of every day, week (Monday) or month touching the period, in order;
        the first bucket may start before `first_day`."""
        first = bucket_of(self.first_day, grain)
        found: list[date] = []
        current = first
        while current <= self.last_day:
            found.append(current)
            current = next_bucket(current, grain)
        return found


def bucket_of(day: date, grain: Grain) -> date:
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: date, grain: Grain) -> date:
    if grain is Grain.DAY:
        return start + timedelta(days=1)
    if grain is Grain.WEEK:
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def this_month(today: date) -> ReportPeriod:
    """The calendar month of `today` (a Vietnam date), from its first to its last day."""
    first = today.replace(day=1)
    return ReportPeriod(first, next_bucket(first, Grain.MONTH) - timedelta(days=1))


def _parse_day(raw: str, field: str) -> date:
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidReportPeriod("A date is written YYYY-MM-DD, e.g. 2020-03-02.",
                                  errors={field: ["Expected YYYY-MM-DD."]},
                                  details={"reason": "malformed_date"}) from None
    if not 2000 <= day.year <= 2999:
        raise InvalidReportPeriod("No report exists for that year.",
                                  errors={field: ["Year out of range."]},
                                  details={"reason": "year_out_of_range"})
    return day


def report_period(raw_from: str | None, raw_to: str | None, *, today: date) -> ReportPeriod:
    """The period a report asks for: "YYYY-MM-DD" Vietnam dates, both included.

    Without dates, the month of `today`; with only one, that day's month fills the other end.
    Raises InvalidReportPeriod (malformed date, `from` after `to`, more than MAX_DAYS days).
    """
    raw_from, raw_to = (raw_from or "").strip(), (raw_to or "").strip()
    if not raw_from and not raw_to:
        return this_month(today)
    first = _parse_day(raw_from, "from") if raw_from else None
    last = _parse_day(raw_to, "to") if raw_to else None
    if first is None:
        assert last is not None
        first = last.replace(day=1)
    if last is None:
        last = this_month(first).last_day
    if first > last:
        raise InvalidReportPeriod("The period starts after it ends.",
                                  errors={"from": ["Must not be after `to`."]},
                                  details={"reason": "from_after_to"})
    period = ReportPeriod(first, last)
    if period.days > MAX_DAYS:
        raise InvalidReportPeriod(f"A report covers at most {MAX_DAYS} days.",
                                  errors={"to": [f"At most {MAX_DAYS} days after `from`."]},
                                  details={"reason": "too_long"})
    return period


def parse_grain(raw: str | None, period: ReportPeriod) -> Grain:
    """`day` or `week` (empty: the period's default). Raises InvalidReportOption."""
    if not raw:
        return period.default_grain()
    if raw not in (Grain.DAY.value, Grain.WEEK.value):
        raise InvalidReportOption("Rates are shown by day or by week.",
                                  errors={"by": ["One of: day, week."]})
    return Grain(raw)


@dataclass(frozen=True)
class ReportScope:
    """Whose orders a report counts: the caller's, narrowed to `post_office_code` if set."""

    caller: Caller
    post_office_code: str | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        stmt = scoped(stmt, self.caller)
        if self.post_office_code is not None:
            stmt = stmt.where(Order.post_office_code == self.post_office_code)
        return stmt


def report_scope(session: Session, caller: Caller, post_office_code: str | None) -> ReportScope:
    """The scope of a report; one office must exist and be the caller's. Raises
    ReportPostOfficeNotFound (unknown or someone else's office: 404, so codes do not leak)."""
    code = (post_office_code or "").strip()
    if not code:
        return ReportScope(caller)
    allowed = caller.post_office_codes()
    # A code no post office can have is not looked up (PostgreSQL refuses a NUL in text).
    if (allowed is not None and code not in allowed) or len(code) > 32 \
            or not code.isprintable() or session.get(PostOffice, code) is None:
        raise ReportPostOfficeNotFound("No such post office among those you act for.")
    return ReportScope(caller, code)


def visible_post_offices(session: Session, caller: Caller) -> list[tuple[str, str]]:
    """(code, name) of the post offices a report may be narrowed to, by code."""
    stmt = select(PostOffice.code, PostOffice.name).order_by(PostOffice.code)
    allowed = caller.post_office_codes()
    if allowed is not None:
        stmt = stmt.where(PostOffice.code.in_(sorted(allowed)))
    return [(code, name) for code, name in session.execute(stmt)]


# -- Vietnam calendar in SQL -------------------------------------------------------------------

def vietnam_bucket(column: Any, grain: Grain, dialect: str) -> ColumnElement[str]:
    """The Vietnam day, week (its Monday) or month (its 1st) of a UTC instant, as YYYY-MM-DD."""
    if dialect == "postgresql":
        local = func.timezone(literal_column(_ZONE), column)
        if grain is not Grain.DAY:
            local = func.date_trunc(literal_column(f"'{grain.value}'"), local)
        return func.to_char(local, literal_column("'YYYY-MM-DD'"), type_=String)
    if grain is Grain.DAY:
        return func.date(column, "+7 hours", type_=String)
    if grain is Grain.WEEK:
        # "weekday 1" moves forward to the next Monday unless already one: step back 6 days.
        return func.date(column, "+7 hours", "-6 days", "weekday 1", type_=String)
    return func.date(column, "+7 hours", "start of month", type_=String)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _within(column: Any, period: ReportPeriod) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


# -- 1. orders per day by channel ------------------------------------------------------------

@dataclass(frozen=True)
class ChannelCounts:
    """Orders registered per Vietnam day and channel; `days` lists every day of the period."""

    days: list[date]
    channels: list[str]
    counts: dict[tuple[date, str], int]

    def count(self, day: date, channel: str) -> int:
        return self.counts.get((day, channel), 0)


def orders_per_day_by_channel(session: Session, period: ReportPeriod,
                              scope: ReportScope) -> ChannelCounts:
    """Orders per Vietnam day of `registered_at` (the time the citizen registered the service)
    and per channel, cancelled ones included: a registration happened either way.

    An order registered at 23:30 UTC counts on the next Vietnam day (06:30 there).
    """
    inner = scope.apply(select(
        vietnam_bucket(Order.registered_at, Grain.DAY, _dialect(session)).label("day"),
        Order.channel.label("channel")).where(_within(Order.registered_at, period))).subquery()
    rows = session.execute(select(inner.c.day, inner.c.channel, func.count())
                           .group_by(inner.c.day, inner.c.channel))
    counts = {(_day(day), channel): int(n) for day, channel, n in rows}
    extra = sorted({channel for _, channel in counts} - set(CHANNELS))
    return ChannelCounts(days=period.buckets(Grain.DAY), channels=[*CHANNELS, *extra],
                         counts=counts)


# -- 2. online share by ward -----------------------------------------------------------------

@dataclass(frozen=True)
class WardShare:
    """Orders registered in a ward (`ward_code` None: the address has no ward yet)."""

    ward_code: str | None
    ward_name: str | None
    orders: int
    online_orders: int


def online_share_by_ward(session: Session, period: ReportPeriod, scope: ReportScope, *,
                         top: int) -> list[WardShare]:
    """The `top` wards by orders registered in the period, with how many of those were
    registered through the online public service (channel `online_public_service`).

    The ward is the citizen's (2025) ward the address resolved to; orders without one form one
    row with `ward_code` None. Ties go by ward code. Cancelled orders count, as in chart 1.
    """
    online = func.sum(case((Order.channel == ONLINE, 1), else_=0))
    orders = func.count()
    stmt = scope.apply(
        select(Order.ward_code, func.max(Order.ward_name), orders, online)
        .where(_within(Order.registered_at, period))
        .group_by(Order.ward_code)
        .order_by(orders.desc(), func.coalesce(Order.ward_code, ""))
        .limit(top))
    return [WardShare(code, name, int(n), int(on or 0)) for code, name, n, on in
            session.execute(stmt)]


# -- 3. on-time delivery rate ----------------------------------------------------------------

@dataclass(frozen=True)
class BucketRate:
    """`hits` out of `total` in the bucket starting `start` (a day, a Monday or a 1st)."""

    start: date
    total: int
    hits: int


def on_time_deliveries(session: Session, period: ReportPeriod, scope: ReportScope,
                       grain: Grain) -> list[BucketRate]:
    """Per bucket of `delivered_at` (Vietnam time): orders delivered (to the citizen, or the
    dossier to the agency) and how many of them on time.

    On time means `delivered_at <= due_at`, the instant the order was due (the citizen's window
    or 17:00 on the agreed working day, fixed at intake: `service_level.due_at`). Orders not
    delivered are not in this rate (see `first_attempt_outcomes`). Every bucket of the period is
    listed, empty ones with zero.
    """
    inner = scope.apply(select(
        vietnam_bucket(Order.delivered_at, grain, _dialect(session)).label("bucket"),
        case((Order.delivered_at <= Order.due_at, 1), else_=0).label("on_time"))
        .where(Order.status.in_(DELIVERED), _within(Order.delivered_at, period))).subquery()
    rows = session.execute(select(inner.c.bucket, func.count(), func.sum(inner.c.on_time))
                           .group_by(inner.c.bucket))
    found = {_day(bucket): (int(n), int(hits or 0)) for bucket, n, hits in rows}
    return [BucketRate(start, *found.get(start, (0, 0))) for start in period.buckets(grain)]


# -- 4. first-attempt success rate -----------------------------------------------------------

def first_attempt_outcomes(session: Session, period: ReportPeriod, scope: ReportScope,
                           grain: Grain) -> list[BucketRate]:
    """Per bucket: orders whose delivery attempts ended (`total`) and how many of them were
    delivered at the first attempt (`hits`).

    Attempts end when an order is delivered (counted at `delivered_at`) or when, after at least
    one failed attempt, it ends undelivered: a result returning or returned to the agency, a
    dossier pickup cancelled (counted at its last failed attempt). A first-attempt success is
    a delivery with no failed attempt before it (`attempt_count` 0; the lifecycle counts
    every `delivery_failed` / `pickup_failed`), so a re-attempted delivery is not one. An order
    returned or cancelled without any attempt was never tried and is not counted.
    """
    dialect = _dialect(session)
    delivered = scope.apply(select(
        vietnam_bucket(Order.delivered_at, grain, dialect).label("bucket"),
        case((Order.attempt_count == 0, 1), else_=0).label("first"))
        .where(Order.status.in_(DELIVERED), _within(Order.delivered_at, period))).subquery()
    last_failure = scope.apply(
        select(TrackingEvent.order_id, func.max(TrackingEvent.occurred_at).label("at"))
        .join(Order, Order.id == TrackingEvent.order_id)
        .where(Order.status.in_(ENDED_UNDELIVERED), Order.attempt_count > 0,
               TrackingEvent.type.in_(FAILED_ATTEMPTS))
        .group_by(TrackingEvent.order_id)).subquery()
    # Bounded outside the aggregate: a later failure moves the order out of the period.
    failed = select(vietnam_bucket(last_failure.c.at, grain, dialect).label("bucket")) \
        .where(_within(last_failure.c.at, period)).subquery()
    totals: dict[date, list[int]] = {}
    for bucket, n, first in session.execute(
            select(delivered.c.bucket, func.count(), func.sum(delivered.c.first))
            .group_by(delivered.c.bucket)):
        totals.setdefault(_day(bucket), [0, 0])[0] += int(n)
        totals[_day(bucket)][1] += int(first or 0)
    for bucket, n in session.execute(select(failed.c.bucket, func.count())
                                     .group_by(failed.c.bucket)):
        totals.setdefault(_day(bucket), [0, 0])[0] += int(n)
    return [BucketRate(start, *totals.get(start, (0, 0))) for start in period.buckets(grain)]


# -- 5. revenue and discounts by promotion per month ----------------------------------------

@dataclass(frozen=True)
class MonthRevenue:
    """One Vietnam month of priced, not cancelled orders registered in the period."""

    month: date
    orders: int
    revenue_vnd: int
    # promotion code -> (orders it discounted, discount granted in VND, a positive number)
    discounts: dict[str, tuple[int, int]]


def revenue_by_promotion(session: Session, period: ReportPeriod,
                         scope: ReportScope) -> list[MonthRevenue]:
    """Per Vietnam month of `registered_at`: revenue and the discount each promotion granted.

    Revenue is the sum of the orders' stored price totals (`total_vnd`: postage after
    discounts plus add-ons, VAT included; the agency's procedure fee it forwards is not
    revenue). The discount of a promotion is the sum of its `promotion` price lines in the
    orders' snapshots, made positive. Cancelled orders (refunded) and orders without a price
    yet are left out of both, as in the monthly statements. Integer VND; the sums run in the
    database, the price lines unnested there with the dialect's JSON functions.
    """
    dialect = _dialect(session)
    priced = (Order.status != Status.CANCELLED.value, Order.total_vnd.is_not(None),
              _within(Order.registered_at, period))
    months = scope.apply(select(
        vietnam_bucket(Order.registered_at, Grain.MONTH, dialect).label("month"),
        Order.total_vnd.label("total")).where(*priced)).subquery()
    revenue = {_day(month): (int(n), int(total or 0)) for month, n, total in session.execute(
        select(months.c.month, func.count(), func.sum(months.c.total)).group_by(months.c.month))}
    lines = _promotion_lines(dialect)
    discounts_of = scope.apply(
        select(vietnam_bucket(Order.registered_at, Grain.MONTH, dialect).label("month"),
               Order.id.label("order_id"), lines.code.label("promotion_code"),
               lines.amount.label("amount"))
        .select_from(Order).join(lines.table, true())
        .where(*priced, lines.line_code == "promotion")).subquery()
    discounts: dict[date, dict[str, tuple[int, int]]] = {}
    for month, code, n, amount in session.execute(
            select(discounts_of.c.month, discounts_of.c.promotion_code,
                   func.count(func.distinct(discounts_of.c.order_id)),
                   func.sum(discounts_of.c.amount))
            .group_by(discounts_of.c.month, discounts_of.c.promotion_code)):
        discounts.setdefault(_day(month), {})[str(code or "")] = (int(n), -int(amount or 0))
    return [MonthRevenue(month, *revenue.get(month, (0, 0)), discounts.get(month, {}))
            for month in period.buckets(Grain.MONTH)]


@dataclass(frozen=True)
class _PriceLines:
    """The lines of `orders.price` as a table joined to each order (one row per line)."""

    table: Any
    line_code: ColumnElement[Any]
    code: ColumnElement[Any]
    amount: ColumnElement[Any]


def _promotion_lines(dialect: str) -> _PriceLines:
    if dialect == "postgresql":
        table = func.jsonb_array_elements(Order.price["lines"]).table_valued(
            column("value", postgresql.JSONB)).lateral("price_line")
        value = table.c.value
        return _PriceLines(table, value["code"].astext, value["promotion_code"].astext,
                           cast(value["amount"].astext, BigInteger))
    # SQLite has no LATERAL: a table-valued function in a join sees the tables before it.
    table = func.json_each(Order.price, "$.lines").table_valued("value").alias("price_line")
    value = table.c.value
    return _PriceLines(table, func.json_extract(value, "$.code"),
                       func.json_extract(value, "$.promotion_code"),
                       cast(func.json_extract(value, "$.amount"), BigInteger))
