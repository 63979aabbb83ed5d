"""Paying for orders online: the use cases that read and change orders and their payments.

Each function here is one database transaction's worth of work and never commits; none talks
to Stripe. What Stripe says arrives as snapshots (`billing.gateway`), is applied under row
locks (the order first, then its payments, always in that order), and goes through the pure
state machines of `billing.payments`, so a replayed, duplicated or late observation changes
nothing twice. `payment_flows` strings them together around the calls to Stripe.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postal_svc import ids
from postal_svc.access.service import Caller
from postal_svc.billing.gateway import IntentSnapshot, RefundSnapshot
from postal_svc.billing.models import Payment, Refund, StripeEvent
from postal_svc.billing.payments import (
    FINAL_REFUND, OPEN, UNSETTLED, PaymentStatus, RefundNotAllowed, RefundStatus, observe_payment,
    observe_refund, payment_status_from_stripe, refund_amount, refund_status_from_stripe,
    refundable_vnd)
from postal_svc.clock import isoformat_z
from postal_svc.errors import Conflict, NotFound
from postal_svc.shipments.intake import OrderNotFound, scoped
from postal_svc.shipments.lifecycle import Status
from postal_svc.shipments.models import Order
from postal_svc.webhooks.service import publish

log = logging.getLogger("postal_svc.payments")

ONLINE = "online"
PAID_STATES = ("paid", "partially_refunded", "refunded")


class OrderNotPayable(Conflict):
    """The order cannot be paid online now (cancelled, paid otherwise, not priced...)."""

    code = "order_not_payable"


class OrderAlreadyPaid(OrderNotPayable):
    code = "order_already_paid"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class RefundNotFound(NotFound):
    code = "refund_not_found"


def intent_idempotency_key(order_public_id: str, attempt: int) -> str:
    """Stripe's idempotency key for creating the `attempt`-th intent of an order."""
    return f"pi-{order_public_id}-{attempt}"


def refund_idempotency_key(refund_public_id: str) -> str:
    return f"re-{refund_public_id}"


def amount_due_vnd(order: Order) -> int | None:
    """What the citizen pays: the price snapshot's amount due (postage and any forwarded
    procedure fee), or its total for snapshots from before amount_due; None while unpriced."""
    if not order.price:
        return None
    due = order.price.get("amount_due", order.total_vnd)
    return int(due) if due is not None else None


def is_payable_online(order: Order) -> bool:
    """Whether the order's pay link should be shown: online, unpaid, priced, not cancelled."""
    due = amount_due_vnd(order)
    return (order.payment_method == ONLINE and order.payment_status == "unpaid"
            and order.status != Status.CANCELLED.value and due is not None and due > 0)


# -- reading -----------------------------------------------------------------------------------

def _lock_order(session: Session, public_id: str, caller: Caller | None) -> Order:
    stmt = select(Order).where(Order.public_id == public_id)
    if caller is not None:
        stmt = scoped(stmt, caller)
    order = session.scalar(stmt.with_for_update())
    if order is None:
        raise OrderNotFound("No such order.")
    return order


def _lock_order_by_id(session: Session, order_id: int) -> Order:
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                           .execution_options(populate_existing=True))
    assert order is not None
    return order


def _lock_payments(session: Session, order_id: int) -> list[Payment]:
    return list(session.scalars(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        .with_for_update().execution_options(populate_existing=True)))


def order_payments(session: Session, public_id: str, *, caller: Caller
                   ) -> tuple[Order, list[Payment], list[Refund]]:
    """An order the caller may see, with its payments and refunds (oldest first)."""
    order = session.scalar(scoped(select(Order).where(Order.public_id == public_id), caller))
    if order is None:
        raise OrderNotFound("No such order.")
    payments = list(session.scalars(select(Payment).where(Payment.order_id == order.id)
                                    .order_by(Payment.id)))
    refunds = list(session.scalars(select(Refund).where(Refund.order_id == order.id)
                                   .order_by(Refund.id)))
    return order, payments, refunds


def payment_by_public_id(session: Session, public_id: str) -> Payment:
    payment = session.scalar(select(Payment).where(Payment.public_id == public_id))
    if payment is None:
        raise PaymentNotFound("No such payment.")
    return payment


