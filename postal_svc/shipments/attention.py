"""Orders that need a dispatcher's attention, as SQL conditions the database evaluates."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_, true

from postal_svc.shipments.lifecycle import TRANSITIONS, Status
from postal_svc.shipments.models import Order

# Statuses an order never leaves (of either kind): nothing more can be done for it.
FINAL: frozenset[Status] = frozenset(
    status for table in TRANSITIONS.values() for status, following in table.items()
    if not following)
_FINAL_VALUES = sorted(s.value for s in FINAL)


class Attention(StrEnum):
    """Why an order needs a dispatcher: each is one filter of the orders list."""

    ADDRESS = "address"  # unresolved, or a ward chosen among several candidates
    OVERDUE = "overdue"  # past its due time and not finished
    FAILED_ATTEMPTS = "failed_attempts"  # a delivery or pickup attempt failed, not finished
    UNPAID = "unpaid"  # to be paid online, not paid yet, not cancelled


def _open() -> ColumnElement[bool]:
    return Order.status.not_in(_FINAL_VALUES)


def attention_condition(attention: Attention, *, now: datetime) -> ColumnElement[bool]:
    """The WHERE condition of orders needing `attention` at the instant `now`.

    A finished order needs nothing more (its address can no longer change, it can no longer
    be late), except an online order still unpaid: that money is owed whatever happened,
    unless the order was cancelled. An order priced at zero (an exempt citizen) owes nothing.
    """
    if attention is Attention.ADDRESS:
        return and_(_open(), or_(Order.address_precision == "unresolved",
                                 Order.address_ambiguous == true()))
    if attention is Attention.OVERDUE:
        return and_(_open(), Order.due_at < now)
    if attention is Attention.FAILED_ATTEMPTS:
        return and_(_open(), Order.attempt_count > 0)
    return and_(Order.payment_method == "online", Order.payment_status == "unpaid",
                Order.status != Status.CANCELLED.value,
                or_(Order.total_vnd.is_(None), Order.total_vnd > 0,
                    Order.fee_forwarding_vnd > 0))


def attention_of(order: Order, *, now: datetime) -> list[Attention]:
    """What the order needs, by the same rules as `attention_condition` (for an order already
    loaded: the list shows why each row is there without a query per row)."""
    open_ = Status(order.status) not in FINAL
    found = []
    if open_ and (order.address_precision == "unresolved" or order.address_ambiguous):
        found.append(Attention.ADDRESS)
    if open_ and order.due_at < now:
        found.append(Attention.OVERDUE)
    if open_ and order.attempt_count > 0:
        found.append(Attention.FAILED_ATTEMPTS)
    if (order.payment_method == "online" and order.payment_status == "unpaid"
            and order.status != Status.CANCELLED.value
            and (order.total_vnd is None or order.total_vnd > 0
                 or (order.fee_forwarding_vnd or 0) > 0)):
        found.append(Attention.UNPAID)
    return found
