"""Billing use cases on a real database: the book in force, admin changes, quotes, demo data."""
from __future__ import annotations

import secrets
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postal_svc.access.service import create_client
from postal_svc.billing import service
from postal_svc.billing.codec import decode_tariff_version, encode_promotion, encode_tariff_version
from postal_svc.billing.demo_tariffs import hcmc_2020_tariff
from postal_svc.billing.errors import (
    InvalidPromotion,
    InvalidQuote,
    InvalidTariff,
    InvalidTaxRate,
    NoTariffInForce,
    PromotionNotFound,
    QuoteExpired,
    QuoteMismatch,
    QuoteNotFound,
    QuoteUsed,
    RetroactiveChange,
    TariffVersionExists,
    TaxRateExists,
)
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.models import BillingAuditEntry, PromotionRecord, Quote, TaxRateRecord
from postal_svc.billing.pricing import price_order
from postal_svc.billing.tax import default_vat_rates
from postal_svc.errors import Conflict, NotFound, RuleViolation
from postal_svc.shipments.models import Order
from tests.billing_support import make_order

ICT = timezone(timedelta(hours=7))
UTC = timezone.utc
LINH_TRUNG = AreaRef("26794", "769", "79")  # old ward Linh Trung, Thủ Đức
LINH_CHIEU = AreaRef("26824", "769", "79")  # old ward Linh Chiểu, Thủ Đức: same old district
BEN_NGHE = AreaRef("26740", "760", "79")  # Quận 1
ADMIN = service.Actor(client_id=None, name="test admin")
# The admin acts in 2020, when the Covid-19 promotion was open-ended.
IN_APRIL_2020 = datetime(2020, 4, 1, 9, 0, tzinfo=ICT)
COVID = "COVID19-ONLINE-20"


def facts(**overrides) -> PricingFacts:
    values = dict(kind="result_delivery", channel="online_public_service",
                  agency_code="UBND-LINHTRUNG", origin=LINH_TRUNG, destination=LINH_CHIEU,
                  weight_g=100, payment_method="online")
    values.update(overrides)
    return PricingFacts(**values)


@pytest.fixture
def demo_billing(db_session: Session) -> dict[str, int]:
    added = service.load_demo_billing(db_session, datetime(2020, 1, 1, tzinfo=UTC))
    db_session.commit()
    return added


@pytest.fixture
def client_id(db_session: Session) -> int:
    client, _ = create_client(db_session, name="quoting system", role="agency_system",
                              scope=["UBND-LINHTRUNG"], now=datetime.now(UTC))
    db_session.commit()
    return client.id


def quote_total(session: Session, registered_at: datetime, client_id: int, *,
                now: datetime | None = None, **overrides) -> int:
    quote = service.quote_price(session, facts(**overrides), registered_at, client_id=client_id,
                                now=now or datetime(2026, 1, 1, tzinfo=UTC))
    return quote.total_vnd


def audit_rows(session: Session, entity: str, key: str) -> list[BillingAuditEntry]:
    return list(session.scalars(select(BillingAuditEntry).where(
        BillingAuditEntry.entity == entity, BillingAuditEntry.entity_key == key)
        .order_by(BillingAuditEntry.id)))


# -- the Covid-19 promotion at its edges -----------------------------------------------------

def test_a_quote_one_second_before_15_february_2020_in_vietnam_gets_no_discount(
        db_session, demo_billing, client_id):
    assert quote_total(db_session, datetime(2020, 2, 14, 23, 59, 59, tzinfo=ICT), client_id) == 26_000