def order_public_id_of(session: Session, payment: Payment) -> str:
    found = session.scalar(select(Order.public_id).where(Order.id == payment.order_id))
    assert found is not None
    return found


def current_payment(session: Session, order: Order) -> Payment | None:
    """The order's newest payment."""
    return session.scalar(select(Payment).where(Payment.order_id == order.id)
                          .order_by(Payment.id.desc()).limit(1))


# -- opening a payment -----------------------------------------------------------------------

@dataclass(frozen=True)
class IntentToCreate:
    """A payment row waiting for its Stripe intent."""

    payment_public_id: str
    amount_vnd: int
    idempotency_key: str
    metadata: dict[str, str]


def open_payment(session: Session, order_public_id: str, *, caller: Caller | None,
                 now: datetime) -> tuple[Payment, IntentToCreate | None]:
    """The order's open payment, or a new one (attempt n+1, status creating) when it has none.

    Returns it with what to ask Stripe when its intent does not exist yet. Locks the order, so
    two requests never open two payments. Raises OrderNotFound (also outside the caller's
    scope), OrderAlreadyPaid and OrderNotPayable (not paid online, cancelled, not priced).
    """
    order = _lock_order(session, order_public_id, caller)
    if order.payment_method != ONLINE:
        raise OrderNotPayable("This order is not paid online.",
                              details={"payment_method": order.payment_method})
    if order.payment_status in PAID_STATES:
        raise OrderAlreadyPaid("This order has been paid.")
    if order.status == Status.CANCELLED.value:
        raise OrderNotPayable("This order is cancelled; there is nothing to pay.")
    amount = amount_due_vnd(order)
    if amount is None:
        raise OrderNotPayable("This order has no price yet; it can be paid once it is priced.")
    if amount <= 0:
        raise OrderNotPayable("This order costs nothing; there is nothing to pay.")
    payments = _lock_payments(session, order.id)
    latest = payments[-1] if payments else None
    if latest is not None and PaymentStatus(latest.status) is PaymentStatus.SUCCEEDED:
        raise OrderAlreadyPaid("This order has been paid.")
    if latest is not None and PaymentStatus(latest.status) in OPEN:
        payment = latest
    else:
        payment = Payment(
            public_id="pay_" + ids.random_hex(10), order_id=order.id,
            attempt=(latest.attempt + 1) if latest else 1, provider="stripe",
            currency="vnd", amount_vnd=amount, captured_vnd=0, refunded_vnd=0,
            refund_pending_vnd=0, status=PaymentStatus.CREATING.value, created_at=now,
            updated_at=now, checked_at=now)
        session.add(payment)
        session.flush()
    if payment.provider_intent_id is not None:
        return payment, None
    return payment, IntentToCreate(
        payment_public_id=payment.public_id, amount_vnd=payment.amount_vnd,
        idempotency_key=intent_idempotency_key(order.public_id, payment.attempt),
        metadata={"order_id": order.public_id, "tracking_number": order.tracking_number,
                  "payment_id": payment.public_id})


def attach_intent(session: Session, payment_public_id: str, intent: IntentSnapshot, *,
                  now: datetime) -> Payment:
    """Record the intent Stripe created for a payment, then apply its state."""
    found = session.scalar(select(Payment.order_id).where(Payment.public_id == payment_public_id))
    if found is None:
        raise PaymentNotFound("No such payment.")
    order = _lock_order_by_id(session, found)
    payment = next(p for p in _lock_payments(session, order.id)
                   if p.public_id == payment_public_id)
    if payment.provider_intent_id is None:
        payment.provider_intent_id = intent.id
        payment.client_secret = intent.client_secret
        if PaymentStatus(payment.status) is PaymentStatus.CREATING:
            # The order may have been cancelled meanwhile: cancel the intent too.
            payment.status = (PaymentStatus.CANCELING.value
                              if order.status == Status.CANCELLED.value
                              else PaymentStatus.REQUIRES_PAYMENT_METHOD.value)
    _apply_intent(session, order, payment, intent, now=now)
    return payment


# -- applying what Stripe says -------------------------------------------------------------------

