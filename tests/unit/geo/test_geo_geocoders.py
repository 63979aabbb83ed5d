"""geopy adapters: offline gazetteer geocoder, cache protocol, cache -> gazetteer -> online chain.

The online geocoder here is a fake (a small class with a ``geocode`` method): no real geocoder can run
offline, and tests must never reach the network.
"""
from __future__ import annotations

from typing import Any

import pytest
from geopy.exc import ConfigurationError, GeocoderServiceError
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from postal_svc.geo.gazetteer import get_gazetteer
from postal_svc.geo.geocoders import (
    GazetteerGeocoder,
    GeocodeCache,
    GeocoderChain,
    InMemoryGeocodeCache,
    build_online_geocoder,
    cache_key,
    resolution_from_location,
)

LINH_XUAN = "26794"
ADDRESS = "12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM"


class FakeOnlineGeocoder:
    """Answers every query with one fixed point (or None, or an error) and records the queries."""

    def __init__(self, point: tuple[float, float] | None = None, error: Exception | None = None) -> None:
        self.point = point
        self.error = error
        self.queries: list[str] = []

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Location | None:
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        if self.point is None:
            return None
        return Location(query, self.point, {"fake": True})


def _chain(online: FakeOnlineGeocoder | None = None, cache: GeocodeCache | None = None, **kw: Any) -> GeocoderChain:
    return GeocoderChain(cache=cache, online=online, min_delay_seconds=0, error_wait_seconds=0, **kw)


def test_the_gazetteer_geocoder_is_a_geopy_geocoder_returning_the_ward_centre() -> None:
    geocoder = GazetteerGeocoder()
    assert isinstance(geocoder, Geocoder)
    loc = geocoder.geocode(ADDRESS)
    assert isinstance(loc, Location)
    ward = get_gazetteer().wards[LINH_XUAN]
    assert (loc.latitude, loc.longitude) == (ward.lat, ward.lon)
    assert loc.raw["ward_code"] == LINH_XUAN and loc.raw["precision"] == "ward"
    assert loc.address == "12 Đường số 7, Phường Linh Xuân, Thành phố Hồ Chí Minh"


def test_the_gazetteer_geocoder_accepts_address_parts_and_lists_when_asked() -> None:
    locs = GazetteerGeocoder().geocode({"ward": "Linh Trung", "district": "Thủ Đức"}, exactly_one=False)
    assert isinstance(locs, list) and locs[0].raw["ward_code"] == LINH_XUAN


def test_the_gazetteer_geocoder_returns_none_for_an_address_it_cannot_resolve() -> None:
    assert GazetteerGeocoder().geocode("Phường 7, TP.HCM") is None


def test_the_gazetteer_geocoder_cannot_make_http_requests() -> None:
    with pytest.raises(GeocoderServiceError, match="offline"):
        GazetteerGeocoder().adapter.get_json("https://example.invalid/", timeout=1, headers={})


def test_a_location_carries_the_full_resolution_back() -> None:
    loc = GazetteerGeocoder().geocode(ADDRESS)
    assert isinstance(loc, Location)
    res = resolution_from_location(loc)
    assert res is not None and res.ward_code == LINH_XUAN and res.old_ward_name == "Phường Linh Trung"


def test_the_in_memory_cache_satisfies_the_cache_protocol_and_evicts_the_oldest() -> None:
    cache = InMemoryGeocodeCache(max_entries=2)
    assert isinstance(cache, GeocodeCache)
    loc = Location("x", (10.0, 106.0), {})
    cache.put("a", loc)
    cache.put("b", loc)
    cache.get("a")
    cache.put("c", loc)
    assert cache.get("b") is None and cache.get("a") is loc and len(cache) == 2


def test_cache_keys_ignore_case_and_spacing_but_not_accents_or_the_default_province() -> None:
    assert cache_key("Phường  Linh Trung") == cache_key("phường linh trung")
    assert cache_key("Xã Cẩm Giang") != cache_key("Xã Cẩm Giàng")
    assert cache_key("Phường 8", "79") != cache_key("Phường 8", "68")


