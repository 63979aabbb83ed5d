"""Schemas of the orders API: what government systems send and what they get back."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from postal_svc.routes.presented import PresentedSchema
from postal_svc.routes.fields import (
    CleanString, CodeString, StrictInteger, UtcDateTime, VietnamesePhone)
from postal_svc.shipments.intake import CHANNELS, PAYERS
from postal_svc.shipments.events import RELATIONSHIPS
from postal_svc.shipments.lifecycle import FailureReason, Kind, Status

MAX_WEIGHT_G = 30_000
MAX_FEE_VND = 100_000_000
PAYMENT_METHOD_NAMES = ("online", "cash_on_delivery", "agency_account")
PRECISIONS = ("street", "ward", "unresolved")


class Latitude(fields.Float):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(-90, 90), allow_nan=False, **kwargs)


class Longitude(fields.Float):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(-180, 180), allow_nan=False, **kwargs)


def _check_one_address_form(data: dict[str, Any]) -> None:
    if ("address" in data) == ("address_text" in data):
        raise ValidationError("Give either address or address_text.", "address")
    if "address" in data and ("lat" in data or "lon" in data):
        raise ValidationError("Put lat/lon inside address.", "lat")
    _check_point(data)


def _check_point(data: dict[str, Any]) -> None:
    if ("lat" in data) != ("lon" in data):
        raise ValidationError("Give both lat and lon, or neither.", "lat" if "lon" in data else "lon")


class AddressSchema(Schema):
    line = CleanString(required=True, validate=validate.Length(max=500))
    ward = CleanString(validate=validate.Length(max=200))
    district = CleanString(validate=validate.Length(max=200))
    province = CleanString(validate=validate.Length(max=200))
    lat = Latitude()
    lon = Longitude()

    @validates_schema
    def point_is_whole(self, data: dict[str, Any], **_: Any) -> None:
        _check_point(data)


class AddressFormSchema(Schema):
    """An address in either form: `address` parts (lat/lon inside), or `address_text` with
    an optional lat/lon beside it."""

    address = fields.Nested(AddressSchema)
    address_text = CleanString(validate=validate.Length(max=1000))
    lat = Latitude()
    lon = Longitude()

    @validates_schema
    def one_address_form(self, data: dict[str, Any], **_: Any) -> None:
        _check_one_address_form(data)


class CitizenSchema(AddressFormSchema):
    name = CleanString(required=True, validate=validate.Length(max=200))
    phone = VietnamesePhone(required=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class ParcelSchema(Schema):
    weight_grams = StrictInteger(required=True, validate=validate.Range(1, MAX_WEIGHT_G))
    pieces = StrictInteger(load_default=1, validate=validate.Range(1, 100))
    contents = CleanString(allow_none=True, validate=validate.Length(max=500))


class FeeForwardingSchema(Schema):
    amount = StrictInteger(required=True, validate=validate.Range(1, MAX_FEE_VND))


class CreateOrderSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in Kind]))
    agency_code = CodeString(required=True)
    dossier_code = CodeString(required=True)
    procedure_code = CodeString(allow_none=True)
    procedure_name = CleanString(allow_none=True, validate=validate.Length(max=500))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    registered_at = UtcDateTime(allow_none=True)
    citizen = fields.Nested(CitizenSchema, required=True)
    parcel = fields.Nested(ParcelSchema, required=True)
    payer = fields.String(required=True, validate=validate.OneOf(PAYERS))
    payment_method = fields.String(allow_none=True, validate=validate.OneOf(PAYMENT_METHOD_NAMES))
    fee_forwarding = fields.Nested(FeeForwardingSchema, allow_none=True)
    deliver_after = UtcDateTime(allow_none=True)
    deliver_before = UtcDateTime(allow_none=True)
    quote_id = CodeString(allow_none=True)
    beneficiary_category = CodeString(allow_none=True, metadata={
        "description": "an exemption category of the tariff (e.g. heroic_mother): postage free"})


class BatchSchema(Schema):
    # Items are validated one by one so that one bad item does not sink the batch.
    # A null item too is one bad item (422 in its place), not a reason to refuse the batch.
    orders = fields.List(fields.Raw(allow_none=True), required=True,
                         validate=validate.Length(min=1))


class AddressCorrectionSchema(Schema):
    ward_code = CodeString(max_length=16, metadata={"description": "official 2025 ward code"})
    lat = Latitude()
    lon = Longitude()

    @validates_schema
    def something_to_set(self, data: dict[str, Any], **_: Any) -> None:
        _check_point(data)
        if "ward_code" not in data and "lat" not in data:
            raise ValidationError("Give a ward_code, a point (lat and lon), or both.", "ward_code")


class GeocodeSchema(AddressFormSchema):
    """The address to resolve, in either form."""


EVENT_TYPES = ("collected", "at_post_office", "out_for_delivery", "delivered", "delivery_failed",
               "pickup_scheduled", "picked_up", "pickup_failed", "delivered_to_agency",
               "returning", "returned_to_agency")


class RecipientSchema(Schema):
    name = CleanString(required=True, validate=validate.Length(max=200))
    relationship = fields.String(required=True, validate=validate.OneOf(RELATIONSHIPS))
    # Only the last 4 digits of the ID document: the whole number is never accepted.
    # ASCII digits only (\d also takes e.g. full-width digits) and no trailing newline ($).
    id_last4 = fields.String(validate=validate.Regexp(r"^[0-9]{4}\Z", error="Exactly 4 digits."))


class CreateEventSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    occurred_at = UtcDateTime()
    failure_reason = fields.String(validate=validate.OneOf([r.value for r in FailureReason]))
    note = CleanString(validate=validate.Length(max=1000))
    recipient = fields.Nested(RecipientSchema)
    lat = Latitude()
    lon = Longitude()

    @validates_schema
    def point_is_whole(self, data: dict[str, Any], **_: Any) -> None:
        _check_point(data)


class CancelSchema(Schema):
    reason = CleanString(allow_none=True, validate=validate.Length(max=500))


class OrderQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    kind = fields.String(validate=validate.OneOf([k.value for k in Kind]))
    agency_code = CodeString()
    post_office_code = CodeString()
    dossier_code = CodeString()
    tracking_number = CodeString(max_length=13)
    phone = VietnamesePhone()
    address_precision = fields.String(validate=validate.OneOf(PRECISIONS))
    address_ambiguous = fields.Boolean()
    created_from = UtcDateTime()
    created_to = UtcDateTime()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=200))


# -- responses (documentation and shape of what views return) ----------------------------

class ResolvedAddressSchema(Schema):
    line = fields.String(allow_none=True)
    ward_code = fields.String(allow_none=True)
    ward_name = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    province_name = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    precision = fields.String(metadata={"description": "street | ward | unresolved"})
    ambiguous = fields.Boolean(metadata={"description": "a ward chosen by default among several; a dispatcher should confirm it"})
    candidates = fields.List(fields.String())
    old_ward_code = fields.String(allow_none=True)
    old_ward_name = fields.String(allow_none=True)
    old_district_name = fields.String(allow_none=True)
    as_sent = fields.Dict()


class GeocodeResultSchema(ResolvedAddressSchema):
    post_office_code = fields.String(allow_none=True)


class PriceLineSchema(Schema):
    code = fields.String()
    description = fields.String()
    amount = fields.Integer()


class PriceSchema(Schema):
    status = fields.String(metadata={"description": "priced | pending"})
    currency = fields.String()
    lines = fields.List(fields.Dict())
    total = fields.Integer(allow_none=True, metadata={
        "description": "the post's price, VAT included (sum of the lines)"})
    vat_included = fields.Integer(allow_none=True)
    procedure_fee = fields.Integer(allow_none=True, metadata={
        "description": "the agency's procedure fee the post collects and forwards; not in total"})
    amount_due = fields.Integer(allow_none=True, metadata={
        "description": "what the payer hands the post: total + procedure_fee"})
    vat_rate = fields.String(allow_none=True)
    tax_category = fields.String(allow_none=True)
    tariff_version = fields.String(allow_none=True)
    zone = fields.String(allow_none=True)
    promotion_codes = fields.List(fields.String())
    priced_at = fields.String(allow_none=True)


class PaymentSchema(Schema):
    payer = fields.String()
    method = fields.String()
    status = fields.String(metadata={
        "description": "unpaid | due_on_delivery | on_account | paid | partially_refunded | "
                       "refunded"})
    pay_url = fields.String(allow_none=True, metadata={
        "description": "The citizen's pay page (signed, expiring link) while an order paid "
                       "online is unpaid and priced; else null."})


class CitizenOutSchema(Schema):
    name = fields.String()
    phone = fields.String()
    email = fields.String(allow_none=True)


class ParcelOutSchema(Schema):
    weight_grams = fields.Integer()
    pieces = fields.Integer()
    contents = fields.String(allow_none=True)


class OrderSchema(PresentedSchema):
    id = fields.String()
    tracking_number = fields.String()
    kind = fields.String()
    status = fields.String()
    agency_code = fields.String()
    dossier_code = fields.String()
    procedure_code = fields.String(allow_none=True)
    procedure_name = fields.String(allow_none=True)
    channel = fields.String()
    registered_at = fields.String()
    citizen = fields.Nested(CitizenOutSchema)
    address = fields.Nested(ResolvedAddressSchema)
    parcel = fields.Nested(ParcelOutSchema)
    fee_forwarding = fields.Dict(allow_none=True)
    deliver_after = fields.String(allow_none=True)
    deliver_before = fields.String(allow_none=True)
    quote_id = fields.String(allow_none=True)
    price = fields.Nested(PriceSchema)
    payment = fields.Nested(PaymentSchema)
    post_office_code = fields.String(allow_none=True)
    attempt_count = fields.Integer()
    delivered_at = fields.String(allow_none=True)
    cash_collected = fields.Integer(allow_none=True)
    due_at = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    cancelled_at = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    links = fields.Dict(keys=fields.String(), values=fields.String())


class OrderPageSchema(PresentedSchema):
    data = fields.List(fields.Nested(OrderSchema))
    next_cursor = fields.String(allow_none=True)


class BatchItemSchema(Schema):
    index = fields.Integer()
    status = fields.Integer()
    order = fields.Nested(OrderSchema)
    error = fields.Dict()


class BatchResultSchema(PresentedSchema):
    data = fields.List(fields.Nested(BatchItemSchema))
    created = fields.Integer(metadata={"description": "How many orders were created."})
    failed = fields.Integer(metadata={"description": "How many items failed."})


class TrackingEventSchema(PresentedSchema):
    id = fields.Integer()
    type = fields.String()
    status = fields.String()
    occurred_at = fields.String()
    recorded_at = fields.String()
    actor_role = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    data = fields.Dict(allow_none=True)
    post_office_code = fields.String(allow_none=True)
    ward_code = fields.String(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class RecordedEventSchema(TrackingEventSchema):
    """The event the caller posted (`201` event), and what the lifecycle did by itself after it."""

    follow_up_events = fields.List(
        fields.Nested(TrackingEventSchema),
        metadata={"description": "Events the lifecycle recorded by itself right after this one, "
                                 "oldest first; usually empty. After the last allowed failed "
                                 "attempt: the automatic `returning` (a delivery) or `cancelled` "
                                 "(a pickup) event, whose status is the order's status now."})


class TrackingEventPageSchema(PresentedSchema):
    data = fields.List(fields.Nested(TrackingEventSchema))
    next_cursor = fields.String(allow_none=True)
