"""The citizen's pay page: a signed link, the amount, Stripe.js's card field, in Vietnamese.

The card is tokenised by Stripe.js in the browser (createToken: its number never reaches
us); this server attaches the token to the order's PaymentIntent and confirms it at Stripe;
Stripe.js (confirmCardPayment) carries out 3-D Secure when the bank asks for it; then this
server re-reads the intent and answers what it is. Real Stripe.js and localstripe's stand-in
both support each of these calls.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from postal_svc.billing.gateway import PaymentGateway
from postal_svc.billing.payments import PaymentStatus
from postal_svc.errors import DomainError
from postal_svc.routes import common, web
from postal_svc.routes.errors import domain_error_body, error_response, status_of
from postal_svc.shipments import payment_flows, payments
from postal_svc.shipments.lifecycle import Status
from postal_svc.shipments.models import Order
from postal_svc.shipments.pay_links import PayLinkProblem, read_pay_token
from postal_svc.shipments.tracking import kind_label, mask_name

blp = Blueprint("pay", __name__, url_prefix="/pay")
blp.before_request(lambda: web.enforce_rate_limit("pay"))
blp.after_request(web.remember_language)


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    if request.method == "POST":
        return error_response(error.code or 500, "bad_request" if error.code == 400
                              else "http_error", error.description or error.name)
    return web.error_page(error)


def _order_of(token: str) -> tuple[Order | None, PayLinkProblem | None]:
    conf = common.settings()
    check = read_pay_token(conf.secret_key, token, max_age=timedelta(days=conf.pay_link_days))
    if check.order_public_id is None:
        return None, check.problem
    order = common.session().scalar(select(Order).where(Order.public_id == check.order_public_id))
    return (order, None) if order is not None else (None, PayLinkProblem.INVALID)


def _problem_page(problem: PayLinkProblem) -> Any:
    if problem is PayLinkProblem.EXPIRED:
        return render_template("pay.html", state="expired", order=None), 410
    return render_template("pay.html", state="invalid", order=None), 404


def _state(order: Order) -> str:
    if order.payment_status in payments.PAID_STATES:
        return "paid"
    if order.status == Status.CANCELLED.value:
        return "cancelled"
    if order.payment_method != payments.ONLINE:
        return "not_online"
    if payments.amount_due_vnd(order) is None:
        return "unpriced"
    return "payable"


def _page(order: Order, state: str, **extra: Any) -> Any:
    language = web.current_language()
    return render_template(
        "pay.html", state=state, order=order, language=language,
        kind=kind_label(order.kind).in_language(language),
        recipient=mask_name(order.citizen_name), amount=payments.amount_due_vnd(order), **extra)


@blp.get("/<token>")
def pay_page(token: str) -> Any:
    """The pay page: the amount and the card field, or why there is nothing to pay."""
    order, problem = _order_of(token)
    if order is None:
        return _problem_page(problem or PayLinkProblem.INVALID)
    state = _state(order)
    gateway = common.state().payment_gateway
    if state != "payable":
        return _page(order, state)
    if gateway is None:
        return _page(order, "unavailable"), 503
    try:
        payment, _created = payment_flows.ensure_intent(
            common.session(), gateway, order.public_id, caller=None, now=common.now())
    except payments.OrderNotPayable:
        common.session().rollback()
        return _page(order, _state(order))
    except DomainError:
        common.session().rollback()
        return _page(order, "unavailable"), 503
    conf = common.settings()
    return _page(order, "payable", payment=payment, stripe_js_url=conf.stripe_js_url,
                 publishable_key=conf.stripe_publishable_key,
                 confirm_url=url_for("pay.confirm", token=token),
                 refresh_url=url_for("pay.refresh", token=token))


def _json_error(error: DomainError) -> Any:
    response = jsonify(domain_error_body(error))
    response.status_code = status_of(error)
    return response


def _answer(order: Order, payment: Any) -> Any:
    status = PaymentStatus(payment.status)
    paid = order.payment_status in payments.PAID_STATES
    body: dict[str, Any] = {"status": status.value, "paid": paid, "message": None,
                            "next_action": None}
    if status is PaymentStatus.REQUIRES_ACTION:
        body["next_action"] = "authenticate"
        body["client_secret"] = payment.client_secret
    elif status is PaymentStatus.REQUIRES_PAYMENT_METHOD and payment.last_error_code:
        body["message"] = _("Thẻ bị từ chối. Hãy thử thẻ khác hoặc liên hệ ngân hàng của bạn.")
    elif status is PaymentStatus.PROCESSING:
        body["message"] = _("Ngân hàng đang xử lý thanh toán. Trang sẽ tự cập nhật.")
    return jsonify(body)


def _open_payment(token: str) -> tuple[Order, Any, PaymentGateway] | Any:
    """The order and its current payment for a JS call, or an error answer."""
    web.check_csrf()
    order, problem = _order_of(token)
    if order is None:
        return error_response(410 if problem is PayLinkProblem.EXPIRED else 404,
                              "pay_link_expired" if problem is PayLinkProblem.EXPIRED
                              else "pay_link_invalid", _("Liên kết thanh toán không dùng được."))
    gateway = common.state().payment_gateway
    if gateway is None:
        return error_response(503, "payments_unavailable", _("Chưa thể thanh toán trực tuyến."))
    payment = payments.current_payment(common.session(), order)
    if payment is None or payment.provider_intent_id is None:
        return error_response(409, "no_open_payment", _("Hãy tải lại trang rồi thử lại."))
    return order, payment, gateway


@blp.post("/<token>/confirm")
def confirm(token: str) -> Any:
    """Pay with the card Stripe.js tokenised (form field card_token); answers JSON."""
    found = _open_payment(token)
    if not isinstance(found, tuple):
        return found
    order, payment, gateway = found
    card_token = request.form.get("card_token", "")
    if not card_token.startswith("tok_") or len(card_token) > 255:
        return error_response(422, "invalid_card_token", _("Hãy nhập lại thông tin thẻ."),
                              {"card_token": ["A Stripe.js card token."]})
    if _state(order) != "payable" or PaymentStatus(payment.status) not in (
            PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.REQUIRES_CONFIRMATION):
        return _answer(order, payment)
    db_session, now = common.session(), common.now()
    try:
        if payment.last_error_code:  # the last card was declined: a fresh intent
            payment = payment_flows.retry_payment(db_session, gateway, payment, now=now)
        payment = payment_flows.confirm_card(db_session, gateway, payment, card_token, now=now)
    except DomainError as error:
        db_session.rollback()
        return _json_error(error)
    db_session.refresh(order)
    return _answer(order, payment)


@blp.post("/<token>/refresh")
def refresh(token: str) -> Any:
    """Re-read the payment from Stripe (after 3-D Secure, or while processing); answers JSON."""
    found = _open_payment(token)
    if not isinstance(found, tuple):
        return found
    order, payment, gateway = found
    db_session = common.session()
    try:
        payment = payment_flows.refresh_intent(db_session, gateway, payment.provider_intent_id,
                                               now=common.now()) or payment
    except DomainError as error:
        db_session.rollback()
        return _json_error(error)
    db_session.refresh(order)
    return _answer(order, payment)

