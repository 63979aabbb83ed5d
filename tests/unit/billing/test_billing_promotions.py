"""Promotions: validity windows in Vietnam time, eligibility, and how several combine."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from postal_svc.billing.demo_tariffs import (
    covid19_online_promotion,
    demo_tariff_book,
    hcmc_2020_tariff,
    new_units_2025_tariff,
    quang_ngai_style_fixed_price_promotion,
)
from postal_svc.billing.errors import InvalidPromotion
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.pricing import LineCode, TariffBook, price_order
from postal_svc.billing.promotions import (
    Eligibility,
    Promotion,
    PromotionKind,
    combine_promotions,
)

ICT = timezone(timedelta(hours=7))
UTC = timezone.utc
LINH_TRUNG = AreaRef("26800", "769", "79")
LINH_CHIEU = AreaRef("26815", "769", "79")
BEN_NGHE = AreaRef("26740", "760", "79")
PHUC_XA_HA_NOI = AreaRef("00001", "001", "01")
LE_HONG_PHONG_QNG = AreaRef("21010", "522", "51")
TRAN_PHU_QNG = AreaRef("21013", "522", "51")
CHAU_O_BINH_SON_QNG = AreaRef("21040", "524", "51")
EARLY_2020 = datetime(2020, 1, 10, tzinfo=ICT)


def facts(**overrides) -> PricingFacts:
    values = dict(kind="result_delivery", channel="online_public_service",
                  agency_code="UBND-LINH-TRUNG", origin=LINH_TRUNG, destination=LINH_CHIEU,
                  weight_g=100, payment_method="online")
    values.update(overrides)
    return PricingFacts(**values)


def promotion(code: str, kind: str, value, *, stackable: bool = False, priority: int = 100,
              **eligibility) -> Promotion:
    return Promotion(code=code, kind=PromotionKind(kind), value=value, valid_from=EARLY_2020,
                     eligibility=Eligibility(**eligibility), stackable=stackable,
                     priority=priority)


def book_with(*promotions: Promotion) -> TariffBook:
    return TariffBook((hcmc_2020_tariff(), new_units_2025_tariff()), promotions)


BOOK = demo_tariff_book()


def test_order_registered_one_second_before_15_february_2020_ict_gets_no_covid_discount():
    price = price_order(facts(), datetime(2020, 2, 14, 23, 59, 59, tzinfo=ICT), BOOK)
    assert (price.total, price.promotion_codes) == (26_000, ())


def test_order_registered_at_midnight_on_15_february_2020_ict_gets_20_percent_off():
    price = price_order(facts(), datetime(2020, 2, 15, 0, 0, 0, tzinfo=ICT), BOOK)
    assert (price.total, price.promotion_codes) == (20_800, ("COVID19-ONLINE-20",))
    assert [(line.code, line.amount) for line in price.lines] == [
        (LineCode.POSTAGE, 26_000), (LineCode.PROMOTION, -5_200)]


def test_the_same_instants_written_in_utc_get_the_same_answers():
    assert price_order(facts(), datetime(2020, 2, 14, 16, 59, 59, tzinfo=UTC), BOOK).total == 26_000
    assert price_order(facts(), datetime(2020, 2, 14, 17, 0, 0, tzinfo=UTC), BOOK).total == 20_800


def test_a_promotion_starting_at_17h_utc_is_the_same_as_one_starting_at_midnight_ict():
    local = covid19_online_promotion()
    utc = Promotion(**{**_kwargs(local), "valid_from": datetime(2020, 2, 14, 17, tzinfo=UTC)})
    assert local.valid_from == utc.valid_from
    at = datetime(2020, 2, 14, 17, 0, tzinfo=UTC)
    assert local.is_valid_at(at) and utc.is_valid_at(at)


@pytest.mark.parametrize("channel", ["counter", "hotline"])
def test_orders_registered_at_the_counter_or_by_hotline_pay_full_price(channel):
    price = price_order(facts(channel=channel), datetime(2020, 3, 1, tzinfo=ICT), BOOK)
    assert (price.total, price.promotion_codes) == (26_000, ())


def test_closing_the_promotion_at_t_leaves_earlier_orders_discounted_and_t_onwards_full_price():
    closed_at = datetime(2021, 6, 1, tzinfo=ICT)
    closed = Promotion(**{**_kwargs(covid19_online_promotion()), "valid_until": closed_at})
    book = book_with(closed)
    assert price_order(facts(), closed_at - timedelta(microseconds=1), book).total == 20_800
    assert price_order(facts(), closed_at, book).total == 26_000
    assert price_order(facts(), closed_at + timedelta(days=1), book).total == 26_000


def test_the_covid_promotion_reduces_postage_only_not_fee_forwarding_nor_procedure_fee():
    price = price_order(facts(fee_forwarding_vnd=50_000, payment_method="cash_on_delivery"),
                        datetime(2020, 3, 1, tzinfo=ICT), BOOK)
    assert [(line.code, line.amount) for line in price.lines] == [
        (LineCode.POSTAGE, 26_000), (LineCode.PROMOTION, -5_200),
        (LineCode.FEE_FORWARDING, 8_000), (LineCode.COD_FEE, 5_000)]
    assert price.total == 20_800 + 8_000 + 5_000
    assert (price.procedure_fee, price.amount_due) == (50_000, 20_800 + 8_000 + 5_000 + 50_000)


def test_the_percentage_applies_to_the_whole_postage_including_weight_steps():
    # 26,000 + 3 x 1,500 = 30,500; 20% = 6,100
    price = price_order(facts(weight_g=350), datetime(2020, 3, 1, tzinfo=ICT), BOOK)
    assert price.total == 24_400


@pytest.mark.parametrize(("eligibility", "eligible"), [
    ({"kinds": frozenset({"dossier_pickup"})}, False),
    ({"kinds": frozenset({"result_delivery"})}, True),
    ({"agency_codes": frozenset({"UBND-OTHER"})}, False),
    ({"agency_codes": frozenset({"UBND-LINH-TRUNG"})}, True),
    ({"province_codes": frozenset({"51"})}, False),
    ({"province_codes": frozenset({"79", "51"})}, True),
])
def test_eligibility_by_kind_agency_and_province(eligibility, eligible):
    book = book_with(promotion("P", "amount_off", 1_000, **eligibility))
    total = price_order(facts(), datetime(2020, 3, 1, tzinfo=ICT), book).total
    assert total == (25_000 if eligible else 26_000)


def test_province_eligibility_is_judged_at_the_agency_end_of_the_leg():
    hanoi_only = book_with(promotion("HN", "amount_off", 1_000,
                                     province_codes=frozenset({"01"})))
    at = datetime(2020, 3, 1, tzinfo=ICT)
    # A Hanoi citizen's dossier goes to an HCMC agency: the HCMC post provides the service.
    pickup = facts(kind="dossier_pickup", origin=PHUC_XA_HA_NOI, destination=LINH_TRUNG)
    delivery = facts(kind="result_delivery", origin=PHUC_XA_HA_NOI, destination=LINH_TRUNG)
    assert price_order(pickup, at, hanoi_only).promotion_codes == ()
    assert price_order(delivery, at, hanoi_only).promotion_codes == ("HN",)


def test_quang_ngai_fixed_promotional_price_replaces_the_postage_per_zone():
    book = book_with(quang_ngai_style_fixed_price_promotion())
    at = datetime(2020, 4, 30, 23, 59, tzinfo=ICT)
    same_district = facts(channel="counter", agency_code="UBND-LHP", origin=LE_HONG_PHONG_QNG,
                          destination=TRAN_PHU_QNG)
    other_district = facts(channel="counter", agency_code="UBND-LHP", origin=LE_HONG_PHONG_QNG,
                           destination=CHAU_O_BINH_SON_QNG)
    assert price_order(same_district, at, book).total == 15_000
    assert price_order(other_district, at, book).total == 20_000
    assert price_order(same_district, datetime(2020, 5, 1, tzinfo=ICT), book).total == 26_000
    assert price_order(same_district, datetime(2020, 2, 29, 23, 59, tzinfo=ICT),
                       book).total == 26_000


def test_a_fixed_price_does_not_apply_in_zones_it_does_not_list():
    book = book_with(quang_ngai_style_fixed_price_promotion(frozenset({"79"})))
    price = price_order(facts(destination=PHUC_XA_HA_NOI), datetime(2020, 3, 2, tzinfo=ICT), book)
    assert (price.total, price.promotion_codes) == (31_500, ())


def test_a_fixed_price_above_the_postage_never_raises_it():
    cheap = promotion("FIX", "fixed_price", {"intra_district": 40_000})
    assert combine_promotions([cheap], 26_000, "intra_district") == ()


def test_among_non_stackable_promotions_only_the_best_for_the_customer_applies():
    ten_percent = promotion("TEN", "percent_off", Decimal(10))
    three_thousand = promotion("FLAT3K", "amount_off", 3_000)
    applied = combine_promotions([ten_percent, three_thousand], 26_000, "intra_district")
    assert [(a.promotion.code, a.discount_vnd) for a in applied] == [("FLAT3K", 3_000)]
    applied = combine_promotions([ten_percent, three_thousand], 40_000, "intra_district")
    assert [(a.promotion.code, a.discount_vnd) for a in applied] == [("TEN", 4_000)]


def test_equal_non_stackable_discounts_go_to_the_higher_priority_then_the_smaller_code():
    first = promotion("B", "amount_off", 2_000, priority=1)
    second = promotion("A", "amount_off", 2_000, priority=2)
    third = promotion("C", "amount_off", 2_000, priority=1)
    applied = combine_promotions([second, third, first], 26_000, "intra_district")
    assert [a.promotion.code for a in applied] == ["B"]


def test_stackable_promotions_apply_after_the_best_one_in_priority_order_on_what_is_left():
    best = promotion("COVID", "percent_off", Decimal(20))
    voucher = promotion("VOUCHER", "amount_off", 1_000, stackable=True, priority=2)
    loyalty = promotion("LOYAL", "percent_off", Decimal(10), stackable=True, priority=1)
    applied = combine_promotions([voucher, best, loyalty], 26_000, "intra_district")
    # 26,000 -20% -> 20,800; -10% -> 18,720; -1,000 -> 17,720
    assert [(a.promotion.code, a.discount_vnd) for a in applied] == [
        ("COVID", 5_200), ("LOYAL", 2_080), ("VOUCHER", 1_000)]


def test_stacked_promotions_never_push_postage_below_zero():
    big = promotion("BIG", "amount_off", 20_000)
    more = promotion("MORE", "amount_off", 20_000, stackable=True)
    unused = promotion("LATE", "amount_off", 500, stackable=True, priority=999)
    applied = combine_promotions([big, more, unused], 26_000, "intra_district")
    assert [(a.promotion.code, a.discount_vnd) for a in applied] == [("BIG", 20_000),
                                                                     ("MORE", 6_000)]
    price = price_order(facts(payment_method="cash_on_delivery"),
                        datetime(2020, 3, 1, tzinfo=ICT), book_with(big, more, unused))
    assert price.total == 5_000  # only the COD fee is left
    assert price.promotion_codes == ("BIG", "MORE")


def test_the_priced_lines_follow_the_combination_rule():
    book = book_with(promotion("TEN", "percent_off", Decimal(10)),
                     promotion("STACK", "amount_off", 1_000, stackable=True))
    price = price_order(facts(channel="counter"), datetime(2020, 3, 1, tzinfo=ICT), book)
    assert [(line.code, line.promotion_code, line.amount) for line in price.lines] == [
        (LineCode.POSTAGE, None, 26_000), (LineCode.PROMOTION, "TEN", -2_600),
        (LineCode.PROMOTION, "STACK", -1_000)]
    assert price.total == 22_400


@pytest.mark.parametrize(("kind", "value"), [
    ("percent_off", Decimal(0)), ("percent_off", Decimal(101)), ("percent_off", 20.0),
    ("amount_off", 0), ("amount_off", Decimal(1000)), ("fixed_price", {}),
    ("fixed_price", {"intra_district": -1}), ("fixed_price", 15_000),
])
def test_a_promotion_value_that_does_not_fit_its_kind_is_rejected(kind, value):
    with pytest.raises(InvalidPromotion) as raised:
        promotion("BAD", kind, value)
    assert "value" in raised.value.errors


def test_a_promotion_window_that_ends_before_it_starts_or_is_naive_is_rejected():
    with pytest.raises(InvalidPromotion):
        Promotion("X", PromotionKind.AMOUNT_OFF, 1_000, valid_from=EARLY_2020,
                  valid_until=EARLY_2020)
    with pytest.raises(InvalidPromotion):
        Promotion("X", PromotionKind.AMOUNT_OFF, 1_000, valid_from=datetime(2020, 1, 1))


def test_an_unknown_channel_in_eligibility_is_rejected():
    with pytest.raises(InvalidPromotion):
        Eligibility(channels=frozenset({"online"}))


def test_two_promotions_with_one_code_are_rejected_by_the_book():
    with pytest.raises(InvalidPromotion):
        book_with(promotion("SAME", "amount_off", 1), promotion("SAME", "amount_off", 2))


def _kwargs(p: Promotion) -> dict:
    return {name: getattr(p, name) for name in (
        "code", "kind", "value", "valid_from", "valid_until", "eligibility", "stackable",
        "priority", "description")}


def test_a_promotion_is_scheduled_then_active_on_its_half_open_interval_then_ended():
    import dataclasses
    open_ended = promotion("P20", "percent_off", Decimal("0.20"))
    second = timedelta(seconds=1)
    assert open_ended.state_at(EARLY_2020 - second) == "scheduled"
    assert open_ended.state_at(EARLY_2020) == "active"
    assert open_ended.state_at(datetime(2030, 1, 1, tzinfo=UTC)) == "active"
    end = EARLY_2020 + timedelta(days=30)
    closed = dataclasses.replace(open_ended, valid_until=end)
    assert closed.state_at(end - second) == "active"
    assert closed.state_at(end) == "ended"
