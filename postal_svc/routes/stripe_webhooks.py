"""Stripe's webhooks: verified on the raw body, kept once per event id, acted on after a re-read."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, request

from postal_svc.billing.gateway import InvalidWebhookSignature
from postal_svc.routes import common
from postal_svc.routes.errors import error_response
from postal_svc.shipments import payment_flows, payments

log = logging.getLogger("postal_svc.payments")

blp = Blueprint("stripe_webhooks", __name__)


@blp.post("/webhooks/stripe")
def stripe_webhook() -> Any:
    """Receive one Stripe event.

    400 invalid_signature (bad or stale Stripe-Signature) writes nothing. Otherwise 200 at
    once for an event id seen before; else the event is kept, its PaymentIntent re-read from
    Stripe and applied (anything that fails is left to the reconciliation job), then 200.
    """
    gateway = common.payment_gateway()
    try:
        event = gateway.verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except InvalidWebhookSignature as error:
        return error_response(400, error.code, error.message)
    db_session, now = common.session(), common.now()
    row = payments.record_stripe_event(db_session, event, now=now)
    db_session.commit()
    if row is None:
        return jsonify(received=True, duplicate=True)
    processed = payment_flows.process_stripe_event(db_session, gateway, row.id, now=now)
    return jsonify(received=True, duplicate=False, processed=processed)
