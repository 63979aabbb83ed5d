"""Couriers API: admins keep couriers as reference data; dispatchers read their office's."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from postal_svc.access.service import Role
from postal_svc.clock import isoformat_z
from postal_svc.directory import couriers as service
from postal_svc.directory.service import PostOfficeNotFound
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.routes.fields import CleanString, CodeString, StrictInteger

blp = Blueprint("couriers", __name__, url_prefix="/api/v1/couriers",
                description="Couriers of the post offices (capacity, shifts).")

Shifts = fields.List(fields.List(fields.String(), validate=validate.Length(equal=2)),
                     validate=validate.Length(min=1, max=6))


class CourierFields(Schema):
    name = CleanString(validate=validate.Length(max=200))
    capacity_items = StrictInteger(validate=validate.Range(1, 10_000))
    capacity_kg = fields.Float(allow_nan=False, validate=validate.Range(0.001, 1_000),
                               metadata={"description": "Kilograms per trip (stored as grams)."})
    shifts = Shifts
    speed_profile = fields.String(allow_none=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "motorbike (default), bicycle, walking, car, or one the settings add."})
    active = fields.Boolean()
    client_id = StrictInteger(allow_none=True, validate=validate.Range(1),
                              metadata={"description": "The courier client whose key this courier uses."})


class CreateCourierSchema(CourierFields):
    code = CodeString(required=True, max_length=32)
    name = CleanString(required=True, validate=validate.Length(max=200))
    post_office_code = CodeString(required=True, max_length=32)
    capacity_items = StrictInteger(required=True, validate=validate.Range(1, 10_000))
    capacity_kg = fields.Float(required=True, allow_nan=False, validate=validate.Range(0.001, 1_000))


class CourierSchema(Schema):
    code = fields.String()
    name = fields.String()
    post_office_code = fields.String()
    capacity_items = fields.Integer()
    capacity_kg = fields.Float()
    shifts = fields.List(fields.List(fields.String()))
    speed_profile = fields.String(allow_none=True)
    active = fields.Boolean()
    client_id = fields.Integer(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class CourierQueryArgsSchema(Schema):
    post_office_code = CodeString(max_length=32)
    active = fields.Boolean()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=200))


class CourierPageSchema(Schema):
    data = fields.List(fields.Nested(CourierSchema))
    next_cursor = fields.String(allow_none=True)


def _speed_profiles() -> list[str]:
    return sorted(common.settings().travel_profiles())


def present_courier(courier: service.Courier) -> dict[str, Any]:
    return {"code": courier.code, "name": courier.name,
            "post_office_code": courier.post_office_code,
            "capacity_items": courier.capacity_items, "capacity_kg": courier.capacity_g / 1000,
            "shifts": courier.shifts, "speed_profile": courier.speed_profile,
            "active": courier.active, "client_id": courier.client_id,
            "created_at": isoformat_z(courier.created_at),
            "updated_at": isoformat_z(courier.updated_at)}


@blp.route("")
class Couriers(MethodView):
    @common.require_roles(Role.ADMIN, Role.DISPATCHER)
    @blp.arguments(CourierQueryArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, CourierPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List couriers (dispatchers: their post offices' only)."""
        scope = common.caller().post_office_codes()
        offices = scope
        if "post_office_code" in args:
            if scope is not None and args["post_office_code"] not in scope:
                raise PostOfficeNotFound(f"No post office {args['post_office_code']!r}.")
            offices = frozenset({args["post_office_code"]})
        page = service.list_couriers(common.session(), offices=offices, limit=args["limit"],
                                     cursor=args.get("cursor"), active=args.get("active"))
        return {"data": [present_courier(c) for c in page.items], "next_cursor": page.next_cursor}

    @common.require_roles(Role.ADMIN)
    @common.idempotent
    @blp.arguments(CreateCourierSchema())
    @blp.response(201, CourierSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register a courier of a post office."""
        return present_courier(service.create_courier(common.session(), data, now=common.now(),
                                                      speed_profiles=_speed_profiles()))


@blp.route("/<string:code>")
class CourierByCode(MethodView):
    @common.require_roles(Role.ADMIN, Role.DISPATCHER)
    @blp.response(200, CourierSchema)
    def get(self, code: str) -> dict[str, Any]:
        """Read one courier."""
        return present_courier(service.get_courier(
            common.session(), code, offices=common.caller().post_office_codes()))

    @common.require_roles(Role.ADMIN)
    @blp.arguments(CourierFields(partial=True))
    @blp.response(200, CourierSchema)
    def patch(self, changes: dict[str, Any], code: str) -> dict[str, Any]:
        """Change a courier's capacity, shifts, activity or key."""
        db_session = common.session()
        courier = service.update_courier(db_session, code, changes, now=common.now(),
                                         speed_profiles=_speed_profiles())
        db_session.commit()
        return present_courier(courier)
