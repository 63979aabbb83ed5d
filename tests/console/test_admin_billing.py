"""Console admin pages for billing: tariffs, promotions (closing one in two clicks), VAT rates,
the billing audit trail; every bad input is a 4xx page that writes nothing."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from postal_svc.billing import service
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.models import (
    BillingAuditEntry, PromotionRecord, TariffVersionRecord, TaxRateRecord)
from postal_svc.billing.pricing import price_order

ICT = timezone(timedelta(hours=7))
COVID = "COVID19-ONLINE-20"
_HIDDEN_END = re.compile(r'name="valid_until" value="([^"]+)"')
_SHOWN_END = re.compile(r'id="ends-at"[^>]*>([^<]+)<')


@pytest.fixture
def demo_billing(db_session, now):
    service.load_demo_billing(db_session, now)
    db_session.commit()


@pytest.fixture
def admin(signed_in):
    return signed_in("admin")


def text(answer) -> str:
    return answer.get_data(as_text=True)


def online_facts() -> PricingFacts:
    return PricingFacts(kind="result_delivery", channel="online_public_service",
                        agency_code="AG-LINHTRUNG", origin=AreaRef("26794", None, "79"),
                        destination=AreaRef("26740", None, "79"), weight_g=100,
                        payment_method="online")


def promotion_codes_at(db_session, instant: datetime) -> list[str]:
    return price_order(online_facts(), instant, service.load_book(db_session)
                       ).to_dict()["promotion_codes"]


def future_tariff(db_session, now, **overrides) -> dict:
    """The demo 2025 tariff as a new document taking effect tomorrow."""
    document = dict(db_session.get(TariffVersionRecord, "HCM-BCCI-2025-07").document)
    document.update(code="HCM-BCCI-NEXT",
                    effective_from=(now + timedelta(days=1)).astimezone(ICT).isoformat())
    document.update(overrides)
    return document


# -- the index and tariffs ---------------------------------------------------------------------

def test_the_admin_index_links_every_admin_page(admin):
    page = text(admin.get("/console/admin"))
    for path in ("/console/admin/tariffs", "/console/admin/promotions",
                 "/console/admin/tax-rates", "/console/admin/clients",
                 "/console/admin/webhooks", "/console/admin/audit"):
        assert f'href="{path}"' in page
    assert 'href="/console/admin" aria-current="page"' in page  # the nav link, for admins


def test_tariff_versions_are_listed_in_vietnam_time_with_the_one_in_force_marked(
        admin, demo_billing):
    page = text(admin.get("/console/admin/tariffs"))
    assert "00:00:00 01/01/2020 (giờ Việt Nam, UTC+7)" in page
    assert "00:00:00 01/07/2025 (giờ Việt Nam, UTC+7)" in page
    current = re.search(r'<tr class="current">.*?</tr>', page, re.S).group(0)
    assert "HCM-BCCI-2025-07" in current and "Đang áp dụng" in current
    assert "Đã được thay thế" in page  # the 2020 version


def test_a_tariff_version_reads_as_tables_of_zones_weight_steps_add_ons_and_exemptions(
        admin, demo_billing):
    answer = admin.get("/console/admin/tariffs/HCM-BCCI-2020")
    assert answer.status_code == 200
    page = text(answer)
    zones = re.search(r'<table id="zones">.*?</table>', page, re.S).group(0)
    assert "intra_district" in zones and "26.000 đ" in zones and "Cùng quận/huyện cũ" in zones
    bands = re.search(r'<table id="weight-bands">.*?</table>', page, re.S).group(0)
    assert "Trên 100 g đến 2000 g" in bands and "1.500 đ" in bands
    add_ons = re.search(r'<table id="add-ons">.*?</table>', page, re.S).group(0)
    assert "8.000 đ" in add_ons and "5.000 đ" in add_ons
    assert "Bà mẹ Việt Nam Anh hùng" in page


def test_an_unknown_or_unreadable_tariff_code_is_404(admin, demo_billing):
    assert admin.get("/console/admin/tariffs/NO-SUCH").status_code == 404
    assert admin.get("/console/admin/tariffs/%00bad").status_code == 404


def test_the_new_version_form_starts_from_the_version_in_force_dated_tomorrow(
        admin, demo_billing):
    page = text(admin.get("/console/admin/tariffs/new"))
    assert "HCM-BCCI-2025-07" in page and "T00:00:00+07:00" in page


def test_a_future_tariff_version_pasted_as_json_is_published_and_audited(
        admin, demo_billing, db_session, now, count_rows):
    document = future_tariff(db_session, now)
    answer = admin.post("/console/admin/tariffs", {"document": json.dumps(document)})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/console/admin/tariffs/HCM-BCCI-NEXT"
    record = db_session.get(TariffVersionRecord, "HCM-BCCI-NEXT")
    assert record is not None and record.document["zones"] == document["zones"]
    entry = db_session.scalar(select(BillingAuditEntry).where(
        BillingAuditEntry.entity_key == "HCM-BCCI-NEXT"))
    assert (entry.action, entry.actor) == ("create", "admin1")
    assert "Sắp áp dụng" in text(admin.get("/console/admin/tariffs"))


@pytest.mark.parametrize("body, status, shown", [
    ("{not json", 400, "JSON không hợp lệ"),
    ("[" * 5000 + "]" * 5000, 400, "lồng nhau quá sâu"),
    ('{"zones": ' + "1" * 5000 + "}", 400, "số quá dài"),  # past Python's int digit limit
    ("[1, 2]", 422, "_schema"),
    ("past", 422, "effective_from"),
    ("unknown_field", 422, "colour"),
    ("taken", 409, "code"),
    ("bad_zone", 422, "zones.0"),
])
def test_a_bad_tariff_document_is_refused_with_4xx_and_publishes_nothing(
        admin, demo_billing, db_session, now, count_rows, body, status, shown):
    documents = {
        "past": future_tariff(db_session, now, effective_from="2021-01-01T00:00:00+07:00"),
        "unknown_field": future_tariff(db_session, now, colour="red"),
        "taken": future_tariff(db_session, now, code="HCM-BCCI-2020"),
        "bad_zone": future_tariff(db_session, now, zones=[{"code": "z", "relation": "nowhere",
                                                           "base_price_vnd": -1}]),
    }
    sent = json.dumps(documents[body]) if body in documents else body
    versions, audit = count_rows(TariffVersionRecord), count_rows(BillingAuditEntry)
    answer = admin.post("/console/admin/tariffs", {"document": sent})
    assert answer.status_code == status
    page = text(answer)
    assert shown in page and 'role="alert"' in page
    assert "<textarea" in page  # the form again, with what was pasted
    assert (count_rows(TariffVersionRecord), count_rows(BillingAuditEntry)) == (versions, audit)


# -- promotions --------------------------------------------------------------------------------

def test_promotions_show_the_discount_the_window_and_open_ended_as_khong_thoi_han(
        admin, demo_billing):
    page = text(admin.get("/console/admin/promotions"))
    row = re.search(r'<tr id="promotion-COVID19-ONLINE-20">.*?</tr>', page, re.S).group(0)
    assert "Giảm 20%" in row
    assert "00:00:00 15/02/2020 (giờ Việt Nam, UTC+7)" in row
    assert "không thời hạn" in row and "Đang áp dụng" in row
    assert "Kết thúc khuyến mãi" in row


def test_closing_the_covid_promotion_takes_two_clicks_and_stores_the_instant_shown(
        admin, demo_billing, db_session, now):
    confirm = admin.get(f"/console/admin/promotions/{COVID}/end")
    assert confirm.status_code == 200
    page = text(confirm)
    hidden = _HIDDEN_END.search(page).group(1)
    ends_at = datetime.fromisoformat(hidden)
    # By default: the next whole minute, shown to the second in Vietnam time.
    assert ends_at.second == 0 and ends_at.microsecond == 0
    assert timedelta(0) < ends_at - now <= timedelta(minutes=1)
    shown = _SHOWN_END.search(page).group(1)
    assert shown == ends_at.astimezone(ICT).strftime("%H:%M:%S %d/%m/%Y") + \
        " (giờ Việt Nam, UTC+7)"
    assert db_session.get(PromotionRecord, COVID).valid_until is None  # click 1 writes nothing

    done = admin.post(f"/console/admin/promotions/{COVID}/end", {"valid_until": hidden})
    assert done.status_code == 303 and done.headers["Location"] == "/console/admin/promotions"
    record = db_session.get(PromotionRecord, COVID)
    db_session.refresh(record)
    assert record.valid_until == ends_at
    listed = text(admin.get("/console/admin/promotions"))
    assert shown in listed and "không thời hạn" not in listed
    # Pricing: the discount up to the instant, none from it.
    assert promotion_codes_at(db_session, ends_at - timedelta(seconds=1)) == [COVID]
    assert promotion_codes_at(db_session, ends_at) == []
    entry = db_session.scalars(select(BillingAuditEntry).where(
        BillingAuditEntry.entity_key == COVID).order_by(BillingAuditEntry.id.desc())).first()
    assert (entry.action, entry.actor, entry.before["valid_until"]) == ("update", "admin1", None)
    assert datetime.fromisoformat(entry.after["valid_until"]) == ends_at


def test_a_chosen_future_end_is_confirmed_as_that_exact_vietnam_instant(
        admin, demo_billing, db_session):
    page = text(admin.get(f"/console/admin/promotions/{COVID}/end?at=2031-01-02T03:04:05"))
    assert _SHOWN_END.search(page).group(1) == "03:04:05 02/01/2031 (giờ Việt Nam, UTC+7)"
    hidden = _HIDDEN_END.search(page).group(1)
    assert datetime.fromisoformat(hidden) == datetime(2031, 1, 1, 20, 4, 5, tzinfo=timezone.utc)
    assert admin.post(f"/console/admin/promotions/{COVID}/end",
                      {"valid_until": hidden}).status_code == 303
    record = db_session.get(PromotionRecord, COVID)
    db_session.refresh(record)
    assert record.valid_until == datetime(2031, 1, 2, 3, 4, 5, tzinfo=ICT)


def test_a_stale_confirmation_is_refused_with_a_fresh_instant_and_writes_nothing(
        admin, demo_billing, db_session, now, count_rows):
    audited = count_rows(BillingAuditEntry)
    stale = (now - timedelta(seconds=5)).isoformat()
    answer = admin.post(f"/console/admin/promotions/{COVID}/end", {"valid_until": stale})
    assert answer.status_code == 409
    page = text(answer)
    assert "Trang xác nhận đã cũ" in page and "chưa có gì thay đổi" in page
    assert datetime.fromisoformat(_HIDDEN_END.search(page).group(1)) > now  # a new one
    record = db_session.get(PromotionRecord, COVID)
    db_session.refresh(record)
    assert record.valid_until is None
    assert count_rows(BillingAuditEntry) == audited


@pytest.mark.parametrize("at, status", [("2020-01-01T00:00", 422), ("tomorrow", 400),
                                         ("0001-01-01T00:00", 400)])
def test_a_past_or_unreadable_chosen_end_is_refused_on_the_confirmation_page(
        admin, demo_billing, at, status):
    answer = admin.get(f"/console/admin/promotions/{COVID}/end?at={at}")
    assert answer.status_code == status
    if status == 422:
        assert "đã qua" in text(answer)


@pytest.mark.parametrize("sent", ["", "2031-01-01T00:00:00", "garbage",
                                  "9999-12-31T23:59:59-23:59"])
def test_a_confirmation_without_an_aware_instant_is_400_and_writes_nothing(
        admin, demo_billing, db_session, sent):
    answer = admin.post(f"/console/admin/promotions/{COVID}/end", {"valid_until": sent})
    assert answer.status_code == 400
    assert db_session.get(PromotionRecord, COVID).valid_until is None


def test_an_ended_promotion_cannot_be_ended_again(admin, demo_billing, db_session, now):
    record = db_session.get(PromotionRecord, COVID)
    record.valid_until = now - timedelta(days=1)
    db_session.commit()
    page = text(admin.get(f"/console/admin/promotions/{COVID}/end"))
    assert "đã kết thúc" in page and 'name="valid_until"' not in page
    answer = admin.post(f"/console/admin/promotions/{COVID}/end",
                        {"valid_until": (now + timedelta(days=1)).isoformat()})
    assert answer.status_code == 422
    db_session.refresh(record)
    assert record.valid_until == now - timedelta(days=1)


def test_ending_an_unknown_promotion_is_404(admin, demo_billing, now):
    assert admin.get("/console/admin/promotions/NOPE/end").status_code == 404
    assert admin.post("/console/admin/promotions/NOPE/end",
                      {"valid_until": (now + timedelta(days=1)).isoformat()}).status_code == 404


def promotion_form(**overrides) -> dict:
    form = {"code": "TET-2031", "description": "Tết 2031", "kind": "amount_off",
            "value": "3000", "valid_from": "2031-01-20T00:00", "valid_until": "2031-02-20T00:00",
            "channels": ["online_public_service", "counter"], "kinds": ["result_delivery"],
            "province_codes": "79", "agency_codes": "", "priority": "50"}
    form.update(overrides)
    return form


def test_a_promotion_is_created_from_the_form_in_vietnam_time(admin, db_session):
    answer = admin.post("/console/admin/promotions", promotion_form())
    assert answer.status_code == 303, text(answer)
    record = db_session.get(PromotionRecord, "TET-2031")
    assert (record.kind, record.value, record.priority) == ("amount_off", 3000, 50)
    assert record.valid_from == datetime(2031, 1, 20, tzinfo=ICT)
    assert record.valid_until == datetime(2031, 2, 20, tzinfo=ICT)
    assert record.eligibility["channels"] == ["counter", "online_public_service"]
    assert record.eligibility["province_codes"] == ["79"]
    row = re.search(r'<tr id="promotion-TET-2031">.*?</tr>',
                    text(admin.get("/console/admin/promotions")), re.S).group(0)
    assert "Giảm 3.000 đ" in row and "Chưa bắt đầu" in row


def test_a_fixed_price_promotion_takes_prices_per_zone(admin, db_session):
    answer = admin.post("/console/admin/promotions", promotion_form(
        code="QN-STYLE", kind="fixed_price", value="intra_district=15000, intra_province=20.000",
        valid_until=""))
    assert answer.status_code == 303, text(answer)
    record = db_session.get(PromotionRecord, "QN-STYLE")
    assert record.value == {"intra_district": 15000, "intra_province": 20000}
    assert record.valid_until is None


@pytest.mark.parametrize("overrides, field", [
    ({"code": ""}, "code"),
    ({"valid_from": "2020-01-01T00:00"}, "valid_from"),
    ({"value": "lots"}, "value"),
    ({"kind": "free_lunch"}, "kind"),
    ({"valid_from": "not a time"}, "valid_from"),
    ({"valid_until": "2031-01-01T00:00"}, "valid_until"),
    ({"channels": ["pigeon"]}, "eligibility.channels"),
    ({"description": "x\x00y"}, "description"),
    ({"priority": "high"}, "priority"),
    # Digits to str.isdigit() that int() cannot read.
    ({"value": "²"}, "value"),
    ({"priority": "²"}, "priority"),
    ({"kind": "fixed_price", "value": "intra_district=²"}, "value.intra_district"),
])
def test_a_bad_promotion_form_is_422_with_the_field_named_and_creates_nothing(
        admin, db_session, count_rows, overrides, field):
    promotions = count_rows(PromotionRecord)
    answer = admin.post("/console/admin/promotions", promotion_form(**overrides))
    assert answer.status_code == 422
    assert f"<strong>{field}</strong>" in text(answer)
    assert count_rows(PromotionRecord) == promotions


def test_a_promotion_code_taken_is_409(admin, demo_billing, count_rows):
    promotions = count_rows(PromotionRecord)
    assert admin.post("/console/admin/promotions",
                      promotion_form(code=COVID)).status_code == 409
    assert count_rows(PromotionRecord) == promotions


# -- VAT rates --------------------------------------------------------------------------------

def test_vat_rates_are_listed_per_category_with_the_row_in_force_marked(admin, demo_billing):
    page = text(admin.get("/console/admin/tax-rates"))
    standard = re.search(r'<table class="tax-rates" id="tax-standard">.*?</table>', page,
                         re.S).group(0)
    assert "Decree 174/2025/NĐ-CP" in standard and "8%" in standard and "10%" in standard
    assert "Đang áp dụng" in standard
    not_subject = re.search(r'id="tax-not_subject">.*?</table>', page, re.S).group(0)
    assert "không chịu thuế" in not_subject


def test_a_future_vat_row_is_added_and_closes_the_open_ended_one(
        admin, demo_billing, db_session, now):
    starts = (now.astimezone(ICT) + timedelta(days=3000)).date()
    answer = admin.post("/console/admin/tax-rates", {
        "category": "standard", "rate_percent": "8,5", "valid_from": starts.isoformat(),
        "valid_until": "", "legal_basis": "Nghị định thử nghiệm"})
    assert answer.status_code == 303, text(answer)
    row = db_session.scalar(select(TaxRateRecord).where(TaxRateRecord.valid_from == starts))
    assert (row.category, row.rate, row.valid_until) == ("standard", "0.085", None)
    earlier = db_session.scalar(select(TaxRateRecord).where(
        TaxRateRecord.category == "standard", TaxRateRecord.valid_until == starts))
    assert earlier is not None
    assert "8.5%" in text(admin.get("/console/admin/tax-rates"))


@pytest.mark.parametrize("overrides, status, field", [
    ({"valid_from": "2020-01-01"}, 422, "valid_from"),
    ({"rate_percent": "abc"}, 422, "rate"),
    ({"rate_percent": "1e999999999"}, 422, "rate"),
    ({"category": "luxury"}, 422, "category"),
    ({"legal_basis": ""}, 422, "legal_basis"),
    ({"valid_from": "next year"}, 422, "valid_from"),
])
def test_a_bad_vat_row_is_refused_and_writes_nothing(admin, demo_billing, count_rows,
                                                     overrides, status, field):
    form = {"category": "standard", "rate_percent": "10", "valid_from": "2040-01-01",
            "valid_until": "", "legal_basis": "Luật thuế GTGT"}
    form.update(overrides)
    rows, audit = count_rows(TaxRateRecord), count_rows(BillingAuditEntry)
    answer = admin.post("/console/admin/tax-rates", form)
    assert answer.status_code == status
    assert f"<strong>{field}</strong>" in text(answer)
    assert (count_rows(TaxRateRecord), count_rows(BillingAuditEntry)) == (rows, audit)


# -- the billing audit trail ------------------------------------------------------------------

def test_the_audit_log_says_who_changed_what_and_when_newest_first(admin, demo_billing,
                                                                   db_session):
    admin.post(f"/console/admin/promotions/{COVID}/end",
               {"valid_until": "2031-01-01T00:00:00+07:00"})
    page = text(admin.get("/console/admin/audit?entity=promotion"))
    rows = re.findall(r"<tr><td>.*?</tr>", page, re.S)
    newest = rows[0]
    assert "admin1" in newest and COVID in newest and "Sửa" in newest
    assert "valid_until" in newest and "2030-12-31T17:00:00Z" in newest
    assert "demo" in rows[-1] and "Tạo mới" in rows[-1]
    assert "Bảng cước" not in "".join(rows)  # filtered to promotions


def test_the_audit_log_pages_by_cursor(admin, demo_billing, db_session, now, count_rows):
    db_session.add_all(BillingAuditEntry(entity="promotion", entity_key=f"P{i}", action="create",
                                         actor="test", actor_client_id=None, at=now,
                                         before=None, after={"code": f"P{i}"})
                       for i in range(60))
    db_session.commit()
    first = text(admin.get("/console/admin/audit"))
    cursor = re.search(r'rel="next" href="[^"]*cursor=([^"&]+)', first).group(1)
    second = admin.get(f"/console/admin/audit?cursor={cursor}")
    assert second.status_code == 200 and "Trang đầu" in text(second)


@pytest.mark.parametrize("query, status", [("entity=salaries", 400), ("cursor=%00", 400),
                                           ("cursor=bm90LWEtY3Vyc29y", 422)])
def test_bad_audit_filters_are_4xx(admin, demo_billing, query, status):
    assert admin.get(f"/console/admin/audit?{query}").status_code == status
