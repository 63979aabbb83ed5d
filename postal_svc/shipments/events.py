"""Couriers and dispatchers record what happened to an order; the lifecycle decides what follows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.clock import isoformat_z
from postal_svc.errors import RuleViolation
from postal_svc.shipments.intake import OrderNotFound, scoped
from postal_svc.shipments.lifecycle import (
    FAILED, FailureReason, Kind, Status, Step, check_transition, plan_event)
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.shipments.payments import on_order_cancelled
from postal_svc.webhooks.service import publish

RELATIONSHIPS = ("self", "family", "authorised", "agency_staff", "other")
PICKUP_ONLY_REASONS = {FailureReason.DOCUMENTS_INCOMPLETE}


class PricePending(RuleViolation):
    code = "price_pending"


class InvalidEvent(RuleViolation):
    code = "invalid_event"


@dataclass(frozen=True)
class Recipient:
    """Proof of delivery: who took it. Of the ID document only the last 4 digits, ever."""

    name: str
    relationship: str
    id_last4: str | None = None


@dataclass(frozen=True)
class EventInput:
    type: Status
    occurred_at: datetime | None = None
    failure_reason: str | None = None
    note: str | None = None
    recipient: Recipient | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class LifecyclePolicy:
    max_attempts: int = 2
    future_skew: timedelta = timedelta(minutes=5)


def _check(event: EventInput, order: Order, now: datetime, policy: LifecyclePolicy) -> datetime:
    errors: dict[str, list[str]] = {}
    occurred_at = event.occurred_at or now
    if occurred_at > now + policy.future_skew:
        errors["occurred_at"] = ["Must not be in the future."]
    elif occurred_at < order.created_at - policy.future_skew:
        errors["occurred_at"] = ["Must not be before the order was created."]
    kind = Kind(order.kind)
    if event.type is FAILED[kind]:
        if event.failure_reason is None:
            errors["failure_reason"] = ["Required for a failed attempt."]
        elif (kind is Kind.RESULT_DELIVERY
              and FailureReason(event.failure_reason) in PICKUP_ONLY_REASONS):
            errors["failure_reason"] = ["documents_incomplete is for pickups."]
    elif event.failure_reason is not None and event.type not in FAILED.values():
        # The other kind's failure is a failed attempt too: the lifecycle answers it (409).
        errors["failure_reason"] = ["Only a failed attempt has a reason."]
    if event.type is Status.DELIVERED and event.recipient is None:
        errors["recipient"] = ["Proof of delivery: the recipient's name and relationship."]
    if event.recipient is not None and event.type not in (Status.DELIVERED,
                                                           Status.DELIVERED_TO_AGENCY):
        errors["recipient"] = ["Only a delivery has a recipient."]
    if errors:
        raise InvalidEvent("The event is not valid for this order.", errors=errors)
    if (order.payment_method == "cash_on_delivery" and order.price is None
            and event.type in (Status.OUT_FOR_DELIVERY, Status.DELIVERED)):
        # A courier must know how much cash to collect before the item leaves.
        raise PricePending("This cash-on-delivery order has no price yet: fix its address (or "
                           "the tariff data) before it goes out.")
    return occurred_at


def record_event(session: Session, public_id: str, event: EventInput, *, caller: Caller,
                 policy: LifecyclePolicy, now: datetime) -> list[TrackingEvent]:
    """Record an event and whatever the lifecycle does by itself after it.

    Locks the order row, so two couriers cannot both move it. Every status change is an
    immutable tracking event and an `order.status_changed` webhook written in the same
    transaction. Delivering a cash-on-delivery order records the cash collected (the amount
    due of its price snapshot). Raises OrderNotFound, InvalidTransition (409), InvalidEvent.
    """
    order = session.scalar(scoped(select(Order).where(Order.public_id == public_id), caller)
                           .with_for_update())
    if order is None:
        raise OrderNotFound("No such order.")
    occurred_at = _check(event, order, now, policy)
    steps, failed_attempts = plan_event(Kind(order.kind), Status(order.status),
                                        order.attempt_count, event.type,
                                        max_attempts=policy.max_attempts)
    order.attempt_count = failed_attempts
    recorded = []
    for step in steps:
        recorded.append(_apply(session, order, step, event, caller=caller,
                               occurred_at=occurred_at, now=now))
    session.flush()
    return recorded


def _apply(session: Session, order: Order, step: Step, event: EventInput, *, caller: Caller,
           occurred_at: datetime, now: datetime) -> TrackingEvent:
    previous = order.status
    order.status = step.status.value
    order.updated_at = now
    data: dict[str, Any] = {}
    if step.automatic:
        data["automatic"] = True
        data["reason"] = step.reason
    else:
        if event.recipient is not None:
            data["recipient"] = {"name": event.recipient.name,
                                 "relationship": event.recipient.relationship,
                                 "id_last4": event.recipient.id_last4}
        if step.status in (Status.DELIVERED, Status.DELIVERED_TO_AGENCY):
            order.delivered_at = occurred_at
        if step.status is Status.DELIVERED and order.payment_method == "cash_on_delivery":
            due = (order.price or {}).get("amount_due", order.total_vnd)
            order.cash_collected_vnd = int(due) if due is not None else None
            order.payment_status = "paid"
            data["cash_collected_vnd"] = order.cash_collected_vnd
    if step.status is Status.CANCELLED:
        order.cancelled_at = now
        order.cancel_reason = step.reason or event.note
        # By hand or by the lifecycle (a pickup failed too often): a paid order is refunded.
        on_order_cancelled(session, order, caller=caller, now=now)
    tracking_event = TrackingEvent(
        order_id=order.id, type=step.status.value, status=step.status.value,
        occurred_at=occurred_at, recorded_at=now, actor_client_id=caller.client_id,
        actor_role=caller.role.value, post_office_code=order.post_office_code,
        ward_code=order.ward_code,
        failure_reason=None if step.automatic else event.failure_reason,
        note=None if step.automatic else event.note,
        lat=None if step.automatic else event.lat, lon=None if step.automatic else event.lon,
        data=data or None)
    session.add(tracking_event)
    session.flush()
    publish_status_change(session, order, previous=previous, event=tracking_event, now=now)
    return tracking_event


def publish_status_change(session: Session, order: Order, *, previous: str,
                          event: TrackingEvent, now: datetime) -> None:
    """The `order.status_changed` webhook, with no personal data of the citizen."""
    publish(session, type="order.status_changed", now=now, order_id=order.id,
            agency_code=order.agency_code, post_office_code=order.post_office_code,
            data={"order_id": order.public_id, "tracking_number": order.tracking_number,
                  "agency_code": order.agency_code, "dossier_code": order.dossier_code,
                  "kind": order.kind, "status": order.status, "previous_status": previous,
                  "failure_reason": event.failure_reason,
                  "automatic": bool((event.data or {}).get("automatic")),
                  "attempt_count": order.attempt_count,
                  "occurred_at": isoformat_z(event.occurred_at)})



def cancel_order(session: Session, public_id: str, *, caller: Caller, reason: str | None,
                 now: datetime) -> Order:
    """Cancel an order while the lifecycle allows it (the item is not in a courier's hands).

    Raises OrderNotFound and InvalidTransition (409). Takes a row lock so two concurrent
    transitions cannot both pass; the change is published as `order.status_changed`. A paid
    order's captured money is reserved for a full refund in this same transaction, and an
    open payment is marked to be cancelled at Stripe (`payment_flows.finish_pending_work`
    does both at Stripe once this is committed; the reconciliation job if that fails).
    """
    order = session.scalar(scoped(select(Order).where(Order.public_id == public_id), caller)
                           .with_for_update())
    if order is None:
        raise OrderNotFound("No such order.")
    check_transition(Kind(order.kind), Status(order.status), Status.CANCELLED)
    _apply(session, order, Step(Status.CANCELLED, reason=reason),
           EventInput(type=Status.CANCELLED, note=reason), caller=caller, occurred_at=now, now=now)
    session.flush()
    return order
