"""Properties every price must have, whatever the order, instant and promotions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postal_svc.billing.demo_tariffs import (
    covid19_online_promotion,
    hcmc_2020_tariff,
    new_units_2025_tariff,
)
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.money import split_vat
from postal_svc.billing.errors import BillingError, InvalidPricingFacts
from postal_svc.billing.pricing import (
    PRICE_MEMO_SIZE, LineCode, TariffBook, price_order, remembered_price)
from postal_svc.billing.promotions import Eligibility, Promotion, PromotionKind
from postal_svc.billing.tax import DEFAULT_VAT_TABLE

ICT = timezone(timedelta(hours=7))

# Old units are used before 2025-07-01 and new ones after; both maps know these provinces.
OLD_AREAS = [
    AreaRef("26800", "769", "79"), AreaRef("26815", "769", "79"), AreaRef("26740", "760", "79"),
    AreaRef("25741", "718", "74"), AreaRef("20194", "490", "48"), AreaRef("00001", "001", "01"),
    AreaRef("21010", "522", "51"),
]
NEW_AREAS = [
    AreaRef("26800", None, "79"), AreaRef("26740", None, "79"), AreaRef("25747", None, "79"),
    AreaRef("20194", None, "48"), AreaRef("00097", None, "01"), AreaRef("21028", None, "51"),
]
ZONES = ["intra_district", "intra_province", "intra_ward", "inter_province_same_region",
         "inter_province_adjacent_region", "inter_province_distant_region"]
NEW_UNITS_FROM = datetime(2025, 7, 1, tzinfo=ICT)

instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.sampled_from([ICT, timezone.utc,
                                                   timezone(timedelta(hours=-5))]))


@st.composite
def promotions(draw) -> Promotion:
    kind = draw(st.sampled_from(list(PromotionKind)))
    if kind is PromotionKind.PERCENT_OFF:
        value = draw(st.decimals(min_value=Decimal("0.01"), max_value=100, places=2))
    elif kind is PromotionKind.AMOUNT_OFF:
        value = draw(st.integers(min_value=1, max_value=60_000))
    else:
        value = draw(st.dictionaries(st.sampled_from(ZONES),
                                     st.integers(min_value=0, max_value=60_000), min_size=1))
    start = draw(st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2027, 1, 1),
                              timezones=st.just(ICT)))
    length = draw(st.none() | st.timedeltas(min_value=timedelta(seconds=1),
                                            max_value=timedelta(days=2_000)))
    return Promotion(
        code=draw(st.text("ABCDEFGH0123456789-", min_size=1, max_size=8)),
        kind=kind, value=value, valid_from=start,
        valid_until=None if length is None else start + length,
        eligibility=Eligibility(channels=draw(st.frozensets(st.sampled_from(
            ["online_public_service", "counter", "hotline"]), max_size=2))),
        stackable=draw(st.booleans()), priority=draw(st.integers(0, 5)))


@st.composite
def books(draw) -> TariffBook:
    extra = draw(st.lists(promotions(), max_size=4, unique_by=lambda p: p.code))
    return TariffBook((hcmc_2020_tariff(), new_units_2025_tariff()),
                      (covid19_online_promotion(), *extra), DEFAULT_VAT_TABLE)


@st.composite
def priced_orders(draw):
    registered_at = draw(instants)
    areas = NEW_AREAS if registered_at >= NEW_UNITS_FROM else OLD_AREAS
    facts = PricingFacts(
        kind=draw(st.sampled_from(["dossier_pickup", "result_delivery"])),
        channel=draw(st.sampled_from(["online_public_service", "counter", "hotline"])),
        agency_code=draw(st.sampled_from(["UBND-LINH-TRUNG", "UBND-BEN-NGHE"])),
        origin=draw(st.sampled_from(areas)), destination=draw(st.sampled_from(areas)),
        weight_g=draw(st.integers(min_value=1, max_value=30_000)),
        pieces=draw(st.integers(min_value=1, max_value=5)),
        fee_forwarding_vnd=draw(st.none() | st.integers(min_value=0, max_value=2_000_000)),
        payment_method=draw(st.sampled_from(["online", "cash_on_delivery", "agency_account"])),
        beneficiary_category=draw(st.none() | st.sampled_from(
            ["heroic_mother", "revolutionary_pre_1945", "war_invalid"])),
    )
    return facts, registered_at, draw(books())


@settings(max_examples=400, deadline=None)
@given(priced_orders())
def test_every_price_adds_up_line_by_line_and_is_never_negative(order):
    facts, registered_at, book = order
    price = price_order(facts, registered_at, book)
    assert price.total == sum(line.amount for line in price.lines)
    assert price.vat_included == sum(line.vat for line in price.lines)
    assert price.total >= 0
    for line in price.lines:
        assert all(type(v) is int for v in (line.amount, line.net, line.vat))
        assert line.net + line.vat == line.amount
    body = price.to_dict()
    assert all(type(body[key]) is int for key in ("total", "vat_included"))


@settings(max_examples=400, deadline=None)
@given(priced_orders())
def test_discounts_never_exceed_postage_and_discounted_postage_splits_like_its_own_amount(order):
    facts, registered_at, book = order
    price = price_order(facts, registered_at, book)
    postage_lines = [line for line in price.lines if line.code in (
        LineCode.POSTAGE, LineCode.PROMOTION, LineCode.EXEMPTION)]
    postage = sum(line.amount for line in postage_lines)
    assert 0 <= postage <= postage_lines[0].amount
    assert all(line.amount <= 0 for line in postage_lines[1:])
    expected_vat = 0 if price.vat_rate is None else split_vat(postage, price.vat_rate)[1]
    assert sum(line.vat for line in postage_lines) == expected_vat


@settings(max_examples=200, deadline=None)
@given(priced_orders())
def test_only_postage_is_ever_discounted(order):
    facts, registered_at, book = order
    price = price_order(facts, registered_at, book)
    other = {line.code: line.amount for line in price.lines if line.code in (
        LineCode.FEE_FORWARDING, LineCode.COD_FEE)}
    if facts.fee_forwarding_vnd:
        assert other[LineCode.FEE_FORWARDING] == 8_000
    assert price.procedure_fee == (facts.fee_forwarding_vnd or 0)
    assert price.amount_due == price.total + price.procedure_fee
    if facts.payment_method == "cash_on_delivery":
        assert other[LineCode.COD_FEE] == 5_000
    assert price.total == sum(other.values()) + sum(
        line.amount for line in price.lines if line.code not in other)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-10**12, max_value=10**12),
       st.sampled_from([Decimal("0.05"), Decimal("0.08"), Decimal("0.10")]))
def test_split_vat_always_adds_back_to_the_gross_amount(gross, rate):
    net, vat = split_vat(gross, rate)
    assert net + vat == gross
    assert abs(vat * (1 + rate) - gross * rate) <= (1 + rate) / 2


def _outcome(pricing, facts, instant, book):
    """The price, or the refusal, as a comparable value."""
    try:
        return pricing(facts, instant, book)
    except BillingError as error:
        return type(error), str(error)


@settings(max_examples=300, deadline=None)
@given(priced_orders(), st.lists(instants, max_size=8), st.data())
def test_a_remembered_price_is_the_price_worked_out_afresh(order, others, data):
    facts, registered_at, book = order
    # The book's own rule changes and a microsecond either side are where a remembered
    # price could outlive its rules; so is Vietnamese midnight, where VAT rates change.
    tick = timedelta(microseconds=1)
    edges = [change + step for change in book._rule_changes for step in (-tick, 0 * tick, tick)]
    midnight = datetime.combine(registered_at.astimezone(ICT).date(), datetime.min.time(), ICT)
    moments = [registered_at, *others, *edges, midnight - tick, midnight, midnight + tick]
    for instant in data.draw(st.permutations(moments)):
        _outcome(remembered_price, facts, instant, book)  # fills the book's memory, any order
    for instant in moments:
        assert (_outcome(remembered_price, facts, instant, book)
                == _outcome(price_order, facts, instant, book))


def _facts(weight_g: int = 150) -> PricingFacts:
    return PricingFacts(kind="result_delivery", channel="counter", agency_code="UBND-LINH-TRUNG",
                        origin=NEW_AREAS[0], destination=NEW_AREAS[1], weight_g=weight_g,
                        payment_method="online")


def _book_without_promotions() -> TariffBook:
    return TariffBook((hcmc_2020_tariff(), new_units_2025_tariff()), (), DEFAULT_VAT_TABLE)


def test_the_same_facts_on_both_sides_of_a_vat_change_get_each_days_rate():
    # 8% until 2026-12-31 (Decree 174/2025/NĐ-CP), 10% from 2027-01-01: no tariff or
    # promotion changes at that midnight, only the day.
    facts, book = _facts(), _book_without_promotions()
    last_day = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ICT)
    assert remembered_price(facts, last_day, book).vat_rate == Decimal("0.08")
    assert remembered_price(facts, last_day + timedelta(seconds=1), book).vat_rate \
        == Decimal("0.10")
    again = remembered_price(facts, last_day - timedelta(hours=1), book)  # remembered, same day
    assert again.vat_rate == Decimal("0.08")
    assert again.priced_at == last_day - timedelta(hours=1)


def test_a_book_remembers_a_bounded_number_of_prices():
    book = _book_without_promotions()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=ICT)
    for weight in range(1, PRICE_MEMO_SIZE + 50):
        remembered_price(_facts(weight), at, book)
        assert len(book._prices) <= PRICE_MEMO_SIZE


def test_remembering_needs_an_aware_instant_too():
    with pytest.raises(InvalidPricingFacts):
        remembered_price(_facts(), datetime(2026, 3, 2, 9, 0), _book_without_promotions())