def test_without_an_online_geocoder_the_chain_answers_at_ward_precision() -> None:
    res = _chain().resolve(ADDRESS)
    assert res.ward_code == LINH_XUAN and res.precision == "ward"


def test_an_online_point_near_the_resolved_ward_is_accepted_as_street_precision() -> None:
    online = FakeOnlineGeocoder(point=(10.8650, 106.7850))
    res = _chain(online).resolve(ADDRESS)
    assert res.ward_code == LINH_XUAN and res.precision == "street"
    assert (res.lat, res.lon) == (10.8650, 106.7850)
    assert res.line == "12 Đường số 7"
    assert online.queries == ["12 Đường số 7, Phường Linh Xuân, Thành phố Hồ Chí Minh, Việt Nam"]


def test_an_online_point_far_from_the_resolved_ward_is_rejected() -> None:
    online = FakeOnlineGeocoder(point=(21.0285, 105.8542))  # Hà Nội
    res = _chain(online).resolve(ADDRESS)
    assert res.ward_code == LINH_XUAN and res.precision == "ward"
    ward = get_gazetteer().wards[LINH_XUAN]
    assert (res.lat, res.lon) == (ward.lat, ward.lon)


def test_the_acceptance_distance_is_configurable() -> None:
    point = (10.8609 + 0.018, 106.78)  # about 2 km from Linh Xuân's centre
    assert _chain(FakeOnlineGeocoder(point), max_online_distance_m=1000).resolve(ADDRESS).precision == "ward"
    assert _chain(FakeOnlineGeocoder(point), max_online_distance_m=3000).resolve(ADDRESS).precision == "street"


def test_an_online_point_settles_a_split_old_ward() -> None:
    online = FakeOnlineGeocoder(point=(10.670, 106.595))
    res = _chain(online).resolve("5 Quốc lộ 50, Xã An Phú Tây, Huyện Bình Chánh")
    assert res.ward_code == "27637" and not res.ambiguous and res.precision == "street"


def test_online_errors_are_swallowed_and_the_ward_answer_stands() -> None:
    online = FakeOnlineGeocoder(error=GeocoderServiceError("down"))
    res = _chain(online, max_retries=0).resolve(ADDRESS)
    assert res.ward_code == LINH_XUAN and res.precision == "ward"


def test_the_online_geocoder_is_not_asked_when_there_is_no_street_to_look_up() -> None:
    online = FakeOnlineGeocoder(point=(10.865, 106.785))
    res = _chain(online).resolve("Phường Linh Trung, Thủ Đức")
    assert res.precision == "ward" and online.queries == []


def test_the_online_geocoder_is_not_asked_when_the_caller_gave_a_point() -> None:
    online = FakeOnlineGeocoder(point=(10.865, 106.785))
    res = _chain(online).resolve(ADDRESS, lat=10.861, lon=106.779)
    assert res.precision == "street" and (res.lat, res.lon) == (10.861, 106.779) and online.queries == []


def test_a_cached_answer_is_reused_without_asking_online_again() -> None:
    cache = InMemoryGeocodeCache()
    online = FakeOnlineGeocoder(point=(10.865, 106.785))
    chain = _chain(online, cache=cache)
    first = chain.resolve(ADDRESS)
    second = chain.resolve(ADDRESS)
    assert first == second and len(online.queries) == 1 and len(cache) == 1


def test_unresolved_addresses_are_not_cached() -> None:
    cache = InMemoryGeocodeCache()
    _chain(cache=cache).resolve("nowhere in particular")
    assert len(cache) == 0


def test_the_factory_builds_nominatim_with_a_user_agent_and_nothing_for_none() -> None:
    geocoder = build_online_geocoder("nominatim", user_agent="postal-svc-tests")
    assert isinstance(geocoder, Nominatim)
    assert build_online_geocoder(None) is None
    assert build_online_geocoder("none") is None


def test_the_factory_refuses_nominatim_without_a_user_agent_and_unknown_names() -> None:
    with pytest.raises(ConfigurationError, match="user_agent"):
        build_online_geocoder("nominatim")
    with pytest.raises(ConfigurationError, match="unknown"):
        build_online_geocoder("google")
