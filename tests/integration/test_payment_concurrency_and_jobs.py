"""Payments with committed data: concurrent refunds, the reconciliation job repairing a lost
webhook and an interrupted refund, and localstripe's own signed webhooks reaching a live
server. (PostgreSQL in CI, SQLite too.)"""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from postal_svc import create_app
from postal_svc.access.service import create_client
from postal_svc.billing.gateway import PaymentProviderUnavailable, StripeGateway
from postal_svc.billing.models import Payment, Refund
from postal_svc.clock import utcnow
from postal_svc.db import Database
from postal_svc.directory.service import create_agency, create_post_office
from postal_svc.jobs import reconcile_payments
from postal_svc.shipments.models import Order
from postal_svc.stripe_emulator import SECRET_KEY, start_localstripe
from postal_svc.webhooks.models import WebhookEvent
from tests.api.journeys import create_order
from tests.api.test_payments import open_payment, pay_with
from tests.integration.test_concurrency import run_at_once
from tests.payments_support import (
    AMOUNT, CARD_OK, WEBHOOK_SECRET, pay_directly, set_price, signed, stripe_client,
    stripe_event, stripe_settings)

CONCURRENT_REFUNDS = 20


def build_world(engine: Engine) -> dict[str, dict[str, str]]:
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        create_post_office(session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức",
                                     "served_ward_codes": ["26794", "26857"]}, now=now)
        create_agency(session, {"code": "AG-LINHTRUNG", "name": "UBND phường Linh Trung",
                                "post_office_code": "PO-THUDUC"}, now=now)
        keys = {}
        for role, scope in (("agency_system", ["AG-LINHTRUNG"]), ("dispatcher", ["PO-THUDUC"])):
            _, keys[role] = create_client(session, name=role, role=role, scope=scope, now=now)
        session.commit()
    return {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}


@pytest.fixture
def live(committed_engine: Engine, database_url: str, localstripe: Any) -> dict[str, Any]:
    headers = build_world(committed_engine)
    settings = stripe_settings(database_url, localstripe, tracking_rate_per_minute=0)
    app = create_app({"settings": settings, "db_bind": committed_engine})
    return {"app": app, "api": app.test_client(), "headers": headers, "settings": settings,
            "engine": committed_engine, "localstripe": localstripe}


def priced_order(live: dict[str, Any]) -> dict[str, Any]:
    order = create_order(live["api"], live["headers"]["agency_system"])
    with Session(live["engine"]) as session:
        set_price(session, order["id"])
    return order


