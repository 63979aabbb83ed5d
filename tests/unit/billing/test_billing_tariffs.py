"""Tariff versions: which one is in force, how each zones a leg, weight steps, add-ons."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from postal_svc.billing.demo_tariffs import (
    demo_tariff_book,
    hcmc_2020_tariff,
    new_units_2025_tariff,
)
from postal_svc.billing.errors import (
    AddOnNotOffered,
    InvalidTariff,
    NoTariffInForce,
    NoZoneForRoute,
    WeightOutOfRange,
)
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.pricing import LineCode, TariffBook, price_order
from postal_svc.billing.tariffs import (
    AddOns,
    RegionMap,
    TariffVersion,
    WeightBand,
    ZoneRelation,
    ZoneRule,
)
from postal_svc.billing.tax import TaxCategory

ICT = timezone(timedelta(hours=7))
UTC = timezone.utc
BEFORE_COVID = datetime(2020, 1, 10, 9, 0, tzinfo=ICT)
IN_2026 = datetime(2026, 3, 2, 9, 0, tzinfo=ICT)

# Real GSO codes, pre-2025 three-level map.
LINH_TRUNG = AreaRef("26800", "769", "79")
LINH_CHIEU = AreaRef("26815", "769", "79")
BEN_NGHE = AreaRef("26740", "760", "79")
HIEP_THANH_BINH_DUONG = AreaRef("25741", "718", "74")
HOA_HIEP_BAC_DA_NANG = AreaRef("20194", "490", "48")
PHUC_XA_HA_NOI = AreaRef("00001", "001", "01")
# Since 2025-07-01: two-level map, Bình Dương is part of HCMC (79).
LINH_XUAN = AreaRef("26800", None, "79")
SAI_GON = AreaRef("26740", None, "79")
THU_DAU_MOT = AreaRef("25747", None, "79")
HAI_VAN_DA_NANG = AreaRef("20194", None, "48")
HONG_HA_HA_NOI = AreaRef("00097", None, "01")


def facts(origin: AreaRef = LINH_TRUNG, destination: AreaRef = LINH_CHIEU, **overrides):
    values = dict(kind="result_delivery", channel="counter", agency_code="UBND-LINH-TRUNG",
                  origin=origin, destination=destination, weight_g=100,
                  payment_method="online")
    values.update(overrides)
    return PricingFacts(**values)


BOOK = demo_tariff_book()


def test_order_registered_the_last_second_before_july_2025_uses_the_2020_tariff():
    last_second = datetime(2025, 6, 30, 23, 59, 59, tzinfo=ICT)
    assert BOOK.version_at(last_second).code == "HCM-BCCI-2020"


def test_order_registered_at_midnight_on_1_july_2025_vietnam_time_uses_the_new_units_tariff():
    assert BOOK.version_at(datetime(2025, 7, 1, tzinfo=ICT)).code == "HCM-BCCI-2025-07"
    assert BOOK.version_at(datetime(2025, 6, 30, 17, 0, tzinfo=UTC)).code == "HCM-BCCI-2025-07"
    assert BOOK.version_at(datetime(2025, 6, 30, 16, 59, 59, tzinfo=UTC)).code == "HCM-BCCI-2020"


def test_order_registered_before_the_first_tariff_cannot_be_priced():
    with pytest.raises(NoTariffInForce) as raised:
        price_order(facts(), datetime(2019, 12, 31, 23, 59, tzinfo=ICT), BOOK)
    assert raised.value.code == "no_tariff_in_force"


def test_version_order_given_to_the_book_does_not_matter():
    book = TariffBook((new_units_2025_tariff(), hcmc_2020_tariff()))
    assert book.version_at(BEFORE_COVID).code == "HCM-BCCI-2020"
    assert book.version_at(IN_2026).code == "HCM-BCCI-2025-07"


def test_two_versions_effective_at_the_same_instant_are_rejected():
    clash = TariffVersion(**{**_version_kwargs(hcmc_2020_tariff()), "code": "OTHER"})
    with pytest.raises(InvalidTariff):
        TariffBook((hcmc_2020_tariff(), clash))


@pytest.mark.parametrize(("origin", "destination", "zone", "postage"), [
    (LINH_TRUNG, LINH_TRUNG, "intra_district", 26_000),
    (LINH_TRUNG, LINH_CHIEU, "intra_district", 26_000),
    (LINH_TRUNG, BEN_NGHE, "intra_province", 30_000),
    (LINH_TRUNG, HIEP_THANH_BINH_DUONG, "inter_province_same_region", 30_500),
    (LINH_TRUNG, HOA_HIEP_BAC_DA_NANG, "inter_province_adjacent_region", 31_000),
    (LINH_TRUNG, PHUC_XA_HA_NOI, "inter_province_distant_region", 31_500),
])
def test_2020_tariff_zones_by_old_district_province_and_region(origin, destination, zone,
                                                                postage):
    price = price_order(facts(origin, destination), BEFORE_COVID, BOOK)
    assert (price.zone, price.total) == (zone, postage)


@pytest.mark.parametrize(("origin", "destination", "zone", "postage"), [
    (LINH_XUAN, LINH_XUAN, "intra_ward", 26_000),
    (LINH_XUAN, SAI_GON, "intra_province", 30_000),
    (LINH_XUAN, THU_DAU_MOT, "intra_province", 30_000),
    (LINH_XUAN, HAI_VAN_DA_NANG, "inter_province_adjacent_region", 31_000),
    (LINH_XUAN, HONG_HA_HA_NOI, "inter_province_distant_region", 31_500),
])
def test_2025_tariff_zones_by_ward_province_and_region(origin, destination, zone, postage):
    price = price_order(facts(origin, destination), IN_2026, BOOK)
    assert (price.zone, price.total) == (zone, postage)


def test_two_wards_of_one_old_district_pay_less_in_2020_than_under_the_2025_zoning():
    leg = facts(LINH_TRUNG, LINH_CHIEU)
    assert price_order(leg, BEFORE_COVID, BOOK).total == 26_000
    assert price_order(leg, IN_2026, BOOK).total == 30_000


def test_thu_dau_mot_to_hcmc_is_inter_province_in_2020_and_intra_province_after_the_merger():
    assert price_order(facts(LINH_TRUNG, HIEP_THANH_BINH_DUONG), BEFORE_COVID,
                       BOOK).zone == "inter_province_same_region"
    assert price_order(facts(LINH_XUAN, THU_DAU_MOT), IN_2026, BOOK).zone == "intra_province"


def test_a_province_missing_from_the_tariff_map_falls_back_to_the_region_the_area_carries():
    unknown = AreaRef("99999", None, "XX", region="north")
    assert price_order(facts(LINH_XUAN, unknown), IN_2026,
                       BOOK).zone == "inter_province_distant_region"


def test_the_tariff_region_map_wins_over_a_region_the_area_carries():
    da_nang_said_south = AreaRef("20194", None, "48", region="south")
    assert price_order(facts(LINH_XUAN, da_nang_said_south), IN_2026,
                       BOOK).zone == "inter_province_adjacent_region"


def test_an_inter_province_leg_with_no_known_region_has_no_zone():
    with pytest.raises(NoZoneForRoute) as raised:
        price_order(facts(LINH_XUAN, AreaRef("99999", None, "XX")), IN_2026, BOOK)
    assert raised.value.code == "no_zone_for_route"


# 100 g base; +1,500 per started 100 g up to 2,000 g; +4,000 per started 500 g above (zone
# intra_district of the demo data).
@pytest.mark.parametrize(("weight_g", "postage"), [
    (1, 26_000), (100, 26_000), (101, 27_500), (200, 27_500), (201, 29_000),
    (2_000, 26_000 + 19 * 1_500), (2_001, 26_000 + 19 * 1_500 + 4_000),
    (2_500, 26_000 + 19 * 1_500 + 4_000), (2_501, 26_000 + 19 * 1_500 + 2 * 4_000),
    (30_000, 26_000 + 19 * 1_500 + 56 * 4_000),
])
def test_each_started_weight_step_is_charged_at_its_edges(weight_g, postage):
    assert price_order(facts(weight_g=weight_g), BEFORE_COVID, BOOK).total == postage


def test_weight_steps_are_priced_per_zone():
    # distant region: 31,500 + 3,500 per started 100 g
    assert price_order(facts(LINH_TRUNG, PHUC_XA_HA_NOI, weight_g=150), BEFORE_COVID,
                       BOOK).total == 35_000


def test_an_item_above_the_heaviest_band_is_refused():
    with pytest.raises(WeightOutOfRange) as raised:
        price_order(facts(weight_g=30_001), BEFORE_COVID, BOOK)
    assert raised.value.errors == {"weight_g": ["must be at most 30000 g"]}


@pytest.mark.parametrize("category", ["revolutionary_pre_1945", "heroic_mother"])
def test_exempt_beneficiaries_ride_free_with_the_waiver_shown_as_its_own_line(category):
    price = price_order(facts(beneficiary_category=category, channel="online_public_service"),
                        datetime(2022, 3, 1, tzinfo=ICT), BOOK)
    assert [(line.code, line.amount) for line in price.lines] == [
        (LineCode.POSTAGE, 26_000), (LineCode.EXEMPTION, -26_000)]
    assert (price.total, price.vat_included, price.promotion_codes) == (0, 0, ())


def test_a_beneficiary_category_the_tariff_does_not_exempt_pays_postage():
    assert price_order(facts(beneficiary_category="war_invalid"), BEFORE_COVID,
                       BOOK).total == 26_000


def test_exemption_waives_postage_but_not_fee_forwarding_or_the_procedure_fee():
    price = price_order(facts(beneficiary_category="heroic_mother", fee_forwarding_vnd=50_000),
                        BEFORE_COVID, BOOK)
    assert (price.total, price.procedure_fee, price.amount_due) == (8_000, 50_000, 58_000)


def test_fee_forwarding_adds_8000_vat_inclusive_and_the_procedure_fee_passes_through_untaxed():
    price = price_order(facts(fee_forwarding_vnd=50_000), datetime(2022, 3, 1, tzinfo=ICT), BOOK)
    by_code = {line.code: line for line in price.lines}
    assert (by_code[LineCode.FEE_FORWARDING].amount, by_code[LineCode.FEE_FORWARDING].vat) == (
        8_000, 593)
    # The procedure fee is no line: no VAT on it, and it stays out of the post's price.
    assert set(by_code) == {LineCode.POSTAGE, LineCode.FEE_FORWARDING}
    assert price.vat_included == sum(line.vat for line in price.lines)
    assert (price.total, price.procedure_fee, price.amount_due) == (
        26_000 + 8_000, 50_000, 26_000 + 8_000 + 50_000)


def test_no_fee_to_forward_means_no_fee_forwarding_charge():
    for amount in (None, 0):
        codes = [line.code for line in price_order(facts(fee_forwarding_vnd=amount),
                                                   BEFORE_COVID, BOOK).lines]
        assert codes == [LineCode.POSTAGE]


def test_cash_on_delivery_adds_the_cod_fee_line():
    price = price_order(facts(payment_method="cash_on_delivery"), BEFORE_COVID, BOOK)
    assert [(line.code, line.amount) for line in price.lines] == [
        (LineCode.POSTAGE, 26_000), (LineCode.COD_FEE, 5_000)]


def test_an_add_on_the_tariff_does_not_offer_is_refused_not_given_free():
    bare = TariffVersion(**{**_version_kwargs(hcmc_2020_tariff()), "add_ons": AddOns()})
    book = TariffBook((bare,))
    with pytest.raises(AddOnNotOffered) as raised:
        price_order(facts(fee_forwarding_vnd=10_000), BEFORE_COVID, book)
    assert raised.value.errors == {"fee_forwarding_vnd": ["fee forwarding not offered"]}
    with pytest.raises(AddOnNotOffered):
        price_order(facts(payment_method="cash_on_delivery"), BEFORE_COVID, book)


def test_a_weight_band_without_a_price_for_every_zone_is_rejected():
    zone = ZoneRule("z1", "zone 1", ZoneRelation.SAME_PROVINCE, 10_000)
    other = ZoneRule("z2", "zone 2", ZoneRelation.INTER_PROVINCE, 20_000)
    with pytest.raises(InvalidTariff) as raised:
        TariffVersion("T", BEFORE_COVID, TaxCategory.STANDARD, (zone, other),
                      (WeightBand(2_000, 100, {"z1": 1_000}),))
    assert "no step price for zones z2" in raised.value.errors["weight_bands"][0]


def test_a_tariff_with_a_naive_effective_instant_is_rejected():
    with pytest.raises(InvalidTariff) as raised:
        TariffVersion("T", datetime(2020, 1, 1), TaxCategory.STANDARD,
                      (ZoneRule("z", "z", ZoneRelation.SAME_PROVINCE, 1),), ())
    assert "effective_from" in raised.value.errors


def test_a_region_relation_on_a_non_inter_province_zone_is_rejected():
    with pytest.raises(InvalidTariff):
        ZoneRule("z", "z", ZoneRelation.SAME_PROVINCE, 1, "same_region")  # type: ignore[arg-type]


def test_zone_rules_apply_in_their_declared_order():
    # A version that prices every intra-province leg alike, even within a district.
    flat = TariffVersion("FLAT", BEFORE_COVID - timedelta(days=30), TaxCategory.STANDARD,
                         (ZoneRule("province", "nội tỉnh", ZoneRelation.SAME_PROVINCE, 20_000),
                          ZoneRule("district", "nội huyện", ZoneRelation.SAME_OLD_DISTRICT,
                                   10_000)),
                         (), regions=RegionMap())
    assert price_order(facts(), BEFORE_COVID, TariffBook((flat,))).zone == "province"


def _version_kwargs(version: TariffVersion) -> dict:
    return {name: getattr(version, name) for name in (
        "code", "effective_from", "tax_category", "zones", "weight_bands", "base_weight_g",
        "add_ons", "exemptions", "regions", "description")}
