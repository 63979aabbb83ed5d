"""An order's A6 label: S10 number as a Code 128 barcode and a QR code, sender and recipient."""
from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from postal_svc.documents.fonts import FALLBACK_FONT, find_fonts, format_vnd, strip_diacritics

KIND_LABELS = {"result_delivery": "TRẢ KẾT QUẢ TTHC", "dossier_pickup": "NHẬN HỒ SƠ TTHC"}


@dataclass(frozen=True)
class LabelData:
    """What the label prints; the view fills it from the order (a courier's working document:
    the recipient's name, phone and address are on it, as on any postal label)."""

    tracking_number: str
    kind: str
    agency_name: str
    dossier_code: str
    recipient_name: str
    recipient_phone: str
    address_line: str | None
    ward_name: str | None
    province_name: str | None
    post_office_code: str | None
    weight_g: int
    cash_to_collect_vnd: int | None
    tracking_url: str


def render_label_pdf(label: LabelData) -> bytes:
    """One A6 page (105 x 148 mm), printable on label printers and A4 sheets alike."""
    regular, bold = find_fonts()
    text = (lambda s: s) if regular != FALLBACK_FONT[0] else strip_diacritics
    buffer = io.BytesIO()
    width, height = A6
    page = canvas.Canvas(buffer, pagesize=A6, pageCompression=1)
    page.setTitle(f"{label.tracking_number}")
    margin = 6 * mm
    y = height - margin

    page.setFont(bold, 11)
    y -= 4 * mm
    page.drawString(margin, y, text(KIND_LABELS.get(label.kind, label.kind)))
    page.setFont(regular, 7)
    page.drawRightString(width - margin, y, text(f"Bưu cục: {label.post_office_code or '-'}"))

    barcode = code128.Code128(label.tracking_number, barHeight=16 * mm, barWidth=0.33 * mm,
                              humanReadable=True, fontSize=9)
    y -= 24 * mm
    barcode.drawOn(page, (width - barcode.width) / 2, y)

    qr = QrCodeWidget(label.tracking_url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    size = 24 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    y -= size + 3 * mm
    renderPDF.draw(drawing, page, width - margin - size, y)

    def lines(title: str, rows: list[str], top: float) -> float:
        page.setFont(bold, 8)
        page.drawString(margin, top, text(title))
        page.setFont(regular, 8)
        for row in rows:
            top -= 4 * mm
            page.drawString(margin, top, text(row)[:60])
        return top - 5 * mm

    text_top = y + size - 3 * mm
    next_y = lines("Người gửi", [label.agency_name, f"Mã hồ sơ: {label.dossier_code}"], text_top)
    address = ", ".join(p for p in (label.address_line, label.ward_name, label.province_name) if p)
    next_y = lines("Người nhận", [label.recipient_name, label.recipient_phone,
                                  *_wrap(address, 55)], min(next_y, y - 4 * mm))
    page.setFont(regular, 8)
    page.drawString(margin, next_y, text(f"Khối lượng: {label.weight_g} g"))
    if label.cash_to_collect_vnd:
        page.setFont(bold, 10)
        page.drawString(margin, next_y - 6 * mm,
                        text(f"THU HỘ (COD): {format_vnd(label.cash_to_collect_vnd)} đ"))
    page.showPage()
    page.save()
    return buffer.getvalue()


def _wrap(value: str, width: int) -> list[str]:
    words, rows, row = value.split(), [], ""
    for word in words:
        if row and len(row) + 1 + len(word) > width:
            rows.append(row)
            row = word
        else:
            row = f"{row} {word}".strip()
    return rows + ([row] if row else [])
