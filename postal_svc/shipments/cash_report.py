"""End-of-day cash report: the cash each courier collected for cash-on-delivery orders."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient
from postal_svc.access.service import Caller
from postal_svc.clock import VIETNAM, isoformat_z
from postal_svc.directory.models import PostOffice
from postal_svc.errors import NotFound, RuleViolation
from postal_svc.shipments.lifecycle import Status
from postal_svc.shipments.models import Order, TrackingEvent

COD = "cash_on_delivery"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidReportDate(RuleViolation):
    code = "invalid_report_date"


class ReportPostOfficeNotFound(NotFound):
    code = "post_office_not_found"


@dataclass(frozen=True)
class CashLine:
    order_id: str
    tracking_number: str
    dossier_code: str
    delivered_at: datetime
    cash_collected_vnd: int | None  # None: the order had no price when it was delivered


@dataclass
class CourierCash:
    client_id: int | None
    name: str
    lines: list[CashLine] = field(default_factory=list)

    @property
    def cash_collected_vnd(self) -> int:
        return sum(line.cash_collected_vnd or 0 for line in self.lines)

    @property
    def without_amount(self) -> int:
        return sum(1 for line in self.lines if line.cash_collected_vnd is None)


@dataclass(frozen=True)
class CashReport:
    post_office_code: str
    post_office_name: str
    day: date
    period_start: datetime
    period_end: datetime
    couriers: list[CourierCash]
    generated_at: datetime

    @property
    def totals(self) -> dict[str, int]:
        return {"orders": sum(len(c.lines) for c in self.couriers),
                "cash_collected_vnd": sum(c.cash_collected_vnd for c in self.couriers),
                "orders_without_amount": sum(c.without_amount for c in self.couriers)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_office_code": self.post_office_code,
            "post_office_name": self.post_office_name,
            "date": self.day.isoformat(), "timezone": "Asia/Ho_Chi_Minh",
            "period_start": isoformat_z(self.period_start),
            "period_end": isoformat_z(self.period_end),
            "currency": "VND",
            "couriers": [{
                "client_id": c.client_id, "name": c.name, "orders": len(c.lines),
                "cash_collected_vnd": c.cash_collected_vnd,
                "orders_without_amount": c.without_amount,
                "lines": [{"order_id": line.order_id, "tracking_number": line.tracking_number,
                           "dossier_code": line.dossier_code,
                           "delivered_at": isoformat_z(line.delivered_at),
                           "cash_collected_vnd": line.cash_collected_vnd}
                          for line in c.lines],
            } for c in self.couriers],
            "totals": self.totals,
            "generated_at": isoformat_z(self.generated_at),
        }


def day_bounds(raw: str) -> tuple[date, datetime, datetime]:
    """A "YYYY-MM-DD" Vietnam day as [its first instant, the next day's). Raises
    InvalidReportDate."""
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidReportDate("A date is written YYYY-MM-DD, e.g. 2020-03-02.",
                                errors={"date": ["Expected YYYY-MM-DD."]}) from None
    if not 2000 <= day.year <= 2999:
        raise InvalidReportDate("No report exists for that year.",
                                errors={"date": ["Year out of range."]})
    start = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)
    return day, start, start + timedelta(days=1)


def cash_report(session: Session, post_office_code: str, day: str, *, caller: Caller,
                now: datetime) -> CashReport:
    """Cash collected on `day` (Vietnam time) for cash-on-delivery orders delivered by the
    staff of `post_office_code`, per courier (the client that recorded the delivery).

    Each courier's sum and the totals are sums over the very lines listed, so the report
    reconciles with the delivered orders by construction. Raises ReportPostOfficeNotFound
    (unknown, or outside the caller's scope: 404 so codes do not leak) and InvalidReportDate.
    """
    allowed = caller.post_office_codes()
    office = session.get(PostOffice, post_office_code)
    if office is None or (allowed is not None and post_office_code not in allowed):
        raise ReportPostOfficeNotFound("No such post office among those you act for.")
    parsed, start, end = day_bounds(day)
    rows = session.execute(
        select(TrackingEvent, Order, ApiClient.name)
        .join(Order, Order.id == TrackingEvent.order_id)
        .outerjoin(ApiClient, ApiClient.id == TrackingEvent.actor_client_id)
        .where(TrackingEvent.type == Status.DELIVERED.value,
               TrackingEvent.post_office_code == post_office_code,
               TrackingEvent.occurred_at >= start, TrackingEvent.occurred_at < end,
               Order.payment_method == COD)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)).all()
    couriers: dict[int | None, CourierCash] = {}
    for event, order, name in rows:
        courier = couriers.setdefault(event.actor_client_id, CourierCash(
            client_id=event.actor_client_id, name=name or "(unknown)"))
        collected = (event.data or {}).get("cash_collected_vnd", order.cash_collected_vnd)
        courier.lines.append(CashLine(
            order_id=order.public_id, tracking_number=order.tracking_number,
            dossier_code=order.dossier_code, delivered_at=event.occurred_at,
            cash_collected_vnd=int(collected) if collected is not None else None))
    ordered = sorted(couriers.values(), key=lambda c: (c.name, c.client_id or 0))
    return CashReport(post_office_code=office.code, post_office_name=office.name, day=parsed,
                      period_start=start, period_end=end, couriers=ordered, generated_at=now)


def cash_report_csv_rows(report: CashReport) -> list[list[str | int]]:
    """Header, one row per order (grouped by courier), a subtotal row per courier and a total
    row; times in Vietnam time. Text a spreadsheet would run as a formula gets an apostrophe."""
    rows: list[list[str | int]] = [["row", "courier_client_id", "courier", "tracking_number",
                                    "dossier_code", "delivered_at_vietnam", "orders",
                                    "cash_collected_vnd"]]
    for courier in report.couriers:
        cid: str | int = courier.client_id if courier.client_id is not None else ""
        for line in courier.lines:
            rows.append(["order", cid, _cell(courier.name), _cell(line.tracking_number),
                         _cell(line.dossier_code),
                         line.delivered_at.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M"), 1,
                         line.cash_collected_vnd if line.cash_collected_vnd is not None else ""])
        rows.append(["courier_total", cid, _cell(courier.name), "", "", "", len(courier.lines),
                     courier.cash_collected_vnd])
    totals = report.totals
    rows.append(["total", "", "", "", "", "", totals["orders"], totals["cash_collected_vnd"]])
    return rows


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
