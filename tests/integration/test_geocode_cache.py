"""The geocoder chain's database cache: an online answer is asked for once, then read from
`geocode_cache`.

The online geocoder is a small fake with geopy's `geocode(query, ...)`: no real online
geocoder can run offline, and the chain only needs that one method.
"""
from __future__ import annotations

from typing import Any

import pytest
from geopy.exc import GeocoderUnavailable
from geopy.location import Location
from sqlalchemy import func, select

from postal_svc import create_app
from postal_svc.directory.geocache import GeocodeCacheEntry
from postal_svc.geo.geocoders import GeocoderChain
from postal_svc.shipments.addresses import AddressInput, ChainAddressResolver
from tests.conftest import order_body, test_settings

TEXT = "12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM"
NEAR_LINH_XUAN = (10.8627, 106.7812)  # about 300 m from the ward centre (10.8609, 106.78)
HANOI = (21.0285, 105.8542)


class FakeOnlineGeocoder:
    """Answers every query with one point and counts the questions."""

    def __init__(self, point: tuple[float, float]) -> None:
        self.point = point
        self.queries: list[str] = []

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Location:
        self.queries.append(query)
        return Location("12 Đường số 7, Linh Xuân, Hồ Chí Minh, Việt Nam", self.point,
                        {"place_id": 1, "display_name": "fake"})


def resolver_with(online: FakeOnlineGeocoder | None) -> ChainAddressResolver:
    return ChainAddressResolver(GeocoderChain(online=online, min_delay_seconds=0, max_retries=0))


def cache_rows(db_session) -> list[GeocodeCacheEntry]:
    db_session.expire_all()
    return list(db_session.scalars(select(GeocodeCacheEntry)))


