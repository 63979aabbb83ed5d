"""Outbound webhook endpoints: register, list, read the delivery log, redeliver by hand."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from postal_svc.access.service import Role
from postal_svc.clock import isoformat_z
from postal_svc.errors import RuleViolation
from postal_svc.pagination import decode_cursor, encode_cursor
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.webhooks import service
from postal_svc.webhooks.models import WebhookEndpoint

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhook-endpoints",
                description="Signed webhooks to government systems.")

SUBSCRIBERS = (Role.ADMIN, Role.AGENCY_SYSTEM, Role.DISPATCHER)


def webhook_policy() -> service.WebhookPolicy:
    return service.WebhookPolicy.from_settings(common.settings())


class CreateEndpointSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2000))
    events = fields.List(fields.String(validate=validate.OneOf(service.EVENT_TYPES)),
                         required=True, validate=validate.Length(min=1, max=10))


class EndpointSchema(Schema):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.String()
    secret = fields.String(metadata={"description": "shown once, when the endpoint is created"})


class EndpointPageSchema(Schema):
    data = fields.List(fields.Nested(EndpointSchema))
    next_cursor = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.String(allow_none=True)
    delivered_at = fields.String(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    log = fields.List(fields.Dict())


class DeliveryQueryArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=200))


class DeliveryPageSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True)


def present_endpoint(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    out = {"id": endpoint.public_id, "url": endpoint.url, "events": endpoint.events,
           "active": endpoint.active, "created_at": isoformat_z(endpoint.created_at)}
    if secret is not None:
        out["secret"] = secret
    return out


@blp.route("")
class WebhookEndpoints(MethodView):
    @common.require_roles(*SUBSCRIBERS)
    @common.idempotent
    @blp.arguments(CreateEndpointSchema())
    @blp.response(201, EndpointSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register an endpoint for your client; the signing secret is shown this once."""
        endpoint, secret = service.create_endpoint(
            common.session(), caller=common.caller(), url=data["url"], events=data["events"],
            policy=webhook_policy(), now=common.now())
        return present_endpoint(endpoint, secret)

    @common.require_roles(*SUBSCRIBERS)
    @blp.response(200, EndpointPageSchema)
    def get(self) -> dict[str, Any]:
        """Your endpoints (admins: all)."""
        endpoints = service.list_endpoints(common.session(), caller=common.caller())
        return {"data": [present_endpoint(e) for e in endpoints], "next_cursor": None}


@blp.route("/<string:endpoint_id>")
class WebhookEndpointById(MethodView):
    @common.require_roles(*SUBSCRIBERS)
    @blp.response(200, EndpointSchema)
    def delete(self, endpoint_id: str) -> dict[str, Any]:
        """Stop sending to this endpoint (pending deliveries stay in the log)."""
        db_session = common.session()
        endpoint = service.disable_endpoint(db_session, endpoint_id, caller=common.caller(),
                                            now=common.now())
        db_session.commit()
        return present_endpoint(endpoint)


@blp.route("/<string:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @common.require_roles(*SUBSCRIBERS)
    @blp.arguments(DeliveryQueryArgsSchema(), location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
        """This endpoint's deliveries, newest first, with every attempt; pages by cursor."""
        limit = args["limit"]
        before = decode_cursor(args["cursor"]) if "cursor" in args else None
        if before is not None and (not isinstance(before, int) or isinstance(before, bool)):
            raise RuleViolation("The cursor is not one this service gave out.",
                                errors={"cursor": ["Invalid cursor."]})
        rows = service.delivery_log(common.session(), endpoint_id, caller=common.caller(),
                                    limit=limit + 1, before_id=before)
        more, rows = len(rows) > limit, rows[:limit]
        return {"data": [present_delivery(d, e, attempts) for d, e, attempts in rows],
                "next_cursor": encode_cursor(rows[-1][0].id) if more and rows else None}


@blp.route("/<string:endpoint_id>/redeliver/<string:event_id>")
class WebhookRedeliver(MethodView):
    @common.require_roles(*SUBSCRIBERS)
    @blp.response(200, DeliverySchema)
    def post(self, endpoint_id: str, event_id: str) -> dict[str, Any]:
        """Send one event to this endpoint again, now; the attempt is logged."""
        db_session = common.session()
        delivery = service.redeliver(db_session, endpoint_id, event_id, caller=common.caller(),
                                     now=common.now(), policy=webhook_policy())
        db_session.commit()
        (row,) = service.delivery_log(db_session, endpoint_id, caller=common.caller(),
                                      delivery_id=delivery.id)
        return present_delivery(*row)


def present_delivery(delivery: Any, event: Any, attempts: list[Any]) -> dict[str, Any]:
    return {"id": delivery.id, "event_id": event.public_id, "event_type": event.type,
            "status": delivery.status, "attempts": delivery.attempts,
            "next_attempt_at": isoformat_z(delivery.next_attempt_at) if delivery.status == "pending" else None,
            "delivered_at": isoformat_z(delivery.delivered_at),
            "last_status_code": delivery.last_status_code,
            "log": [{"attempted_at": isoformat_z(a.attempted_at), "status_code": a.status_code,
                     "error": a.error, "duration_ms": a.duration_ms, "manual": a.manual}
                    for a in attempts]}
