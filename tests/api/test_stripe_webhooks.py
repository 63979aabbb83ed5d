"""POST /webhooks/stripe: signed events (localstripe cannot send refunds or disputes, so these
are built and signed here with the SDK's own helper), verified on the raw body, kept once per
id, and acted on only after the intent is re-read from localstripe."""
from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from postal_svc import create_app
from postal_svc.billing.models import Payment, Refund, StripeEvent
from postal_svc.webhooks.models import WebhookEvent
from tests.api.journeys import create_order
from tests.api.test_payments import events_of, open_payment, read_order
from tests.conftest import assert_api_error
from tests.payments_support import (
    AMOUNT, CARD_DECLINED, WEBHOOK_SECRET, pay_directly, set_price, signed, stripe_client,
    stripe_event, stripe_settings)

HOOK = "/webhooks/stripe"


@pytest.fixture
def api(connection, database_url, localstripe):
    settings = stripe_settings(database_url, localstripe, tracking_rate_per_minute=0)
    return create_app({"settings": settings, "db_bind": connection, "TESTING": True}).test_client()


@pytest.fixture
def payment(api, auth, db_session) -> dict[str, Any]:
    """An open payment (a PaymentIntent at localstripe) of a 20,800 đ order."""
    order = create_order(api, auth["agency"])
    set_price(db_session, order["id"])
    return open_payment(api, auth["agency"], order["id"])


def intent_object(localstripe, intent_id: str) -> dict[str, Any]:
    """The intent as localstripe has it now, as an event carries it."""
    return dict(stripe_client(localstripe).v1.payment_intents.retrieve(intent_id).to_dict())


def deliver(api, event: dict[str, Any], **signing: Any) -> Any:
    body, headers = signed(event, **signing)
    return api.post(HOOK, data=body, headers=headers)


def test_a_succeeded_event_marks_the_order_paid_once_however_often_it_comes(
        api, auth, payment, localstripe, db_session, count_rows):
    intent_id = payment["provider_payment_intent_id"]
    pay_directly(localstripe, intent_id)  # in the browser; our server does not know yet
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == "unpaid"
    event = stripe_event("payment_intent.succeeded", intent_object(localstripe, intent_id))
    first = deliver(api, event)
    assert first.status_code == 200
    assert first.get_json() == {"received": True, "duplicate": False, "processed": True}
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == "paid"
    # The same event again (Stripe retries), and a second event saying the same thing.
    replay = deliver(api, event)
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    again = deliver(api, stripe_event("payment_intent.succeeded",
                                      intent_object(localstripe, intent_id)))
    assert again.get_json()["processed"] is True
    assert len(events_of(db_session, payment["order_id"], "payment.succeeded")) == 1
    assert count_rows(StripeEvent) == 2


def test_an_event_is_never_believed_the_intent_is_read_again_from_stripe(
        api, auth, payment, localstripe):
    # A forged-looking but correctly signed "succeeded" for an intent nobody paid.
    fake = intent_object(localstripe, payment["provider_payment_intent_id"])
    fake.update(status="succeeded", amount_received=AMOUNT)
    assert deliver(api, stripe_event("payment_intent.succeeded", fake)).status_code == 200
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == "unpaid"


def test_a_late_failed_event_after_success_changes_nothing(api, auth, payment, localstripe,
                                                          db_session):
    intent_id = payment["provider_payment_intent_id"]
    failed_then = intent_object(localstripe, intent_id)
    failed_then.update(status="requires_payment_method",
                       last_payment_error={"code": "card_declined"})
    pay_directly(localstripe, intent_id)
    now = int(time.time())
    deliver(api, stripe_event("payment_intent.succeeded", intent_object(localstripe, intent_id),
                              created=now))
    late = deliver(api, stripe_event("payment_intent.payment_failed", failed_then,
                                     created=now - 30))
    assert late.status_code == 200
    order = read_order(api, auth, payment["order_id"])
    assert order["payment"]["status"] == "paid"
    listed = api.get(f"/api/v1/orders/{payment['order_id']}/payments",
                     headers=auth["agency"]).get_json()["data"]
    assert (listed[0]["status"], listed[0]["last_error"]) == ("succeeded", None)
    assert len(events_of(db_session, payment["order_id"], "payment.succeeded")) == 1


def test_a_failed_payment_event_records_the_decline_and_leaves_the_order_unpaid(
        api, auth, payment, localstripe, db_session):
    intent_id = payment["provider_payment_intent_id"]
    pay_directly(localstripe, intent_id, CARD_DECLINED)
    response = deliver(api, stripe_event("payment_intent.payment_failed",
                                         intent_object(localstripe, intent_id)))
    assert response.status_code == 200
    listed = api.get(f"/api/v1/orders/{payment['order_id']}/payments",
                     headers=auth["agency"]).get_json()["data"]
    assert listed[0]["status"] == "requires_payment_method"
    assert listed[0]["last_error"]["code"] == "card_declined"
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == "unpaid"
    assert events_of(db_session, payment["order_id"], "payment.succeeded") == []