def test_the_first_resolution_asks_online_and_stores_the_answer_in_geocode_cache(db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    resolved = resolver_with(online)(db_session, AddressInput(text=TEXT))
    assert len(online.queries) == 1
    assert "Phường Linh Xuân" in online.queries[0]  # asked with the 2025 name
    assert resolved.ward_code == "26794"
    assert resolved.precision == "street"
    assert (resolved.lat, resolved.lon) == NEAR_LINH_XUAN
    rows = cache_rows(db_session)
    assert len(rows) == 1
    assert (rows[0].lat, rows[0].lon) == pytest.approx(NEAR_LINH_XUAN)
    assert rows[0].raw["ward_code"] == "26794"
    assert rows[0].raw["precision"] == "street"


def test_the_second_resolution_is_answered_from_the_table_without_asking_online(db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    resolve = resolver_with(online)
    first = resolve(db_session, AddressInput(text=TEXT))
    second = resolve(db_session, AddressInput(text=TEXT))
    assert len(online.queries) == 1
    assert second == first
    assert len(cache_rows(db_session)) == 1


def test_the_same_address_written_differently_in_case_and_spacing_hits_the_cache(db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    resolve = resolver_with(online)
    resolve(db_session, AddressInput(text=TEXT))
    again = resolve(db_session, AddressInput(text="  " + TEXT.upper().replace(" ", "   ")))
    assert len(online.queries) == 1
    assert again.precision == "street"


def test_a_fresh_resolver_reads_the_answer_stored_by_another(db_session):
    """The answer lives in the database, not in the resolver's memory."""
    resolver_with(FakeOnlineGeocoder(NEAR_LINH_XUAN))(db_session, AddressInput(text=TEXT))
    db_session.commit()
    other_online = FakeOnlineGeocoder(HANOI)
    resolved = resolver_with(other_online)(db_session, AddressInput(text=TEXT))
    assert other_online.queries == []
    assert resolved.precision == "street"
    assert (resolved.lat, resolved.lon) == NEAR_LINH_XUAN


def test_a_structured_address_is_cached_too(db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    resolve = resolver_with(online)
    address = AddressInput(line="12 Đường số 7", ward="Phường Linh Trung",
                           district="Thành phố Thủ Đức", province="Thành phố Hồ Chí Minh")
    first = resolve(db_session, address)
    second = resolve(db_session, address)
    assert len(online.queries) == 1
    assert first.precision == second.precision == "street"
    assert len(cache_rows(db_session)) == 1


def test_an_online_answer_far_from_the_ward_is_ignored(db_session):
    online = FakeOnlineGeocoder(HANOI)
    resolved = resolver_with(online)(db_session, AddressInput(text=TEXT))
    assert len(online.queries) == 1
    assert resolved.ward_code == "26794"
    assert resolved.precision == "ward"
    assert (resolved.lat, resolved.lon) == (10.8609, 106.78)
    for row in cache_rows(db_session):
        assert (row.lat, row.lon) != pytest.approx(HANOI)


def test_an_online_answer_of_nothing_leaves_ward_precision(db_session):
    class Nothing(FakeOnlineGeocoder):
        def geocode(self, query: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
            self.queries.append(query)

    online = Nothing(NEAR_LINH_XUAN)
    resolved = resolver_with(online)(db_session, AddressInput(text=TEXT))
    assert len(online.queries) == 1
    assert resolved.precision == "ward"


def test_an_unavailable_online_geocoder_leaves_ward_precision(db_session):
    class Broken(FakeOnlineGeocoder):
        def geocode(self, query: str, *args: Any, **kwargs: Any) -> Location:
            self.queries.append(query)
            raise GeocoderUnavailable("network unreachable")

    online = Broken(NEAR_LINH_XUAN)
    resolved = resolver_with(online)(db_session, AddressInput(text=TEXT))
    assert online.queries
    assert resolved.ward_code == "26794"
    assert resolved.precision == "ward"


def test_an_online_outage_is_not_remembered_and_the_address_is_asked_again_later(db_session):
    class Flaky(FakeOnlineGeocoder):
        down = True

        def geocode(self, query: str, *args: Any, **kwargs: Any) -> Location:
            if self.down:
                self.queries.append(query)
                raise GeocoderUnavailable("network unreachable")
            return super().geocode(query, *args, **kwargs)  # counts the query itself

    online = Flaky(NEAR_LINH_XUAN)
    resolve = resolver_with(online)
    assert resolve(db_session, AddressInput(text=TEXT)).precision == "ward"
    online.down = False
    later = resolve(db_session, AddressInput(text=TEXT))
    assert len(online.queries) == 2
    assert later.precision == "street"


def test_a_callers_own_point_is_neither_sent_online_nor_cached(db_session):
    online = FakeOnlineGeocoder(HANOI)
    resolved = resolver_with(online)(db_session,
                                     AddressInput(text=TEXT, lat=10.8620, lon=106.7790))
    assert online.queries == []
    assert resolved.precision == "street"
    assert (resolved.lat, resolved.lon) == (10.8620, 106.7790)
    assert cache_rows(db_session) == []


def test_an_unreadable_address_is_not_sent_online_nor_cached(db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    resolved = resolver_with(online)(db_session, AddressInput(text="zzqx wqpt"))
    assert online.queries == []
    assert resolved.precision == "unresolved"
    assert cache_rows(db_session) == []


def test_without_an_online_geocoder_nothing_is_written_to_geocode_cache(db_session):
    resolve = resolver_with(None)
    first = resolve(db_session, AddressInput(text=TEXT))
    second = resolve(db_session, AddressInput(text=TEXT))
    assert first.ward_code == second.ward_code == "26794"
    assert first.precision == "ward"
    assert cache_rows(db_session) == []


def test_the_geocode_api_stores_the_online_answer_and_reuses_it(connection, database_url,
                                                                reference_data, make_key,
                                                                db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    app = create_app({"settings": test_settings(database_url), "db_bind": connection,
                      "resolve_address": resolver_with(online)})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_key('dispatcher', ['PO-THUDUC'])}"}
    answers = [client.post("/api/v1/geocode", json={"address_text": TEXT}, headers=headers)
               for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_json() == answers[1].get_json()
    found = answers[0].get_json()
    assert found["precision"] == "street"
    assert (found["lat"], found["lon"]) == NEAR_LINH_XUAN
    assert found["post_office_code"] == "PO-THUDUC"
    assert len(online.queries) == 1
    assert db_session.scalar(select(func.count()).select_from(GeocodeCacheEntry)) == 1


def test_order_intake_uses_the_cached_online_answer(connection, database_url, reference_data,
                                                    make_key, db_session):
    online = FakeOnlineGeocoder(NEAR_LINH_XUAN)
    app = create_app({"settings": test_settings(database_url), "db_bind": connection,
                      "resolve_address": resolver_with(online)})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_key('agency_system', ['AG-LINHTRUNG'])}"}
    citizen = {"name": "Nguyễn Văn An", "phone": "0903123456", "address_text": TEXT}
    created = [client.post("/api/v1/orders", json=order_body(citizen=citizen), headers=headers)
               for _ in range(2)]
    assert [c.status_code for c in created] == [201, 201]
    for response in created:
        address = response.get_json()["address"]
        assert address["precision"] == "street"
        assert (address["lat"], address["lon"]) == NEAR_LINH_XUAN
        assert response.get_json()["post_office_code"] == "PO-THUDUC"
    assert len(online.queries) == 1
    assert db_session.scalar(select(func.count()).select_from(GeocodeCacheEntry)) == 1
