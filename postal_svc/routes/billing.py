"""Billing API: tariffs, promotions and VAT rates (admins), quotes, and monthly statements."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from postal_svc.access.service import Role
from postal_svc.billing import service
from postal_svc.billing.codec import encode_instant, encode_promotion, encode_vat_rate
from postal_svc.billing.models import BillingAuditEntry, PromotionRecord, Quote, TariffVersionRecord, TaxRateRecord
from postal_svc.billing.tax import format_rate
from postal_svc.clock import isoformat_z
from postal_svc.documents.statement_pdf import render_statement_pdf
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.routes.fields import CodeString, UtcDateTime
from postal_svc.routes.order_schemas import (
    PAYMENT_METHOD_NAMES, AddressFormSchema, FeeForwardingSchema, ParcelSchema)
from postal_svc.routes.orders import address_from
from postal_svc.routes.reference import ListArgsSchema
from postal_svc.shipments.intake import CHANNELS, PAYERS
from postal_svc.shipments.lifecycle import Kind
from postal_svc.shipments.quoting import QuoteRequest, quote_leg
from postal_svc.shipments.statements import monthly_statement, statement_csv_rows

blp = Blueprint("billing", __name__, url_prefix="/api/v1",
                description="Tariffs, promotions, VAT rates, quotes and statements.")

READERS = (Role.ADMIN, Role.DISPATCHER)
QUOTERS = (Role.ADMIN, Role.DISPATCHER, Role.AGENCY_SYSTEM)
STATEMENT_READERS = (Role.ADMIN, Role.AGENCY_SYSTEM)
_MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def actor() -> service.Actor:
    caller = common.caller()
    return service.Actor(client_id=caller.client_id, name=caller.name)


# -- schemas ---------------------------------------------------------------------------------


def _doc(description: str, **kwargs: Any) -> fields.Raw:
    # Documents are checked field by field by billing.codec (types, paths, core rules), so
    # the schema only names the fields and refuses unknown ones.
    return fields.Raw(allow_none=True, metadata={"description": description}, **kwargs)


class TariffVersionFields(Schema):
    code = _doc("Version code, e.g. HCM-BCCI-2027.", required=True)
    effective_from = _doc("ISO 8601 instant with offset; must be in the future.", required=True)
    tax_category = _doc("standard | not_subject", required=True)
    description = _doc("Free text.")
    base_weight_g = _doc("Grams covered by a zone's base price (default 100).")
    zones = _doc("[{code, description, relation: same_ward | same_old_district | "
                 "same_province | inter_province, base_price_vnd, region_relation: "
                 "same_region | adjacent_region | distant_region | null}], tried in order.",
                 required=True)
    weight_bands = _doc("[{up_to_g (null: open), step_g, step_price_vnd: {zone: VND}}]")
    add_ons = _doc("{fee_forwarding_vnd, cash_on_delivery_vnd}; null: not offered.")
    exemptions = _doc("[{beneficiary_category, description, legal_basis}]")
    regions = _doc("{province_regions: {province code: region}, adjacent_regions: "
                   "[[region, region]]}")


class TariffVersionSchema(TariffVersionFields):
    created_at = fields.String()
    created_by_client_id = fields.Integer(allow_none=True)


class TariffVersionPageSchema(Schema):
    data = fields.List(fields.Nested(TariffVersionSchema))
    next_cursor = fields.String(allow_none=True)


class PromotionChangeSchema(Schema):
    kind = _doc("percent_off | amount_off | fixed_price")
    value = _doc('percent_off: a percentage as a string ("20"); amount_off: VND; '
                 "fixed_price: {zone code: VND}.")
    valid_from = _doc("ISO 8601 instant with offset, inclusive; must be in the future.")
    valid_until = _doc("ISO 8601 instant with offset, exclusive; null: open-ended. Once the "
                       "promotion has started only this may change, never to before now.")
    eligibility = _doc("{channels, kinds, province_codes, agency_codes}; empty: any.")
    stackable = _doc("Applies on top of the best non-stackable promotion (default false).")
    priority = _doc("Lower first (default 100).")
    description = _doc("Shown on the price line.")


class CreatePromotionSchema(PromotionChangeSchema):
    code = _doc("Promotion code, e.g. COVID19-ONLINE-20.", required=True)
    kind = _doc("percent_off | amount_off | fixed_price", required=True)
    value = _doc('percent_off: "20"; amount_off: VND; fixed_price: {zone code: VND}.',
                 required=True)
    valid_from = _doc("ISO 8601 instant with offset, inclusive; must be in the future.",
                      required=True)


class PromotionSchema(CreatePromotionSchema):
    state = fields.String(metadata={"description": "scheduled | active | ended (now)"})
    created_at = fields.String()
    updated_at = fields.String()


class PromotionPageSchema(Schema):
    data = fields.List(fields.Nested(PromotionSchema))
    next_cursor = fields.String(allow_none=True)


class CreateTaxRateSchema(Schema):
    category = _doc("standard | not_subject", required=True)
    rate = _doc('A fraction as a string: "0.08" is 8%; null for not_subject.')
    valid_from = _doc("ISO date (Vietnam), after today.", required=True)
    valid_until = _doc("ISO date, exclusive; null: open-ended.")
    legal_basis = _doc("e.g. Decree 174/2025/NĐ-CP.", required=True)


class TaxRateSchema(CreateTaxRateSchema):
    id = fields.Integer()
    rate_percent = fields.String(allow_none=True)
    created_at = fields.String()


class TaxRatePageSchema(Schema):
    data = fields.List(fields.Nested(TaxRateSchema))
    next_cursor = fields.String(allow_none=True)


class TaxRateArgsSchema(ListArgsSchema):
    category = fields.String(validate=validate.OneOf(["standard", "not_subject"]))


class AuditArgsSchema(ListArgsSchema):
    entity = fields.String(validate=validate.OneOf(["tariff_version", "promotion", "tax_rate"]))
    entity_key = CodeString(max_length=64)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    entity = fields.String()
    entity_key = fields.String()
    action = fields.String()
    actor = fields.String()
    actor_client_id = fields.Integer(allow_none=True)
    at = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AuditPageSchema(Schema):
    data = fields.List(fields.Nested(AuditEntrySchema))
    next_cursor = fields.String(allow_none=True)


class QuoteAddressSchema(AddressFormSchema):
    """An end of the leg to quote, in either address form."""


class CreateQuoteSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in Kind]))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    registered_at = UtcDateTime(allow_none=True, metadata={
        "description": "Any past instant (default now): what did it cost then?"})
    agency_code = CodeString(required=True)
    origin = fields.Nested(QuoteAddressSchema, allow_none=True, metadata={
        "description": "The agency desk's location, when the directory lacks it or it differs"})
    citizen = fields.Nested(QuoteAddressSchema, required=True)
    parcel = fields.Nested(ParcelSchema, required=True)
    payer = fields.String(load_default="citizen", validate=validate.OneOf(PAYERS))
    payment_method = fields.String(allow_none=True, validate=validate.OneOf(PAYMENT_METHOD_NAMES))
    fee_forwarding = fields.Nested(FeeForwardingSchema, allow_none=True)
    beneficiary_category = CodeString(allow_none=True, metadata={
        "description": "e.g. heroic_mother: exempt under the tariff in force"})


class QuoteSchema(Schema):
    id = fields.String()
    expires_at = fields.String()
    registered_at = fields.String()
    created_at = fields.String()
    price = fields.Dict()


class StatementArgsSchema(Schema):
    agency_code = CodeString(required=True)
    month = fields.String(required=True, validate=validate.Regexp(
        _MONTH_PATTERN, error="Expected YYYY-MM."), metadata={"example": "2020-03"})


# -- presenters ------------------------------------------------------------------------------

def present_tariff_version(record: TariffVersionRecord) -> dict[str, Any]:
    return {**record.document, "effective_from": isoformat_z(record.effective_from),
            "created_at": isoformat_z(record.created_at),
            "created_by_client_id": record.created_by_client_id}


def present_promotion(record: PromotionRecord) -> dict[str, Any]:
    promotion = service.promotion_of(record)
    return {**encode_promotion(promotion), "state": promotion.state_at(common.now()),
            "created_at": isoformat_z(record.created_at),
            "updated_at": isoformat_z(record.updated_at)}


def present_tax_rate(record: TaxRateRecord) -> dict[str, Any]:
    row = service.vat_rate_of(record)
    return {"id": record.id, **encode_vat_rate(row), "rate_percent": format_rate(row.rate),
            "created_at": isoformat_z(record.created_at)}


def present_audit(entry: BillingAuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "entity": entry.entity, "entity_key": entry.entity_key,
            "action": entry.action, "actor": entry.actor,
            "actor_client_id": entry.actor_client_id, "at": isoformat_z(entry.at),
            "before": entry.before, "after": entry.after}


def present_quote(quote: Quote) -> dict[str, Any]:
    return {"id": quote.id, "expires_at": encode_instant(quote.expires_at),
            "registered_at": encode_instant(quote.registered_at),
            "created_at": encode_instant(quote.created_at), "price": quote.price}


def _page(page: Any, present: Any) -> dict[str, Any]:
    return {"data": [present(item) for item in page.items], "next_cursor": page.next_cursor}


# -- tariffs, promotions, tax rates ----------------------------------------------------------

@blp.route("/tariffs")
class Tariffs(MethodView):
    @common.require_roles(*READERS)
    @blp.arguments(ListArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, TariffVersionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List tariff versions."""
        return _page(service.list_tariff_versions(common.session(), limit=args["limit"],
                                                  cursor=args.get("cursor")),
                     present_tariff_version)

    @common.require_roles(Role.ADMIN)
    @common.idempotent
    @blp.arguments(TariffVersionFields())
    @blp.response(201, TariffVersionSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Publish a tariff version taking effect at a future instant (immutable after)."""
        return present_tariff_version(service.create_tariff_version(
            common.session(), data, actor=actor(), now=common.now()))


@blp.route("/tariffs/<string:code>")
class TariffByCode(MethodView):
    @common.require_roles(*READERS)
    @blp.response(200, TariffVersionSchema)
    def get(self, code: str) -> dict[str, Any]:
        """Read one tariff version."""
        return present_tariff_version(service.get_tariff_version(common.session(), code))


@blp.route("/promotions")
class Promotions(MethodView):
    @common.require_roles(*READERS)
    @blp.arguments(ListArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, PromotionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List promotions."""
        return _page(service.list_promotions(common.session(), limit=args["limit"],
                                             cursor=args.get("cursor")), present_promotion)

    @common.require_roles(Role.ADMIN)
    @common.idempotent
    @blp.arguments(CreatePromotionSchema())
    @blp.response(201, PromotionSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a promotion starting at a future instant."""
        return present_promotion(service.create_promotion(common.session(), data,
                                                          actor=actor(), now=common.now()))


@blp.route("/promotions/<string:code>")
class PromotionByCode(MethodView):
    @common.require_roles(*READERS)
    @blp.response(200, PromotionSchema)
    def get(self, code: str) -> dict[str, Any]:
        """Read one promotion."""
        return present_promotion(service.get_promotion(common.session(), code))

    @common.require_roles(Role.ADMIN)
    @blp.arguments(PromotionChangeSchema())
    @blp.response(200, PromotionSchema)
    def patch(self, changes: dict[str, Any], code: str) -> dict[str, Any]:
        """Change a promotion: anything before it starts, afterwards only a future end."""
        db_session = common.session()
        record = service.update_promotion(db_session, code, changes, actor=actor(),
                                          now=common.now())
        db_session.commit()
        return present_promotion(record)


@blp.route("/tax-rates")
class TaxRates(MethodView):
    @common.require_roles(*READERS)
    @blp.arguments(TaxRateArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, TaxRatePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the VAT table's rows."""
        return _page(service.list_tax_rates(common.session(), category=args.get("category"),
                                            limit=args["limit"], cursor=args.get("cursor")),
                     present_tax_rate)

    @common.require_roles(Role.ADMIN)
    @common.idempotent
    @blp.arguments(CreateTaxRateSchema())
    @blp.response(201, TaxRateSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add a VAT row from a future date (closes the category's open-ended row then)."""
        return present_tax_rate(service.create_tax_rate(common.session(), data, actor=actor(),
                                                        now=common.now()))


@blp.route("/billing-audit")
class BillingAudit(MethodView):
    @common.require_roles(Role.ADMIN)
    @blp.arguments(AuditArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, AuditPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Who changed which tariff, promotion or VAT row, when, before and after; newest first."""
        return _page(service.list_audit(common.session(), entity=args.get("entity"),
                                        entity_key=args.get("entity_key"), limit=args["limit"],
                                        cursor=args.get("cursor")), present_audit)


# -- quotes ----------------------------------------------------------------------------------

def quote_request_from(data: dict[str, Any]) -> QuoteRequest:
    fee = data.get("fee_forwarding")
    origin = data.get("origin")
    return QuoteRequest(
        kind=data["kind"], channel=data["channel"], agency_code=data["agency_code"],
        citizen_address=address_from(data["citizen"]), weight_g=data["parcel"]["weight_grams"],
        payer=data["payer"], registered_at=data.get("registered_at"),
        origin_address=address_from(origin) if origin else None,
        payment_method=data.get("payment_method"),
        fee_forwarding_vnd=fee["amount"] if fee else None,
        beneficiary_category=data.get("beneficiary_category"))


@blp.route("/quotes")
class Quotes(MethodView):
    @common.require_roles(*QUOTERS)
    @common.idempotent
    @blp.arguments(CreateQuoteSchema())
    @blp.response(201, QuoteSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Price an order leg as at `registered_at`; an order naming the quote gets this price."""
        conf = common.settings()
        quote = quote_leg(common.session(), quote_request_from(data), caller=common.caller(),
                          now=common.now(), resolve_address=common.state().resolve_address,
                          validity=timedelta(minutes=conf.quote_validity_minutes),
                          future_skew=timedelta(seconds=conf.registered_at_future_skew_s))
        return present_quote(quote)


# -- statements ------------------------------------------------------------------------------

def _statement(args: dict[str, Any]) -> Any:
    return monthly_statement(common.session(), args["agency_code"], args["month"],
                             caller=common.caller(), now=common.now())


def _filename(args: dict[str, Any], extension: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in args["agency_code"])
    return f"statement-{safe}-{args['month']}.{extension}"


@blp.route("/statements")
class Statements(MethodView):
    @common.require_roles(*STATEMENT_READERS)
    @blp.arguments(StatementArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Monthly statement of an agency's agency-paid orders (Vietnam month), JSON."""
        return dict(_statement(args).to_dict())


@blp.route("/statements.csv")
class StatementsCsv(MethodView):
    @common.require_roles(*STATEMENT_READERS)
    @blp.arguments(StatementArgsSchema(), location="query", unknown=RAISE)
    @blp.doc(responses={"200": {"description": "CSV (UTF-8 with BOM): header, orders, totals",
                                "content": {"text/csv": {}}}})
    def get(self, args: dict[str, Any]) -> Response:
        """Monthly statement as CSV: a header row, one row per order and a totals row."""
        out = io.StringIO()
        # The BOM makes spreadsheet programs read the Vietnamese text as UTF-8.
        out.write("\ufeff")
        csv.writer(out, lineterminator="\r\n").writerows(statement_csv_rows(_statement(args)))
        response = Response(out.getvalue(), mimetype="text/csv")  # "; charset=utf-8" added
        response.headers["Content-Disposition"] = f'attachment; filename="{_filename(args, "csv")}"'
        return response


@blp.route("/statements.pdf")
class StatementsPdf(MethodView):
    @common.require_roles(*STATEMENT_READERS)
    @blp.arguments(StatementArgsSchema(), location="query", unknown=RAISE)
    @blp.doc(responses={"200": {"description": "A4 PDF", "content": {"application/pdf": {}}}})
    def get(self, args: dict[str, Any]) -> Response:
        """Monthly statement as a printable A4 PDF."""
        pdf = render_statement_pdf(_statement(args).to_dict())
        response = Response(pdf.content, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{_filename(args, "pdf")}"'
        if not pdf.has_vietnamese_glyphs:
            response.headers["X-Statement-Font"] = "fallback-ascii"
        return response
