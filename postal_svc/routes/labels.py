"""Order labels: `GET /api/v1/orders/{id}/label.pdf` (A6, Code 128 and QR code)."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from postal_svc.access.service import Role
from postal_svc.documents.label_pdf import LabelData, render_label_pdf
from postal_svc.directory.service import get_agency
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.shipments import intake
from postal_svc.shipments.models import Order

blp = Blueprint("labels", __name__, url_prefix="/api/v1/orders",
                description="Printable labels for orders.")


@blp.route("/<string:order_id>/label.pdf")
class OrderLabel(MethodView):
    @common.require_roles(Role.ADMIN, Role.DISPATCHER, Role.COURIER, Role.AGENCY_SYSTEM)
    @blp.response(200, content_type="application/pdf",
                  description="An A6 PDF label with the S10 barcode (Code 128) and a QR code.")
    def get(self, order_id: str) -> Response:
        """The order's A6 label."""
        order = intake.get_order(common.session(), order_id, caller=common.caller())
        return label_response(order)


def label_response(order: Order) -> Response:
    """The order's A6 label as an inline PDF: the one builder the API and the console share."""
    agency = get_agency(common.session(), order.agency_code)
    due = (order.price or {}).get("amount_due")
    pdf = render_label_pdf(LabelData(
        tracking_number=order.tracking_number, kind=order.kind, agency_name=agency.name,
        dossier_code=order.dossier_code, recipient_name=order.citizen_name,
        recipient_phone="0" + order.citizen_phone[3:] if order.citizen_phone.startswith("+84")
        else order.citizen_phone,
        address_line=order.address_line, ward_name=order.ward_name,
        province_name=order.province_name, post_office_code=order.post_office_code,
        weight_g=order.weight_g,
        cash_to_collect_vnd=due if order.payment_method == "cash_on_delivery" else None,
        tracking_url=f"{request.host_url.rstrip('/')}/track/{order.tracking_number}"))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{order.tracking_number}.pdf"'})
