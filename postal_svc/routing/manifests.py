"""Courier manifests of a route plan: the sheets the API and the console print from one builder."""
from __future__ import annotations

from sqlalchemy.orm import Session

from postal_svc.directory.couriers import get_courier
from postal_svc.directory.service import get_post_office
from postal_svc.documents.route_manifest_pdf import ManifestRow, ManifestSheet, render_manifest_pdf
from postal_svc.routing import planning
from postal_svc.routing.models import RoutePlan


def manifest_sheets(session: Session, plan: RoutePlan) -> list[ManifestSheet]:
    """One sheet per courier of the plan's routes, stops in order. Cash to collect is shown
    only where the courier hands over the result of a cash-on-delivery order; an order deleted
    since planning is left out rather than printed blank."""
    office = get_post_office(session, plan.post_office_code)
    orders = planning.orders_of_plan(session, plan)
    sheets: dict[str, ManifestSheet] = {}
    for route in (plan.result or {}).get("routes", []):
        code = route["courier_code"]
        if code not in sheets:
            courier = get_courier(session, code)
            sheets[code] = ManifestSheet(courier_code=code, courier_name=courier.name,
                                         post_office_name=office.name,
                                         plan_id=plan.public_id, day=plan.plan_date, rows=[])
        for stop in route["stops"]:
            for order_id in stop["order_ids"]:
                order = orders.get(order_id)
                if order is None:
                    continue
                due = (order.price or {}).get("amount_due")
                cod = due if (order.payment_method == "cash_on_delivery"
                              and stop["kind"] == planning.DELIVER_RESULT) else None
                sheets[code].rows.append(ManifestRow(
                    trip=route["trip"], sequence=stop["sequence"], kind=stop["kind"],
                    planned_arrival=stop["planned_arrival"],
                    tracking_number=order.tracking_number,
                    address=", ".join(p for p in (stop["address"], stop["ward"]) if p),
                    recipient=order.citizen_name if stop["kind"] in (
                        planning.DELIVER_RESULT, planning.PICKUP_DOSSIER) else stop["address"] or "",
                    items=order.pieces, weight_g=order.weight_g, cod_vnd=cod))
    return list(sheets.values())


def manifest_pdf(session: Session, plan: RoutePlan) -> bytes:
    """The plan's manifests as one A4 PDF."""
    return render_manifest_pdf(manifest_sheets(session, plan))
