"""Payments API: an order's Stripe payment, refunds, and the end-of-day cash report."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from postal_svc.access.service import Role
from postal_svc.billing.payments import RefundStatus
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.routes.fields import CodeString
from postal_svc.routes.presenters import present_payment, present_refund
from postal_svc.shipments import payment_flows, payments
from postal_svc.shipments.cash_report import CashReport, cash_report, cash_report_csv_rows

blp = Blueprint("payments", __name__, url_prefix="/api/v1",
                description="Online payments (Stripe PaymentIntents in VND), refunds and the "
                            "cash-on-delivery report.")

PAYERS_FOR = (Role.ADMIN, Role.AGENCY_SYSTEM, Role.DISPATCHER)
READERS = (Role.ADMIN, Role.AGENCY_SYSTEM, Role.DISPATCHER, Role.COURIER)
REFUNDERS = (Role.ADMIN, Role.DISPATCHER)
CASH_READERS = (Role.ADMIN, Role.DISPATCHER)


class LastErrorSchema(Schema):
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)


class DisputeSchema(Schema):
    status = fields.String()
    amount = fields.Integer(allow_none=True)


class OrderPaymentSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    attempt = fields.Integer()
    status = fields.String(metadata={"description": (
        "creating | requires_payment_method | requires_confirmation | requires_action | "
        "processing | succeeded | canceling | canceled")})
    currency = fields.String()
    amount = fields.Integer(metadata={"description": "VND (zero-decimal)"})
    captured = fields.Integer()
    refunded = fields.Integer()
    refund_pending = fields.Integer()
    refundable = fields.Integer()
    provider = fields.String()
    provider_payment_intent_id = fields.String(allow_none=True)
    client_secret = fields.String(allow_none=True, metadata={
        "description": "For Stripe.js (confirmCardPayment); only in the answer of POST."})
    pay_url = fields.String(allow_none=True)
    last_error = fields.Nested(LastErrorSchema, allow_none=True)
    dispute = fields.Nested(DisputeSchema, allow_none=True)
    created_at = fields.String()
    succeeded_at = fields.String(allow_none=True)


class RefundPaymentSchema(Schema):
    id = fields.String()
    captured = fields.Integer()
    refunded = fields.Integer()
    refund_pending = fields.Integer()
    refundable = fields.Integer()


class RefundSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    status = fields.String(metadata={"description": "pending | succeeded | failed | canceled"})
    reason = fields.String(allow_none=True)
    origin = fields.String(metadata={"description": "request | cancellation | duplicate | "
                                                    "provider"})
    failure_reason = fields.String(allow_none=True)
    provider_refund_id = fields.String(allow_none=True)
    created_at = fields.String()
    settled_at = fields.String(allow_none=True)
    payment = fields.Nested(RefundPaymentSchema)
    order_payment_status = fields.String()


class CreateRefundSchema(Schema):
    class Meta:
        unknown = RAISE

    amount = fields.Integer(allow_none=True, load_default=None, strict=True,
                            validate=validate.Range(min=1, max=10**12), metadata={
                                "description": "VND; null or absent: all that is left"})
    reason = fields.String(allow_none=True, load_default=None,
                           validate=validate.Length(max=500))


class OrderPaymentsSchema(Schema):
    data = fields.List(fields.Nested(OrderPaymentSchema))
    refunds = fields.List(fields.Nested(RefundSchema))
    next_cursor = fields.String(allow_none=True)


class RefundPageSchema(Schema):
    data = fields.List(fields.Nested(RefundSchema))
    next_cursor = fields.String(allow_none=True)


class CashReportArgsSchema(Schema):
    post_office_code = CodeString(required=True)
    date = fields.String(required=True, validate=validate.Length(max=10),
                         metadata={"example": "2020-03-02"})


def _payment_of(order_payments: list[Any], refund: Any) -> Any:
    return next((p for p in order_payments if p.id == refund.payment_id), None)


@blp.route("/orders/<string:order_id>/payments")
class OrderPayments(MethodView):
    @common.require_roles(*PAYERS_FOR)
    @common.idempotent
    @blp.response(201, OrderPaymentSchema)
    @blp.alt_response(200, schema=OrderPaymentSchema,
                      description="The open payment already existed; it is returned.")
    def post(self, order_id: str) -> Any:
        """Create the order's Stripe PaymentIntent (VND, the amount due), or return the open one.

        Answers `client_secret` (for Stripe.js) and `pay_url` (the citizen's pay page).
        409 order_already_paid / order_not_payable; 503 payments_unavailable without a
        provider; 502 when Stripe cannot be reached (try again: the same intent is reused).
        """
        gateway = common.payment_gateway()
        db_session = common.session()
        payment, created = payment_flows.ensure_intent(
            db_session, gateway, order_id, caller=common.caller(), now=common.now())
        order, _, _ = payments.order_payments(db_session, order_id, caller=common.caller())
        return present_payment(payment, order, with_secret=True), (201 if created else 200)

    @common.require_roles(*READERS)
    @blp.response(200, OrderPaymentsSchema)
    def get(self, order_id: str) -> dict[str, Any]:
        """The order's payment attempts and refunds, oldest first."""
        order, found, refunds = payments.order_payments(common.session(), order_id,
                                                        caller=common.caller())
        return {"data": [present_payment(p, order) for p in found],
                "refunds": [present_refund(r, order, _payment_of(found, r)) for r in refunds],
                "next_cursor": None}


@blp.route("/orders/<string:order_id>/refunds")
class OrderRefunds(MethodView):
    @common.require_roles(*REFUNDERS)
    @common.idempotent
    @blp.arguments(CreateRefundSchema())
    @blp.response(201, RefundSchema)
    @blp.alt_response(202, schema=RefundSchema,
                      description="Stripe could not be reached: the refund is reserved "
                                  "(pending) and is sent by the reconciliation job.")
    def post(self, data: dict[str, Any], order_id: str) -> Any:
        """Refund a paid order: `amount` VND (partial) or, when null, all that is left.

        Refunds never exceed what was captured, even when many are asked at once (409
        refund_exceeds_captured); 409 refund_not_allowed when nothing was paid online.
        """
        gateway = common.payment_gateway()
        db_session, now = common.session(), common.now()
        reserved = payments.request_refund(db_session, order_id, amount_vnd=data["amount"],
                                           reason=data["reason"], caller=common.caller(),
                                           now=now)
        refund = payment_flows.send_refund(db_session, gateway, reserved.public_id, now=now)
        order, found, _ = payments.order_payments(db_session, order_id, caller=common.caller())
        status = 202 if refund.status == RefundStatus.PENDING.value else 201
        return present_refund(refund, order, _payment_of(found, refund)), status

    @common.require_roles(*READERS)
    @blp.response(200, RefundPageSchema)
    def get(self, order_id: str) -> dict[str, Any]:
        """The order's refunds, oldest first."""
        order, found, refunds = payments.order_payments(common.session(), order_id,
                                                        caller=common.caller())
        return {"data": [present_refund(r, order, _payment_of(found, r)) for r in refunds],
                "next_cursor": None}


def _cash_report(args: dict[str, Any]) -> Any:
    return cash_report(common.session(), args["post_office_code"], args["date"],
                       caller=common.caller(), now=common.now())


@blp.route("/cash-reports")
class CashReports(MethodView):
    @common.require_roles(*CASH_READERS)
    @blp.arguments(CashReportArgsSchema(), location="query", unknown=RAISE)
    @blp.response(200)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cash collected for cash-on-delivery orders on one Vietnam day, per courier."""
        return dict(_cash_report(args).to_dict())


@blp.route("/cash-reports.csv")
class CashReportsCsv(MethodView):
    @common.require_roles(*CASH_READERS)
    @blp.arguments(CashReportArgsSchema(), location="query", unknown=RAISE)
    @blp.doc(responses={"200": {"description": "CSV (UTF-8 with BOM): orders per courier, "
                                               "courier subtotals, the total",
                                "content": {"text/csv": {}}}})
    def get(self, args: dict[str, Any]) -> Response:
        """The day's cash report as CSV."""
        return cash_csv_response(_cash_report(args))


def cash_csv_response(report: CashReport) -> Response:
    """The day's cash report as a CSV download (UTF-8 with BOM, CRLF), for the API and the
    console alike."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerows(cash_report_csv_rows(report))
    response = Response(out.getvalue(), mimetype="text/csv")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in report.post_office_code)
    response.headers["Content-Disposition"] = \
        f'attachment; filename="cash-{safe}-{report.day.isoformat()}.csv"'
    return response
