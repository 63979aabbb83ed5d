"""Agencies and post offices as stored."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from postal_svc.db import Base, JSONType, UTCDateTime


class PostOffice(Base):
    __tablename__ = "post_offices"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address_text: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    wards: Mapped[list["ServedWard"]] = relationship(
        back_populates="post_office", cascade="all, delete-orphan", order_by="ServedWard.ward_code")

    @property
    def served_ward_codes(self) -> list[str]:
        return [w.ward_code for w in self.wards]


class ServedWard(Base):
    """A ward and the one post office that serves it (the primary key makes it one)."""

    __tablename__ = "served_wards"

    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    post_office_code: Mapped[str] = mapped_column(
        ForeignKey("post_offices.code", ondelete="CASCADE"), index=True)

    post_office: Mapped[PostOffice] = relationship(back_populates="wards")


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    address_text: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    office_hours: Mapped[list[list[str]]] = mapped_column(JSONType)
    # Where the agency's desk is, resolved from its address (the origin of its orders' legs).
    ward_code: Mapped[str | None] = mapped_column(String(16))
    province_code: Mapped[str | None] = mapped_column(String(8))
    old_district_code: Mapped[str | None] = mapped_column(String(8))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # The post office whose couriers collect at this agency's desk; orders whose citizen
    # address cannot be resolved land with this office's dispatchers.
    post_office_code: Mapped[str | None] = mapped_column(ForeignKey("post_offices.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
