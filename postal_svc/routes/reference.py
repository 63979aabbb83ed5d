"""Reference data API: agencies and post offices (admins write; every client may read)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from postal_svc.routes.blueprint import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from postal_svc.access.service import Role
from postal_svc.clock import isoformat_z
from postal_svc.directory import service
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.routes import common
from postal_svc.routes.fields import CleanString, CodeString, VietnamesePhone
from postal_svc.routes.order_schemas import AddressSchema, Latitude, Longitude

blp = Blueprint("reference", __name__, url_prefix="/api/v1",
                description="Agencies and post offices.")

ANY_CLIENT = (Role.ADMIN, Role.DISPATCHER, Role.COURIER, Role.AGENCY_SYSTEM)


class ListArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=200))


OfficeHours = fields.List(fields.List(fields.String(), validate=validate.Length(equal=2)),
                          validate=validate.Length(max=6))


class AgencyFields(Schema):
    name = CleanString(validate=validate.Length(max=200))
    address = fields.Nested(AddressSchema, allow_none=True)
    address_text = CleanString(allow_none=True, validate=validate.Length(max=1000))
    phone = VietnamesePhone(allow_none=True)
    office_hours = OfficeHours
    post_office_code = CodeString(max_length=32, allow_none=True)


class CreateAgencySchema(AgencyFields):
    code = CodeString(required=True)
    name = CleanString(required=True, validate=validate.Length(max=200))

    @validates_schema
    def one_address_form(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("address") and data.get("address_text"):
            raise ValidationError("Give address or address_text, not both.", "address")


class AgencySchema(Schema):
    code = fields.String()
    name = fields.String()
    address = fields.Dict(allow_none=True)
    address_text = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    office_hours = fields.List(fields.List(fields.String()))
    post_office_code = fields.String(allow_none=True)
    ward_code = fields.String(allow_none=True, metadata={"description": "2025 ward of the desk, from its address"})
    province_code = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class AgencyPageSchema(Schema):
    data = fields.List(fields.Nested(AgencySchema))
    next_cursor = fields.String(allow_none=True)


class PostOfficeFields(Schema):
    name = CleanString(validate=validate.Length(max=200))
    address_text = CleanString(allow_none=True, validate=validate.Length(max=1000))
    phone = VietnamesePhone(allow_none=True)
    lat = Latitude(allow_none=True)
    lon = Longitude(allow_none=True)
    served_ward_codes = fields.List(CodeString(max_length=16), validate=validate.Length(max=2000))


class CreatePostOfficeSchema(PostOfficeFields):
    code = CodeString(required=True, max_length=32)
    name = CleanString(required=True, validate=validate.Length(max=200))


class PostOfficeSchema(Schema):
    code = fields.String()
    name = fields.String()
    address_text = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    served_ward_codes = fields.List(fields.String())
    created_at = fields.String()
    updated_at = fields.String()


class PostOfficePageSchema(Schema):
    data = fields.List(fields.Nested(PostOfficeSchema))
    next_cursor = fields.String(allow_none=True)


def present_agency(agency: Agency) -> dict[str, Any]:
    return {"code": agency.code, "name": agency.name, "address": agency.address,
            "address_text": agency.address_text, "phone": agency.phone,
            "office_hours": agency.office_hours, "post_office_code": agency.post_office_code,
            "ward_code": agency.ward_code, "province_code": agency.province_code,
            "lat": agency.lat, "lon": agency.lon,
            "created_at": isoformat_z(agency.created_at), "updated_at": isoformat_z(agency.updated_at)}


def present_post_office(office: PostOffice) -> dict[str, Any]:
    return {"code": office.code, "name": office.name, "address_text": office.address_text,
            "phone": office.phone, "lat": office.lat, "lon": office.lon,
            "served_ward_codes": office.served_ward_codes,
            "created_at": isoformat_z(office.created_at), "updated_at": isoformat_z(office.updated_at)}


@blp.route("/agencies")
class Agencies(MethodView):
    @common.require_roles(*ANY_CLIENT)
    @blp.arguments(ListArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, AgencyPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List agencies (agency systems see their own)."""
        page = service.list_agencies(common.session(), limit=args["limit"],
                                     cursor=args.get("cursor"),
                                     codes=common.caller().agency_codes()
                                     if common.caller().role is Role.AGENCY_SYSTEM else None)
        return {"data": [present_agency(a) for a in page.items], "next_cursor": page.next_cursor}

    @common.require_roles(Role.ADMIN)
    @common.idempotent
    @blp.arguments(CreateAgencySchema())
    @blp.response(201, AgencySchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register an agency (a ward or department one-stop desk)."""
        return present_agency(service.create_agency(common.session(), data, now=common.now()))


@blp.route("/agencies/<string:code>")
class AgencyByCode(MethodView):
    @common.require_roles(*ANY_CLIENT)
    @blp.response(200, AgencySchema)
    def get(self, code: str) -> dict[str, Any]:
        """Read one agency."""
        scope = common.caller().agency_codes() if common.caller().role is Role.AGENCY_SYSTEM else None
        if scope is not None and code not in scope:
            raise service.AgencyNotFound(f"No agency {code!r}.")
        return present_agency(service.get_agency(common.session(), code))

    @common.require_roles(Role.ADMIN)
    @blp.arguments(AgencyFields(partial=True))
    @blp.response(200, AgencySchema)
    def patch(self, changes: dict[str, Any], code: str) -> dict[str, Any]:
        """Change an agency's details."""
        db_session = common.session()
        agency = service.update_agency(db_session, code, changes, now=common.now())
        db_session.commit()
        return present_agency(agency)


@blp.route("/post-offices")
class PostOffices(MethodView):
    @common.require_roles(*ANY_CLIENT)
    @blp.arguments(ListArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, PostOfficePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List post offices."""
        page = service.list_post_offices(common.session(), limit=args["limit"],
                                         cursor=args.get("cursor"))
        return {"data": [present_post_office(p) for p in page.items],
                "next_cursor": page.next_cursor}

    @common.require_roles(Role.ADMIN)
    @common.idempotent
    @blp.arguments(CreatePostOfficeSchema())
    @blp.response(201, PostOfficeSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register a post office and the wards it serves (each ward by one office at most)."""
        return present_post_office(service.create_post_office(common.session(), data,
                                                              now=common.now()))


@blp.route("/post-offices/<string:code>")
class PostOfficeByCode(MethodView):
    @common.require_roles(*ANY_CLIENT)
    @blp.response(200, PostOfficeSchema)
    def get(self, code: str) -> dict[str, Any]:
        """Read one post office."""
        return present_post_office(service.get_post_office(common.session(), code))

    @common.require_roles(Role.ADMIN)
    @blp.arguments(PostOfficeFields(partial=True))
    @blp.response(200, PostOfficeSchema)
    def patch(self, changes: dict[str, Any], code: str) -> dict[str, Any]:
        """Change a post office; `served_ward_codes` replaces the whole set."""
        db_session = common.session()
        office = service.update_post_office(db_session, code, changes, now=common.now())
        db_session.commit()
        return present_post_office(office)
