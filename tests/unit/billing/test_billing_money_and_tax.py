"""Integer VND rounding, VAT splitting and the time-versioned VAT table."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise

import pytest

from postal_svc.billing.errors import InvalidPricingFacts, InvalidTaxRate, NoTaxRateInForce
from postal_svc.billing.money import percent_of, round_vnd, split_vat
from postal_svc.billing.tax import (
    DEFAULT_VAT_TABLE,
    TaxCategory,
    VatRate,
    VatTable,
    default_vat_rates,
    format_rate,
)

ICT = timezone(timedelta(hours=7))
UTC = timezone.utc
STANDARD = TaxCategory.STANDARD


def test_worked_example_26000_less_20_percent_is_20800_split_19259_net_and_1541_vat_at_8_percent():
    discounted = 26_000 - percent_of(26_000, Decimal(20))
    assert discounted == 20_800
    assert split_vat(discounted, Decimal("0.08")) == (19_259, 1_541)


@pytest.mark.parametrize(("amount", "expected"), [
    (Decimal("1540.5"), 1541), (Decimal("1540.49"), 1540), (Decimal("-385.5"), -386),
    (Decimal("0.5"), 1), (Decimal("0"), 0),
])
def test_round_vnd_rounds_half_up_away_from_zero(amount, expected):
    assert round_vnd(amount) == expected


def test_round_vnd_refuses_floats_because_they_have_already_lost_the_exact_amount():
    with pytest.raises(TypeError):
        round_vnd(1540.5)  # type: ignore[arg-type]


def test_split_vat_refuses_a_float_rate_and_a_non_integer_amount():
    with pytest.raises(TypeError):
        split_vat(20_800, 0.08)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        split_vat(Decimal(20_800), Decimal("0.08"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        split_vat(True, Decimal("0.08"))  # type: ignore[arg-type]


def test_split_vat_of_a_discount_is_the_mirror_of_the_charge():
    assert split_vat(-5_200, Decimal("0.08")) == (-4_815, -385)
    assert split_vat(26_000, Decimal("0.10")) == (23_636, 2_364)


def test_split_vat_rejects_a_percentage_given_where_a_fraction_is_expected():
    with pytest.raises(ValueError):
        split_vat(26_000, Decimal("8"))


# (last day at 10%, first day at 8%, last day at 8%, first day back at 10%) of each decree;
# consecutive decrees chain, so the "10%" neighbour is only checked where one exists.
REDUCED_PERIODS = [
    (date(2022, 2, 1), date(2022, 12, 31), True, True),
    (date(2023, 7, 1), date(2023, 12, 31), True, False),
    (date(2024, 1, 1), date(2024, 6, 30), False, False),
    (date(2024, 7, 1), date(2024, 12, 31), False, False),
    (date(2025, 1, 1), date(2025, 6, 30), False, False),
    (date(2025, 7, 1), date(2026, 12, 31), False, True),
]


def _rate_at(instant: datetime) -> Decimal | None:
    return DEFAULT_VAT_TABLE.rate_at(STANDARD, instant).rate


@pytest.mark.parametrize(("first_day", "last_day", "ten_before", "ten_after"), REDUCED_PERIODS)
def test_vat_is_8_percent_from_the_first_to_the_last_day_of_each_reduced_period_in_vietnam_time(
        first_day, last_day, ten_before, ten_after):
    start = datetime.combine(first_day, datetime.min.time(), ICT)
    end = datetime.combine(last_day, datetime.max.time(), ICT)
    assert _rate_at(start) == Decimal("0.08")
    assert _rate_at(end) == Decimal("0.08")
    before, after = _rate_at(start - timedelta(microseconds=1)), _rate_at(end + timedelta(
        microseconds=1))
    assert before == (Decimal("0.10") if ten_before else Decimal("0.08"))
    assert after == (Decimal("0.10") if ten_after else Decimal("0.08"))


def test_last_second_of_january_2022_in_vietnam_is_10_percent_and_midnight_is_8_percent():
    assert _rate_at(datetime(2022, 1, 31, 23, 59, 59, tzinfo=ICT)) == Decimal("0.10")
    assert _rate_at(datetime(2022, 2, 1, 0, 0, tzinfo=ICT)) == Decimal("0.08")


def test_an_instant_given_in_utc_is_judged_on_its_vietnam_date():
    # 17:30Z on 31 January is 00:30 on 1 February in Hanoi.
    assert _rate_at(datetime(2022, 1, 31, 17, 30, tzinfo=UTC)) == Decimal("0.08")
    assert _rate_at(datetime(2022, 1, 31, 16, 59, 59, tzinfo=UTC)) == Decimal("0.10")


def test_reduced_rows_cite_their_decree_and_store_exclusive_ends():
    row = DEFAULT_VAT_TABLE.rate_on(STANDARD, date(2025, 7, 1))
    assert row.legal_basis == "Decree 174/2025/NĐ-CP"
    assert row.valid_until == date(2027, 1, 1)
    assert DEFAULT_VAT_TABLE.rate_on(STANDARD, date(2027, 1, 1)).rate == Decimal("0.10")


def test_not_subject_category_has_no_rate_at_any_time():
    for day in (date(2020, 3, 1), date(2022, 6, 1), date(2030, 1, 1)):
        assert DEFAULT_VAT_TABLE.rate_on(TaxCategory.NOT_SUBJECT, day).rate is None


def test_a_gap_in_the_vat_table_is_an_error_not_zero_percent():
    table = VatTable((VatRate(STANDARD, Decimal("0.10"), date(2020, 1, 1), date(2021, 1, 1),
                              "test"),))
    with pytest.raises(NoTaxRateInForce) as raised:
        table.rate_on(STANDARD, date(2021, 1, 1))
    assert raised.value.code == "no_tax_rate_in_force"
    with pytest.raises(NoTaxRateInForce):
        table.rate_on(STANDARD, date(2019, 12, 31))


def test_overlapping_periods_of_one_category_are_rejected():
    rows = (
        VatRate(STANDARD, Decimal("0.10"), date(2020, 1, 1), None, "law"),
        VatRate(STANDARD, Decimal("0.08"), date(2022, 2, 1), date(2023, 1, 1), "decree"),
    )
    with pytest.raises(InvalidTaxRate):
        VatTable(rows)


def test_a_rate_for_not_subject_or_a_float_rate_is_rejected():
    with pytest.raises(InvalidTaxRate):
        VatRate(TaxCategory.NOT_SUBJECT, Decimal("0.10"), date(2020, 1, 1), None, "x")
    with pytest.raises(InvalidTaxRate):
        VatRate(STANDARD, 0.1, date(2020, 1, 1), None, "x")  # type: ignore[arg-type]


def test_a_naive_instant_cannot_be_placed_on_a_vietnam_date():
    with pytest.raises(InvalidPricingFacts):
        DEFAULT_VAT_TABLE.rate_at(STANDARD, datetime(2022, 2, 1))


def test_default_rows_chain_without_gaps_from_2009():
    standard = [row for row in default_vat_rates() if row.category is STANDARD]
    assert standard[0].valid_from == date(2009, 1, 1)
    assert standard[-1].valid_until is None
    assert all(a.valid_until == b.valid_from for a, b in pairwise(standard))


@pytest.mark.parametrize(("rate", "label"), [
    (Decimal("0.08"), "8%"), (Decimal("0.10"), "10%"), (Decimal("0.035"), "3.5%"), (None, None),
])
def test_vat_rate_is_shown_as_a_percentage_label(rate, label):
    assert format_rate(rate) == label
