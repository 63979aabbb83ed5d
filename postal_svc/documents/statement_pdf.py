"""A monthly agency statement as an A4 PDF (reportlab), with Vietnamese text.

Text is set in a font with Vietnamese glyphs (see documents/fonts.py); without one, the PDF
falls back to Helvetica with the diacritics stripped ("Bảng kê" -> "Bang ke"): readable, never
boxes or wrong letters, and `StatementPdf.font` says so.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from postal_svc.documents.fonts import (
    FALLBACK_FONT, FONT_DIRS, find_fonts, format_vnd, strip_diacritics)

log = logging.getLogger(__name__)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
KIND_LABELS = {"result_delivery": "Trả kết quả", "dossier_pickup": "Nhận hồ sơ"}


@dataclass(frozen=True)
class StatementPdf:
    content: bytes
    font: str  # the font the text is set in; "Helvetica" means diacritics were stripped

    @property
    def has_vietnamese_glyphs(self) -> bool:
        return self.font != FALLBACK_FONT[0]


def _vn_time(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(VIETNAM)
    return moment.strftime("%d/%m/%Y %H:%M")


def _vn_days(start: str, end: str) -> str:
    """[start, end) instants as the inclusive Vietnam dates they span: "01/03/2020 - 31/03/2020"."""
    first = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(VIETNAM)
    last = (datetime.fromisoformat(end.replace("Z", "+00:00")).astimezone(VIETNAM)
            - timedelta(microseconds=1))
    return f"{first:%d/%m/%Y} - {last:%d/%m/%Y}"


TABLE_HEADER = ("STT", "Số hiệu bưu gửi", "Mã hồ sơ", "Đăng ký", "Loại", "Vùng", "Cước",
                "Giảm/miễn", "Phí", "Thành tiền", "Trong đó VAT", "Lệ phí thu hộ", "Phải trả")


def statement_table_rows(statement: Mapping[str, Any]) -> list[list[str]]:
    """The statement's table as text cells: header, one row per order, and the totals row.

    Amounts come from the statement's own lines and totals, so the PDF shows exactly the
    figures of the JSON and CSV forms.
    """
    rows: list[list[str]] = [list(TABLE_HEADER)]
    for index, line in enumerate(statement["lines"], start=1):
        by_code: dict[str, int] = {}
        for item in line["price_lines"]:
            by_code[item["code"]] = by_code.get(item["code"], 0) + int(item["amount"])
        reductions = by_code.get("promotion", 0) + by_code.get("exemption", 0)
        fees = by_code.get("fee_forwarding", 0) + by_code.get("cod_fee", 0)
        rows.append([str(index), line["tracking_number"], line["dossier_code"],
                     _vn_time(line["registered_at"]), KIND_LABELS.get(line["kind"], line["kind"]),
                     line.get("zone") or "", format_vnd(by_code.get("postage", 0)),
                     format_vnd(reductions), format_vnd(fees), format_vnd(line["total"]),
                     format_vnd(line["vat_included"]), format_vnd(line["procedure_fee"]),
                     format_vnd(line["amount_due"])])
    totals = statement["totals"]
    rows.append(["", "Tổng cộng", f"{totals['orders']} bưu gửi", "", "", "",
                 format_vnd(totals["postage"]),
                 format_vnd(totals["promotion"] + totals["exemption"]),
                 format_vnd(totals["fee_forwarding"] + totals["cod_fee"]),
                 format_vnd(totals["total"]), format_vnd(totals["vat_included"]),
                 format_vnd(totals["procedure_fee"]), format_vnd(totals["amount_due"])])
    return rows


def render_statement_pdf(statement: Mapping[str, Any], *,
                         font_dirs: Sequence[str] = FONT_DIRS) -> StatementPdf:
    """The statement (as `Statement.to_dict()` gives it) as an A4 landscape PDF."""
    regular, bold = find_fonts(font_dirs)
    text: Callable[[str], str] = (
        strip_diacritics if regular == FALLBACK_FONT[0] else (lambda s: s))
    title_style = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18)
    body_style = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)

    year, month = statement["month"].split("-")
    story: list[Any] = [
        Paragraph(_escape(text(f"BẢNG KÊ CƯỚC DỊCH VỤ BƯU CHÍNH CÔNG ÍCH THÁNG {month}/{year}")),
                  title_style),
        Spacer(1, 3 * mm),
        Paragraph(_escape(text(f"Cơ quan: {statement['agency_name']} "
                               f"({statement['agency_code']})")), body_style),
        Paragraph(_escape(text(
            f"Kỳ: {_vn_days(statement['period']['from'], statement['period']['to'])}"
            " (giờ Việt Nam); đơn vị: đồng, giá đã gồm VAT; lệ phí thu hộ chuyển cho cơ quan"
            " không chịu VAT.")), body_style),
        Paragraph(_escape(text(f"Lập lúc: {_vn_time(statement['generated_at'])}")), body_style),
        Spacer(1, 4 * mm),
    ]
    rows = [[text(cell) for cell in row] for row in statement_table_rows(statement)]
    table = Table(rows, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTNAME", (0, 0), (-1, 0), bold),
        ("FONTNAME", (0, -1), (-1, -1), bold),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("ALIGN", (6, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ("GRID", (0, 0), (-1, -2), 0.25, colors.grey),
    ]))
    story.append(table)
    if statement.get("unpriced"):
        story += [Spacer(1, 4 * mm), Paragraph(_escape(text(
            "Chưa tính cước (địa chỉ đang chờ điều phối viên xác định, không có trong tổng): "
            + ", ".join(item["tracking_number"] for item in statement["unpriced"]))),
            body_style)]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
        topMargin=12 * mm, bottomMargin=12 * mm,
        title=text(f"Bảng kê {statement['agency_code']} {statement['month']}"),
        author="postal-svc", invariant=1)
    document.build(story)
    return StatementPdf(content=buffer.getvalue(), font=regular)


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
