"""Admin pages for billing: tariff versions, promotions (closing one in two clicks), VAT rates,
and the billing audit trail. Every change goes through the use case the billing API calls."""
from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest

from postal_svc.billing import service
from postal_svc.billing.codec import encode_decimal, encode_instant, parse_instant
from postal_svc.billing.errors import NoTariffInForce
from postal_svc.billing.facts import Channel, OrderKind
from postal_svc.billing.models import PromotionRecord
from postal_svc.billing.promotions import Promotion, PromotionKind
from postal_svc.billing.tax import TaxCategory, format_rate, vietnam_date
from postal_svc.clock import VIETNAM
from postal_svc.errors import DomainError
from postal_svc.routes import common
from postal_svc.routes.billing import TariffVersionFields
from postal_svc.routes.console.admin_common import (
    PAGE_SIZE, actor, exact_vietnam_time, form_text, next_minute, page_cursor,
    parse_vietnam_local, path_code, problems_of, render_admin, vietnam_local_value)
from postal_svc.routes.console.base import admin_required, blp
from postal_svc.routes.errors import flatten_messages, status_of

# A pasted document nested deeper than any tariff is refused before it is walked.
_MAX_DOCUMENT_DEPTH = 12
_AUDIT_ENTITIES = ("tariff_version", "promotion", "tax_rate")
# A VAT percentage as people write it: 8, 10, 8.5 or 8,5.
_PERCENT = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,6})?")


