"""Geocoding API: resolve an address as order intake would."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from postal_svc.access.service import Role
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.routes.order_schemas import GeocodeResultSchema, GeocodeSchema
from postal_svc.routes.orders import address_from
from postal_svc.routes.presenters import present_resolved_address
from postal_svc.shipments import intake

blp = Blueprint("geocode", __name__, url_prefix="/api/v1/geocode",
                description="Vietnamese addresses to 2025 wards, points and post offices.")


@blp.route("")
class Geocode(MethodView):
    @common.require_roles(Role.ADMIN, Role.DISPATCHER, Role.COURIER, Role.AGENCY_SYSTEM)
    @blp.arguments(GeocodeSchema())
    @blp.response(200, GeocodeResultSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Resolve an address (old or 2025 units, with or without diacritics) to a ward."""
        located = intake.locate_address(common.session(), address_from(data),
                                        resolve_address=common.state().resolve_address,
                                        directory=common.state().directory)
        common.session().commit()  # the geocode cache may have learnt something
        return {**present_resolved_address(located.address),
                "post_office_code": located.post_office_code}
