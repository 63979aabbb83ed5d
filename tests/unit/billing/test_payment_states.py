"""The payment and refund state machines, the refund arithmetic, reading Stripe's objects, and
pay links: pure, no database, no network."""
from __future__ import annotations

from datetime import timedelta

import pytest

from postal_svc.billing.gateway import intent_snapshot, refund_snapshot
from postal_svc.billing.payments import (
    FINAL, OPEN, InvalidRefundAmount, PaymentStatus, RefundExceedsCaptured, RefundNotAllowed,
    RefundStatus, observe_payment, observe_refund, payment_status_from_stripe, refund_amount)
from postal_svc.shipments.pay_links import PayLinkProblem, pay_token, read_pay_token

P = PaymentStatus
R = RefundStatus


@pytest.mark.parametrize(("current", "observed", "after", "captured_now"), [
    (P.CREATING, P.REQUIRES_PAYMENT_METHOD, P.REQUIRES_PAYMENT_METHOD, False),
    (P.REQUIRES_PAYMENT_METHOD, P.REQUIRES_ACTION, P.REQUIRES_ACTION, False),
    (P.REQUIRES_ACTION, P.REQUIRES_PAYMENT_METHOD, P.REQUIRES_PAYMENT_METHOD, False),  # 3DS failed
    (P.PROCESSING, P.SUCCEEDED, P.SUCCEEDED, True),
    (P.REQUIRES_PAYMENT_METHOD, P.SUCCEEDED, P.SUCCEEDED, True),
    (P.SUCCEEDED, P.SUCCEEDED, P.SUCCEEDED, False),  # replayed
    (P.SUCCEEDED, P.REQUIRES_PAYMENT_METHOD, P.SUCCEEDED, False),  # a late failure event
    (P.SUCCEEDED, P.CANCELED, P.SUCCEEDED, False),
    (P.CANCELING, P.REQUIRES_PAYMENT_METHOD, P.CANCELING, False),  # still to cancel at Stripe
    (P.CANCELING, P.CANCELED, P.CANCELED, False),
    (P.CANCELING, P.SUCCEEDED, P.SUCCEEDED, True),  # paid while the order was cancelled
    (P.CANCELED, P.SUCCEEDED, P.SUCCEEDED, True),
    (P.CANCELED, P.REQUIRES_PAYMENT_METHOD, P.CANCELED, False),
])
def test_observing_stripe_moves_a_payment_only_forward(current, observed, after, captured_now):
    transition = observe_payment(current, observed)
    assert (transition.status, transition.captured_now) == (after, captured_now)
    assert transition.changed == (after != current)


@pytest.mark.parametrize("current", list(P))
def test_whatever_the_order_of_observations_money_is_captured_once(current):
    seen = [P.REQUIRES_ACTION, P.SUCCEEDED, P.REQUIRES_PAYMENT_METHOD, P.SUCCEEDED, P.CANCELED]
    state, captures = current, 0
    for observed in seen:
        transition = observe_payment(state, observed)
        state, captures = transition.status, captures + transition.captured_now
    assert state is P.SUCCEEDED
    assert captures == (0 if current is P.SUCCEEDED else 1)


def test_open_and_final_states_are_apart():
    assert not OPEN & FINAL
    assert P.CANCELING not in OPEN | FINAL


@pytest.mark.parametrize(("stripe", "ours"), [
    ("requires_payment_method", P.REQUIRES_PAYMENT_METHOD), ("requires_action", P.REQUIRES_ACTION),
    ("requires_capture", P.PROCESSING), ("succeeded", P.SUCCEEDED), ("canceled", P.CANCELED),
    ("something_new", P.PROCESSING)])
def test_stripe_statuses_map_to_ours(stripe, ours):
    assert payment_status_from_stripe(stripe) is ours


