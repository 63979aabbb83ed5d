"""Domain objects as the API shows them."""
from __future__ import annotations

from typing import Any

from postal_svc.billing.models import Payment, Refund
from postal_svc.billing.payments import refundable_vnd
from postal_svc.clock import isoformat_z
from postal_svc.routes import common
from postal_svc.shipments.addresses import ResolvedAddress
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.shipments.payments import is_payable_online

PENDING_PRICE = {"status": "pending", "currency": "VND", "lines": [], "total": None,
                 "vat_included": None, "procedure_fee": None, "amount_due": None,
                 "vat_rate": None, "priced_at": None}


def present_order(order: Order) -> dict[str, Any]:
    base = f"/api/v1/orders/{order.public_id}"
    price = {"status": "priced", **order.price} if order.price else dict(PENDING_PRICE)
    return {
        "id": order.public_id,
        "tracking_number": order.tracking_number,
        "kind": order.kind,
        "status": order.status,
        "agency_code": order.agency_code,
        "dossier_code": order.dossier_code,
        "procedure_code": order.procedure_code,
        "procedure_name": order.procedure_name,
        "channel": order.channel,
        "registered_at": isoformat_z(order.registered_at),
        "citizen": {"name": order.citizen_name, "phone": order.citizen_phone,
                    "email": order.citizen_email},
        "address": {
            "line": order.address_line, "ward_code": order.ward_code, "ward_name": order.ward_name,
            "province_code": order.province_code, "province_name": order.province_name,
            "lat": order.lat, "lon": order.lon, "precision": order.address_precision,
            "ambiguous": order.address_ambiguous,
            "candidates": order.address_candidates or [],
            "old_ward_code": order.old_ward_code, "old_ward_name": order.old_ward_name,
            "old_district_name": order.old_district_name,
            "as_sent": order.address_input,
        },
        "parcel": {"weight_grams": order.weight_g, "pieces": order.pieces,
                   "contents": order.contents},
        "fee_forwarding": ({"amount": order.fee_forwarding_vnd}
                           if order.fee_forwarding_vnd is not None else None),
        "deliver_after": isoformat_z(order.deliver_after),
        "deliver_before": isoformat_z(order.deliver_before),
        "quote_id": order.quote_id,
        "price": price,
        "payment": {"payer": order.payer, "method": order.payment_method,
                    "status": order.payment_status,
                    "pay_url": common.pay_url(order.public_id) if is_payable_online(order)
                    else None},
        "post_office_code": order.post_office_code,
        "attempt_count": order.attempt_count,
        "delivered_at": isoformat_z(order.delivered_at),
        "cash_collected": order.cash_collected_vnd,
        "due_at": isoformat_z(order.due_at),
        "created_at": isoformat_z(order.created_at),
        "updated_at": isoformat_z(order.updated_at),
        "cancelled_at": isoformat_z(order.cancelled_at),
        "cancel_reason": order.cancel_reason,
        "links": {"self": base, "events": f"{base}/events", "label": f"{base}/label.pdf",
                  "tracking": f"/track/{order.tracking_number}"},
    }


def present_resolved_address(address: ResolvedAddress) -> dict[str, Any]:
    return {"line": address.line, "ward_code": address.ward_code, "ward_name": address.ward_name,
            "province_code": address.province_code, "province_name": address.province_name,
            "lat": address.lat, "lon": address.lon, "precision": address.precision,
            "ambiguous": address.ambiguous, "candidates": list(address.candidates),
            "old_ward_code": address.old_ward_code, "old_ward_name": address.old_ward_name,
            "old_district_name": address.old_district_name}


def present_event(event: TrackingEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.type, "status": event.status,
            "occurred_at": isoformat_z(event.occurred_at),
            "recorded_at": isoformat_z(event.recorded_at), "actor_role": event.actor_role,
            "lat": event.lat, "lon": event.lon, "data": event.data,
            "post_office_code": event.post_office_code, "ward_code": event.ward_code,
            "failure_reason": event.failure_reason, "note": event.note}


def present_payment(payment: Payment, order: Order, *, with_secret: bool = False
                    ) -> dict[str, Any]:
    """A payment attempt; the client secret (for Stripe.js) only when asked for."""
    out: dict[str, Any] = {
        "id": payment.public_id, "order_id": order.public_id, "attempt": payment.attempt,
        "status": payment.status, "currency": "VND", "amount": payment.amount_vnd,
        "captured": payment.captured_vnd, "refunded": payment.refunded_vnd,
        "refund_pending": payment.refund_pending_vnd,
        "refundable": refundable_vnd(payment.captured_vnd, payment.refunded_vnd,
                                     payment.refund_pending_vnd),
        "provider": payment.provider, "provider_payment_intent_id": payment.provider_intent_id,
        "last_error": ({"code": payment.last_error_code, "message": payment.last_error_message}
                       if payment.last_error_code or payment.last_error_message else None),
        "dispute": ({"status": payment.dispute_status, "amount": payment.disputed_vnd}
                    if payment.dispute_status else None),
        "created_at": isoformat_z(payment.created_at),
        "succeeded_at": isoformat_z(payment.succeeded_at),
        "pay_url": common.pay_url(order.public_id) if is_payable_online(order) else None,
    }
    if with_secret:
        out["client_secret"] = payment.client_secret
    return out


def present_refund(refund: Refund, order: Order, payment: Payment | None = None
                   ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": refund.public_id, "order_id": order.public_id, "amount": refund.amount_vnd,
        "currency": "VND", "status": refund.status, "reason": refund.reason,
        "origin": refund.origin, "failure_reason": refund.failure_reason,
        "provider_refund_id": refund.provider_refund_id,
        "created_at": isoformat_z(refund.created_at), "settled_at": isoformat_z(refund.settled_at),
    }
    if payment is not None:
        out["payment"] = {"id": payment.public_id, "captured": payment.captured_vnd,
                          "refunded": payment.refunded_vnd,
                          "refund_pending": payment.refund_pending_vnd,
                          "refundable": refundable_vnd(payment.captured_vnd,
                                                       payment.refunded_vnd,
                                                       payment.refund_pending_vnd)}
        out["order_payment_status"] = order.payment_status
    return out
