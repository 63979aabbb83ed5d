"""Helpers for billing tests: orders with a given price snapshot, written straight to the table."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from postal_svc.directory.models import Agency
from postal_svc.directory.service import create_agency
from postal_svc.shipments.models import Order


def make_order(session: Session, *, price: dict[str, Any] | None, registered_at: datetime,
               agency_code: str = "UBND-LINHTRUNG", payer: str = "agency",
               status: str = "created", kind: str = "result_delivery") -> Order:
    """An order row carrying `price` as its snapshot (`total_vnd` = its total), as intake
    stores it; creates the agency when missing."""
    if session.get(Agency, agency_code) is None:
        create_agency(session, {"code": agency_code, "name": "UBND phường Linh Trung"},
                      now=registered_at)
    serial = secrets.randbelow(10**8)
    order = Order(
        public_id="ord_" + secrets.token_hex(10), tracking_number=f"RR{serial:08d}0VN",
        kind=kind, status=status, agency_code=agency_code,
        dossier_code="HS-" + secrets.token_hex(6), channel="online_public_service",
        registered_at=registered_at, citizen_name="Nguyễn Văn An", citizen_phone="+84903123456",
        address_input={"text": "x"}, address_precision="ward", weight_g=100, pieces=1,
        payer=payer, payment_method="agency_account" if payer == "agency" else "online",
        payment_status="on_account" if payer == "agency" else "unpaid", price=price,
        total_vnd=price["total"] if price else None, attempt_count=0, due_at=registered_at,
        created_at=registered_at, updated_at=registered_at)
    session.add(order)
    session.flush()
    return order


def tariff_document(code: str, effective_from: datetime, *,
                    max_weight_g: int | None = None) -> dict[str, Any]:
    """The demo tariff as the API takes it, under `code` from `effective_from`; with
    `max_weight_g`, one weight band only, up to that weight."""
    from postal_svc.billing.codec import encode_tariff_version
    from postal_svc.billing.demo_tariffs import new_units_2025_tariff

    document = {**encode_tariff_version(new_units_2025_tariff()), "code": code,
                "effective_from": effective_from.isoformat()}
    if max_weight_g is not None:
        document["weight_bands"] = [{**document["weight_bands"][0], "up_to_g": max_weight_g,
                                     "step_g": 10}]
    return document
