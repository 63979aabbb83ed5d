"""Reports: five charts over a period and the user's post offices, each with its CSV.

The figures come from `shipments.reports` (aggregated in the database); this module only
reads the query, names things in the reader's language and hands `ChartData` to the page
(inline SVG and a data table) or to the CSV writer, so both show the same numbers.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound as HTTPNotFound

from postal_svc.clock import VIETNAM
from postal_svc.documents.charts import (
    Category, ChartData, ChartKind, Number, Series, layout, percent_of)
from postal_svc.routes import common, web
from postal_svc.routes.console.base import blp, caller, staff_required
from postal_svc.shipments import reports as figures
from postal_svc.shipments.reports import (
    Grain, InvalidReportOption, InvalidReportPeriod, ReportPeriod, ReportScope)

TOP_WARDS = 10
MAX_TOP_WARDS = 50
PALETTE = ("#0b57d0", "#f29900", "#188038", "#a142f4", "#d93025", "#12b5cb", "#5f6368",
           "#b06000")


@dataclass(frozen=True)
class ReportQuery:
    """What the reader asked for, checked: period, grain of the rates, scope, top wards."""

    period: ReportPeriod
    grain: Grain
    scope: ReportScope
    top: int

    def args(self) -> dict[str, Any]:
        """The query as URL arguments, with the period spelled out (a CSV link made today
        still means the same days tomorrow)."""
        args: dict[str, Any] = {"from": self.period.first_day.isoformat(),
                                "to": self.period.last_day.isoformat(),
                                "by": self.grain.value, "top": self.top}
        if self.scope.post_office_code:
            args["office"] = self.scope.post_office_code
        return args


def _today() -> date:
    return common.now().astimezone(VIETNAM).date()


def _top(raw: str | None) -> int:
    if not raw:
        return TOP_WARDS
    # isascii: "²" is a digit to isdigit() but not to int().
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_TOP_WARDS:
        raise InvalidReportOption(f"Between 1 and {MAX_TOP_WARDS} wards.",
                                  errors={"top": [f"1 to {MAX_TOP_WARDS}."]})
    return int(raw)


def _query() -> ReportQuery:
    """Raises InvalidReportPeriod, InvalidReportOption (422) and ReportPostOfficeNotFound."""
    args = request.args
    period = figures.report_period(args.get("from"), args.get("to"), today=_today())
    grain = figures.parse_grain(args.get("by"), period)
    top = _top(args.get("top"))
    scope = figures.report_scope(common.session(), caller(), args.get("office"))
    return ReportQuery(period, grain, scope, top)


def _problem_text(error: InvalidReportPeriod | InvalidReportOption) -> str:
    """The refusal in the reader's language (the domain's message is the API's English)."""
    if isinstance(error, InvalidReportOption):
        if "top" in error.errors:
            return _("Số phường hiển thị phải từ 1 đến %(n)s.", n=MAX_TOP_WARDS)
        return _("Chỉ xem được theo ngày hoặc theo tuần.")
    reason = error.details.get("reason")
    if reason == "from_after_to":
        return _("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
    if reason == "too_long":
        return _("Mỗi báo cáo xem tối đa %(n)s ngày.", n=figures.MAX_DAYS)
    if reason == "year_out_of_range":
        return _("Không có báo cáo cho năm này.")
    return _("Ngày phải viết theo dạng YYYY-MM-DD, ví dụ 2020-03-02.")


# -- the five charts ---------------------------------------------------------------------------

def _day_label(day: date) -> str:
    return day.strftime("%d/%m")


def _bucket_category(start: date, grain: Grain) -> Category:
    if grain is Grain.MONTH:
        return Category(start.strftime("%Y-%m"), start.strftime("%m/%Y"))
    return Category(start.isoformat(), _day_label(start))


def channel_label(channel: str) -> str:
    labels = {"online_public_service": _("Dịch vụ công trực tuyến"), "counter": _("Tại quầy"),
              "hotline": _("Tổng đài")}
    return labels.get(channel, channel)


def orders_by_channel_chart(query: ReportQuery) -> ChartData:
    found = figures.orders_per_day_by_channel(common.session(), query.period, query.scope)
    series = [Series(channel, channel_label(channel),
                     tuple(found.count(day, channel) for day in found.days))
              for channel in found.channels]
    totals = tuple(sum(found.count(day, channel) for channel in found.channels)
                   for day in found.days)
    return ChartData("orders-by-channel", ChartKind.STACKED, ("day",),
                     tuple(Category(day.isoformat(), _day_label(day)) for day in found.days),
                     (*series, Series("total", _("Tổng"), totals, drawn=False)))


def online_share_chart(query: ReportQuery) -> ChartData:
    wards = figures.online_share_by_ward(common.session(), query.period, query.scope,
                                         top=query.top)
    categories = tuple(Category(w.ward_code or "", w.ward_name or w.ward_code
                                or _("Chưa xác định phường")) for w in wards)
    return ChartData("online-share-by-ward", ChartKind.HBAR, ("ward_code", "ward_name"),
                     categories, (
                         Series("orders", _("Đơn hàng"), tuple(w.orders for w in wards),
                                drawn=False),
                         Series("online_orders", _("Đăng ký trực tuyến"),
                                tuple(w.online_orders for w in wards), drawn=False),
                         Series("online_share_pct", _("Tỷ lệ trực tuyến (%)"),
                                tuple(percent_of(w.online_orders, w.orders) for w in wards))),
                     percent=True)


def _rate_chart(key: str, rates: list[figures.BucketRate], grain: Grain,
                names: tuple[tuple[str, str], tuple[str, str], tuple[str, str]]) -> ChartData:
    (total_key, total_label), (hits_key, hits_label), (pct_key, pct_label) = names
    return ChartData(key, ChartKind.LINE, (grain.value,),
                     tuple(_bucket_category(r.start, grain) for r in rates), (
                         Series(total_key, total_label, tuple(r.total for r in rates),
                                drawn=False),
                         Series(hits_key, hits_label, tuple(r.hits for r in rates),
                                drawn=False),
                         Series(pct_key, pct_label,
                                tuple(percent_of(r.hits, r.total) for r in rates))),
                     percent=True)


def on_time_chart(query: ReportQuery) -> ChartData:
    rates = figures.on_time_deliveries(common.session(), query.period, query.scope,
                                       query.grain)
    return _rate_chart("on-time-delivery", rates, query.grain, (
        ("delivered", _("Đã phát")), ("on_time", _("Đúng hạn")),
        ("on_time_pct", _("Tỷ lệ đúng hạn (%)"))))


def first_attempt_chart(query: ReportQuery) -> ChartData:
    rates = figures.first_attempt_outcomes(common.session(), query.period, query.scope,
                                           query.grain)
    return _rate_chart("first-attempt-success", rates, query.grain, (
        ("ended", _("Đã kết thúc phát")), ("first_attempt", _("Thành công lần đầu")),
        ("first_attempt_pct", _("Tỷ lệ thành công lần đầu (%)"))))


def revenue_chart(query: ReportQuery) -> ChartData:
    months = figures.revenue_by_promotion(common.session(), query.period, query.scope)
    codes = sorted({code for month in months for code in month.discounts})
    series: list[Series] = [
        Series("orders", _("Đơn có cước"), tuple(m.orders for m in months), drawn=False),
        Series("revenue_vnd", _("Doanh thu (đ)"), tuple(m.revenue_vnd for m in months))]
    for code in codes:
        label = code or _("(không mã)")
        series.append(Series(f"discount_vnd:{code}", _("Giảm giá %(code)s (đ)", code=label),
                             tuple(m.discounts.get(code, (0, 0))[1] for m in months)))
        series.append(Series(f"discounted_orders:{code}",
                             _("Đơn được giảm %(code)s", code=label),
                             tuple(m.discounts.get(code, (0, 0))[0] for m in months),
                             drawn=False))
    return ChartData("revenue-by-promotion", ChartKind.GROUPED, ("month",),
                     tuple(_bucket_category(m.month, Grain.MONTH) for m in months),
                     tuple(series))


CHARTS: dict[str, Callable[[ReportQuery], ChartData]] = {
    "orders-by-channel": orders_by_channel_chart,
    "online-share-by-ward": online_share_chart,
    "on-time-delivery": on_time_chart,
    "first-attempt-success": first_attempt_chart,
    "revenue-by-promotion": revenue_chart,
}


def _titles() -> dict[str, tuple[str, str]]:
    """Each chart's title and what exactly it counts, as the reader sees them."""
    return {
        "orders-by-channel": (
            _("Đơn hàng mỗi ngày theo kênh"),
            _("Số đơn theo ngày đăng ký dịch vụ (giờ Việt Nam) và kênh đăng ký; gồm cả đơn đã hủy.")),
        "online-share-by-ward": (
            _("Tỷ lệ đăng ký trực tuyến theo phường"),
            _("Các phường có nhiều đơn nhất: phần trăm đơn đăng ký qua dịch vụ công trực tuyến.")),
        "on-time-delivery": (
            _("Tỷ lệ phát đúng hạn"),
            _("Trong các đơn đã phát (theo ngày phát), phần trăm đơn phát trước hoặc đúng hạn.")),
        "first-attempt-success": (
            _("Tỷ lệ phát thành công lần đầu"),
            _("Trong các đơn đã phát xong hoặc đã thôi phát sau lần phát không thành, phần trăm "
              "đơn phát được ngay lần đầu.")),
        "revenue-by-promotion": (
            _("Doanh thu và giảm giá theo khuyến mại mỗi tháng"),
            _("Tổng cước (đã gồm VAT, không gồm lệ phí thu hộ) của đơn đã tính cước, không hủy, "
              "theo tháng đăng ký; và số tiền mỗi khuyến mại đã giảm.")),
    }


# -- views ------------------------------------------------------------------------------------

def format_number(value: Number | None) -> str:
    """A figure as the reader writes numbers: 12.345 and 66,7 in Vietnamese, 12,345 and 66.7
    in English; a missing rate (nothing to divide by) as a dash."""
    if value is None:
        return "–"
    text = f"{value:,}"
    if web.current_language() == "vi":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


@blp.get("/reports")
@staff_required
def reports() -> Any:
    """All five charts for the period (this month by default) and the chosen post offices."""
    offices = figures.visible_post_offices(common.session(), caller())
    try:
        query = _query()
    except (InvalidReportPeriod, InvalidReportOption) as error:
        return render_template("console/reports.html", problem=_problem_text(error),
                               offices=offices, args=request.args), 422
    charts = [(CHARTS[key](query), *text) for key, text in _titles().items()]
    return render_template(
        "console/reports.html", charts=[(chart, layout(chart), title, definition)
                                        for chart, title, definition in charts],
        query=query, offices=offices, args=query.args(), palette=PALETTE,
        number=format_number, csv_url=lambda key: url_for("console.report_csv", chart=key,
                                                          **query.args()))


@blp.get("/reports/<chart>.csv")
@staff_required
def report_csv(chart: str) -> Any:
    """Exactly the numbers of one chart (and its data table), as CSV (UTF-8 with BOM, CRLF)."""
    build = CHARTS.get(chart)
    if build is None:
        raise HTTPNotFound()
    try:
        query = _query()
    except (InvalidReportPeriod, InvalidReportOption) as error:
        refused = type(error)(_problem_text(error), errors=error.errors)
        return render_template("console/problem.html", problem=refused), 422
    out = io.StringIO()
    out.write("\ufeff")  # so a spreadsheet opens Vietnamese names as UTF-8, like cash.csv
    csv.writer(out, lineterminator="\r\n").writerows(build(query).csv_rows())
    response = Response(out.getvalue(), mimetype="text/csv")
    code = query.scope.post_office_code
    office = "-" + re.sub(r"[^A-Za-z0-9_-]", "", code) if code else ""
    name = f"{chart}-{query.period.first_day}-{query.period.last_day}{office}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