@pytest.mark.parametrize(("current", "observed", "after"), [
    (R.PENDING, R.SUCCEEDED, R.SUCCEEDED), (R.PENDING, R.FAILED, R.FAILED),
    (R.SUCCEEDED, R.PENDING, R.SUCCEEDED), (R.SUCCEEDED, R.FAILED, R.FAILED),
    (R.FAILED, R.SUCCEEDED, R.FAILED), (R.CANCELED, R.SUCCEEDED, R.CANCELED)])
def test_a_refund_settles_once(current, observed, after):
    assert observe_refund(current, observed) is after


def test_a_full_refund_takes_what_is_left_after_refunds_and_reservations():
    assert refund_amount(None, captured_vnd=20_800, refunded_vnd=5_000,
                         refund_pending_vnd=800) == 15_000
    assert refund_amount(15_000, captured_vnd=20_800, refunded_vnd=5_000,
                         refund_pending_vnd=800) == 15_000


def test_a_refund_never_exceeds_what_is_left():
    with pytest.raises(RefundExceedsCaptured) as raised:
        refund_amount(15_001, captured_vnd=20_800, refunded_vnd=5_000, refund_pending_vnd=800)
    assert raised.value.details == {"refundable": 15_000}
    with pytest.raises(RefundExceedsCaptured):
        refund_amount(None, captured_vnd=20_800, refunded_vnd=20_800, refund_pending_vnd=0)
    with pytest.raises(RefundNotAllowed):
        refund_amount(None, captured_vnd=0, refunded_vnd=0, refund_pending_vnd=0)


@pytest.mark.parametrize("amount", [0, -5, 1.0, "100", True])
def test_a_refund_amount_is_a_positive_integer(amount):
    with pytest.raises(InvalidRefundAmount):
        refund_amount(amount, captured_vnd=20_800, refunded_vnd=0, refund_pending_vnd=0)


def test_an_intent_from_stripe_reads_its_captured_amount_from_amount_received():
    snapshot = intent_snapshot({"id": "pi_1", "status": "succeeded", "amount": 20_800,
                                "amount_received": 20_800, "currency": "vnd",
                                "latest_charge": "ch_1", "client_secret": "pi_1_secret_x"})
    assert (snapshot.captured_vnd, snapshot.currency, snapshot.client_secret) == \
        (20_800, "vnd", "pi_1_secret_x")


def test_an_intent_without_amount_received_reads_its_charge_as_emulators_send_it():
    charge = {"amount": 20_800, "captured": True, "status": "succeeded"}
    assert intent_snapshot({"id": "pi_1", "status": "succeeded", "amount": 20_800,
                            "latest_charge": charge}).captured_vnd == 20_800
    declined = intent_snapshot({"id": "pi_1", "status": "requires_payment_method",
                                "amount": 20_800, "latest_charge": {
                                    "status": "failed", "captured": True, "amount": 20_800},
                                "last_payment_error": {"code": "card_declined",
                                                       "message": "Your card was declined."}})
    assert (declined.captured_vnd, declined.last_error_code) == (0, "card_declined")


def test_a_refund_from_stripe_names_our_refund_id_from_its_metadata():
    snapshot = refund_snapshot({"id": "re_1", "status": "pending", "amount": 5_000,
                                "payment_intent": "pi_1", "metadata": {"refund_id": "rf_1"}})
    assert (snapshot.our_refund_id, snapshot.payment_intent_id, snapshot.amount_vnd) == \
        ("rf_1", "pi_1", 5_000)


def test_a_pay_link_names_its_order_and_nothing_else_opens_it():
    token = pay_token("secret", "ord_123")
    assert read_pay_token("secret", token, max_age=timedelta(days=7)).order_public_id == "ord_123"
    assert read_pay_token("other", token, max_age=timedelta(days=7)).problem is \
        PayLinkProblem.INVALID
    assert read_pay_token("secret", token + "x", max_age=timedelta(days=7)).problem is \
        PayLinkProblem.INVALID
    assert read_pay_token("secret", token, max_age=timedelta(seconds=-1)).problem is \
        PayLinkProblem.EXPIRED
