"""Courier manifests of a route plan as an A4 PDF: one sheet per courier (reportlab).

Text is set in a font with Vietnamese glyphs (documents/fonts.py), or in Helvetica with the
diacritics stripped when none is installed.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from postal_svc.documents.fonts import FALLBACK_FONT, FONT_DIRS, find_fonts, format_vnd, strip_diacritics

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
STOP_LABELS = {"collect_result": "Nhận KQ tại cơ quan", "deliver_result": "Phát KQ",
               "pickup_dossier": "Nhận hồ sơ", "deliver_dossier": "Nộp HS tại cơ quan"}
HEADER = ("STT", "Giờ dự kiến", "Việc", "Số hiệu", "Địa chỉ", "Người nhận/giao", "Kiện",
          "Thu hộ (đ)", "Ký nhận")


@dataclass(frozen=True)
class ManifestRow:
    trip: str
    sequence: int
    kind: str
    planned_arrival: str  # ISO UTC
    tracking_number: str
    address: str
    recipient: str
    items: int
    weight_g: int
    cod_vnd: int | None = None


@dataclass
class ManifestSheet:
    courier_code: str
    courier_name: str
    post_office_name: str
    plan_id: str
    day: date
    rows: list[ManifestRow] = field(default_factory=list)


def _hhmm(value: str) -> str:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(VIETNAM).strftime("%H:%M")


def render_manifest_pdf(sheets: Sequence[ManifestSheet], *, font_dirs: Sequence[str] = FONT_DIRS) -> bytes:
    """Every courier's stops in order, with a signature column; COD amounts in integer VND."""
    regular, bold = find_fonts(font_dirs)
    text: Callable[[str], str] = strip_diacritics if regular == FALLBACK_FONT[0] else (lambda s: s)
    title = ParagraphStyle("title", fontName=bold, fontSize=13, leading=17)
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=7.5, leading=9)
    story: list[Any] = []
    for n, sheet in enumerate(sheets):
        if n:
            story.append(PageBreak())
        cod_total = sum(r.cod_vnd or 0 for r in sheet.rows)
        story += [
            Paragraph(escape(text(f"BẢNG KÊ GIAO NHẬN - {sheet.courier_name} ({sheet.courier_code})")), title),
            Paragraph(escape(text(f"{sheet.post_office_name} · ngày {sheet.day:%d/%m/%Y} · "
                                  f"kế hoạch {sheet.plan_id}")), body),
            Paragraph(escape(text(f"{len(sheet.rows)} bưu gửi; tổng thu hộ {format_vnd(cod_total)} đ")), body),
            Spacer(1, 3 * mm),
        ]
        rows: list[list[Any]] = [[text(h) for h in HEADER]]
        for r in sheet.rows:
            rows.append([
                f"{r.trip}.{r.sequence}", _hhmm(r.planned_arrival), text(STOP_LABELS.get(r.kind, r.kind)),
                r.tracking_number, Paragraph(escape(text(r.address)), cell),
                Paragraph(escape(text(r.recipient)), cell), str(r.items),
                format_vnd(r.cod_vnd) if r.cod_vnd else "", ""])
        table = Table(rows, repeatRows=1, colWidths=[12 * mm, 14 * mm, 22 * mm, 26 * mm, 46 * mm,
                                                     30 * mm, 10 * mm, 18 * mm, 18 * mm])
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("ALIGN", (6, 1), (7, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.Color(0.97, 0.97, 0.97)]),
        ]))
        story.append(table)
    if not sheets:
        story.append(Paragraph(escape(text("Kế hoạch chưa có tuyến nào.")), body))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=8 * mm, rightMargin=8 * mm,
                      topMargin=10 * mm, bottomMargin=10 * mm, title="Manifest",
                      author="postal-svc", invariant=1).build(story)
    return buffer.getvalue()