def test_a_quote_at_midnight_15_february_2020_in_vietnam_gets_20_percent_off(
        db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 2, 15, 0, 0, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    assert quote.total_vnd == 20_800
    assert quote.price["promotion_codes"] == [COVID]
    assert [(line["code"], line["amount"]) for line in quote.price["lines"]] == [
        ("postage", 26_000), ("promotion", -5_200)]


def test_the_same_two_instants_written_in_utc_give_the_same_answers(
        db_session, demo_billing, client_id):
    assert quote_total(db_session, datetime(2020, 2, 14, 16, 59, 59, tzinfo=UTC), client_id) == 26_000
    assert quote_total(db_session, datetime(2020, 2, 14, 17, 0, 0, tzinfo=UTC), client_id) == 20_800


@pytest.mark.parametrize("channel", ["counter", "hotline"])
def test_services_registered_at_the_counter_or_by_hotline_are_not_eligible(
        db_session, demo_billing, client_id, channel):
    assert quote_total(db_session, datetime(2020, 3, 2, 10, tzinfo=ICT), client_id,
                       channel=channel) == 26_000


def test_an_order_across_old_districts_pays_the_intra_province_price_less_20_percent(
        db_session, demo_billing, client_id):
    assert quote_total(db_session, datetime(2020, 3, 2, 10, tzinfo=ICT), client_id,
                       destination=BEN_NGHE) == 24_000


# -- closing the open-ended promotion --------------------------------------------------------

def test_closing_the_promotion_at_t_gives_full_price_from_t_while_an_earlier_snapshot_stays(
        db_session, demo_billing, client_id):
    closes_at = datetime(2020, 5, 1, 0, 0, tzinfo=ICT)
    before = service.quote_price(db_session, facts(), datetime(2020, 3, 20, 10, tzinfo=ICT),
                                 client_id=client_id, now=IN_APRIL_2020)
    order = make_order(db_session, price=before.price, registered_at=before.registered_at)
    db_session.commit()

    service.update_promotion(db_session, COVID, {"valid_until": closes_at.isoformat()},
                             actor=ADMIN, now=IN_APRIL_2020)
    db_session.commit()

    after_close = datetime(2020, 5, 2, tzinfo=ICT)
    just_before = closes_at - timedelta(microseconds=1)
    assert quote_total(db_session, just_before, client_id, now=after_close) == 20_800
    assert quote_total(db_session, closes_at, client_id, now=after_close) == 26_000
    assert quote_total(db_session, closes_at.astimezone(UTC), client_id, now=after_close) == 26_000
    assert quote_total(db_session, closes_at + timedelta(days=30), client_id,
                       now=closes_at + timedelta(days=31)) == 26_000
    db_session.expire_all()
    stored = db_session.get(Order, order.id)
    assert (stored.total_vnd, stored.price) == (20_800, before.price)
    # ... and pricing that past instant again gives the same price: past prices never change.
    assert quote_total(db_session, before.registered_at, client_id, now=after_close) == 20_800


def test_the_close_is_audited_with_who_when_before_and_after(db_session, demo_billing):
    closes_at = datetime(2020, 5, 1, tzinfo=ICT)
    service.update_promotion(db_session, COVID, {"valid_until": closes_at.isoformat()},
                             actor=ADMIN, now=IN_APRIL_2020)
    create, update = audit_rows(db_session, "promotion", COVID)
    assert (create.action, create.actor, create.before) == ("create", "demo", None)
    assert (update.action, update.actor, update.at) == ("update", "test admin", IN_APRIL_2020)
    assert update.before["valid_until"] is None
    assert update.after["valid_until"] == "2020-04-30T17:00:00Z"
    assert {k: v for k, v in update.before.items() if k != "valid_until"} == {
        k: v for k, v in update.after.items() if k != "valid_until"}


def test_a_promotion_cannot_be_closed_before_now(db_session, demo_billing):
    audited = len(audit_rows(db_session, "promotion", COVID))
    with pytest.raises(RetroactiveChange) as raised:
        service.update_promotion(db_session, COVID,
                                 {"valid_until": (IN_APRIL_2020 - timedelta(seconds=1)).isoformat()},
                                 actor=ADMIN, now=IN_APRIL_2020)
    assert raised.value.errors == {"valid_until": ["Must not be before now."]}
    db_session.rollback()
    assert db_session.get(PromotionRecord, COVID).valid_until is None
    assert len(audit_rows(db_session, "promotion", COVID)) == audited


def test_closing_exactly_at_now_is_allowed_because_nothing_registered_before_now_changes(
        db_session, demo_billing):
    record = service.update_promotion(db_session, COVID, {"valid_until": IN_APRIL_2020.isoformat()},
                                      actor=ADMIN, now=IN_APRIL_2020)
    assert record.valid_until == IN_APRIL_2020


def test_the_end_of_a_promotion_that_is_over_cannot_move(db_session, demo_billing):
    service.update_promotion(db_session, COVID, {"valid_until": "2020-05-01T00:00:00+07:00"},
                             actor=ADMIN, now=IN_APRIL_2020)
    later = datetime(2020, 6, 1, tzinfo=ICT)
    for valid_until in (None, "2020-07-01T00:00:00+07:00"):
        with pytest.raises(RetroactiveChange) as raised:
            service.update_promotion(db_session, COVID, {"valid_until": valid_until},
                                     actor=ADMIN, now=later)
        assert raised.value.errors == {
            "valid_until": ["The promotion is over; its end cannot move."]}


@pytest.mark.parametrize("change", [
    {"value": "30"}, {"kind": "amount_off", "value": 5_000},
    {"eligibility": {"channels": ["online_public_service", "hotline"]}},
    {"valid_from": "2020-04-02T00:00:00+07:00"}, {"stackable": True}, {"priority": 1},
])
def test_terms_that_would_change_past_prices_are_refused_once_the_promotion_has_started(
        db_session, demo_billing, change):
    with pytest.raises(RetroactiveChange) as raised:
        service.update_promotion(db_session, COVID, change, actor=ADMIN, now=IN_APRIL_2020)
    assert set(raised.value.errors) <= set(change)
    assert raised.value.errors


def test_a_patch_that_repeats_the_current_values_changes_nothing_and_writes_no_audit(
        db_session, demo_billing):
    audited = len(audit_rows(db_session, "promotion", COVID))
    service.update_promotion(db_session, COVID, {"value": "20", "valid_until": None},
                             actor=ADMIN, now=IN_APRIL_2020)
    assert len(audit_rows(db_session, "promotion", COVID)) == audited


def test_a_promotion_not_yet_started_may_change_in_any_term(db_session, demo_billing, client_id):
    starts = datetime(2020, 6, 1, tzinfo=ICT)
    service.create_promotion(db_session, {
        "code": "JUNE", "kind": "amount_off", "value": 2_000,
        "valid_from": starts.isoformat(), "eligibility": {"channels": ["counter"]}},
        actor=ADMIN, now=IN_APRIL_2020)
    service.update_promotion(db_session, "JUNE", {"value": 3_000, "valid_from":
                                                  "2020-06-15T00:00:00+07:00"},
                             actor=ADMIN, now=IN_APRIL_2020)
    db_session.commit()
    assert quote_total(db_session, datetime(2020, 6, 10, tzinfo=ICT), client_id,
                       channel="counter") == 26_000
    assert quote_total(db_session, datetime(2020, 6, 15, tzinfo=ICT), client_id,
                       channel="counter") == 23_000
    with pytest.raises(RetroactiveChange):
        service.update_promotion(db_session, "JUNE", {"valid_from": "2020-03-01T00:00:00+07:00"},
                                 actor=ADMIN, now=IN_APRIL_2020)


def test_a_new_promotion_must_start_in_the_future(db_session, demo_billing):
    with pytest.raises(RetroactiveChange):
        service.create_promotion(db_session, {"code": "LATE", "kind": "percent_off", "value": "10",
                                              "valid_from": "2020-03-01T00:00:00+07:00"},
                                 actor=ADMIN, now=IN_APRIL_2020)


def test_a_duplicate_promotion_code_is_a_conflict_and_an_unknown_one_is_not_found(
        db_session, demo_billing):
    document = {**encode_promotion(service.promotion_of(db_session.get(PromotionRecord, COVID))),
                "valid_from": "2030-01-01T00:00:00Z"}
    with pytest.raises(Conflict):
        service.create_promotion(db_session, document, actor=ADMIN, now=IN_APRIL_2020)
    with pytest.raises(PromotionNotFound):
        service.update_promotion(db_session, "NOPE", {"valid_until": None}, actor=ADMIN,
                                 now=IN_APRIL_2020)
    with pytest.raises(InvalidPromotion):
        service.update_promotion(db_session, COVID, {"code": "OTHER"}, actor=ADMIN,
                                 now=IN_APRIL_2020)


# -- VAT at its edges ------------------------------------------------------------------------

@pytest.mark.parametrize(("registered_at", "rate", "vat"), [
    (datetime(2022, 1, 31, 23, 59, 59, tzinfo=ICT), "10%", 1_891),
    (datetime(2022, 2, 1, 0, 0, tzinfo=ICT), "8%", 1_541),
    (datetime(2022, 1, 31, 17, 0, tzinfo=UTC), "8%", 1_541),
    (datetime(2022, 12, 31, 23, 59, 59, tzinfo=ICT), "8%", 1_541),
    (datetime(2023, 1, 1, 0, 0, tzinfo=ICT), "10%", 1_891),
    (datetime(2022, 12, 31, 16, 59, 59, tzinfo=UTC), "8%", 1_541),
    (datetime(2022, 12, 31, 17, 0, tzinfo=UTC), "10%", 1_891),
])
def test_vat_is_decided_on_the_vietnam_date_of_registration(
        db_session, demo_billing, client_id, registered_at, rate, vat):
    quote = service.quote_price(db_session, facts(), registered_at, client_id=client_id,
                                now=datetime(2026, 1, 1, tzinfo=UTC))
    assert (quote.price["total"], quote.price["vat_rate"], quote.price["vat_included"]) == (
        20_800, rate, vat)


def test_a_not_subject_tariff_version_puts_no_vat_on_any_line(db_session, demo_billing, client_id):
    now = datetime(2030, 1, 1, tzinfo=UTC)
    document = {**encode_tariff_version(hcmc_2020_tariff()), "code": "NOT-SUBJECT-2030",
                "tax_category": "not_subject", "effective_from": "2030-01-02T00:00:00+07:00"}
    service.create_tariff_version(db_session, document, actor=ADMIN, now=now)
    quote = service.quote_price(db_session, facts(fee_forwarding_vnd=30_000),
                                datetime(2030, 1, 3, tzinfo=ICT), client_id=client_id,
                                now=datetime(2030, 1, 4, tzinfo=UTC))
    price = quote.price
    assert (price["tariff_version"], price["tax_category"], price["vat_rate"]) == (
        "NOT-SUBJECT-2030", "not_subject", None)
    assert price["vat_included"] == 0 and all(line["vat"] == 0 for line in price["lines"])
    assert (price["total"], price["procedure_fee"], price["amount_due"]) == (
        20_800 + 8_000, 30_000, 58_800)


def test_a_new_vat_row_closes_the_open_ended_one_on_its_first_day_and_both_are_audited(
        db_session, demo_billing, client_id):
    now = datetime(2027, 3, 1, tzinfo=ICT)
    record = service.create_tax_rate(db_session, {
        "category": "standard", "rate": "0.09", "valid_from": "2027-07-01",
        "legal_basis": "Hypothetical decree"}, actor=ADMIN, now=now)
    previous = db_session.scalar(select(TaxRateRecord).where(
        TaxRateRecord.category == "standard", TaxRateRecord.valid_from == date(2027, 1, 1)))
    assert previous.valid_until == date(2027, 7, 1) and record.valid_until is None
    closed, = audit_rows(db_session, "tax_rate", "standard:2027-01-01")[-1:]
    assert (closed.action, closed.before["valid_until"], closed.after["valid_until"]) == (
        "update", None, "2027-07-01")
    assert audit_rows(db_session, "tax_rate", "standard:2027-07-01")[0].after["rate"] == "0.09"
    db_session.commit()
    later = datetime(2027, 8, 1, tzinfo=ICT)
    assert service.quote_price(db_session, facts(), datetime(2027, 6, 30, 23, tzinfo=ICT),
                               client_id=client_id, now=later).price["vat_rate"] == "10%"
    assert service.quote_price(db_session, facts(), datetime(2027, 7, 1, tzinfo=ICT),
                               client_id=client_id, now=later).price["vat_rate"] == "9%"


def test_a_vat_row_may_not_start_today_or_earlier(db_session, demo_billing):
    now = datetime(2027, 3, 1, 8, tzinfo=ICT)
    for valid_from in ("2027-03-01", "2020-01-01"):
        with pytest.raises(RetroactiveChange):
            service.create_tax_rate(db_session, {"category": "standard", "rate": "0.05",
                                                 "valid_from": valid_from, "legal_basis": "x"},
                                    actor=ADMIN, now=now)


def test_a_vat_row_overlapping_a_closed_period_is_refused_and_changes_nothing(db_session,
                                                                             demo_billing):
    # On 2026-11-01 the 8% period of Decree 174/2025 runs until 2026-12-31.
    now = datetime(2026, 11, 1, tzinfo=ICT)
    rows = db_session.scalar(select(func.count()).select_from(TaxRateRecord))
    with pytest.raises(InvalidTaxRate):
        service.create_tax_rate(db_session, {"category": "standard", "rate": "0.05",
                                             "valid_from": "2026-12-01", "legal_basis": "x"},
                                actor=ADMIN, now=now)
    assert db_session.scalar(select(func.count()).select_from(TaxRateRecord)) == rows
    assert db_session.scalar(select(TaxRateRecord.valid_until).where(
        TaxRateRecord.valid_from == date(2027, 1, 1))) is None
    with pytest.raises(TaxRateExists):
        service.create_tax_rate(db_session, {"category": "standard", "rate": "0.10",
                                             "valid_from": "2027-01-01", "legal_basis": "x"},
                                actor=ADMIN, now=now)
    with pytest.raises(InvalidTaxRate):
        service.create_tax_rate(db_session, {"category": "not_subject", "rate": "0.05",
                                             "valid_from": "2027-01-01", "legal_basis": "x"},
                                actor=ADMIN, now=now)


# -- tariff versions and the book in force ---------------------------------------------------

def test_a_tariff_version_effective_in_the_past_is_refused(db_session, demo_billing):
    document = {**encode_tariff_version(hcmc_2020_tariff()), "code": "BACKDATED",
                "effective_from": "2024-01-01T00:00:00+07:00"}
    with pytest.raises(RetroactiveChange) as raised:
        service.create_tariff_version(db_session, document, actor=ADMIN,
                                      now=datetime(2025, 1, 1, tzinfo=UTC))
    assert list(raised.value.errors) == ["effective_from"]


def test_a_new_tariff_version_prices_registrations_from_its_effective_instant_only(
        db_session, demo_billing, client_id):
    now = datetime(2027, 1, 1, tzinfo=ICT)
    document = encode_tariff_version(hcmc_2020_tariff())
    document.update(code="HCM-2027", effective_from="2027-02-01T00:00:00+07:00")
    document["zones"][0]["base_price_vnd"] = 28_000
    record = service.create_tariff_version(db_session, document, actor=ADMIN, now=now)
    assert record.created_by_client_id is None
    audit, = audit_rows(db_session, "tariff_version", "HCM-2027")
    assert (audit.action, audit.before, audit.actor) == ("create", None, "test admin")
    assert audit.after == record.document == encode_tariff_version(decode_tariff_version(document))
    db_session.commit()
    later = datetime(2027, 3, 1, tzinfo=ICT)
    # Registrations before 1/2/2027 keep the 2025 version's price (it zones by ward, and
    # the two Thủ Đức wards differ): 30,000 less 20%.
    assert quote_total(db_session, datetime(2027, 1, 31, 23, 59, tzinfo=ICT), client_id,
                       now=later) == 24_000
    assert quote_total(db_session, datetime(2027, 2, 1, tzinfo=ICT), client_id,
                       now=later) == 22_400


def test_tariff_versions_are_unique_by_code_and_by_effective_instant(db_session, demo_billing):
    now = datetime(2027, 1, 1, tzinfo=UTC)
    document = {**encode_tariff_version(hcmc_2020_tariff()), "code": "A",
                "effective_from": "2027-06-01T00:00:00Z"}
    service.create_tariff_version(db_session, document, actor=ADMIN, now=now)
    with pytest.raises(TariffVersionExists) as by_code:
        service.create_tariff_version(db_session, {**document, "effective_from":
                                                   "2027-07-01T00:00:00Z"}, actor=ADMIN, now=now)
    with pytest.raises(TariffVersionExists) as by_instant:
        service.create_tariff_version(db_session, {**document, "code": "B",
                                                   "effective_from": "2027-06-01T07:00:00+07:00"},
                                      actor=ADMIN, now=now)
    assert list(by_code.value.errors) == ["code"]
    assert list(by_instant.value.errors) == ["effective_from"]
    with pytest.raises(NotFound):
        service.get_tariff_version(db_session, "NOPE")


def test_an_inconsistent_tariff_document_is_refused_and_nothing_is_written(db_session):
    document = {**encode_tariff_version(hcmc_2020_tariff()), "effective_from": "2030-01-01T00:00Z"}
    document["zones"] = []
    with pytest.raises(InvalidTariff):
        service.create_tariff_version(db_session, document, actor=ADMIN,
                                      now=datetime(2026, 1, 1, tzinfo=UTC))
    assert db_session.scalar(select(func.count()).select_from(BillingAuditEntry)) == 0


def test_with_no_tariff_data_pricing_says_no_tariff_is_in_force(db_session, client_id):
    with pytest.raises(NoTariffInForce) as raised:
        service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                            client_id=client_id, now=IN_APRIL_2020)
    assert isinstance(raised.value, RuleViolation)