def settle_intent(session: Session, intent: IntentSnapshot, *, now: datetime) -> Payment | None:
    """Apply a PaymentIntent as just read from Stripe to our payment for it (None: not ours).

    The first observation of captured money marks the order paid and publishes
    `payment.succeeded`, once. Money captured for a cancelled order (the citizen paid while it
    was being cancelled) or twice for one order is reserved for a full refund at once. The
    intent's refunds, when read with it, are matched to ours (see `_sync_refunds`).
    """
    order_id = session.scalar(select(Payment.order_id)
                              .where(Payment.provider_intent_id == intent.id))
    if order_id is None:
        return None
    order = _lock_order_by_id(session, order_id)
    payment = next(p for p in _lock_payments(session, order.id)
                   if p.provider_intent_id == intent.id)
    _apply_intent(session, order, payment, intent, now=now)
    return payment


def _apply_intent(session: Session, order: Order, payment: Payment, intent: IntentSnapshot, *,
                  now: datetime) -> None:
    payment.checked_at = now
    transition = observe_payment(PaymentStatus(payment.status),
                                 payment_status_from_stripe(intent.status))
    if transition.changed:
        payment.status = transition.status.value
        payment.updated_at = now
    if PaymentStatus(payment.status) in OPEN:
        if (payment.last_error_code, payment.last_error_message) != (
                intent.last_error_code, intent.last_error_message):
            payment.last_error_code = intent.last_error_code
            payment.last_error_message = intent.last_error_message
            payment.updated_at = now
    if transition.captured_now:
        _capture(session, order, payment, intent, now=now)
    if intent.refunds is not None and PaymentStatus(payment.status) is PaymentStatus.SUCCEEDED:
        _sync_refunds(session, order, payment, intent.refunds, now=now)


def _capture(session: Session, order: Order, payment: Payment, intent: IntentSnapshot, *,
             now: datetime) -> None:
    payment.captured_vnd = min(intent.captured_vnd or payment.amount_vnd, payment.amount_vnd)
    payment.succeeded_at = now
    payment.last_error_code = payment.last_error_message = None
    already_paid = order.payment_status in PAID_STATES
    if not already_paid:
        order.payment_status = "paid"
        order.updated_at = now
    publish(session, type="payment.succeeded", now=now, order_id=order.id,
            agency_code=order.agency_code, post_office_code=order.post_office_code,
            data={**_order_facts(order), "payment_id": payment.public_id,
                  "amount": payment.captured_vnd, "currency": "VND",
                  "payment_status": order.payment_status,
                  "succeeded_at": isoformat_z(now)})
    if order.status == Status.CANCELLED.value or already_paid:
        # Nothing is owed for a cancelled order, and an order is paid once: all of it back.
        cancelled = order.status == Status.CANCELLED.value
        _reserve_refund(session, order, payment, None,
                        reason=("order cancelled before the payment completed" if cancelled
                                else "order paid twice"),
                        origin="cancellation" if cancelled else "duplicate", caller=None, now=now)


def _order_facts(order: Order) -> dict[str, Any]:
    return {"order_id": order.public_id, "tracking_number": order.tracking_number,
            "agency_code": order.agency_code, "dossier_code": order.dossier_code}


def _sync_refunds(session: Session, order: Order, payment: Payment,
                  seen: Iterable[RefundSnapshot], *, now: datetime) -> None:
    """Match the refunds Stripe has for the intent to ours (by Stripe id, else by the
    refund_id we put in their metadata) and apply each; one made at Stripe directly (the
    dashboard) is recorded too, if it fits in what was captured."""
    ours = list(session.scalars(select(Refund).where(Refund.payment_id == payment.id)
                                .with_for_update()
                                .execution_options(populate_existing=True)))
    by_provider = {r.provider_refund_id: r for r in ours if r.provider_refund_id}
    by_public = {r.public_id: r for r in ours}
    for snapshot in seen:
        refund = by_provider.get(snapshot.id) or (
            by_public.get(snapshot.our_refund_id) if snapshot.our_refund_id else None)
        if refund is None:
            _adopt_refund(session, order, payment, snapshot, now=now)
        else:
            apply_refund_snapshot(session, order, payment, refund, snapshot, now=now)


