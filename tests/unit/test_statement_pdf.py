"""The statement PDF renderer: the figures it prints, and Vietnamese text with or without a font."""
from __future__ import annotations

from postal_svc.documents.statement_pdf import (
    format_vnd,
    render_statement_pdf,
    statement_table_rows,
    strip_diacritics,
)

STATEMENT = {
    "agency_code": "UBND-LINHTRUNG", "agency_name": "UBND phường Linh Trung", "month": "2020-03",
    "period": {"from": "2020-02-29T17:00:00Z", "to": "2020-03-31T17:00:00Z"},
    "generated_at": "2026-11-28T07:00:00Z",
    "lines": [
        {"tracking_number": "RR123456785VN", "dossier_code": "HS-1", "kind": "result_delivery",
         "registered_at": "2020-03-02T02:30:00Z", "zone": "intra_district",
         "price_lines": [{"code": "postage", "amount": 26_000},
                         {"code": "promotion", "amount": -5_200},
                         {"code": "fee_forwarding", "amount": 8_000}],
         "total": 28_800, "vat_included": 2_618, "procedure_fee": 50_000, "amount_due": 78_800},
        {"tracking_number": "RR000000015VN", "dossier_code": "HS-2", "kind": "dossier_pickup",
         "registered_at": "2020-03-31T16:59:59Z", "zone": "intra_province",
         "price_lines": [{"code": "postage", "amount": 30_000},
                         {"code": "exemption", "amount": -30_000}],
         "total": 0, "vat_included": 0, "procedure_fee": 0, "amount_due": 0},
    ],
    "totals": {"orders": 2, "postage": 56_000, "promotion": -5_200, "exemption": -30_000,
               "fee_forwarding": 8_000, "cod_fee": 0, "total": 28_800, "vat_included": 2_618,
               "procedure_fee": 50_000, "amount_due": 78_800, "net": 26_182},
    "unpriced": [{"tracking_number": "RR000000023VN"}],
}


def test_the_table_prints_each_order_in_vietnam_time_and_the_totals_row_of_the_statement():
    header, first, second, totals = statement_table_rows(STATEMENT)
    assert header[0] == "STT" and header[-1] == "Phải trả"
    assert first[:7] == ["1", "RR123456785VN", "HS-1", "02/03/2020 09:30", "Trả kết quả",
                         "intra_district", "26.000"]
    assert first[7:] == ["-5.200", "8.000", "28.800", "2.618", "50.000", "78.800"]
    assert second[3] == "31/03/2020 23:59" and second[7] == "-30.000"
    assert totals[1:3] == ["Tổng cộng", "2 bưu gửi"]
    assert totals[6:] == ["56.000", "-35.200", "8.000", "28.800", "2.618", "50.000", "78.800"]


def test_money_is_printed_with_dots_between_thousands():
    assert [format_vnd(v) for v in (0, 800, 26_000, -5_200, 1_234_567)] == [
        "0", "800", "26.000", "-5.200", "1.234.567"]


def test_without_a_vietnamese_font_the_pdf_is_still_made_in_helvetica_without_diacritics(
        tmp_path):
    pdf = render_statement_pdf(STATEMENT, font_dirs=(str(tmp_path),))
    assert pdf.content.startswith(b"%PDF-")
    assert (pdf.font, pdf.has_vietnamese_glyphs) == ("Helvetica", False)
    assert strip_diacritics("Bảng kê cước Đồng Nai, phường Linh Trung") == \
        "Bang ke cuoc Dong Nai, phuong Linh Trung"


def test_with_the_default_fonts_the_pdf_is_a_valid_document():
    pdf = render_statement_pdf(STATEMENT)
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
    if pdf.has_vietnamese_glyphs:  # a machine with fonts-dejavu-core (or another such font)
        assert b"FontFile2" in pdf.content  # the TrueType font is embedded
