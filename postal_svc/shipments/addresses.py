"""Where an order goes: resolving the citizen's address through the geocoder chain."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from postal_svc.clock import utcnow
from postal_svc.directory.geocache import DbGeocodeCache
from postal_svc.geo.geocoders import GeocoderChain
from postal_svc.geo.resolver import AddressResolution


@dataclass(frozen=True)
class AddressInput:
    """A citizen address as the caller wrote it: structured parts or one free-text line."""

    line: str | None = None
    ward: str | None = None
    district: str | None = None
    province: str | None = None
    text: str | None = None
    lat: float | None = None
    lon: float | None = None

    def as_sent(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class ResolvedAddress:
    """An address in 2025 units (and the old ward, when the caller wrote old units)."""

    line: str | None
    ward_code: str | None
    ward_name: str | None
    province_code: str | None
    province_name: str | None
    lat: float | None
    lon: float | None
    precision: str  # street | ward | unresolved
    ambiguous: bool = False
    candidates: tuple[str, ...] = field(default=())
    old_ward_code: str | None = None
    old_ward_name: str | None = None
    old_district_name: str | None = None

    @classmethod
    def from_resolution(cls, r: AddressResolution) -> "ResolvedAddress":
        return cls(line=r.line, ward_code=r.ward_code, ward_name=r.ward_name,
                   province_code=r.province_code, province_name=r.province_name,
                   lat=r.lat, lon=r.lon, precision=r.precision, ambiguous=r.ambiguous,
                   candidates=tuple(r.candidates), old_ward_code=r.old_ward_code,
                   old_ward_name=r.old_ward_name, old_district_name=r.old_district_name)


class AddressResolver(Protocol):
    def __call__(self, session: Session, address: AddressInput) -> ResolvedAddress: ...


class ChainAddressResolver:
    """The geocoder chain (database cache -> embedded gazetteer -> optional online geocoder).

    The database cache is consulted only when an online geocoder is configured: the embedded
    gazetteer answers in microseconds, so caching its answers would only add round trips.
    """

    def __init__(self, chain: GeocoderChain) -> None:
        self.chain = chain
        self.use_db_cache = chain.online is not None

    def __call__(self, session: Session, address: AddressInput) -> ResolvedAddress:
        cache = DbGeocodeCache(session, utcnow()) if self.use_db_cache else None
        if address.text is not None:
            resolution = self.chain.resolve(address.text, lat=address.lat, lon=address.lon,
                                            cache=cache)
        else:
            resolution = self.chain.resolve(line=address.line, ward=address.ward,
                                            district=address.district, province=address.province,
                                            lat=address.lat, lon=address.lon, cache=cache)
        return ResolvedAddress.from_resolution(resolution)


def leave_unresolved(session: Session, address: AddressInput) -> ResolvedAddress:
    """A resolver that resolves nothing: every address waits for a dispatcher."""
    return ResolvedAddress(line=address.line or address.text, ward_code=None, ward_name=None,
                           province_code=None, province_name=None, lat=None, lon=None,
                           precision="unresolved")