def test_the_book_is_reused_until_billing_data_changes_and_rebuilt_at_once_after(
        db_session, demo_billing):
    first = service.current_book(db_session)
    assert service.current_book(db_session) is first
    service.create_promotion(db_session, {"code": "NEXT", "kind": "percent_off", "value": "5",
                                          "valid_from": "2030-01-01T00:00:00Z"},
                             actor=ADMIN, now=IN_APRIL_2020)
    second = service.current_book(db_session)
    assert second is not first
    assert [p.code for p in second.promotions] == [COVID, "NEXT"]


def test_demo_billing_data_loads_once_with_audit_rows_by_demo(db_session, demo_billing):
    assert demo_billing == {"tariff_versions": 2, "promotions": 1,
                            "tax_rates": len(default_vat_rates())}
    again = service.load_demo_billing(db_session, datetime(2026, 1, 1, tzinfo=UTC))
    assert again == {"tariff_versions": 0, "promotions": 0, "tax_rates": 0}
    actors = set(db_session.scalars(select(BillingAuditEntry.actor)))
    assert actors == {"demo"}
    book = service.current_book(db_session)
    assert [v.code for v in book.tariff_versions] == ["HCM-BCCI-2020", "HCM-BCCI-2025-07"]
    promotion = book.promotions[0]
    assert (promotion.code, promotion.valid_from, promotion.valid_until) == (
        COVID, datetime(2020, 2, 15, tzinfo=ICT), None)