class _FormProblem(Exception):
    """A form the page answers with itself again, a status and a message (no use case ran)."""

    def __init__(self, status: int, message: str,
                 problems: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or {}


# -- tariff versions -------------------------------------------------------------------------

def _version_in_force() -> str | None:
    try:
        return service.current_book(common.session()).version_at(common.now()).code
    except NoTariffInForce:
        return None


@blp.get("/admin/tariffs")
@admin_required
def admin_tariffs() -> Any:
    """Tariff versions by code; the one in force now is marked."""
    page = service.list_tariff_versions(common.session(), limit=PAGE_SIZE, cursor=page_cursor())
    return render_admin("tariffs.html", page=page, in_force=_version_in_force(),
                        now=common.now())


@blp.get("/admin/tariffs/<code>")
@admin_required
def admin_tariff(code: str) -> Any:
    """One version as readable tables: zones, weight steps per zone, add-ons, exemptions."""
    record = service.get_tariff_version(common.session(), path_code(code))
    return render_admin("tariff.html", record=record, doc=record.document,
                        in_force=_version_in_force() == record.code)


def _starter_document(source: str | None) -> str:
    """A document to edit: a copy of `source` (or the version in force) taking effect at the
    next midnight in Vietnam, which the admin changes as needed."""
    code = source or _version_in_force()
    if code is None:
        return ""
    record = service.get_tariff_version(common.session(), path_code(code))
    tomorrow = datetime.combine(vietnam_date(common.now()) + timedelta(days=1), time(), VIETNAM)
    document = {**record.document, "effective_from": tomorrow.isoformat()}
    return json.dumps(document, ensure_ascii=False, indent=2)


@blp.get("/admin/tariffs/new")
@admin_required
def admin_tariff_new() -> Any:
    """A textarea holding a JSON tariff document (the API's POST /tariffs body)."""
    return render_admin("tariff_new.html", document=_starter_document(request.args.get("from")),
                        problems={})


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > _MAX_DOCUMENT_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def _parse_document(text: str) -> Any:
    """The pasted JSON, or a 400 page saying where it is broken."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _FormProblem(400, _("JSON không hợp lệ (dòng %(line)d, cột %(column)d): %(what)s",
                                  line=error.lineno, column=error.colno, what=error.msg))
    except RecursionError:
        document = None
    except ValueError:  # an integer past Python's digit limit (not a JSONDecodeError)
        raise _FormProblem(400, _("Tài liệu JSON có số quá dài.")) from None
    if document is None or _depth(document) > _MAX_DOCUMENT_DEPTH:
        raise _FormProblem(400, _("Tài liệu JSON lồng nhau quá sâu hoặc rỗng."))
    return document


@blp.post("/admin/tariffs")
@admin_required
def admin_tariff_create() -> Any:
    """Publish a future-dated version: the API's schema, then `create_tariff_version`."""
    text = request.form.get("document", "")
    try:
        document = _parse_document(text)
        try:
            TariffVersionFields().load(document)
        except ValidationError as error:
            raise _FormProblem(422, _("Tài liệu chưa đúng mẫu bảng cước."),
                               flatten_messages(error.messages)) from None
        db_session = common.session()
        record = service.create_tariff_version(db_session, document, actor=actor(),
                                               now=common.now())
        code = record.code
        db_session.commit()
    except _FormProblem as problem:
        return render_admin("tariff_new.html", document=text, message=problem.message,
                            problems=problem.problems), problem.status
    except DomainError as error:
        return render_admin("tariff_new.html", document=text, message=error.message,
                            problems=problems_of(error.errors)), status_of(error)
    flash(_("Đã công bố phiên bản bảng cước %(code)s.", code=code), "ok")
    return redirect(url_for("console.admin_tariff", code=code), code=303)


# -- promotions ------------------------------------------------------------------------------

def _can_end(promotion: Promotion, now: datetime) -> bool:
    """An end can still be set: open-ended, or ending in the future."""
    return promotion.valid_until is None or promotion.valid_until > now


@blp.get("/admin/promotions")
@admin_required
def admin_promotions() -> Any:
    """Promotions by code: discount, window in Vietnam time, in force now or not."""
    now = common.now()
    page = service.list_promotions(common.session(), limit=PAGE_SIZE, cursor=page_cursor())
    rows = [(record, service.promotion_of(record)) for record in page.items]
    return render_admin("promotions.html", page=page, now=now,
                        rows=[(r, p, p.state_at(now), _can_end(p, now)) for r, p in rows])


def _blank_promotion_form() -> dict[str, Any]:
    return {"code": "", "description": "", "kind": "percent_off", "value": "",
            "valid_from": vietnam_local_value(next_minute(common.now())), "valid_until": "",
            "channels": [], "kinds": [], "province_codes": "", "agency_codes": "",
            "stackable": False, "priority": "100"}


def _promotion_form_page(form: dict[str, Any], status: int = 200, message: str | None = None,
                         problems: dict[str, list[str]] | None = None) -> Any:
    return render_admin("promotion_new.html", form=form, message=message,
                        problems=problems or {}, kinds=[k.value for k in PromotionKind],
                        channels=[c.value for c in Channel],
                        order_kinds=[k.value for k in OrderKind]), status


@blp.get("/admin/promotions/new")
@admin_required
def admin_promotion_new() -> Any:
    return _promotion_form_page(_blank_promotion_form())


def _codes(text: str) -> list[str]:
    return sorted({c for c in text.replace(",", " ").split() if c})


def _instant_field(text: str) -> str | None:
    """A datetime-local value read in Vietnam time, as the ISO instant the API takes; other
    text is passed on for the codec to refuse by name."""
    if not text:
        return None
    moment = parse_vietnam_local(text)
    return moment.isoformat() if moment is not None else text


def _promotion_value(kind: str, text: str) -> Any:
    """The form's value as the API's JSON `value`: "20" (percent), 3000 (VND) or, for a fixed
    price, "zone=VND, zone=VND" as {zone: VND}. Text that does not fit is passed on as is, so
    the codec names the problem."""
    # isascii: "²" is a digit to isdigit() but not to int().
    if kind == PromotionKind.AMOUNT_OFF and text.isascii() and text.isdigit() \
            and len(text) <= 12:
        return int(text)
    if kind == PromotionKind.FIXED_PRICE:
        prices: dict[str, Any] = {}
        for part in text.replace(";", ",").split(","):
            zone, sep, amount = part.partition("=")
            if not sep or not zone.strip():
                return text
            amount = amount.strip().replace(".", "")
            prices[zone.strip()] = int(amount) if amount.isascii() and amount.isdigit() \
                and len(amount) <= 12 else amount
        return prices
    return text.replace(",", ".")


def _promotion_form() -> dict[str, Any]:
    return {"code": form_text("code", 200), "description": form_text("description", 1000),
            "kind": form_text("kind", 32), "value": form_text("value", 1000),
            "valid_from": form_text("valid_from", 40), "valid_until": form_text("valid_until", 40),
            "channels": request.form.getlist("channels")[:10],
            "kinds": request.form.getlist("kinds")[:10],
            "province_codes": form_text("province_codes"),
            "agency_codes": form_text("agency_codes"),
            "stackable": request.form.get("stackable") == "on",
            "priority": form_text("priority", 20)}


def _promotion_document(form: dict[str, Any]) -> dict[str, Any]:
    """The form as the API's POST /promotions body."""
    priority = form["priority"]
    return {"code": form["code"], "kind": form["kind"],
            "value": _promotion_value(form["kind"], form["value"]),
            "valid_from": _instant_field(form["valid_from"]) or "",
            "valid_until": _instant_field(form["valid_until"]),
            "eligibility": {"channels": form["channels"], "kinds": form["kinds"],
                            "province_codes": _codes(form["province_codes"]),
                            "agency_codes": _codes(form["agency_codes"])},
            "stackable": form["stackable"],
            "priority": (int(priority) if priority.isascii() and priority.isdigit()
                         and len(priority) <= 9 else priority),
            "description": form["description"]}


@blp.post("/admin/promotions")
@admin_required
def admin_promotion_create() -> Any:
    """Create a promotion starting in the future (`create_promotion`)."""
    form = _promotion_form()
    db_session = common.session()
    try:
        record = service.create_promotion(db_session, _promotion_document(form), actor=actor(),
                                          now=common.now())
        code = record.code
        db_session.commit()
    except DomainError as error:
        db_session.rollback()
        return _promotion_form_page(form, status_of(error), error.message,
                                    problems_of(error.errors))
    flash(_("Đã tạo khuyến mãi %(code)s.", code=code), "ok")
    return redirect(url_for("console.admin_promotions"), code=303)


def _chosen_end(now: datetime) -> datetime:
    """The end instant to confirm: `?at=` (Vietnam time) or the next whole minute."""
    chosen = request.args.get("at", "")
    if not chosen:
        return next_minute(now)
    moment = parse_vietnam_local(chosen)
    if moment is None:
        raise BadRequest(_("Thời điểm không hợp lệ."))
    return moment


def _end_page(record: PromotionRecord, ends_at: datetime, status: int = 200,
              message: str | None = None) -> Any:
    promotion = service.promotion_of(record)
    return render_admin("promotion_end.html", record=record, promotion=promotion,
                        ends_at=ends_at, ends_at_value=encode_instant(ends_at),
                        local_value=vietnam_local_value(ends_at), message=message,
                        state=promotion.state_at(common.now())), status


@blp.get("/admin/promotions/<code>/end")
@admin_required
def admin_promotion_end_confirm(code: str) -> Any:
    """Click 1: the exact instant the promotion will end, in Vietnam time, to confirm."""
    now = common.now()
    record = service.get_promotion(common.session(), path_code(code))
    ends_at = _chosen_end(now)
    if ends_at <= now:
        return _end_page(record, next_minute(now), 422, _(
            "Thời điểm %(when)s đã qua. Hãy chọn một thời điểm trong tương lai.",
            when=exact_vietnam_time(ends_at)))
    return _end_page(record, ends_at)


def _confirmed_instant(text: str) -> datetime:
    """The instant the confirmation page carried (ISO 8601 with an offset), in UTC; else 400."""
    try:
        return parse_instant(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise BadRequest(_("Thiếu thời điểm kết thúc đã xác nhận.")) from None


@blp.post("/admin/promotions/<code>/end")
@admin_required
def admin_promotion_end(code: str) -> Any:
    """Click 2: store exactly the instant that was shown, through `update_promotion` (the
    use case of PATCH /promotions/{code}); an instant gone by meanwhile is refused."""
    now = common.now()
    db_session = common.session()
    record = service.get_promotion(db_session, path_code(code))
    ends_at = _confirmed_instant(form_text("valid_until", 40))
    if ends_at < now:
        # Checked here too so the page can offer a fresh instant; the use case refuses it
        # anyway (RetroactiveChange), and nothing is written.
        return _end_page(record, next_minute(now), 409, _(
            "Trang xác nhận đã cũ: thời điểm %(when)s đã qua nên chưa có gì thay đổi. "
            "Hãy xác nhận lại thời điểm mới dưới đây.",
            when=exact_vietnam_time(ends_at)))
    try:
        service.update_promotion(db_session, record.code,
                                 {"valid_until": encode_instant(ends_at)}, actor=actor(), now=now)
        db_session.commit()
    except DomainError as error:
        db_session.rollback()
        record = service.get_promotion(db_session, record.code)
        return _end_page(record, next_minute(now), status_of(error), error.message)
    flash(_("Khuyến mãi %(code)s kết thúc lúc %(when)s.", code=record.code,
            when=exact_vietnam_time(ends_at)), "ok")
    return redirect(url_for("console.admin_promotions"), code=303)


# -- VAT rates -------------------------------------------------------------------------------

def _tax_form_page(form: dict[str, str], status: int = 200, message: str | None = None,
                   problems: dict[str, list[str]] | None = None) -> Any:
    session = common.session()
    page = service.list_tax_rates(session, limit=200, cursor=page_cursor())
    today = vietnam_date(common.now())
    rows = [(record, format_rate(service.vat_rate_of(record).rate),
             record.valid_from <= today and (record.valid_until is None
                                             or today < record.valid_until))
            for record in page.items]
    return render_admin("tax_rates.html", page=page, rows=rows, form=form, message=message,
                        problems=problems or {},
                        categories=[c.value for c in TaxCategory]), status


@blp.get("/admin/tax-rates")
@admin_required
def admin_tax_rates() -> Any:
    """The VAT table per category, and a form for a future-dated row."""
    return _tax_form_page({"category": "standard", "rate_percent": "", "valid_from": "",
                           "valid_until": "", "legal_basis": ""})


def _rate_fraction(percent: str) -> str | None:
    """"8" or "8,5" (percent, as people write it) -> "0.08" or "0.085" (the API's fraction)."""
    if not percent:
        return None
    if not _PERCENT.fullmatch(percent):
        raise _FormProblem(422, _("Thuế suất phải là một số phần trăm, ví dụ 8 hoặc 10."),
                           {"rate": [_("Ví dụ: 8 hoặc 10.")]})
    return encode_decimal(Decimal(percent.replace(",", ".")) / 100)


@blp.post("/admin/tax-rates")
@admin_required
def admin_tax_rate_create() -> Any:
    """Add a VAT row from a future Vietnam date (`create_tax_rate`)."""
    form = {"category": form_text("category", 32), "rate_percent": form_text("rate_percent", 12),
            "valid_from": form_text("valid_from", 20), "valid_until": form_text("valid_until", 20),
            "legal_basis": form_text("legal_basis", 1000)}
    db_session = common.session()
    try:
        document = {"category": form["category"], "rate": _rate_fraction(form["rate_percent"]),
                    "valid_from": form["valid_from"], "valid_until": form["valid_until"] or None,
                    "legal_basis": form["legal_basis"]}
        service.create_tax_rate(db_session, document, actor=actor(), now=common.now())
        db_session.commit()
    except _FormProblem as problem:
        return _tax_form_page(form, problem.status, problem.message, problem.problems)
    except DomainError as error:
        db_session.rollback()
        return _tax_form_page(form, status_of(error), error.message, problems_of(error.errors))
    flash(_("Đã thêm thuế suất mới."), "ok")
    return redirect(url_for("console.admin_tax_rates"), code=303)


# -- the billing audit trail -----------------------------------------------------------------

def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None
             ) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for every top-level field an update changed."""
    if before is None or after is None:
        return []
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


@blp.get("/admin/audit")
@admin_required
def admin_audit() -> Any:
    """Who changed which tariff, promotion or VAT row, when, before and after; newest first."""
    entity = request.args.get("entity") or None
    if entity is not None and entity not in _AUDIT_ENTITIES:
        raise BadRequest(_("Loại dữ liệu không hợp lệ."))
    page = service.list_audit(common.session(), entity=entity, limit=PAGE_SIZE,
                              cursor=page_cursor())
    rows = [(entry, _changes(entry.before, entry.after)) for entry in page.items]
    return render_admin("audit.html", page=page, rows=rows, entity=entity,
                        entities=_AUDIT_ENTITIES, dumps=_compact_json)


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
