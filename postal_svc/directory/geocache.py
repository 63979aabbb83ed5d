"""A database table behind the geocoder chain's cache (used when an online geocoder is on)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from geopy.location import Location
from sqlalchemy import String, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from postal_svc.db import Base, JSONType, UTCDateTime


class GeocodeCacheEntry(Base):
    __tablename__ = "geocode_cache"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    address: Mapped[str] = mapped_column(Text)
    lat: Mapped[float]
    lon: Mapped[float]
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DbGeocodeCache:
    """geopy Locations kept in `geocode_cache`, read and written in the caller's session."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def get(self, key: str) -> Location | None:
        entry = self.session.get(GeocodeCacheEntry, key[:512])
        if entry is None:
            return None
        return Location(entry.address, (entry.lat, entry.lon), entry.raw)

    def put(self, key: str, location: Location) -> None:
        upsert = (postgresql.insert if self.session.get_bind().dialect.name == "postgresql"
                  else sqlite.insert)
        self.session.execute(
            upsert(GeocodeCacheEntry)
            .values(key=key[:512], address=location.address, lat=location.latitude,
                    lon=location.longitude, raw=dict(location.raw),
                    created_at=self.now)
            .on_conflict_do_nothing(index_elements=["key"]))