def test_a_refund_made_at_stripe_is_recorded_from_its_event_once(api, auth, payment,
                                                                 localstripe, db_session):
    intent_id = payment["provider_payment_intent_id"]
    pay_directly(localstripe, intent_id)
    deliver(api, stripe_event("payment_intent.succeeded", intent_object(localstripe, intent_id)))
    made = stripe_client(localstripe).v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 8_000})
    charge = intent_object(localstripe, intent_id)["latest_charge"]
    charge_event = stripe_event("charge.refunded", {**charge, "amount_refunded": 8_000})
    assert deliver(api, charge_event).status_code == 200
    assert deliver(api, stripe_event("refund.updated", made.to_dict())).status_code == 200
    [refund] = db_session.scalars(select(Refund)).all()
    assert (refund.amount_vnd, refund.origin, refund.status, refund.provider_refund_id) == \
        (8_000, "provider", "succeeded", made.id)
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == \
        "partially_refunded"
    assert [e.data["amount"] for e in events_of(db_session, payment["order_id"],
                                                "payment.refunded")] == [8_000]


def test_a_dispute_is_noted_and_an_older_dispute_event_arriving_late_is_ignored(
        api, auth, payment, localstripe, db_session):
    intent_id = payment["provider_payment_intent_id"]
    pay_directly(localstripe, intent_id)
    now = int(time.time())
    dispute = {"id": "dp_test", "object": "dispute", "amount": AMOUNT, "currency": "vnd",
               "payment_intent": intent_id, "reason": "fraudulent", "status": "needs_response"}
    deliver(api, stripe_event("charge.dispute.created", dispute, created=now - 60))
    deliver(api, stripe_event("charge.dispute.closed", {**dispute, "status": "won"},
                              created=now))
    deliver(api, stripe_event("charge.dispute.updated",
                              {**dispute, "status": "under_review"}, created=now - 30))
    listed = api.get(f"/api/v1/orders/{payment['order_id']}/payments",
                     headers=auth["agency"]).get_json()["data"]
    assert listed[0]["dispute"] == {"status": "won", "amount": AMOUNT}
    # The dispute's intent was re-read too: it had been paid, so the order is paid.
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == "paid"


@pytest.mark.parametrize("signing", [
    {"secret": "whsec_someone_else"},
    {"timestamp": int(time.time()) - 600},  # stale: older than the 5 minutes tolerated
])
def test_a_bad_signature_or_a_stale_timestamp_is_400_and_changes_nothing(
        api, auth, payment, localstripe, count_rows, signing):
    intent_id = payment["provider_payment_intent_id"]
    pay_directly(localstripe, intent_id)
    event = stripe_event("payment_intent.succeeded", intent_object(localstripe, intent_id))
    assert_api_error(deliver(api, event, **signing), 400, "invalid_signature")
    assert count_rows(StripeEvent) == 0
    assert read_order(api, auth, payment["order_id"])["payment"]["status"] == "unpaid"


def test_a_tampered_body_or_a_missing_header_is_400(api, payment, localstripe, count_rows):
    event = stripe_event("payment_intent.succeeded",
                         intent_object(localstripe, payment["provider_payment_intent_id"]))
    body, headers = signed(event)
    tampered = body.replace(b'"payment_intent.succeeded"', b'"payment_intent.canceled"')
    assert_api_error(api.post(HOOK, data=tampered, headers=headers), 400, "invalid_signature")
    assert_api_error(api.post(HOOK, data=body, headers={"Content-Type": "application/json"}),
                     400, "invalid_signature")
    assert_api_error(api.post(HOOK, data=b"not json", headers={
        "Stripe-Signature": signed(event)[1]["Stripe-Signature"]}), 400, "invalid_signature")
    assert count_rows(StripeEvent) == 0


def test_a_signed_body_that_is_not_an_event_is_400(api, count_rows):
    for body in ("[]", '{"id": 1, "type": "x"}', '"text"'):
        import stripe

        header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        response = api.post(HOOK, data=body.encode(), headers={"Stripe-Signature": header})
        assert_api_error(response, 400, "invalid_signature")
    assert count_rows(StripeEvent) == 0


def test_an_event_about_an_intent_that_is_not_ours_is_acknowledged_and_ignored(
        api, localstripe, count_rows):
    other = stripe_client(localstripe).v1.payment_intents.create(
        params={"amount": 5_000, "currency": "vnd"})
    response = deliver(api, stripe_event("payment_intent.succeeded", other.to_dict()))
    assert response.status_code == 200
    assert count_rows(Payment) == 0 and count_rows(WebhookEvent) == 0


@pytest.mark.parametrize("header", ["t=abc,v1=00", "t=1", "v1=00", "t=1,v1=ỹ", ",,,",
                                    "t=99999999999999999999,v1=00"])
def test_a_malformed_signature_header_is_400_never_500(api, header, count_rows):
    response = api.post(HOOK, data=b'{"id": "evt_1", "type": "x"}',
                        headers={"Stripe-Signature": header})
    assert_api_error(response, 400, "invalid_signature")
    body_not_utf8 = api.post(HOOK, data=b"\xff\xfe", headers={"Stripe-Signature": "t=1,v1=00"})
    assert_api_error(body_not_utf8, 400, "invalid_signature")
    assert count_rows(StripeEvent) == 0