def test_the_order_snapshot_is_the_price_object(db_session, demo_billing):
    price = service.price_leg(db_session, facts(fee_forwarding_vnd=50_000),
                              datetime(2020, 3, 1, tzinfo=ICT))
    assert price == price_order(facts(fee_forwarding_vnd=50_000),
                                datetime(2020, 3, 1, tzinfo=ICT), service.current_book(db_session))
    snapshot = service.price_snapshot(price)
    assert snapshot == price.to_dict()
    assert (snapshot["total"], snapshot["procedure_fee"], snapshot["amount_due"]) == (
        28_800, 50_000, 78_800)


# -- quotes ----------------------------------------------------------------------------------

def test_a_quote_is_valid_for_30_minutes_exclusive(db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    assert quote.id.startswith("quo_") and quote.expires_at == IN_APRIL_2020 + timedelta(minutes=30)
    price = service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                                 now=IN_APRIL_2020 + timedelta(minutes=29, seconds=59))
    assert price == quote.price
    with pytest.raises(QuoteExpired) as raised:
        service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                             now=IN_APRIL_2020 + timedelta(minutes=30))
    assert raised.value.errors == {"quote_id": ["Expired."]}


def test_the_validity_of_a_quote_is_configurable(db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020,
                                validity=timedelta(minutes=5))
    with pytest.raises(QuoteExpired):
        service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                             now=IN_APRIL_2020 + timedelta(minutes=5))