def _adopt_refund(session: Session, order: Order, payment: Payment, snapshot: RefundSnapshot,
                  *, now: datetime) -> None:
    status = refund_status_from_stripe(snapshot.status)
    if status in FINAL_REFUND or snapshot.amount_vnd <= 0:
        return
    if snapshot.amount_vnd > refundable_vnd(payment.captured_vnd, payment.refunded_vnd,
                                            payment.refund_pending_vnd):
        log.error("refund %s at Stripe does not fit in payment %s; left for a person",
                  snapshot.id, payment.public_id)
        return
    refund = Refund(public_id="rf_" + ids.random_hex(10), payment_id=payment.id,
                    order_id=order.id, amount_vnd=snapshot.amount_vnd,
                    reason="refunded at the payment provider", origin="provider",
                    status=RefundStatus.PENDING.value,
                    idempotency_key=("re-ext-" + snapshot.id)[:64],
                    provider_refund_id=snapshot.id, created_at=now, updated_at=now)
    session.add(refund)
    payment.refund_pending_vnd += refund.amount_vnd
    session.flush()
    apply_refund_snapshot(session, order, payment, refund, snapshot, now=now)


def apply_refund_snapshot(session: Session, order: Order, payment: Payment, refund: Refund,
                          snapshot: RefundSnapshot, *, now: datetime) -> None:
    """Move one refund (and the payment's amounts) to what Stripe says about it; a refund that
    succeeds publishes `payment.refunded` once."""
    if refund.provider_refund_id is None:
        refund.provider_refund_id = snapshot.id
        refund.updated_at = now
    old = RefundStatus(refund.status)
    new = observe_refund(old, refund_status_from_stripe(snapshot.status))
    if new is old:
        return
    amount = refund.amount_vnd
    if old is RefundStatus.PENDING:
        payment.refund_pending_vnd -= amount
    elif old is RefundStatus.SUCCEEDED:
        payment.refunded_vnd -= amount
    if new is RefundStatus.PENDING:
        payment.refund_pending_vnd += amount
    elif new is RefundStatus.SUCCEEDED:
        payment.refunded_vnd += amount
    refund.status = new.value
    refund.updated_at = payment.updated_at = now
    if new in (RefundStatus.SUCCEEDED, *FINAL_REFUND):
        refund.settled_at = now
    if new in FINAL_REFUND:
        refund.failure_reason = (snapshot.failure_reason or "refused by the payment provider")[:200]
        log.warning("refund %s of payment %s %s", refund.public_id, payment.public_id, new.value)
    session.flush()
    _update_order_payment_status(session, order, now=now)
    if new is RefundStatus.SUCCEEDED:
        publish(session, type="payment.refunded", now=now, order_id=order.id,
                agency_code=order.agency_code, post_office_code=order.post_office_code,
                data={**_order_facts(order), "payment_id": payment.public_id,
                      "refund_id": refund.public_id, "amount": amount, "currency": "VND",
                      "refunded_total": payment.refunded_vnd, "captured": payment.captured_vnd,
                      "reason": refund.reason, "origin": refund.origin,
                      "payment_status": order.payment_status,
                      "refunded_at": isoformat_z(now)})


def _update_order_payment_status(session: Session, order: Order, *, now: datetime) -> None:
    """paid, partially_refunded or refunded, from the net of every captured payment."""
    rows = session.execute(select(Payment.captured_vnd, Payment.refunded_vnd)
                           .where(Payment.order_id == order.id,
                                  Payment.status == PaymentStatus.SUCCEEDED.value)).all()
    captured = sum(r[0] for r in rows)
    if captured <= 0:
        return
    net = captured - sum(r[1] for r in rows)
    due = amount_due_vnd(order) or captured
    status = "paid" if net >= due else ("refunded" if net <= 0 else "partially_refunded")
    if order.payment_status != status:
        order.payment_status = status
        order.updated_at = now


# -- refunds -----------------------------------------------------------------------------------

