"""Helpers for the payment tests: settings pointing at localstripe, what Stripe.js does in a
browser (tokenise a card, finish 3-D Secure), and Stripe events signed with the SDK's helper."""
from __future__ import annotations

import json
import secrets
import time
from typing import Any

import requests
import stripe
from sqlalchemy import update
from sqlalchemy.orm import Session

from postal_svc.config import Settings
from postal_svc.shipments.models import Order
from postal_svc.stripe_emulator import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe
from tests.conftest import test_settings

WEBHOOK_SECRET = "whsec_test_postal_svc"
AMOUNT = 20_800  # 26,000 đ less 20 %: VND is zero-decimal, so Stripe's amount is 20800
# Stripe's test cards as localstripe knows them. localstripe declines 4000 0000 0000 0002
# only when it is attached to a customer, not when charged; 4000 0000 0000 0341 is declined
# when charged (by Stripe too), which is what paying an order does.
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002760003184"


def stripe_settings(database_url: str, emulator: LocalStripe, **overrides: Any) -> Settings:
    overrides.setdefault("stripe_webhook_secret", WEBHOOK_SECRET)
    return test_settings(database_url, stripe_secret_key=SECRET_KEY,
                         stripe_publishable_key=PUBLISHABLE_KEY, stripe_api_base=emulator.url,
                         stripe_js_url=emulator.js_url, **overrides)


def stripe_client(emulator: LocalStripe) -> Any:
    """The SDK pointed at localstripe, to look at what it holds (or act as the citizen's
    browser would)."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": emulator.url})


def card_token(emulator: LocalStripe, number: str) -> str:
    """What Stripe.js createToken(cardElement) does in the browser: POST /v1/tokens with the
    publishable key. Returns the token id."""
    answer = requests.post(f"{emulator.url}/v1/tokens", timeout=10, data={
        "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034",
        "card[cvc]": "123", "key": PUBLISHABLE_KEY})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def finish_3ds(emulator: LocalStripe, intent_id: str, client_secret: str, *,
               success: bool = True) -> dict[str, Any]:
    """What Stripe.js confirmCardPayment does for 3-D Secure (localstripe's stand-in calls
    this endpoint when the citizen completes or fails the check)."""
    answer = requests.post(
        f"{emulator.url}/v1/payment_intents/{intent_id}/_authenticate",
        params={"success": "true" if success else "false"}, timeout=10,
        data=json.dumps({"key": PUBLISHABLE_KEY, "client_secret": client_secret}))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def pay_directly(emulator: LocalStripe, intent_id: str, number: str = CARD_OK) -> Any:
    """Confirm an intent at Stripe without us (as Stripe.js does client-side): our server
    learns of it only through a webhook or the reconciliation job."""
    client = stripe_client(emulator)
    token = client.v1.tokens.retrieve(card_token(emulator, number))
    client.v1.payment_intents.update(intent_id, params={"payment_method": token.card.id})
    try:
        return client.v1.payment_intents.confirm(intent_id)
    except stripe.CardError:
        return client.v1.payment_intents.retrieve(intent_id)


def signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
           timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """An event body and its Stripe-Signature header, signed with the SDK's own helper."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret,
                                                               timestamp=timestamp)
    return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def stripe_event(type_: str, obj: dict[str, Any], *, created: int | None = None,
                 event_id: str | None = None) -> dict[str, Any]:
    """An event shaped as Stripe sends it."""
    return {"id": event_id or "evt_" + secrets.token_hex(12), "object": "event",
            "api_version": "2024-06-20", "created": created or int(time.time()),
            "type": type_, "livemode": False, "data": {"object": obj}}


def set_price(session: Session, order_id: str, amount: int = AMOUNT) -> None:
    """Give an order a price snapshot with this amount due (tests run without tariffs)."""
    session.execute(update(Order).where(Order.public_id == order_id).values(
        price={"currency": "VND", "lines": [{"code": "postage", "amount": amount}],
               "total": amount, "vat_included": 0, "procedure_fee": 0, "amount_due": amount},
        total_vnd=amount))
    session.commit()
