"""API clients as stored: the key only as a hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from postal_svc.db import Base, BigIntPK, JSONType, UTCDateTime


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    # Agency codes (agency_system) or post office codes (dispatcher, courier); empty for admin.
    scope: Mapped[list[str]] = mapped_column(JSONType)
    # The first characters of the key, to recognise it in lists; never enough to use it.
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffUser(Base):
    """A person who signs in to the console: a dispatcher of some post offices, or an admin.

    The password only as a scrypt hash. Each user acts through an API client of their own
    (`client_id`, whose key is never issued), so everything they do is recorded against an
    actor exactly as the API's callers are. Failed sign-ins are counted per username, not
    here (`login_failures`), so that an unknown name is locked out exactly as a real one."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    # Post office codes a dispatcher works for; empty for an admin (who acts everywhere).
    post_office_codes: Mapped[list[str]] = mapped_column(JSONType)
    password_hash: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("api_clients.id"), unique=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
