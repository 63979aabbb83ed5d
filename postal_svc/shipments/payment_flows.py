"""Payment work that spans our database and Stripe: commit, ask Stripe, apply the answer.

Besides views and jobs these are the only functions that commit, on purpose: each makes its
reservation durable before Stripe is asked (a crash in between leaves a row that the
reconciliation job finishes, with the same idempotency key), and no database transaction
stays open while Stripe answers. Each takes the session to use: a view passes the request's,
a job its own. The single-transaction steps are in `payments`.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.billing.gateway import (
    PaymentGateway, PaymentProviderRefused, PaymentProviderUnavailable, ProviderObjectNotFound)
from postal_svc.billing.models import Payment, Refund
from postal_svc.errors import DomainError
from postal_svc.shipments import payments

log = logging.getLogger("postal_svc.payments")


def ensure_intent(session: Session, gateway: PaymentGateway, order_public_id: str, *,
                  caller: Caller | None, now: datetime) -> tuple[Payment, bool]:
    """The order's open payment with its Stripe intent, created when missing (True).

    Raises what `payments.open_payment` raises, and PaymentProviderUnavailable /
    PaymentProviderRefused when Stripe cannot create the intent (the payment row stays,
    status creating, and the next call asks again with the same idempotency key).
    """
    payment, to_create = payments.open_payment(session, order_public_id, caller=caller, now=now)
    session.commit()
    if to_create is None:
        return payment, False
    intent = gateway.create_intent(amount_vnd=to_create.amount_vnd,
                                   idempotency_key=to_create.idempotency_key,
                                   metadata=to_create.metadata)
    payment = payments.attach_intent(session, to_create.payment_public_id, intent, now=now)
    session.commit()
    finish_pending_work(session, gateway, order_id=payment.order_id, now=now)
    return payment, True


def confirm_card(session: Session, gateway: PaymentGateway, payment: Payment, card_token: str,
                 *, now: datetime) -> Payment:
    """Attach the card tokenised in the citizen's browser to the payment's intent, confirm it
    at Stripe, and apply the outcome (paid, declined, or 3-D Secure to complete)."""
    intent_id = payment.provider_intent_id
    assert intent_id is not None
    session.commit()  # no transaction open while Stripe answers
    intent = gateway.confirm_with_card_token(intent_id, card_token)
    settled = payments.settle_intent(session, intent, now=now) or payment
    session.commit()
    finish_pending_work(session, gateway, order_id=settled.order_id, now=now)
    return settled


def retry_payment(session: Session, gateway: PaymentGateway, payment: Payment, *,
                  now: datetime) -> Payment:
    """A fresh payment (and intent) for an order whose last attempt was declined; the old
    intent is cancelled at Stripe."""
    order_public_id = payments.order_public_id_of(session, payment)
    payments.abandon_payment(session, payment.public_id, now=now)
    session.commit()
    finish_pending_work(session, gateway, order_id=payment.order_id, now=now)
    fresh, _created = ensure_intent(session, gateway, order_public_id, caller=None, now=now)
    return fresh


def refresh_intent(session: Session, gateway: PaymentGateway, intent_id: str, *,
                   now: datetime) -> Payment | None:
    """Re-read an intent (and its refunds) from Stripe and apply it; None if not ours."""
    session.commit()
    intent = gateway.retrieve_intent(intent_id)
    payment = payments.settle_intent(session, intent, now=now)
    session.commit()
    if payment is not None:
        finish_pending_work(session, gateway, order_id=payment.order_id, now=now)
    return payment


def send_refund(session: Session, gateway: PaymentGateway, refund_public_id: str, *,
                now: datetime) -> Refund:
    """Ask Stripe for a reserved refund and apply the answer.

    A reservation made before `now` (left by a crash or a timeout) may have reached Stripe
    already: Stripe's refunds of the intent are searched for ours before asking again (the
    idempotency key protects too, but emulators ignore it). Stripe unreachable: the refund
    stays pending, reserved, for the job. Stripe refusing raises PaymentProviderRefused
    after giving the reservation back.
    """
    todo = payments.refund_to_send(session, refund_public_id)
    session.commit()
    if todo is None:
        return payments.refund_by_public_id(session, refund_public_id)
    try:
        if todo.created_at < now:
            for seen in gateway.list_refunds(todo.intent_id):
                if seen.our_refund_id == refund_public_id:
                    refund = payments.record_refund(session, refund_public_id, seen, now=now)
                    session.commit()
                    return refund
        snapshot = gateway.create_refund(intent_id=todo.intent_id, amount_vnd=todo.amount_vnd,
                                         idempotency_key=todo.idempotency_key,
                                         our_refund_id=refund_public_id)
    except PaymentProviderRefused as refused:
        payments.release_refund(session, refund_public_id, reason=refused.message,
                                forget=todo.origin == "request", now=now)
        session.commit()
        raise
    except PaymentProviderUnavailable:
        log.warning("refund %s stays pending: Stripe unavailable", refund_public_id)
        session.rollback()
        return payments.refund_by_public_id(session, refund_public_id)
    refund = payments.record_refund(session, refund_public_id, snapshot, now=now)
    session.commit()
    return refund


def cancel_intent(session: Session, gateway: PaymentGateway, intent_id: str, *,
                  now: datetime) -> None:
    """Cancel an intent at Stripe for a cancelled order and apply what it is then (if the
    citizen paid meanwhile, that money is reserved for a refund by `settle_intent`)."""
    session.commit()
    try:
        intent = gateway.cancel_intent(intent_id)
    except ProviderObjectNotFound:
        log.warning("intent to cancel is unknown at Stripe; left for a person")
        return
    payments.settle_intent(session, intent, now=now)
    session.commit()


def finish_pending_work(session: Session, gateway: PaymentGateway, *, now: datetime,
                        order_id: int | None = None,
                        created_before: datetime | None = None) -> int:
    """Cancel intents of cancelled orders and send reserved refunds (for one order, or every
    one older than `created_before`). Failures are logged and left for the next run."""
    work = payments.pending_work(session, order_id=order_id, created_before=created_before)
    session.commit()
    done = 0
    for intent_id in work.intents_to_cancel:
        try:
            cancel_intent(session, gateway, intent_id, now=now)
            done += 1
        except DomainError as error:
            session.rollback()
            log.warning("cancelling an intent failed: %s", error.code)
    if work.intents_to_cancel:  # a cancelled intent may have turned out paid: refund it
        work = payments.pending_work(session, order_id=order_id, created_before=created_before)
        session.commit()
    for refund_id in work.refunds_to_send:
        try:
            send_refund(session, gateway, refund_id, now=now)
            done += 1
        except DomainError as error:
            session.rollback()
            log.warning("refund %s not sent: %s", refund_id, error.code)
    return done


def process_stripe_event(session: Session, gateway: PaymentGateway, row_id: int, *,
                         now: datetime) -> bool:
    """Act on a recorded Stripe event: re-read its intent from Stripe (never trusting the
    event's copy), apply it, note a dispute; True once processed. On failure the event stays
    unprocessed for the reconciliation job."""
    event = payments.stripe_event(session, row_id)
    intent_id, event_type, facts = event.payment_intent_id, event.type, event.facts
    event_at = event.stripe_created_at
    order_id = payments.order_id_of_intent(session, intent_id) if intent_id else None
    session.commit()
    try:
        if intent_id and order_id is not None:
            intent = gateway.retrieve_intent(intent_id)
            payments.settle_intent(session, intent, now=now)
            dispute = (facts or {}).get("dispute")
            if event_type.startswith("charge.dispute.") and isinstance(dispute, dict):
                payments.record_dispute(session, intent_id, status=dispute["status"],
                                        amount_vnd=dispute.get("amount"), event_at=event_at,
                                        now=now)
        payments.mark_event(session, row_id, processed=True, now=now)
        session.commit()
    except DomainError as error:
        session.rollback()
        log.warning("stripe event %s left for the job: %s", row_id, error.code)
        payments.mark_event(session, row_id, processed=False, now=now)
        session.commit()
        return False
    if order_id is not None:
        finish_pending_work(session, gateway, order_id=order_id, now=now)
    return True