def _reserve_refund(session: Session, order: Order, payment: Payment, amount_vnd: int | None, *,
                    reason: str | None, origin: str, caller: Caller | None,
                    now: datetime) -> Refund:
    amount = refund_amount(amount_vnd, captured_vnd=payment.captured_vnd,
                           refunded_vnd=payment.refunded_vnd,
                           refund_pending_vnd=payment.refund_pending_vnd)
    public_id = "rf_" + ids.random_hex(10)
    refund = Refund(public_id=public_id, payment_id=payment.id, order_id=order.id,
                    amount_vnd=amount, reason=reason, origin=origin,
                    status=RefundStatus.PENDING.value,
                    idempotency_key=refund_idempotency_key(public_id),
                    requested_by_client_id=caller.client_id if caller else None,
                    created_at=now, updated_at=now)
    session.add(refund)
    payment.refund_pending_vnd += amount
    payment.updated_at = now
    session.flush()
    return refund


def request_refund(session: Session, order_public_id: str, *, amount_vnd: int | None,
                   reason: str | None, caller: Caller, now: datetime) -> Refund:
    """Reserve a refund of `amount_vnd` (None: all that is left) of the order's captured
    payment, before anything is asked of Stripe.

    The order and payment rows are locked, so concurrent requests queue here and together
    can never reserve more than was captured (a check constraint backs this up). Raises
    OrderNotFound, RefundNotAllowed (nothing captured), RefundExceedsCaptured,
    InvalidRefundAmount.
    """
    order = _lock_order(session, order_public_id, caller)
    captured = [p for p in _lock_payments(session, order.id)
                if PaymentStatus(p.status) is PaymentStatus.SUCCEEDED and p.captured_vnd > 0]
    if not captured:
        raise RefundNotAllowed("Nothing was paid online for this order, so nothing can be "
                               "refunded.")
    payment = next((p for p in captured if refundable_vnd(
        p.captured_vnd, p.refunded_vnd, p.refund_pending_vnd) > 0), captured[0])
    return _reserve_refund(session, order, payment, amount_vnd, reason=reason, origin="request",
                           caller=caller, now=now)


@dataclass(frozen=True)
class RefundToSend:
    refund_public_id: str
    intent_id: str
    amount_vnd: int
    idempotency_key: str
    origin: str
    created_at: datetime


def refund_to_send(session: Session, refund_public_id: str) -> RefundToSend | None:
    """What to ask Stripe for a reserved refund not yet known there (None: nothing to send)."""
    row = session.execute(
        select(Refund, Payment.provider_intent_id).join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.public_id == refund_public_id)).first()
    if row is None:
        raise RefundNotFound("No such refund.")
    refund, intent_id = row
    if refund.status != RefundStatus.PENDING.value or refund.provider_refund_id is not None \
            or intent_id is None:
        return None
    return RefundToSend(refund_public_id=refund.public_id, intent_id=intent_id,
                        amount_vnd=refund.amount_vnd, idempotency_key=refund.idempotency_key,
                        origin=refund.origin, created_at=refund.created_at)


def _lock_refund(session: Session, refund_public_id: str) -> tuple[Order, Payment, Refund]:
    ids = session.execute(select(Refund.order_id, Refund.payment_id)
                          .where(Refund.public_id == refund_public_id)).first()
    if ids is None:
        raise RefundNotFound("No such refund.")
    order = _lock_order_by_id(session, ids[0])
    payment = next(p for p in _lock_payments(session, order.id) if p.id == ids[1])
    refund = session.scalar(select(Refund).where(Refund.public_id == refund_public_id)
                            .with_for_update().execution_options(populate_existing=True))
    assert refund is not None
    return order, payment, refund


def record_refund(session: Session, refund_public_id: str, snapshot: RefundSnapshot, *,
                  now: datetime) -> Refund:
    """Apply Stripe's answer to a refund we asked for."""
    order, payment, refund = _lock_refund(session, refund_public_id)
    apply_refund_snapshot(session, order, payment, refund, snapshot, now=now)
    return refund


def release_refund(session: Session, refund_public_id: str, *, reason: str, forget: bool,
                   now: datetime) -> None:
    """Stripe refused a reserved refund: give the reservation back. A dispatcher's refund is
    forgotten (their request failed and writes nothing); one owed for a cancellation stays,
    failed, for a person to see."""
    order, payment, refund = _lock_refund(session, refund_public_id)
    if refund.status != RefundStatus.PENDING.value or refund.provider_refund_id is not None:
        return
    payment.refund_pending_vnd -= refund.amount_vnd
    payment.updated_at = now
    if forget:
        session.delete(refund)
    else:
        refund.status = RefundStatus.FAILED.value
        refund.failure_reason = reason[:200]
        refund.updated_at = refund.settled_at = now
    session.flush()


