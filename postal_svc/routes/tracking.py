"""Public tracking API: no auth, rate limited per client address, masked personal data."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from postal_svc.routes.presented import PresentedSchema
from postal_svc.clock import isoformat_z
from postal_svc.routes import common, web
from postal_svc.routes.blueprint import Blueprint
from postal_svc.shipments.tracking import Label, PublicTracking, track

blp = Blueprint("tracking", __name__, url_prefix="/api/v1/tracking",
                description="Public tracking for citizens (no auth; rate limited per client).")
blp.before_request(web.enforce_rate_limit)


class LabelSchema(Schema):
    vi = fields.String()
    en = fields.String()


class PlaceSchema(Schema):
    ward_name = fields.String(allow_none=True)
    post_office_code = fields.String(allow_none=True)


class PublicEventSchema(Schema):
    occurred_at = fields.String()
    status = fields.String()
    status_label = fields.Nested(LabelSchema)
    failure_reason = fields.String(allow_none=True)
    failure_reason_label = fields.Nested(LabelSchema, allow_none=True)
    place = fields.Nested(PlaceSchema)


class ExpectedDeliverySchema(Schema):
    due_at = fields.String(metadata={"description": "When the service level promises it."})
    window_end = fields.String(allow_none=True,
                               metadata={"description": "The end of the citizen's window."})


class RecipientMaskedSchema(Schema):
    name = fields.String(metadata={"example": "N*** V*** A"})
    phone = fields.String(metadata={"example": "*******456"})


class DeliveryWindowSchema(Schema):
    deliver_after = fields.String(allow_none=True)
    deliver_before = fields.String(allow_none=True)


class PublicTrackingSchema(PresentedSchema):
    tracking_number = fields.String()
    kind = fields.String()
    status = fields.String()
    status_label = fields.Nested(LabelSchema)
    events = fields.List(fields.Nested(PublicEventSchema),
                         metadata={"description": "Oldest first."})
    expected_delivery = fields.Nested(ExpectedDeliverySchema)
    recipient = fields.Nested(RecipientMaskedSchema)
    delivery_window = fields.Nested(
        DeliveryWindowSchema,
        metadata={"description": "Only with the right phone_last4."})
    pay_url = fields.String(
        allow_none=True,
        metadata={"description": "Only with the right phone_last4: the online payment link of "
                                 "an unpaid order paid online, else null."})


class TrackingQueryArgsSchema(Schema):
    # Not validated on purpose: a malformed value is a wrong one, and a wrong one must answer
    # exactly what no value answers.
    phone_last4 = fields.String(metadata={
        "description": "Last 4 digits of the citizen's phone. Wrong answers are counted per "
                       "tracking number: after 5 in 24 h even the right digits add nothing "
                       "until they age out, and the answer looks the same as a wrong one."})


def _label(label: Label) -> dict[str, str]:
    return {"vi": label.vi, "en": label.en}


def present_tracking(found: PublicTracking) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tracking_number": found.tracking_number,
        "kind": found.kind,
        "status": found.status,
        "status_label": _label(found.label),
        "events": [{"occurred_at": isoformat_z(e.occurred_at), "status": e.status,
                    "status_label": _label(e.label), "failure_reason": e.failure_reason,
                    "failure_reason_label": (_label(e.failure_reason_label)
                                             if e.failure_reason_label else None),
                    "place": {"ward_name": e.ward_name, "post_office_code": e.post_office_code}}
                   for e in found.events],
        "expected_delivery": {"due_at": isoformat_z(found.due_at),
                              "window_end": isoformat_z(found.window_end)},
        "recipient": {"name": found.recipient_name, "phone": found.recipient_phone},
    }
    if found.private is not None:
        body["delivery_window"] = {"deliver_after": isoformat_z(found.private.deliver_after),
                                   "deliver_before": isoformat_z(found.private.deliver_before)}
        body["pay_url"] = found.private.pay_url
    return body


@blp.route("/<path:tracking_number>")
class TrackingByNumber(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TrackingQueryArgsSchema(), location="query")
    @blp.response(200, PublicTrackingSchema)
    @blp.alt_response(404, description="tracking_not_found: unknown or malformed number")
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def get(self, args: dict[str, Any], tracking_number: str) -> dict[str, Any]:
        """Track an item by its tracking number (masked; more with phone_last4)."""
        digits = args.get("phone_last4")
        # Without digits the lookup is one read: no transaction around it.
        db_session = common.session(single_statement=digits is None)
        found = track(db_session, tracking_number, phone_last4=digits,
                      pay_link=common.pay_url, now=common.now())
        db_session.commit()  # a wrong phone_last4 is counted
        return present_tracking(found)
