"""The seam between intake and address resolution: what intake sends and gets back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


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
    line: str | None
    ward_code: str | None
    ward_name: str | None
    province_code: str | None
    province_name: str | None
    lat: float | None
    lon: float | None
    precision: str  # street | ward | unresolved


class AddressResolver(Protocol):
    def __call__(self, address: AddressInput) -> ResolvedAddress: ...


def leave_unresolved(address: AddressInput) -> ResolvedAddress:
    """A resolver that resolves nothing: every address waits for a dispatcher."""
    return ResolvedAddress(line=address.line or address.text, ward_code=None, ward_name=None,
                           province_code=None, province_name=None, lat=None, lon=None,
                           precision="unresolved")