def refund_by_public_id(session: Session, public_id: str) -> Refund:
    refund = session.scalar(select(Refund).where(Refund.public_id == public_id))
    if refund is None:
        raise RefundNotFound("No such refund.")
    return refund


# -- cancellation ------------------------------------------------------------------------------

def on_order_cancelled(session: Session, order: Order, *, caller: Caller | None,
                       now: datetime) -> list[Refund]:
    """What cancelling an order does to its payments, in the cancellation's transaction:
    captured money is reserved for a full refund (sent to Stripe right after the commit, or
    by the reconciliation job), and an open intent is marked to be cancelled at Stripe.

    Reserving in the same transaction makes the refund as certain as the cancellation:
    neither can be committed without the other, and nothing is asked of Stripe while the
    database transaction is open.
    """
    reserved = []
    for payment in _lock_payments(session, order.id):
        status = PaymentStatus(payment.status)
        if status is PaymentStatus.SUCCEEDED:
            if refundable_vnd(payment.captured_vnd, payment.refunded_vnd,
                              payment.refund_pending_vnd) > 0:
                reserved.append(_reserve_refund(
                    session, order, payment, None, reason="order cancelled",
                    origin="cancellation", caller=caller, now=now))
        elif status is PaymentStatus.CREATING and payment.provider_intent_id is None:
            payment.status = PaymentStatus.CANCELED.value
            payment.updated_at = now
        elif status in OPEN:
            payment.status = PaymentStatus.CANCELING.value
            payment.updated_at = now
    session.flush()
    return reserved


def abandon_payment(session: Session, payment_public_id: str, *, now: datetime) -> None:
    """Give up an open payment whose last attempt failed (a declined card), so the next try
    gets a fresh intent: its intent is cancelled at Stripe (see `pending_work`). Some Stripe
    emulators cannot confirm an intent again after a declined charge; Stripe can, but a fresh
    intent per attempt is equally valid there."""
    found = session.scalar(select(Payment.order_id).where(Payment.public_id == payment_public_id))
    if found is None:
        raise PaymentNotFound("No such payment.")
    _lock_order_by_id(session, found)
    payment = next(p for p in _lock_payments(session, found) if p.public_id == payment_public_id)
    if PaymentStatus(payment.status) in OPEN and payment.provider_intent_id is not None:
        payment.status = PaymentStatus.CANCELING.value
        payment.updated_at = now
        session.flush()


# -- what is left to do after a commit ---------------------------------------------------------

@dataclass(frozen=True)
class PendingWork:
    refunds_to_send: list[str]  # refund public ids reserved but not known to Stripe
    intents_to_cancel: list[str]  # intent ids of payments being cancelled


def pending_work(session: Session, *, order_id: int | None = None,
                 created_before: datetime | None = None, limit: int = 200) -> PendingWork:
    """Reserved refunds not yet at Stripe and intents to cancel there, for one order or all
    (then only those created before `created_before`: older than the live flow)."""
    refunds = (select(Refund.public_id).where(Refund.status == RefundStatus.PENDING.value,
                                              Refund.provider_refund_id.is_(None))
               .order_by(Refund.id).limit(limit))
    cancels = (select(Payment.provider_intent_id)
               .where(Payment.status == PaymentStatus.CANCELING.value,
                      Payment.provider_intent_id.is_not(None))
               .order_by(Payment.id).limit(limit))
    if order_id is not None:
        refunds = refunds.where(Refund.order_id == order_id)
        cancels = cancels.where(Payment.order_id == order_id)
    if created_before is not None:
        refunds = refunds.where(Refund.created_at <= created_before)
        cancels = cancels.where(Payment.updated_at <= created_before)
    return PendingWork(refunds_to_send=list(session.scalars(refunds)),
                       intents_to_cancel=[i for i in session.scalars(cancels) if i])


