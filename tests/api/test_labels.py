"""Order labels: an A6 PDF with the S10 number as Code 128 and a QR code."""
from __future__ import annotations

import subprocess
import shutil

import pytest

from tests.conftest import assert_api_error, order_body

ORDERS = "/api/v1/orders"


def create(client, headers, **overrides):
    response = client.post(ORDERS, json=order_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_label_is_an_a6_pdf_named_after_the_tracking_number(client, auth):
    order = create(client, auth["agency"])
    response = client.get(f"{ORDERS}/{order['id']}/label.pdf", headers=auth["dispatcher"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert order["tracking_number"] in response.headers["Content-Disposition"]
    # A6 is 105 x 148 mm = 297.64 x 419.53 pt.
    assert b"/MediaBox [ 0 0 297.6378 419.5276 ]" in response.data


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_label_text_carries_the_number_recipient_and_dossier(client, auth, tmp_path):
    order = create(client, auth["agency"])
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(client.get(f"{ORDERS}/{order['id']}/label.pdf", headers=auth["courier"]).data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert order["tracking_number"] in text
    assert order["dossier_code"] in text


def test_a_label_outside_the_callers_scope_is_404(client, auth):
    order = create(client, auth["agency"])
    assert_api_error(client.get(f"{ORDERS}/{order['id']}/label.pdf",
                                headers=auth["other_dispatcher"]), 404, "order_not_found")
    assert_api_error(client.get(f"{ORDERS}/{order['id']}/label.pdf"), 401)