def paid(live: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    order = priced_order(live)
    payment = open_payment(live["api"], live["headers"]["agency_system"], order["id"])
    assert pay_with(live["api"], live["localstripe"], payment["pay_url"], CARD_OK)["paid"]
    return order, payment


def payment_row(engine: Engine, public_id: str) -> Payment:
    with Session(engine) as session:
        found = session.scalar(select(Payment).where(Payment.public_id == public_id))
        assert found is not None
        return found


def order_row(engine: Engine, public_id: str) -> Order:
    with Session(engine) as session:
        found = session.scalar(select(Order).where(Order.public_id == public_id))
        assert found is not None
        return found


def count_events(engine: Engine, type_: str) -> int:
    with Session(engine) as session:
        return len(list(session.scalars(select(WebhookEvent).where(WebhookEvent.type == type_))))


@pytest.mark.parametrize("amount", [5_000, None])
def test_twenty_simultaneous_refunds_never_refund_more_than_was_captured(live, amount):
    order, payment = paid(live)

    def ask(_: int) -> tuple[int, dict[str, Any]]:
        response = live["app"].test_client().post(
            f"/api/v1/orders/{order['id']}/refunds", headers=live["headers"]["dispatcher"],
            json={"amount": amount, "reason": "thử tải"})
        return response.status_code, response.get_json()

    results = run_at_once(CONCURRENT_REFUNDS, ask)
    statuses = Counter(status for status, _ in results)
    winners = AMOUNT // amount if amount else 1
    assert statuses == {201: winners, 409: CONCURRENT_REFUNDS - winners}, statuses
    assert all(body["code"] == "refund_exceeds_captured"
               for status, body in results if status == 409)
    refunded = sum(body["amount"] for status, body in results if status == 201)
    assert refunded <= AMOUNT
    row = payment_row(live["engine"], payment["id"])
    assert (row.refunded_vnd, row.refund_pending_vnd) == (refunded, 0)
    at_stripe = stripe_client(live["localstripe"]).v1.refunds.list(
        params={"payment_intent": payment["provider_payment_intent_id"], "limit": 100})
    assert sum(r.amount for r in at_stripe.data) == refunded <= AMOUNT
    assert count_events(live["engine"], "payment.refunded") == winners


def test_a_lost_webhook_is_repaired_by_the_reconciliation_job(live):
    order = priced_order(live)
    payment = open_payment(live["api"], live["headers"]["agency_system"], order["id"])
    pay_directly(live["localstripe"], payment["provider_payment_intent_id"])  # webhook lost
    assert order_row(live["engine"], order["id"]).payment_status == "unpaid"
    db = Database(live["engine"])
    # Not yet: the payment has not been quiet for payment_reconcile_after_s.
    assert reconcile_payments(db, live["settings"], now=utcnow()).intents == 0
    later = utcnow() + timedelta(minutes=5)
    report = reconcile_payments(db, live["settings"], now=later)
    assert report.intents == 1
    assert order_row(live["engine"], order["id"]).payment_status == "paid"
    assert payment_row(live["engine"], payment["id"]).captured_vnd == AMOUNT
    assert reconcile_payments(db, live["settings"], now=later + timedelta(seconds=1)).intents == 0
    assert count_events(live["engine"], "payment.succeeded") == 1


class StripeDownForRefunds(StripeGateway):
    """The real adapter, except that creating a refund fails as if Stripe were unreachable."""

    def create_refund(self, **kwargs: Any) -> Any:
        raise PaymentProviderUnavailable("Stripe is down (test).")


def test_a_refund_interrupted_by_an_outage_is_sent_once_by_the_job(live, database_url):
    order, payment = paid(live)
    settings = live["settings"]
    down = StripeDownForRefunds(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET,
                                api_base=settings.stripe_api_base)
    outage = create_app({"settings": settings, "db_bind": live["engine"],
                         "payment_gateway": down}).test_client()
    answer = outage.post(f"/api/v1/orders/{order['id']}/cancel",
                         headers=live["headers"]["agency_system"], json={})
    assert answer.status_code == 200 and answer.get_json()["payment"]["status"] == "paid"
    row = payment_row(live["engine"], payment["id"])
    assert (row.refund_pending_vnd, row.refunded_vnd) == (AMOUNT, 0)  # reserved, not sent
    db = Database(live["engine"])
    later = utcnow() + timedelta(minutes=5)
    assert reconcile_payments(db, settings, now=later).follow_ups == 1
    assert reconcile_payments(db, settings, now=later + timedelta(minutes=5)).follow_ups == 0
    assert order_row(live["engine"], order["id"]).payment_status == "refunded"
    at_stripe = stripe_client(live["localstripe"]).v1.refunds.list(
        params={"payment_intent": payment["provider_payment_intent_id"]})
    assert [r.amount for r in at_stripe.data] == [AMOUNT]
    with Session(live["engine"]) as session:
        [refund] = session.scalars(select(Refund)).all()
        assert (refund.origin, refund.status) == ("cancellation", "succeeded")


# -- localstripe's own webhooks, to the app served over HTTP ----------------------------------

@pytest.fixture
def served(committed_engine: Engine, database_url: str) -> Iterator[dict[str, Any]]:
    """A localstripe of its own that signs and sends its events to the app on a free port."""
    emulator = start_localstripe()
    settings = stripe_settings(database_url, emulator, tracking_rate_per_minute=0)
    app = create_app({"settings": settings, "db_bind": committed_engine})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    emulator.register_webhook(f"http://127.0.0.1:{server.server_port}/webhooks/stripe",
                              WEBHOOK_SECRET)
    try:
        yield {"app": app, "api": app.test_client(), "engine": committed_engine,
               "headers": build_world(committed_engine), "localstripe": emulator}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        emulator.stop()


def test_localstripes_own_signed_webhook_marks_the_order_paid_within_seconds(served):
    order = priced_order(served)
    payment = open_payment(served["api"], served["headers"]["agency_system"], order["id"])
    pay_directly(served["localstripe"], payment["provider_payment_intent_id"])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if order_row(served["engine"], order["id"]).payment_status == "paid":
            break
        time.sleep(0.2)
    assert order_row(served["engine"], order["id"]).payment_status == "paid"
    assert count_events(served["engine"], "payment.succeeded") == 1


class StripeDownForCancels(StripeGateway):
    """The real adapter, except that cancelling an intent fails as if Stripe were unreachable."""

    def cancel_intent(self, intent_id: str) -> Any:
        raise PaymentProviderUnavailable("Stripe is down (test).")


def test_money_taken_while_the_order_was_being_cancelled_is_refunded_by_the_job(live):
    order = priced_order(live)
    payment = open_payment(live["api"], live["headers"]["agency_system"], order["id"])
    settings = live["settings"]
    down = StripeDownForCancels(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET,
                                api_base=settings.stripe_api_base)
    outage = create_app({"settings": settings, "db_bind": live["engine"],
                         "payment_gateway": down}).test_client()
    assert outage.post(f"/api/v1/orders/{order['id']}/cancel",
                       headers=live["headers"]["agency_system"], json={}).status_code == 200
    assert payment_row(live["engine"], payment["id"]).status == "canceling"
    # The citizen's browser had the intent and pays it before Stripe hears of the cancel.
    pay_directly(live["localstripe"], payment["provider_payment_intent_id"])
    report = reconcile_payments(Database(live["engine"]), settings,
                                now=utcnow() + timedelta(minutes=5))
    assert report.intents == 1
    row = payment_row(live["engine"], payment["id"])
    assert (row.status, row.captured_vnd, row.refunded_vnd) == ("succeeded", AMOUNT, AMOUNT)
    assert order_row(live["engine"], order["id"]).payment_status == "refunded"
    assert count_events(live["engine"], "payment.succeeded") == 1
    assert count_events(live["engine"], "payment.refunded") == 1
    at_stripe = stripe_client(live["localstripe"]).v1.refunds.list(
        params={"payment_intent": payment["provider_payment_intent_id"]})
    assert [r.amount for r in at_stripe.data] == [AMOUNT]


class StripeDownForReads(StripeGateway):
    """The real adapter (signatures still verify), but Stripe cannot be read."""

    def retrieve_intent(self, intent_id: str, *, with_refunds: bool = True) -> Any:
        raise PaymentProviderUnavailable("Stripe is down (test).")


def test_a_webhook_that_could_not_be_acted_on_is_finished_by_the_job(live):
    order = priced_order(live)
    payment = open_payment(live["api"], live["headers"]["agency_system"], order["id"])
    intent_id = payment["provider_payment_intent_id"]
    pay_directly(live["localstripe"], intent_id)
    settings = live["settings"]
    down = StripeDownForReads(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET,
                              api_base=settings.stripe_api_base)
    outage = create_app({"settings": settings, "db_bind": live["engine"],
                         "payment_gateway": down}).test_client()
    intent = stripe_client(live["localstripe"]).v1.payment_intents.retrieve(intent_id)
    body, headers = signed(stripe_event("payment_intent.succeeded", intent.to_dict()))
    answer = outage.post("/webhooks/stripe", data=body, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["processed"] is False
    assert order_row(live["engine"], order["id"]).payment_status == "unpaid"
    report = reconcile_payments(Database(live["engine"]), settings,
                                now=utcnow() + timedelta(minutes=5))
    assert report.events == 1
    assert order_row(live["engine"], order["id"]).payment_status == "paid"
    assert count_events(live["engine"], "payment.succeeded") == 1