def unsettled_intents(session: Session, *, checked_before: datetime, limit: int = 200) -> list[str]:
    """Intents of payments in a non-final state not read from Stripe since `checked_before`,
    and of succeeded payments with refunds pending at Stripe: the reconciliation job's work."""
    open_ones = session.scalars(
        select(Payment.provider_intent_id)
        .where(Payment.status.in_([s.value for s in UNSETTLED]),
               Payment.provider_intent_id.is_not(None), Payment.checked_at <= checked_before)
        .order_by(Payment.checked_at).limit(limit))
    refunding = session.scalars(
        select(Payment.provider_intent_id).join(Refund, Refund.payment_id == Payment.id)
        .where(Refund.status == RefundStatus.PENDING.value,
               Refund.provider_refund_id.is_not(None), Payment.checked_at <= checked_before)
        .distinct().limit(limit))
    return list(dict.fromkeys(i for i in [*open_ones, *refunding] if i))


def order_id_of_intent(session: Session, intent_id: str) -> int | None:
    return session.scalar(select(Payment.order_id).where(Payment.provider_intent_id == intent_id))


# -- disputes ----------------------------------------------------------------------------------

def record_dispute(session: Session, intent_id: str, *, status: str, amount_vnd: int | None,
                   event_at: datetime, now: datetime) -> Payment | None:
    """Note a dispute (chargeback) on a captured payment, from a verified Stripe event; an
    event older than the one applied last is ignored (events arrive out of order)."""
    order_id = order_id_of_intent(session, intent_id)
    if order_id is None:
        return None
    _lock_order_by_id(session, order_id)
    payment = next(p for p in _lock_payments(session, order_id)
                   if p.provider_intent_id == intent_id)
    if payment.dispute_event_at is not None and event_at <= payment.dispute_event_at:
        return payment
    payment.dispute_status = status[:32]
    payment.disputed_vnd = amount_vnd
    payment.dispute_event_at = event_at
    payment.updated_at = now
    session.flush()
    return payment


# -- Stripe's webhook events ---------------------------------------------------------------------

def _intent_of(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    if obj.get("object") == "payment_intent":
        found = obj.get("id")
    else:
        found = obj.get("payment_intent")
        if isinstance(found, dict):
            found = found.get("id")
    return found if isinstance(found, str) and found else None


def record_stripe_event(session: Session, event: dict[str, Any], *,
                        now: datetime) -> StripeEvent | None:
    """Keep a verified Stripe event once; None when its id was seen before (a replay or a
    duplicate delivery), which must then change nothing."""
    event_id = str(event["id"])[:255]
    if session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event_id)):
        return None
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    facts: dict[str, Any] | None = None
    if str(event["type"]).startswith("charge.dispute.") and isinstance(obj, dict):
        amount = obj.get("amount")
        facts = {"dispute": {"status": str(obj.get("status") or "unknown")[:32],
                             "amount": amount if type(amount) is int else None}}
    created = event.get("created")
    stripe_created_at = (datetime.fromtimestamp(created, timezone.utc)
                         if type(created) is int and created > 0 else now)
    row = StripeEvent(event_id=event_id, type=str(event["type"])[:100],
                      payment_intent_id=_intent_of(obj), facts=facts,
                      stripe_created_at=stripe_created_at, received_at=now, attempts=0)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # the same event, delivered twice at once: the other one has it
    return row


def stripe_event(session: Session, row_id: int) -> StripeEvent:
    row = session.get(StripeEvent, row_id)
    assert row is not None
    return row


def mark_event(session: Session, row_id: int, *, processed: bool, now: datetime) -> None:
    row = session.scalar(select(StripeEvent).where(StripeEvent.id == row_id).with_for_update())
    assert row is not None
    row.attempts += 1
    if processed:
        row.processed_at = now
    session.flush()


# An event that still cannot be acted on after this many tries is left to a person (logged):
# its intent is re-read by the reconciliation job anyway while the payment is unsettled.
MAX_EVENT_ATTEMPTS = 20


def unprocessed_events(session: Session, *, received_before: datetime,
                       limit: int = 200) -> list[int]:
    return list(session.scalars(
        select(StripeEvent.id).where(StripeEvent.processed_at.is_(None),
                                     StripeEvent.received_at <= received_before,
                                     StripeEvent.attempts < MAX_EVENT_ATTEMPTS)
        .order_by(StripeEvent.id).limit(limit)))
