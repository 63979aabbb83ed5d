"""Orders and their tracking events as stored."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from postal_svc.db import Base, BigIntPK, JSONType, UTCDateTime


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The government side's natural key: one order per dossier, agency and kind.
        UniqueConstraint("agency_code", "dossier_code", "kind"),
        Index("ix_orders_post_office_code_id", "post_office_code", "id"),
        Index("ix_orders_agency_code_id", "agency_code", "id"),
        Index("ix_orders_address_precision_id", "address_precision", "id"),
        # Console reports: one office's orders in a range of registration or delivery time.
        Index("ix_orders_post_office_code_registered_at", "post_office_code", "registered_at"),
        Index("ix_orders_post_office_code_delivered_at", "post_office_code", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    tracking_number: Mapped[str] = mapped_column(String(13), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    dossier_code: Mapped[str] = mapped_column(String(64), index=True)
    procedure_code: Mapped[str | None] = mapped_column(String(64))
    procedure_name: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)

    citizen_name: Mapped[str] = mapped_column(String(200))
    citizen_phone: Mapped[str] = mapped_column(String(16), index=True)
    citizen_email: Mapped[str | None] = mapped_column(String(254))

    # The address exactly as the caller sent it, kept for audits and re-resolution.
    address_input: Mapped[dict[str, Any]] = mapped_column(JSONType)
    address_line: Mapped[str | None] = mapped_column(Text)
    ward_code: Mapped[str | None] = mapped_column(String(16))
    ward_name: Mapped[str | None] = mapped_column(String(200))
    province_code: Mapped[str | None] = mapped_column(String(8))
    province_name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    address_precision: Mapped[str] = mapped_column(String(16))
    # A ward chosen by default among several (e.g. an old ward split in 2025): a dispatcher
    # should confirm it. `address_candidates` lists the possible 2025 ward codes.
    address_ambiguous: Mapped[bool] = mapped_column(default=False, server_default=false())
    address_candidates: Mapped[list[str] | None] = mapped_column(JSONType)
    old_ward_code: Mapped[str | None] = mapped_column(String(16))
    old_ward_name: Mapped[str | None] = mapped_column(String(200))
    old_district_name: Mapped[str | None] = mapped_column(String(200))
    post_office_code: Mapped[str | None] = mapped_column(ForeignKey("post_offices.code"))

    weight_g: Mapped[int] = mapped_column(Integer)
    pieces: Mapped[int] = mapped_column(Integer)
    contents: Mapped[str | None] = mapped_column(String(500))

    payer: Mapped[str] = mapped_column(String(16))
    payment_method: Mapped[str] = mapped_column(String(32))
    payment_status: Mapped[str] = mapped_column(String(32))
    fee_forwarding_vnd: Mapped[int | None] = mapped_column(BigInteger)
    deliver_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deliver_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quote_id: Mapped[str | None] = mapped_column(String(40))
    # Price snapshot (billing fills it): lines, tariff version, zone, promotions, tax rate.
    price: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    total_vnd: Mapped[int | None] = mapped_column(BigInteger)

    # Failed delivery (or pickup) attempts so far.
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cash_collected_vnd: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_client_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    events: Mapped[list["TrackingEvent"]] = relationship(
        back_populates="order", order_by="TrackingEvent.id", cascade="all, delete-orphan")


class TrackingEvent(Base):
    """One immutable step in an order's life: time, actor, post office, place, note."""

    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_client_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_clients.id"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    post_office_code: Mapped[str | None] = mapped_column(String(32))
    ward_code: Mapped[str | None] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    order: Mapped[Order] = relationship(back_populates="events")


class SerialCounter(Base):
    """Serial counters for databases without sequences (SQLite, where writes are serialised)."""

    __tablename__ = "serial_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