def test_a_quote_for_a_future_registration_is_refused(db_session, demo_billing, client_id):
    with pytest.raises(InvalidQuote) as raised:
        service.quote_price(db_session, facts(), IN_APRIL_2020 + timedelta(seconds=1),
                            client_id=client_id, now=IN_APRIL_2020)
    assert list(raised.value.errors) == ["registered_at"]


def test_a_quote_is_redeemable_only_by_its_own_client(db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    other, _ = create_client(db_session, name="other", role="agency_system", scope=["X"],
                             now=IN_APRIL_2020)
    for quote_id, owner in ((quote.id, other.id), ("quo_" + secrets.token_hex(12), client_id)):
        with pytest.raises(QuoteNotFound) as raised:
            service.redeem_quote(db_session, quote_id, client_id=owner, facts=facts(),
                                 now=IN_APRIL_2020)
        assert raised.value.code == "quote_not_found"


def test_an_order_whose_facts_differ_from_the_quote_is_refused_naming_the_differences(
        db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    with pytest.raises(QuoteMismatch) as raised:
        service.redeem_quote(db_session, quote.id, client_id=client_id,
                             facts=facts(weight_g=150, destination=BEN_NGHE), now=IN_APRIL_2020)
    assert raised.value.details["mismatched_fields"] == [
        "destination.old_district_code", "destination.ward_code", "weight_g"]


def test_a_quote_serves_one_order_only(db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    first = service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                                 now=IN_APRIL_2020, order_public_id="ord_first")
    assert first == quote.price
    # The same order asking again (a retried request) still gets its price.
    assert service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                                now=IN_APRIL_2020, order_public_id="ord_first") == first
    with pytest.raises(QuoteUsed):
        service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                             now=IN_APRIL_2020, order_public_id="ord_second")
    stored = db_session.get(Quote, quote.id)
    assert (stored.order_public_id, stored.redeemed_at) == ("ord_first", IN_APRIL_2020)


