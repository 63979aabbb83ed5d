"""Demo data: a handful of HCMC post offices serving every 2025 ward of the city.

No reference_data here: its PO-THUDUC would already serve ward 26794.
"""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from postal_svc.access.models import ApiClient
from postal_svc.demo import AGENCIES, DEMO_CLIENTS, POST_OFFICES, load_demo
from postal_svc.directory.models import Agency, PostOffice, ServedWard
from postal_svc.geo.places import wards_of_province
from tests.conftest import order_body

NOW = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
DEMO_OFFICES = {office["code"] for office in POST_OFFICES}


@pytest.fixture
def demo(db_session):
    added = load_demo(db_session, now=NOW)
    db_session.commit()
    return added


def served(db_session) -> dict[str, str]:
    return dict(db_session.execute(select(ServedWard.ward_code, ServedWard.post_office_code)).all())


def count(db_session, model) -> int:
    return int(db_session.scalar(select(func.count()).select_from(model)) or 0)


def test_hcmc_has_168_wards_in_2025():
    wards = wards_of_province("79")
    assert len(wards) == 168
    assert len({w.code for w in wards}) == 168


def test_every_hcmc_ward_is_served_by_exactly_one_demo_post_office(db_session, demo):
    hcmc = {w.code for w in wards_of_province("79")}
    by_ward = served(db_session)
    assert set(by_ward) == hcmc
    assert set(by_ward.values()) <= DEMO_OFFICES
    rows = Counter(db_session.scalars(select(ServedWard.ward_code)))
    assert all(n == 1 for n in rows.values())
    assert sum(rows.values()) == 168


def test_the_demo_has_a_dozen_offices_each_serving_some_wards(db_session, demo):
    assert demo["post_offices"] == len(POST_OFFICES) == 12
    offices = db_session.scalars(select(PostOffice)).all()
    assert {o.code for o in offices} == DEMO_OFFICES
    for office in offices:
        assert office.served_ward_codes, office.code


def test_the_demo_wards_of_the_examples_go_to_the_expected_offices(db_session, demo):
    by_ward = served(db_session)
    assert by_ward["26794"] == "BD-THUDUC"  # Linh Xuân (old Linh Trung)
    assert by_ward["26857"] == "BD-THUDUC"  # Long Phước (old Trường Thạnh)
    assert by_ward["26740"] == "BD-SAIGON"  # Sài Gòn (old Bến Nghé)


@pytest.mark.parametrize("code, ward_code", [("UBND-LINHTRUNG", "26794"),
                                             ("UBND-TRUONGTHANH", "26857"),
                                             ("UBND-BENNGHE", "26740")])
def test_the_demo_agencies_are_placed_in_their_2025_wards(db_session, demo, code, ward_code):
    agency = db_session.get(Agency, code)
    assert agency is not None
    assert agency.ward_code == ward_code
    assert agency.province_code == "79"
    assert agency.lat is not None and agency.lon is not None


def test_each_demo_agency_is_collected_by_the_office_serving_its_ward(db_session, demo):
    by_ward = served(db_session)
    for spec in AGENCIES:
        agency = db_session.get(Agency, spec["code"])
        assert agency.post_office_code == by_ward[agency.ward_code], agency.code


def test_loading_the_demo_twice_adds_nothing(db_session, demo):
    assert demo == {"post_offices": 12, "agencies": len(AGENCIES), "clients": demo["clients"]}
    assert demo["clients"] > 0
    before = (count(db_session, PostOffice), count(db_session, ServedWard),
              count(db_session, Agency), count(db_session, ApiClient), served(db_session))
    again = load_demo(db_session, now=NOW)
    db_session.commit()
    assert again == {"post_offices": 0, "agencies": 0, "clients": 0}
    after = (count(db_session, PostOffice), count(db_session, ServedWard),
             count(db_session, Agency), count(db_session, ApiClient), served(db_session))
    assert after == before


@pytest.mark.parametrize("text, office", [
    ("12 Đường số 7, P. Linh Trung, TP. Thủ Đức, TP.HCM", "BD-THUDUC"),
    ("Lê Lợi, Phường 7, TP. Vũng Tàu, Bà Rịa - Vũng Tàu", "BD-VUNGTAU"),
    ("Tỉnh lộ 8, Xã Củ Chi, TP.HCM", "BD-CUCHI"),
])
def test_a_demo_order_anywhere_in_hcmc_gets_the_demo_office_of_its_ward(client, db_session, demo,
                                                                        text, office):
    key = next(c.key for c in DEMO_CLIENTS if c.role.value == "agency_system")
    body = order_body(agency_code="UBND-LINHTRUNG",
                      citizen={"name": "Nguyễn Văn An", "phone": "0903123456",
                               "address_text": text})
    response = client.post("/api/v1/orders", json=body,
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    order = response.get_json()
    assert order["address"]["precision"] == "ward"
    assert order["post_office_code"] == office
    assert served(db_session)[order["address"]["ward_code"]] == office
