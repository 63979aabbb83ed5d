"""Billing data as stored: tariff versions, promotions, VAT rates, quotes, the audit trail, and
online payments (payments, refunds, the Stripe events received)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from postal_svc.db import Base, BigIntPK, JSONType, UTCDateTime


class TariffVersionRecord(Base):
    """A published tariff version; immutable once created (past prices never change)."""

    __tablename__ = "tariff_versions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Two versions taking effect at one instant would make "the version in force" ambiguous.
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, unique=True)
    # The version as `billing.codec` encodes it: zones, weight bands, add-ons, exemptions,
    # region map.
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_client_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("api_clients.id"))


class PromotionRecord(Base):
    """A promotion on postage, valid on [valid_from, valid_until) (null: open-ended)."""

    __tablename__ = "promotions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # "20" (percent_off, a percentage as a string), 3000 (amount_off, VND) or
    # {"intra_district": 15000} (fixed_price, VND per zone).
    value: Mapped[Any] = mapped_column(JSONType)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {"channels": [...], "kinds": [...], "province_codes": [...], "agency_codes": [...]}
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONType)
    stackable: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaxRateRecord(Base):
    """One row of the VAT table: `rate` (a fraction, "0.08") for `category` on Vietnam dates
    [valid_from, valid_until); `rate` is null exactly for `not_subject`."""

    __tablename__ = "tax_rates"
    __table_args__ = (UniqueConstraint("category", "valid_from"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(32))
    # A Decimal as a string: exact on every database (SQLite has no decimal type).
    rate: Mapped[str | None] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    legal_basis: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Quote(Base):
    """A price given to a client for some order facts, honoured for 30 minutes by one order."""

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # quo_<hex>
    client_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("api_clients.id"), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    price: Mapped[dict[str, Any]] = mapped_column(JSONType)
    total_vnd: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The public id of the order that redeemed it. Claimed in the order's own transaction,
    # before the order row exists, so it is a unique public id rather than a foreign key.
    order_public_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BillingAuditEntry(Base):
    """Who changed which tariff, promotion or tax rate, when, and what it was before and after."""

    __tablename__ = "billing_audit"
    __table_args__ = (Index("ix_billing_audit_entity_entity_key", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))  # tariff_version | promotion | tax_rate
    entity_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # create | update
    actor_client_id: Mapped[int | None] = mapped_column(BigInteger,
                                                        ForeignKey("api_clients.id"))
    actor: Mapped[str] = mapped_column(String(200))  # the client's name, or "demo"
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class BillingRevision(Base):
    """One row, changed in the same transaction as every change of billing data.

    `token` is new and random on every change, so a process's cached tariff book is keyed by
    it: a change rolled back never leaves a token that a later, different change could reuse.
    """

    __tablename__ = "billing_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)



class Payment(Base):
    """One attempt to take an order's payment online: a Stripe PaymentIntent in VND.

    The order is referred to by id (billing does not import shipments). Money columns are
    integer VND; the check constraints are the last line of defence behind the row lock that
    refunds take: never more refunded (or reserved for a refund in flight) than captured.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("order_id", "attempt"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint("captured_vnd >= 0 AND captured_vnd <= amount_vnd",
                        name="captured_within_amount"),
        CheckConstraint("refunded_vnd >= 0 AND refund_pending_vnd >= 0",
                        name="refunds_not_negative"),
        CheckConstraint("refunded_vnd + refund_pending_vnd <= captured_vnd",
                        name="refunds_within_captured"),
        Index("ix_payments_status_checked_at", "status", "checked_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # pay_<hex>
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"), index=True)
    # 1, 2, ...: a new attempt after one was cancelled; part of the Stripe idempotency key.
    attempt: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(16))  # stripe
    provider_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Lets the citizen's browser confirm this one intent; never logged.
    client_secret: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))  # vnd
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    captured_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    # Reserved by refunds not yet settled at Stripe (so concurrent refunds cannot overdraw).
    refund_pending_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(32))  # billing.payments.PaymentStatus
    last_error_code: Mapped[str | None] = mapped_column(String(100))
    last_error_message: Mapped[str | None] = mapped_column(String(500))
    dispute_status: Mapped[str | None] = mapped_column(String(32))
    disputed_vnd: Mapped[int | None] = mapped_column(BigInteger)
    # The Stripe time of the dispute event applied last (older ones arriving late are ignored).
    dispute_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When we last read the intent from Stripe (the reconciliation job's clock).
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Refund(Base):
    """Money given back from a captured payment: reserved here first, then sent to Stripe
    with the idempotency key `re-<public_id>`."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # rf_<hex>
    payment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    # request (a dispatcher), cancellation (the order was cancelled), duplicate (paid twice),
    # provider (made at Stripe directly)
    origin: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # billing.payments.RefundStatus
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    requested_by_client_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("api_clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StripeEvent(Base):
    """A Stripe webhook event received (signature verified), kept to drop replays by id.

    No payload is stored: only what is needed to act on it (the intent it concerns and, for
    disputes, their status and amount), because Stripe objects carry personal data.
    """

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    stripe_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
