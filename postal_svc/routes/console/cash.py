"""Cash: the end-of-day cash each courier collected, from the use case behind GET /cash-reports."""
from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from postal_svc.clock import VIETNAM
from postal_svc.directory.models import PostOffice
from postal_svc.directory.service import list_post_offices
from postal_svc.routes import common
from postal_svc.routes.console.base import blp, caller, post_office_codes, staff_required
from postal_svc.routes.payments import cash_csv_response
from postal_svc.shipments.cash_report import (
    CashReport, InvalidReportDate, ReportPostOfficeNotFound, cash_report)

OFFICE_LIST_LIMIT = 500


def _offices() -> list[PostOffice]:
    """The offices the user may read: theirs, or every one for an admin."""
    return list(list_post_offices(common.session(), limit=OFFICE_LIST_LIMIT, cursor=None,
                                  codes=post_office_codes()).items)


def _report(offices: list[PostOffice]) -> CashReport:
    """The report the query asks for: the chosen office (default the user's first) and day
    (default today in Vietnam). The use case refuses a bad date and an office outside the
    user's scope, exactly as the API does."""
    office = request.args.get("post_office_code") or (offices[0].code if offices else "")
    if not office or len(office) > 32 or not office.isprintable():  # a NUL byte never reaches SQL
        raise ReportPostOfficeNotFound("No such post office among those you act for.")
    day = request.args.get("date") or common.now().astimezone(VIETNAM).date().isoformat()
    return cash_report(common.session(), office, day, caller=caller(), now=common.now())


@blp.get("/cash")
@staff_required
def cash() -> Any:
    """The chosen day's cash per courier: orders, amounts and totals."""
    offices = _offices()
    try:
        report = _report(offices)
    except InvalidReportDate:
        return render_template("console/cash.html", offices=offices, report=None,
                               bad_date=True), 422
    return render_template("console/cash.html", offices=offices, report=report, bad_date=False)


@blp.get("/cash.csv")
@staff_required
def cash_csv() -> Response:
    """The same CSV as GET /api/v1/cash-reports.csv (UTF-8 with BOM, CRLF)."""
    return cash_csv_response(_report(_offices()))
