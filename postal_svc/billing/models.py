"""Billing data as stored: tariff versions, promotions, VAT rates, quotes and the audit trail."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
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
