"""The pricing facts of an order leg: which end is which, old districts, and legs not yet placed."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from postal_svc.billing.errors import InvalidPricingFacts
from postal_svc.billing.facts import AreaRef
from postal_svc.shipments.addresses import ResolvedAddress
from postal_svc.shipments.pricing_facts import (
    address_area,
    agency_area,
    leg_pricing_facts,
    old_district_of_ward,
)


@dataclass
class Desk:
    ward_code: str | None
    province_code: str | None
    old_district_code: str | None


AGENCY = Desk("26794", "79", "769")  # Linh Xuân, formerly in Thủ Đức (769)


def address(ward_code: str | None = "26740", old_ward_code: str | None = None,
            province_code: str | None = "79") -> ResolvedAddress:
    return ResolvedAddress(line="12 Nguyễn Huệ", ward_code=ward_code, ward_name=None,
                           province_code=province_code, province_name=None, lat=None, lon=None,
                           precision="ward" if ward_code else "unresolved",
                           old_ward_code=old_ward_code)


def facts(**overrides):
    values = {"kind": "result_delivery", "channel": "online_public_service",
              "agency_code": "UBND-LINHTRUNG", "agency_location": AGENCY,
              "citizen_address": address(), "weight_g": 150, "payment_method": "online"}
    values.update(overrides)
    return leg_pricing_facts(**values)


def test_a_result_delivery_goes_from_the_agency_desk_to_the_citizen():
    leg = facts()
    assert leg.origin == AreaRef("26794", "769", "79")
    assert leg.destination == AreaRef("26740", "760", "79")


def test_a_dossier_pickup_goes_from_the_citizen_to_the_agency_desk():
    leg = facts(kind="dossier_pickup")
    assert (leg.origin.ward_code, leg.destination.ward_code) == ("26740", "26794")


@pytest.mark.parametrize("overrides", [
    {"citizen_address": address(ward_code=None)},
    {"citizen_address": address(province_code=None)},
    {"agency_location": Desk(None, None, None)},
    {"agency_location": None},
])
def test_a_leg_with_an_end_not_yet_placed_in_a_ward_is_priced_later(overrides):
    assert facts(**overrides) is None


def test_the_old_district_comes_from_the_old_ward_the_citizen_wrote():
    # Old ward Linh Chiểu (26815, Thủ Đức 769) became part of Phường Thủ Đức (26824).
    assert address_area(address("26824", old_ward_code="26815")).old_district_code == "769"


def test_a_2025_ward_made_of_one_old_district_only_names_that_district():
    assert old_district_of_ward("26740") == "760"  # Sài Gòn: wholly in old Quận 1
    assert address_area(address("26740")).old_district_code == "760"
    assert agency_area(Desk("26794", "79", None)).old_district_code == "769"


def test_a_2025_ward_straddling_old_districts_names_none():
    assert old_district_of_ward("25760") is None  # Phường Bình Dương: parts of two districts
    assert address_area(address("25760")).old_district_code is None


def test_no_fee_and_a_zero_fee_are_the_same_fact_so_quotes_and_orders_compare_equal():
    assert facts(fee_forwarding_vnd=0) == facts(fee_forwarding_vnd=None) == facts()
    assert facts(fee_forwarding_vnd=50_000).fee_forwarding_vnd == 50_000


def test_an_origin_given_as_an_area_is_used_as_the_agency_end():
    leg = facts(agency_location=AreaRef("00004", "001", "01"))
    assert leg.origin == AreaRef("00004", "001", "01")


def test_malformed_values_are_refused_as_invalid_pricing_facts():
    with pytest.raises(InvalidPricingFacts):
        facts(kind="parcel")
    with pytest.raises(InvalidPricingFacts):
        facts(weight_g=0)