def test_a_rolled_back_order_releases_its_quote(db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    db_session.commit()
    service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                         now=IN_APRIL_2020, order_public_id="ord_failed")
    db_session.rollback()
    assert service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                                now=IN_APRIL_2020, order_public_id="ord_next") == quote.price


def test_redeeming_returns_the_stored_price_even_if_pricing_would_now_say_otherwise(
        db_session, demo_billing, client_id):
    quote = service.quote_price(db_session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                client_id=client_id, now=IN_APRIL_2020)
    # Whatever happened since (here: a stored price edited behind our back), the order gets
    # what the quote says, not a new computation.
    quote.price = {**quote.price, "total": 1}
    db_session.flush()
    assert service.redeem_quote(db_session, quote.id, client_id=client_id, facts=facts(),
                                now=IN_APRIL_2020)["total"] == 1


# -- concurrency -----------------------------------------------------------------------------

def test_orders_racing_for_one_quote_leave_it_to_exactly_one_of_them(committed_engine):
    with Session(committed_engine) as session:
        service.load_demo_billing(session, datetime(2020, 1, 1, tzinfo=UTC))
        owner, _ = create_client(session, name="racer", role="agency_system", scope=["X"],
                                 now=IN_APRIL_2020)
        quote = service.quote_price(session, facts(), datetime(2020, 3, 1, tzinfo=ICT),
                                    client_id=owner.id, now=IN_APRIL_2020)
        session.commit()
        quote_id, owner_id = quote.id, owner.id
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def order(index: int) -> None:
        with Session(committed_engine) as session:
            barrier.wait()
            try:
                service.redeem_quote(session, quote_id, client_id=owner_id, facts=facts(),
                                     now=IN_APRIL_2020, order_public_id=f"ord_{index}")
                session.commit()
                outcomes.append("won")
            except QuoteUsed:
                session.rollback()
                outcomes.append("used")

    threads = [threading.Thread(target=order, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["used"] * 7 + ["won"]
    with Session(committed_engine) as session:
        assert session.get(Quote, quote_id).order_public_id.startswith("ord_")
