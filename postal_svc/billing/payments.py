"""Online payments, pure: the payment and refund state machines and the refund arithmetic.

Stripe is the truth about money; these functions decide what an observation of Stripe (a
re-read intent or refund) may change here. They never move a payment back from a final state,
so a replayed, duplicated or late event changes nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from postal_svc.billing.errors import BillingError
from postal_svc.errors import Conflict, RuleViolation


class PaymentStatus(StrEnum):
    # Our row exists; the PaymentIntent is being created at Stripe (idempotency key pi-...).
    CREATING = "creating"
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # also after a declined card
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"  # 3-D Secure
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"  # captured; refunds are counted apart
    # The order was cancelled while the intent was open: to be cancelled at Stripe.
    CANCELING = "canceling"
    CANCELED = "canceled"


class RefundStatus(StrEnum):
    PENDING = "pending"  # reserved here, or accepted by Stripe but not final yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


OPEN = frozenset({PaymentStatus.CREATING, PaymentStatus.REQUIRES_PAYMENT_METHOD,
                  PaymentStatus.REQUIRES_CONFIRMATION, PaymentStatus.REQUIRES_ACTION,
                  PaymentStatus.PROCESSING})
# States the reconciliation job re-reads from Stripe (CREATING has no intent to read yet).
UNSETTLED = frozenset((OPEN - {PaymentStatus.CREATING}) | {PaymentStatus.CANCELING})
FINAL = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})
FINAL_REFUND = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})

# Stripe's PaymentIntent statuses as ours. requires_capture only happens with manual capture,
# which we never ask for: treat it as still processing.
FROM_STRIPE = {
    "requires_payment_method": PaymentStatus.REQUIRES_PAYMENT_METHOD,
    "requires_confirmation": PaymentStatus.REQUIRES_CONFIRMATION,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}
REFUND_FROM_STRIPE = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}


class RefundNotAllowed(BillingError, Conflict):
    """The payment has nothing captured to refund (not paid, or paid in another way)."""

    code = "refund_not_allowed"


class RefundExceedsCaptured(BillingError, Conflict):
    """The refund asked for is more than what is left of the captured amount."""

    code = "refund_exceeds_captured"


class InvalidRefundAmount(BillingError, RuleViolation):
    code = "invalid_refund_amount"


def payment_status_from_stripe(stripe_status: str) -> PaymentStatus:
    """Our status for a Stripe PaymentIntent status; an unknown one counts as processing."""
    return FROM_STRIPE.get(stripe_status, PaymentStatus.PROCESSING)


def refund_status_from_stripe(stripe_status: str | None) -> RefundStatus:
    return REFUND_FROM_STRIPE.get(stripe_status or "", RefundStatus.PENDING)


@dataclass(frozen=True)
class Transition:
    status: PaymentStatus
    changed: bool
    # True exactly once per payment: the first observation that its money was captured.
    captured_now: bool


def observe_payment(current: PaymentStatus, observed: PaymentStatus) -> Transition:
    """The payment's status after reading `observed` at Stripe.

    - an open payment takes whatever Stripe says (a declined card goes back to
      requires_payment_method, a retry may need 3-D Secure again...);
    - a payment being cancelled stays so until Stripe says canceled or succeeded;
    - a cancelled one can only learn that its money was captured after all (the citizen paid
      while the order was being cancelled), so the money is refunded, never lost;
    - a succeeded one never changes: an older observation arriving late is ignored.
    """
    if current == observed:
        return Transition(current, changed=False, captured_now=False)
    if observed is PaymentStatus.SUCCEEDED and current is not PaymentStatus.SUCCEEDED:
        return Transition(observed, changed=True, captured_now=True)
    if current is PaymentStatus.SUCCEEDED:
        return Transition(current, changed=False, captured_now=False)
    if current is PaymentStatus.CANCELED:
        return Transition(current, changed=False, captured_now=False)
    if current is PaymentStatus.CANCELING:
        if observed is PaymentStatus.CANCELED:
            return Transition(observed, changed=True, captured_now=False)
        return Transition(current, changed=False, captured_now=False)
    if observed is PaymentStatus.CREATING:
        return Transition(current, changed=False, captured_now=False)
    return Transition(observed, changed=True, captured_now=False)


def observe_refund(current: RefundStatus, observed: RefundStatus) -> RefundStatus:
    """A refund's status after reading it at Stripe: pending moves anywhere; a succeeded one
    may still fail later (Stripe reports refunds that bounce); failed and canceled are final."""
    if current in FINAL_REFUND:
        return current
    if current is RefundStatus.SUCCEEDED:
        return RefundStatus.FAILED if observed is RefundStatus.FAILED else current
    return observed


def refundable_vnd(captured_vnd: int, refunded_vnd: int, refund_pending_vnd: int) -> int:
    """What may still be refunded: captured less refunded less reserved by refunds in flight."""
    return max(captured_vnd - refunded_vnd - refund_pending_vnd, 0)


def refund_amount(requested_vnd: int | None, *, captured_vnd: int, refunded_vnd: int,
                  refund_pending_vnd: int) -> int:
    """The amount to refund: `requested_vnd`, or all that is left when None.

    Raises InvalidRefundAmount (not a positive integer), RefundNotAllowed (nothing captured
    or nothing left) and RefundExceedsCaptured (more than is left).
    """
    if requested_vnd is not None and (type(requested_vnd) is not int or requested_vnd <= 0):
        raise InvalidRefundAmount("A refund is a positive whole number of đồng.",
                                  errors={"amount": ["Must be a positive integer (VND)."]})
    left = refundable_vnd(captured_vnd, refunded_vnd, refund_pending_vnd)
    if captured_vnd <= 0:
        raise RefundNotAllowed("Nothing was captured for this order, so nothing can be refunded.")
    if left == 0:
        raise RefundExceedsCaptured("The captured amount has been refunded already.",
                                    details={"refundable": 0})
    amount = left if requested_vnd is None else requested_vnd
    if amount > left:
        raise RefundExceedsCaptured(
            f"At most {left} đ can still be refunded.",
            errors={"amount": [f"At most {left}."]}, details={"refundable": left})
    return amount
