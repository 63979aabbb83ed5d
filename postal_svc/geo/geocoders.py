"""geopy adapters: an offline gazetteer geocoder, a cache protocol and a cache -> gazetteer -> online chain.

Only ``GeocoderChain`` with an online geocoder passed in ever reaches the network; everything else here
works offline. The online geocoder is any geopy geocoder (or an object with a compatible ``geocode``),
wrapped in geopy's ``RateLimiter``; its answer is trusted only near the ward the gazetteer found.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from geopy.adapters import BaseSyncAdapter
from geopy.exc import ConfigurationError, GeocoderServiceError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

from postal_svc.geo.normalize import nfc
from postal_svc.geo.resolver import (
    DEFAULT_PROVINCE_CODE,
    DEFAULT_STREET_RADIUS_M,
    AddressResolution,
    AddressResolver,
    distance_m,
)

__all__ = [
    "GazetteerGeocoder",
    "GeocodeCache",
    "GeocoderChain",
    "InMemoryGeocodeCache",
    "OnlineGeocoder",
    "build_online_geocoder",
    "cache_key",
    "resolution_from_location",
]

_ONLINE_FAILED = object()  # what the rate limiter answers when the online geocoder raised
_CACHE_VERSION = "v1"  # bump when resolver output for the same text may change meaning
_PART_NAMES = ("line", "ward", "district", "province")


@runtime_checkable
class GeocodeCache(Protocol):
    """Where resolved addresses are kept between calls (e.g. a database table). Keys come from ``cache_key``."""

    def get(self, key: str) -> Location | None: ...

    def put(self, key: str, location: Location) -> None: ...


class OnlineGeocoder(Protocol):
    """The part of a geopy geocoder the chain uses."""

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Location | None: ...


class InMemoryGeocodeCache:
    """A bounded, thread-safe LRU ``GeocodeCache`` for a single process (and for tests)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: OrderedDict[str, Location] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> Location | None:
        with self._lock:
            loc = self._data.get(key)
            if loc is not None:
                self._data.move_to_end(key)
            return loc

    def put(self, key: str, location: Location) -> None:
        with self._lock:
            self._data[key] = location
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def cache_key(query: str | Mapping[str, str | None], default_province_code: str = DEFAULT_PROVINCE_CODE) -> str:
    """Stable key for an address: case, accents and spacing do not matter; the default province does."""
    text = query if isinstance(query, str) else " | ".join(f"{n}={query.get(n) or ''}" for n in _PART_NAMES)
    # Accents are kept: "Cẩm Giang" and "Cẩm Giàng" are two communes.
    return f"{_CACHE_VERSION}|{default_province_code}|{' '.join(nfc(text).casefold().split())}"


def resolution_from_location(location: Location) -> AddressResolution | None:
    """Rebuild the resolution a ``GazetteerGeocoder``/``GeocoderChain`` stored in ``location.raw``."""
    raw = location.raw
    if not isinstance(raw, Mapping) or "precision" not in raw:
        return None
    fields: dict[str, Any] = {name: raw.get(name) for name in AddressResolution.__dataclass_fields__}
    fields["candidates"] = tuple(raw.get("candidates") or ())
    fields["ambiguous"] = bool(raw.get("ambiguous"))
    return AddressResolution(**fields)


def _location(resolution: AddressResolution) -> Location | None:
    if resolution.lat is None or resolution.lon is None or resolution.ward_name is None:
        return None
    address = ", ".join(p for p in (resolution.line, resolution.ward_name, resolution.province_name) if p)
    return Location(address, (resolution.lat, resolution.lon), resolution.as_dict())


