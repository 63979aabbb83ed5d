"""Demo tariff data (HCMC 2020, new two-level units 2025, Covid-19 and Quảng Ngãi promotions)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from postal_svc.billing.facts import Channel
from postal_svc.billing.pricing import TariffBook
from postal_svc.billing.promotions import Eligibility, Promotion, PromotionKind
from postal_svc.billing.tariffs import (
    AddOns,
    Exemption,
    RegionMap,
    RegionRelation,
    TariffVersion,
    WeightBand,
    ZoneRelation,
    ZoneRule,
)
from postal_svc.billing.tax import DEFAULT_VAT_TABLE, TaxCategory

# Every figure below is *illustrative* (DOMAIN.md): seed data an administrator replaces, never a
# constant the code relies on. Base prices are one province's published one-way BCCI tariff;
# weight steps, the cash-on-delivery fee and the region split are placeholders to calibrate.
ICT = timezone(timedelta(hours=7))

NORTH, CENTRAL, SOUTH = "north", "central", "south"
_ADJACENT_REGIONS = frozenset({frozenset({NORTH, CENTRAL}), frozenset({CENTRAL, SOUTH})})

# GSO province codes of the 63 provinces before 2025-07-01, by the geographic three regions
# (the centre takes Bắc Trung Bộ, Duyên hải Nam Trung Bộ and Tây Nguyên).
_REGIONS_63 = {
    NORTH: ("01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22",
            "24", "25", "26", "27", "30", "31", "33", "34", "35", "36", "37"),
    CENTRAL: ("38", "40", "42", "44", "45", "46", "48", "49", "51", "52", "54", "56", "58",
              "60", "62", "64", "66", "67", "68"),
    SOUTH: ("70", "72", "74", "75", "77", "79", "80", "82", "83", "84", "86", "87", "89", "91",
            "92", "93", "94", "95", "96"),
}
# The 34 provinces since 2025-07-01 (Resolution 202/2025/QH15), same split.
_REGIONS_34 = {
    NORTH: ("01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33",
            "37"),
    CENTRAL: ("38", "40", "42", "44", "46", "48", "51", "52", "56", "66", "68"),
    SOUTH: ("75", "79", "80", "82", "86", "91", "92", "96"),
}

# zone -> (first 100 g, each further 100 g up to 2 kg, each further 500 g up to 30 kg)
_INTRA_LOCAL = (26_000, 1_500, 4_000)
_INTRA_PROVINCE = (30_000, 2_000, 5_000)
_SAME_REGION = (30_500, 2_500, 6_500)
_ADJACENT_REGION = (31_000, 3_000, 8_000)
_DISTANT_REGION = (31_500, 3_500, 9_500)

_FEE_FORWARDING_VND = 8_000  # per dossier, one province's notice
_CASH_ON_DELIVERY_VND = 5_000

_EXEMPTIONS = (
    Exemption("revolutionary_pre_1945", "Người hoạt động cách mạng trước ngày 01/01/1945",
              "Circular 22/2017/TT-BTTTT; provincial BCCI tariff notice"),
    Exemption("heroic_mother", "Bà mẹ Việt Nam Anh hùng",
              "Circular 22/2017/TT-BTTTT; provincial BCCI tariff notice"),
)


def hcmc_2020_tariff() -> TariffVersion:
    """HCMC BCCI tariff from 2020-01-01T00:00+07:00, zoned on the three-level map."""
    zones = (
        ("intra_district", "nội quận/huyện", ZoneRelation.SAME_OLD_DISTRICT, None, _INTRA_LOCAL),
        ("intra_province", "liên quận/huyện nội tỉnh", ZoneRelation.SAME_PROVINCE, None,
         _INTRA_PROVINCE),
        *_inter_province_zones(),
    )
    return _tariff("HCM-BCCI-2020", datetime(2020, 1, 1, tzinfo=ICT), zones, _REGIONS_63,
                   "Bảng cước BCCI Bưu điện TP.HCM 2020 (minh hoạ)")


def new_units_2025_tariff() -> TariffVersion:
    """BCCI tariff from 2025-07-01T00:00+07:00 on the two-level map (no districts)."""
    zones = (
        ("intra_ward", "nội phường/xã", ZoneRelation.SAME_WARD, None, _INTRA_LOCAL),
        ("intra_province", "liên phường/xã nội tỉnh", ZoneRelation.SAME_PROVINCE, None,
         _INTRA_PROVINCE),
        *_inter_province_zones(),
    )
    return _tariff("HCM-BCCI-2025-07", datetime(2025, 7, 1, tzinfo=ICT), zones, _REGIONS_34,
                   "Bảng cước BCCI theo đơn vị hành chính hai cấp (minh hoạ)")


def covid19_online_promotion() -> Promotion:
    """HCMC: 20% off postage for services registered online, from 15/2/2020, open-ended."""
    return Promotion(
        code="COVID19-ONLINE-20",
        kind=PromotionKind.PERCENT_OFF,
        value=Decimal(20),
        valid_from=datetime(2020, 2, 15, tzinfo=ICT),
        valid_until=None,
        eligibility=Eligibility(channels=frozenset({Channel.ONLINE_PUBLIC_SERVICE})),
        description="Giảm 20% cước cho hồ sơ đăng ký qua dịch vụ công trực tuyến (Covid-19)",
    )


def quang_ngai_style_fixed_price_promotion(
        province_codes: frozenset[str] = frozenset({"51"})) -> Promotion:
    """Quảng Ngãi 1/3/2020-30/4/2020: 26,000 -> 15,000 đ and 30,000 -> 20,000 đ, per zone."""
    return Promotion(
        code="QNG-BCCI-2020",
        kind=PromotionKind.FIXED_PRICE,
        value={"intra_district": 15_000, "intra_province": 20_000},
        valid_from=datetime(2020, 3, 1, tzinfo=ICT),
        valid_until=datetime(2020, 5, 1, tzinfo=ICT),  # "until 30/4" inclusive
        eligibility=Eligibility(province_codes=province_codes),
        description="Đồng giá cước BCCI nội tỉnh (Covid-19)",
    )


def demo_tariff_book() -> TariffBook:
    """Both demo tariff versions, the HCMC Covid-19 promotion and the default VAT table."""
    return TariffBook(
        tariff_versions=(hcmc_2020_tariff(), new_units_2025_tariff()),
        promotions=(covid19_online_promotion(),),
        vat_table=DEFAULT_VAT_TABLE,
    )


def _inter_province_zones() -> tuple[tuple[str, str, ZoneRelation, RegionRelation,
                                           tuple[int, int, int]], ...]:
    return (
        ("inter_province_same_region", "liên tỉnh nội vùng", ZoneRelation.INTER_PROVINCE,
         RegionRelation.SAME_REGION, _SAME_REGION),
        ("inter_province_adjacent_region", "liên tỉnh cận vùng", ZoneRelation.INTER_PROVINCE,
         RegionRelation.ADJACENT_REGION, _ADJACENT_REGION),
        ("inter_province_distant_region", "liên tỉnh cách vùng", ZoneRelation.INTER_PROVINCE,
         RegionRelation.DISTANT_REGION, _DISTANT_REGION),
    )


def _tariff(code: str, effective_from: datetime,
            zones: tuple[tuple[str, str, ZoneRelation, RegionRelation | None,
                               tuple[int, int, int]], ...],
            regions: dict[str, tuple[str, ...]], description: str) -> TariffVersion:
    return TariffVersion(
        code=code,
        effective_from=effective_from,
        tax_category=TaxCategory.STANDARD,
        zones=tuple(ZoneRule(zone_code, label, relation, prices[0], region_relation)
                    for zone_code, label, relation, region_relation, prices in zones),
        base_weight_g=100,
        weight_bands=(
            WeightBand(2_000, 100, {z[0]: z[4][1] for z in zones}),
            WeightBand(30_000, 500, {z[0]: z[4][2] for z in zones}),
        ),
        add_ons=AddOns(fee_forwarding_vnd=_FEE_FORWARDING_VND,
                       cash_on_delivery_vnd=_CASH_ON_DELIVERY_VND),
        exemptions=_EXEMPTIONS,
        regions=RegionMap({province: region for region, provinces in regions.items()
                           for province in provinces}, _ADJACENT_REGIONS),
        description=description,
    )
