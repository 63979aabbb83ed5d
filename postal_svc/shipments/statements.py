"""Monthly statements per agency of the orders it pays for, summed from the orders' snapshots."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.clock import VIETNAM, isoformat_z
from postal_svc.directory.models import Agency
from postal_svc.errors import NotFound, RuleViolation
from postal_svc.shipments.lifecycle import Status
from postal_svc.shipments.models import Order

# Price line codes as columns of a statement, in invoice order.
LINE_CODES = ("postage", "promotion", "exemption", "fee_forwarding", "cod_fee")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class StatementAgencyNotFound(NotFound):
    code = "agency_not_found"


class InvalidStatementMonth(RuleViolation):
    code = "invalid_month"


@dataclass(frozen=True)
class StatementLine:
    """One priced order, as its snapshot says."""

    order_id: str
    tracking_number: str
    dossier_code: str
    kind: str
    channel: str
    registered_at: datetime
    tariff_version: str | None
    zone: str | None
    lines: list[dict[str, Any]]
    total: int
    vat_included: int
    procedure_fee: int
    amount_due: int

    def amount_of(self, code: str) -> int:
        return sum(int(line["amount"]) for line in self.lines if line.get("code") == code)


@dataclass(frozen=True)
class Statement:
    """The agency-paid orders registered in one Vietnam month (cancelled ones left out).

    Totals are sums of the orders' stored snapshots: `total` of `total_vnd`, the rest of the
    snapshot fields; orders not priced yet are listed apart and counted in no total.
    """

    agency_code: str
    agency_name: str
    month: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    lines: list[StatementLine]
    unpriced: list[dict[str, Any]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        sums = {"orders": len(self.lines),
                **{code: sum(line.amount_of(code) for line in self.lines) for code in LINE_CODES},
                "total": sum(line.total for line in self.lines),
                "vat_included": sum(line.vat_included for line in self.lines),
                "procedure_fee": sum(line.procedure_fee for line in self.lines),
                "amount_due": sum(line.amount_due for line in self.lines)}
        sums["net"] = sums["total"] - sums["vat_included"]
        return sums

    def to_dict(self) -> dict[str, Any]:
        """The statement as the API answers it (integer VND, UTC times)."""
        return {
            "agency_code": self.agency_code,
            "agency_name": self.agency_name,
            "month": self.month,
            "currency": "VND",
            "period": {"from": isoformat_z(self.period_start), "to": isoformat_z(self.period_end),
                       "timezone": "Asia/Ho_Chi_Minh"},
            "generated_at": isoformat_z(self.generated_at),
            "lines": [{
                "order_id": line.order_id, "tracking_number": line.tracking_number,
                "dossier_code": line.dossier_code, "kind": line.kind, "channel": line.channel,
                "registered_at": isoformat_z(line.registered_at),
                "tariff_version": line.tariff_version, "zone": line.zone,
                "price_lines": line.lines, "total": line.total,
                "vat_included": line.vat_included, "procedure_fee": line.procedure_fee,
                "amount_due": line.amount_due,
            } for line in self.lines],
            "totals": self.totals,
            "unpriced": self.unpriced,
        }


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a "YYYY-MM" month in Vietnam time.

    Raises InvalidStatementMonth.
    """
    found = _MONTH.fullmatch(month)
    if found is None:
        raise InvalidStatementMonth("A month is written YYYY-MM, e.g. 2020-03.",
                                    errors={"month": ["Expected YYYY-MM."]})
    year, number = int(found.group(1)), int(found.group(2))
    if not 2000 <= year <= 2999:
        raise InvalidStatementMonth("No statements exist for that year.",
                                    errors={"month": ["Year out of range."]})
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    return (datetime(start.year, start.month, 1, tzinfo=VIETNAM),
            datetime(end.year, end.month, 1, tzinfo=VIETNAM))


def monthly_statement(session: Session, agency_code: str, month: str, *, caller: Caller,
                      now: datetime) -> Statement:
    """The statement of one agency's agency-paid orders registered in `month` (Vietnam time).

    Raises StatementAgencyNotFound for an unknown agency or one outside the caller's scope
    (404, so agency codes do not leak) and InvalidStatementMonth.
    """
    allowed = caller.agency_codes()
    agency = session.get(Agency, agency_code)
    if agency is None or (allowed is not None and agency_code not in allowed):
        raise StatementAgencyNotFound("No such agency among those you act for.")
    start, end = month_bounds(month)
    orders = session.scalars(
        select(Order)
        .where(Order.agency_code == agency_code, Order.payer == "agency",
               Order.status != Status.CANCELLED.value,
               Order.registered_at >= start, Order.registered_at < end)
        .order_by(Order.registered_at, Order.id))
    lines: list[StatementLine] = []
    unpriced: list[dict[str, Any]] = []
    for order in orders:
        price = order.price
        if not price or order.total_vnd is None:
            unpriced.append({"order_id": order.public_id, "tracking_number": order.tracking_number,
                             "dossier_code": order.dossier_code,
                             "registered_at": isoformat_z(order.registered_at)})
            continue
        lines.append(StatementLine(
            order_id=order.public_id, tracking_number=order.tracking_number,
            dossier_code=order.dossier_code, kind=order.kind, channel=order.channel,
            registered_at=order.registered_at, tariff_version=price.get("tariff_version"),
            zone=price.get("zone"), lines=list(price.get("lines", [])), total=order.total_vnd,
            vat_included=int(price.get("vat_included", 0)),
            procedure_fee=int(price.get("procedure_fee", 0)),
            amount_due=int(price.get("amount_due", order.total_vnd))))
    return Statement(agency_code=agency.code, agency_name=agency.name, month=month,
                     period_start=start, period_end=end, generated_at=now, lines=lines,
                     unpriced=unpriced)


def statement_csv_rows(statement: Statement) -> list[list[str | int]]:
    """The statement as CSV rows: a header row, one row per order (unpriced ones with empty
    amounts), and a totals row. Text cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe."""
    money = [*LINE_CODES, "total", "vat_included", "procedure_fee", "amount_due"]
    header: list[str | int] = ["tracking_number", "dossier_code", "registered_at", "kind",
                               "channel", "tariff_version", "zone", *money, "note"]
    rows: list[list[str | int]] = [header]
    for line in statement.lines:
        rows.append([_cell(line.tracking_number), _cell(line.dossier_code),
                     isoformat_z(line.registered_at) or "", line.kind, line.channel,
                     _cell(line.tariff_version or ""), _cell(line.zone or ""),
                     *[line.amount_of(code) for code in LINE_CODES], line.total,
                     line.vat_included, line.procedure_fee, line.amount_due, ""])
    for item in statement.unpriced:
        rows.append([_cell(item["tracking_number"]), _cell(item["dossier_code"]),
                     item["registered_at"] or "", "", "", "", "", *[""] * len(money),
                     "unpriced"])
    totals = statement.totals
    rows.append(["TOTAL", f"{totals['orders']} orders", "", "", "", "", "",
                 *[totals[code] for code in money], ""])
    return rows


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
