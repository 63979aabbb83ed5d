"""Orders API: intake for government systems; reading and cancelling for staff."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.views import MethodView
from postal_svc.routes.blueprint import Blueprint
from marshmallow import RAISE, ValidationError

from postal_svc.access.service import Role
from postal_svc.errors import DomainError, RuleViolation
from postal_svc.routes import common
from postal_svc.routes.errors import domain_error_body, flatten_messages
from postal_svc.routes.order_schemas import (
    AddressCorrectionSchema, BatchResultSchema, BatchSchema, CancelSchema, CreateEventSchema, CreateOrderSchema, OrderPageSchema,
    OrderQueryArgsSchema, OrderSchema, RecordedEventSchema, TrackingEventPageSchema)
from postal_svc.routes.presenters import present_event, present_order
from postal_svc.shipments import events, intake, payment_flows
from postal_svc.shipments.addresses import AddressInput
from postal_svc.shipments.intake import IntakePolicy, InvalidOrder, OrderDraft, OrderFilters
from postal_svc.shipments.lifecycle import Kind, Status

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders",
                description="Result-delivery and dossier-pickup orders.")

STAFF = (Role.ADMIN, Role.DISPATCHER, Role.COURIER, Role.AGENCY_SYSTEM)
PLACERS = (Role.ADMIN, Role.AGENCY_SYSTEM)
_create_schema = CreateOrderSchema()


class InvalidBatchItem(RuleViolation):
    code = "validation_error"


def lifecycle_policy() -> events.LifecyclePolicy:
    return events.LifecyclePolicy(max_attempts=common.settings().max_delivery_attempts)


def intake_policy() -> IntakePolicy:
    conf = common.settings()
    return IntakePolicy(
        tracking_prefix=conf.tracking_prefix,
        registered_at_max_age=timedelta(days=conf.registered_at_max_age_days),
        registered_at_future_skew=timedelta(seconds=conf.registered_at_future_skew_s),
        delivery_working_days=conf.delivery_working_days)


def settle_payments_after_cancel(order: Any) -> None:
    """After a cancellation: commit it (with the refund it reserved), then refund and cancel
    at Stripe at once; whatever fails there is finished by the reconciliation job."""
    gateway = common.state().payment_gateway
    if gateway is None:
        return
    db_session = common.session()
    db_session.commit()
    payment_flows.finish_pending_work(db_session, gateway, order_id=order.id, now=common.now())
    db_session.refresh(order)


def address_from(data: dict[str, Any]) -> AddressInput:
    """The address of a validated body: `address` parts, or `address_text` with lat/lon."""
    if "address" in data:
        parts = data["address"]
        return AddressInput(line=parts["line"], ward=parts.get("ward"),
                            district=parts.get("district"), province=parts.get("province"),
                            lat=parts.get("lat"), lon=parts.get("lon"))
    return AddressInput(text=data["address_text"], lat=data.get("lat"), lon=data.get("lon"))


def draft_from(data: dict[str, Any]) -> OrderDraft:
    """A validated request body as the intake use case takes it."""
    citizen, parcel = data["citizen"], data["parcel"]
    address = address_from(citizen)
    fee = data.get("fee_forwarding")
    return OrderDraft(
        kind=Kind(data["kind"]), agency_code=data["agency_code"],
        dossier_code=data["dossier_code"], procedure_code=data.get("procedure_code"),
        procedure_name=data.get("procedure_name"), channel=data["channel"],
        registered_at=data.get("registered_at"), citizen_name=citizen["name"],
        citizen_phone=citizen["phone"], citizen_email=citizen.get("email"), address=address,
        weight_g=parcel["weight_grams"], pieces=parcel["pieces"], contents=parcel.get("contents"),
        payer=data["payer"], payment_method=data.get("payment_method"),
        fee_forwarding_vnd=fee["amount"] if fee else None,
        deliver_after=data.get("deliver_after"), deliver_before=data.get("deliver_before"),
        quote_id=data.get("quote_id"), beneficiary_category=data.get("beneficiary_category"))


def _draft_or_error(item: Any) -> OrderDraft | DomainError:
    if not isinstance(item, dict):
        return InvalidOrder("Each order must be a JSON object.", errors={"_schema": ["Not an object."]})
    try:
        return draft_from(_create_schema.load(item))
    except ValidationError as error:
        return InvalidBatchItem("The order is not valid.", errors=flatten_messages(error.messages))


@blp.route("")
class Orders(MethodView):
    @common.require_roles(*PLACERS)
    @common.idempotent
    @blp.arguments(CreateOrderSchema())
    @blp.response(201, OrderSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create an order (idempotent with Idempotency-Key)."""
        draft = draft_from(data)
        # Intake writes the order and its event in one statement, unless a quote is
        # redeemed with it or the response is stored beside it.
        single = draft.quote_id is None and not common.response_is_stored()
        order = intake.create_order(common.session(single_statement=single), draft,
                                    caller=common.caller(),
                                    policy=intake_policy(), now=common.now(),
                                    resolve_address=common.state().resolve_address,
                                    directory=common.state().directory)
        return present_order(order)

    @common.require_roles(*STAFF)
    # A misspelt filter is refused (422), not ignored: ignoring it would list every order.
    @blp.arguments(OrderQueryArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200, OrderPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the orders you may see, newest first, with filters and a cursor."""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        page = intake.list_orders(common.session(), OrderFilters(**args), caller=common.caller(),
                                  limit=limit, cursor=cursor)
        return {"data": [present_order(o) for o in page.items], "next_cursor": page.next_cursor}


@blp.route("/batch")
class OrderBatch(MethodView):
    @common.require_roles(*PLACERS)
    @common.idempotent
    @blp.arguments(BatchSchema())
    @blp.response(207, BatchResultSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create up to 500 orders; each item succeeds or fails on its own (207)."""
        items = data["orders"]
        limit = common.settings().batch_max_items
        if len(items) > limit:
            raise InvalidOrder(f"A batch holds at most {limit} orders.",
                               errors={"orders": [f"At most {limit} items."]})
        results = intake.create_orders(
            common.session(), [_draft_or_error(item) for item in items], caller=common.caller(),
            policy=intake_policy(), now=common.now(),
            resolve_address=common.state().resolve_address, directory=common.state().directory)
        out = []
        for result in results:
            if result.order is not None:
                out.append({"index": result.index, "status": 201,
                            "order": present_order(result.order)})
            else:
                assert result.error is not None
                body = domain_error_body(result.error)
                out.append({"index": result.index, "status": body["status"], "error": body})
        created = sum(1 for r in results if r.order is not None)
        return {"data": out, "created": created, "failed": len(results) - created}


@blp.route("/<string:order_id>")
class OrderById(MethodView):
    @common.require_roles(*STAFF)
    @blp.response(200, OrderSchema)
    def get(self, order_id: str) -> dict[str, Any]:
        """Read one order."""
        return present_order(intake.get_order(common.session(), order_id, caller=common.caller()))


@blp.route("/<string:order_id>/cancel")
class OrderCancel(MethodView):
    @common.require_roles(Role.ADMIN, Role.AGENCY_SYSTEM, Role.DISPATCHER)
    @common.idempotent
    @blp.arguments(CancelSchema())
    @blp.response(200, OrderSchema)
    def post(self, data: dict[str, Any], order_id: str) -> dict[str, Any]:
        """Cancel an order while the item is not yet in a courier's hands.

        A paid order is refunded in full (what is left of it); an open payment is cancelled.
        """
        order = events.cancel_order(common.session(), order_id, caller=common.caller(),
                                    reason=data.get("reason"), now=common.now())
        settle_payments_after_cancel(order)
        return present_order(order)


@blp.route("/<string:order_id>/address")
class OrderAddress(MethodView):
    @common.require_roles(Role.ADMIN, Role.DISPATCHER)
    @blp.arguments(AddressCorrectionSchema())
    @blp.response(200, OrderSchema)
    def patch(self, data: dict[str, Any], order_id: str) -> dict[str, Any]:
        """Fix an order's address by choosing its ward and/or a point; re-assigns the post office."""
        db_session = common.session()
        order = intake.correct_address(
            db_session, order_id, caller=common.caller(), ward_code=data.get("ward_code"),
            lat=data.get("lat"), lon=data.get("lon"), now=common.now(),
            street_radius_m=common.settings().street_radius_m, directory=common.state().directory)
        db_session.commit()
        return present_order(order)


@blp.route("/<string:order_id>/events")
class OrderEvents(MethodView):
    @common.require_roles(*STAFF)
    @blp.response(200, TrackingEventPageSchema)
    def get(self, order_id: str) -> dict[str, Any]:
        """The order's tracking events, oldest first."""
        order = intake.get_order(common.session(), order_id, caller=common.caller())
        return {"data": [present_event(e) for e in order.events], "next_cursor": None}

    @common.require_roles(Role.ADMIN, Role.DISPATCHER, Role.COURIER)
    @common.idempotent
    @blp.arguments(CreateEventSchema())
    @blp.response(201, RecordedEventSchema)
    def post(self, data: dict[str, Any], order_id: str) -> dict[str, Any]:
        """Record what happened (couriers and dispatchers of the order's post office).

        Answers the event recorded, with `follow_up_events`: any the lifecycle added by itself
        (after the last allowed failed attempt). A move the lifecycle forbids is 409
        invalid_transition.
        """
        recipient = data.get("recipient")
        recorded = events.record_event(
            common.session(), order_id, events.EventInput(
                type=Status(data["type"]), occurred_at=data.get("occurred_at"),
                failure_reason=data.get("failure_reason"), note=data.get("note"),
                recipient=events.Recipient(**recipient) if recipient else None,
                lat=data.get("lat"), lon=data.get("lon")),
            caller=common.caller(), policy=lifecycle_policy(), now=common.now())
        if any(e.status == Status.CANCELLED.value for e in recorded):
            settle_payments_after_cancel(recorded[-1].order)
        posted, *follow_ups = recorded
        return {**present_event(posted),
                "follow_up_events": [present_event(e) for e in follow_ups]}