class _OfflineAdapter(BaseSyncAdapter):  # type: ignore[misc]  # geopy ships no type hints
    """A geopy adapter that refuses every request: the gazetteer geocoder must never use the network."""

    def get_json(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> Any:
        raise GeocoderServiceError(f"GazetteerGeocoder is offline; refused request to {url}")

    def get_text(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> str:
        raise GeocoderServiceError(f"GazetteerGeocoder is offline; refused request to {url}")


class GazetteerGeocoder(Geocoder):  # type: ignore[misc]  # geopy ships no type hints
    """A geopy geocoder answering from the embedded gazetteer, at ward-centre precision, with no network.

    ``geocode`` takes free text or a mapping with ``line``/``ward``/``district``/``province``. It returns
    a ``Location`` at the resolved 2025 ward's centre (``raw`` is the full resolution as a dict), or
    ``None`` when the address cannot be resolved to a ward. Ambiguous addresses with a sensible default
    return that default with ``raw["ambiguous"] == True``.
    """

    def __init__(
        self,
        resolver: AddressResolver | None = None,
        *,
        default_province_code: str = DEFAULT_PROVINCE_CODE,
        user_agent: str | None = None,
    ) -> None:
        super().__init__(user_agent=user_agent or "postal-svc-gazetteer", adapter_factory=_OfflineAdapter)
        self.resolver = resolver or AddressResolver(default_province_code=default_province_code)
        self.default_province_code = default_province_code

    def geocode(
        self,
        query: str | Mapping[str, str | None],
        *,
        exactly_one: bool = True,
        timeout: Any = DEFAULT_SENTINEL,
    ) -> Location | list[Location] | None:
        """Resolve *query*; ``timeout`` is accepted for geopy compatibility and ignored (nothing waits)."""
        resolution = self.resolve(query)
        location = _location(resolution)
        if location is None:
            return None
        return location if exactly_one else [location]

    def resolve(
        self, query: str | Mapping[str, str | None], *, lat: float | None = None, lon: float | None = None
    ) -> AddressResolution:
        """The full ``AddressResolution`` for *query* (free text or parts), optionally with a point."""
        if isinstance(query, str):
            return self.resolver.resolve(query, lat=lat, lon=lon, default_province_code=self.default_province_code)
        return self.resolver.resolve(
            line=query.get("line"), ward=query.get("ward"), district=query.get("district"),
            province=query.get("province"), lat=lat, lon=lon, default_province_code=self.default_province_code,
        )


class GeocoderChain:
    """cache -> gazetteer -> optional online geocoder, returning an ``AddressResolution``.

    The online geocoder is asked only when the gazetteer found a ward (or several candidates) and the
    address has a street part. Its point is accepted only within ``max_online_distance_m`` of the
    resolved ward's centre (or of one candidate's, which then settles the ambiguity); an accepted point
    gives precision "street". Online failures are swallowed by the rate limiter: the answer then stays
    at ward precision. Results are cached unless the caller supplied a point of their own.
    """

    def __init__(
        self,
        gazetteer: GazetteerGeocoder | None = None,
        *,
        cache: GeocodeCache | None = None,
        online: OnlineGeocoder | None = None,
        max_online_distance_m: float = DEFAULT_STREET_RADIUS_M,
        min_delay_seconds: float = 1.0,
        max_retries: int = 2,
        error_wait_seconds: float = 5.0,
        country_suffix: str = "Việt Nam",
    ) -> None:
        self.gazetteer = gazetteer or GazetteerGeocoder()
        self.cache = cache
        self.online = online
        self.max_online_distance_m = max_online_distance_m
        self.country_suffix = country_suffix
        # Nominatim's usage policy asks for at most one request per second: that is the default.
        self._online_geocode = (
            RateLimiter(
                online.geocode,
                min_delay_seconds=min_delay_seconds,
                max_retries=max_retries,
                error_wait_seconds=error_wait_seconds,
                swallow_exceptions=True,
                return_value_on_exception=_ONLINE_FAILED,
            )
            if online is not None
            else None
        )

    def resolve(
        self,
        text: str | None = None,
        *,
        line: str | None = None,
        ward: str | None = None,
        district: str | None = None,
        province: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        cache: GeocodeCache | None = None,
    ) -> AddressResolution:
        """Resolve an address, using the cache and the online geocoder when they can add something.

        ``cache`` overrides the chain's own cache for this call (e.g. one bound to a request's
        database session), so the rate limiter around the online geocoder stays shared.
        """
        cache = cache if cache is not None else self.cache
        query: str | dict[str, str | None] = (
            text if text is not None else {"line": line, "ward": ward, "district": district, "province": province}
        )
        own_point = lat is not None or lon is not None
        key = cache_key(query, self.gazetteer.default_province_code)
        if cache is not None and not own_point:
            hit = cache.get(key)
            if hit is not None:
                cached = resolution_from_location(hit)
                if cached is not None:
                    return cached

        resolution = self.gazetteer.resolve(query, lat=lat, lon=lon)
        online_failed = False
        if not own_point and self._online_geocode is not None and self._worth_asking(resolution):
            resolution, online_failed = self._refine_online(query, resolution)

        # An outage is not an answer: remember nothing, so the address is asked again later.
        if cache is not None and not own_point and not online_failed:
            location = _location(resolution)
            if location is not None:
                cache.put(key, location)
        return resolution

    def _worth_asking(self, resolution: AddressResolution) -> bool:
        if resolution.precision == "street" or not resolution.line:
            return False  # no street to look up: a geocoder could only return the ward's centre again
        return resolution.ward_code is not None or bool(resolution.candidates)

    def _refine_online(
        self, query: str | Mapping[str, str | None], resolution: AddressResolution
    ) -> tuple[AddressResolution, bool]:
        """The resolution, refined by the online point when it fits; and whether the online
        geocoder failed (as opposed to finding nothing)."""
        assert self._online_geocode is not None
        g = self.gazetteer.resolver.gazetteer
        # Ask with the new official names: they are unambiguous, and the original text as a fallback
        # is left out on purpose (one request per address keeps within the rate limit).
        if resolution.ward_name and not resolution.ambiguous:
            parts = [resolution.line, resolution.ward_name, resolution.province_name, self.country_suffix]
        else:
            original = query if isinstance(query, str) else ", ".join(v for v in query.values() if v)
            parts = [nfc(original), self.country_suffix]
        online_query = ", ".join(p for p in parts if p)
        found = self._online_geocode(online_query)
        if found is _ONLINE_FAILED:
            return resolution, True
        if isinstance(found, list):
            found = found[0] if found else None
        if found is None:
            return resolution, False
        point = (float(found.latitude), float(found.longitude))
        wards = [resolution.ward_code] if resolution.ward_code and not resolution.ambiguous else []
        wards += [c for c in resolution.candidates if c not in wards]
        near = [c for c in wards if distance_m(point, (g.wards[c].lat, g.wards[c].lon)) <= self.max_online_distance_m]
        if not near:
            return resolution, False  # the online answer is elsewhere: trust the gazetteer's ward
        refined = self.gazetteer.resolve(query, lat=point[0], lon=point[1])
        if refined.precision != "street" or refined.ward_code not in near:
            return resolution, False
        return replace(refined, line=resolution.line), False


def build_online_geocoder(name: str | None, **options: Any) -> Geocoder | None:
    """Build the optional online geocoder from configuration: ``"nominatim"`` (``user_agent`` required) or None.

    Raises ``ConfigurationError`` for an unknown name or a missing ``user_agent``. Building does not
    touch the network; only ``geocode`` calls do.
    """
    if name is None or not str(name).strip() or str(name).strip().lower() in {"none", "off", "disabled"}:
        return None
    kind = str(name).strip().lower()
    if kind == "nominatim":
        from geopy.geocoders import Nominatim

        if not options.get("user_agent"):
            raise ConfigurationError("nominatim needs a user_agent that identifies this service (usage policy)")
        return Nominatim(**options)
    raise ConfigurationError(f"unknown online geocoder {name!r}; known: 'nominatim' or none")
