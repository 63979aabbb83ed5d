"""JSON documents of tariffs, promotions, VAT rates and facts: round trips and refused input."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from postal_svc.billing.codec import (
    decode_facts,
    decode_promotion,
    decode_tariff_version,
    decode_vat_rate,
    encode_facts,
    encode_promotion,
    encode_tariff_version,
    encode_vat_rate,
)
from postal_svc.billing.demo_tariffs import (
    covid19_online_promotion,
    demo_tariff_book,
    hcmc_2020_tariff,
    new_units_2025_tariff,
    quang_ngai_style_fixed_price_promotion,
)
from postal_svc.billing.errors import (
    InvalidPricingFacts,
    InvalidPromotion,
    InvalidTariff,
    InvalidTaxRate,
)
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.pricing import TariffBook, price_order
from postal_svc.billing.promotions import Eligibility, Promotion
from postal_svc.billing.tax import DEFAULT_VAT_TABLE, TaxCategory, VatRate, default_vat_rates

ICT = timezone(timedelta(hours=7))


def through_json(document: dict) -> dict:
    """What the database or the network gives back: plain JSON, nothing Python-specific."""
    return json.loads(json.dumps(document))


@pytest.mark.parametrize("version", [hcmc_2020_tariff(), new_units_2025_tariff()],
                         ids=["hcmc-2020", "new-units-2025"])
def test_a_tariff_version_survives_a_json_round_trip_unchanged(version):
    document = through_json(encode_tariff_version(version))
    decoded = decode_tariff_version(document)
    assert decoded == version
    assert encode_tariff_version(decoded) == document


def test_a_decoded_tariff_prices_exactly_like_the_original():
    versions = tuple(decode_tariff_version(through_json(encode_tariff_version(v)))
                     for v in (hcmc_2020_tariff(), new_units_2025_tariff()))
    book = TariffBook(versions, (covid19_online_promotion(),))
    facts = PricingFacts(kind="result_delivery", channel="online_public_service",
                         agency_code="A", origin=AreaRef("26800", "769", "79"),
                         destination=AreaRef("26815", "769", "79"), weight_g=2_350,
                         payment_method="cash_on_delivery", fee_forwarding_vnd=50_000)
    for at in (datetime(2020, 3, 1, tzinfo=ICT), datetime(2025, 8, 1, tzinfo=ICT)):
        assert price_order(facts, at, book) == price_order(facts, at, demo_tariff_book())


def test_tariff_documents_carry_money_as_integers_and_instants_in_utc():
    document = encode_tariff_version(hcmc_2020_tariff())
    assert document["effective_from"] == "2019-12-31T17:00:00Z"
    assert type(document["zones"][0]["base_price_vnd"]) is int
    assert document["add_ons"] == {"fee_forwarding_vnd": 8_000, "cash_on_delivery_vnd": 5_000}
    assert document["weight_bands"][-1]["up_to_g"] == 30_000


def test_an_effective_instant_with_a_vietnam_offset_is_the_same_instant_as_in_utc():
    document = encode_tariff_version(hcmc_2020_tariff())
    document["effective_from"] = "2020-01-01T00:00:00+07:00"
    assert decode_tariff_version(document).effective_from == datetime(2019, 12, 31, 17,
                                                                      tzinfo=timezone.utc)


@pytest.mark.parametrize("promotion", [covid19_online_promotion(),
                                       quang_ngai_style_fixed_price_promotion(),
                                       Promotion("FLAT", "amount_off", 3_000,
                                                 datetime(2021, 1, 1, tzinfo=ICT),
                                                 datetime(2021, 2, 1, tzinfo=ICT),
                                                 Eligibility(kinds=frozenset({"dossier_pickup"}),
                                                             agency_codes=frozenset({"X"})),
                                                 stackable=True, priority=5)],
                         ids=["percent", "fixed-price", "amount"])
def test_a_promotion_survives_a_json_round_trip_unchanged(promotion):
    document = through_json(encode_promotion(promotion))
    decoded = decode_promotion(document)
    assert decoded == promotion
    assert encode_promotion(decoded) == document


def test_a_percentage_is_written_as_a_decimal_string_so_no_float_ever_carries_it():
    document = encode_promotion(covid19_online_promotion())
    assert document["value"] == "20"
    assert document["valid_from"] == "2020-02-14T17:00:00Z"
    assert document["valid_until"] is None
    assert document["eligibility"]["channels"] == ["online_public_service"]
    assert decode_promotion({**document, "value": "12.5"}).value == Decimal("12.5")
    assert decode_promotion({**document, "value": 20}).value == Decimal(20)


def test_every_vat_row_survives_a_json_round_trip_unchanged():
    for row in default_vat_rates():
        document = through_json(encode_vat_rate(row))
        assert decode_vat_rate(document) == row
    assert encode_vat_rate(DEFAULT_VAT_TABLE.rate_on(TaxCategory.STANDARD, date(2022, 6, 1))) == {
        "category": "standard", "rate": "0.08", "valid_from": "2022-02-01",
        "valid_until": "2023-01-01", "legal_basis": "Decree 15/2022/NĐ-CP"}


def test_not_subject_is_written_without_a_rate():
    row = VatRate(TaxCategory.NOT_SUBJECT, None, date(2014, 1, 1), None, "Circular 219/2013")
    assert encode_vat_rate(row)["rate"] is None
    assert decode_vat_rate(encode_vat_rate(row)) == row


def test_pricing_facts_survive_a_json_round_trip_unchanged():
    facts = PricingFacts(kind="dossier_pickup", channel="hotline", agency_code="UBND-X",
                         origin=AreaRef("26800", None, "79"),
                         destination=AreaRef("00004", "001", "01", "north"), weight_g=120,
                         payment_method="online", fee_forwarding_vnd=30_000,
                         beneficiary_category="heroic_mother")
    assert decode_facts(through_json(encode_facts(facts))) == facts


def test_a_float_amount_is_refused_rather_than_rounded():
    document = encode_tariff_version(hcmc_2020_tariff())
    document["zones"][0]["base_price_vnd"] = 26000.0
    with pytest.raises(InvalidTariff) as raised:
        decode_tariff_version(document)
    assert raised.value.errors == {"zones.0.base_price_vnd": ["must be a whole number"]}


def test_a_vat_rate_given_as_a_json_number_is_refused():
    with pytest.raises(InvalidTaxRate) as raised:
        decode_vat_rate({"category": "standard", "rate": 0.08, "valid_from": "2027-01-01",
                         "legal_basis": "x"})
    assert "rate" in raised.value.errors


def test_a_naive_instant_is_refused():
    document = encode_promotion(covid19_online_promotion())
    document["valid_from"] = "2020-02-15T00:00:00"
    with pytest.raises(InvalidPromotion) as raised:
        decode_promotion(document)
    assert list(raised.value.errors) == ["valid_from"]


def test_a_tariff_document_with_many_faults_names_every_one_by_path():
    document = encode_tariff_version(hcmc_2020_tariff())
    document["effectivefrom"] = document.pop("effective_from")  # misspelt
    document["weight_bands"][1]["step_g"] = "500"
    document["add_ons"]["cash_on_delivery_vnd"] = True
    document["zones"][1]["relation"] = "next_door"
    with pytest.raises(InvalidTariff) as raised:
        decode_tariff_version(document)
    assert set(raised.value.errors) == {
        "effectivefrom", "effective_from", "weight_bands.1.step_g",
        "add_ons.cash_on_delivery_vnd", "zones.1"}


def test_core_consistency_rules_still_apply_after_the_shape_checks():
    document = encode_tariff_version(hcmc_2020_tariff())
    del document["weight_bands"][0]["step_price_vnd"]["intra_province"]
    with pytest.raises(InvalidTariff) as raised:
        decode_tariff_version(document)
    assert "no step price for zones intra_province" in raised.value.errors["weight_bands"][0]


@pytest.mark.parametrize("document", [None, [], "tariff", 3])
def test_a_document_that_is_not_an_object_is_refused(document):
    with pytest.raises(InvalidTariff):
        decode_tariff_version(document)


def test_a_promotion_value_that_does_not_fit_its_kind_is_refused():
    document = encode_promotion(covid19_online_promotion())
    for bad in ({"value": "120"}, {"value": 20.5}, {"kind": "amount_off", "value": "20"},
                {"kind": "fixed_price", "value": {"intra_district": -1}},
                {"eligibility": {"channels": ["fax"]}}, {"stackable": "yes"}):
        with pytest.raises(InvalidPromotion):
            decode_promotion({**document, **bad})


def test_facts_with_a_missing_end_are_refused():
    document = encode_facts(PricingFacts(
        kind="result_delivery", channel="counter", agency_code="A",
        origin=AreaRef("1", None, "79"), destination=AreaRef("2", None, "79"), weight_g=1,
        payment_method="online"))
    del document["destination"]
    with pytest.raises(InvalidPricingFacts):
        decode_facts(document)


def test_text_no_database_can_store_is_refused_wherever_it_hides():
    document = encode_tariff_version(hcmc_2020_tariff())
    document["regions"]["province_regions"]["7\x009"] = "south"
    document["zones"][0]["description"] = "n\ud800i"
    with pytest.raises(InvalidTariff) as raised:
        decode_tariff_version(document)
    assert {"regions.province_regions", "zones.0.description"} <= set(raised.value.errors)


def test_numbers_beyond_what_a_column_holds_are_refused():
    document = encode_tariff_version(hcmc_2020_tariff())
    document["zones"][0]["base_price_vnd"] = 10**30
    with pytest.raises(InvalidTariff):
        decode_tariff_version(document)
    promotion = encode_promotion(covid19_online_promotion())
    with pytest.raises(InvalidPromotion):
        decode_promotion({**promotion, "priority": 2**40})
    with pytest.raises(InvalidTaxRate):
        decode_vat_rate({"category": "standard", "rate": "1E-15", "valid_from": "2030-01-01",
                         "legal_basis": "x"})
