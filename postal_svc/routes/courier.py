"""The courier's mobile page: sign in with a key, see the office's stops, record what happened."""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException

from postal_svc.access.service import Caller, Role, authenticate, caller_for_client
from postal_svc.errors import DomainError
from postal_svc.routes import common, web
from postal_svc.routes.errors import status_of
from postal_svc.routes.fields import CleanString
from postal_svc.routes.orders import lifecycle_policy
from postal_svc.shipments import events
from postal_svc.shipments.intake import OrderNotFound
from postal_svc.shipments.lifecycle import FailureReason, InvalidTransition, Kind, Status
from postal_svc.shipments.stops import COURIER_EVENTS, list_stops
from postal_svc.shipments.tracking import failure_reason_label, kind_label, status_label

blp = Blueprint("courier", __name__, url_prefix="/courier")
blp.before_request(web.check_csrf)
blp.after_request(web.remember_language)

SIGNED_IN = "courier_client_id"
_ORDER_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
PAGE_ROLES = (Role.COURIER, Role.DISPATCHER)


class CourierEventForm(Schema):
    """The stop forms: one event, its reason if it failed, who took it if delivered."""

    class Meta:
        unknown = EXCLUDE  # the CSRF field and the buttons

    type = fields.String(required=True, validate=validate.OneOf([s.value for s in COURIER_EVENTS]))
    failure_reason = fields.String(validate=validate.OneOf([r.value for r in FailureReason]))
    recipient_name = CleanString(validate=validate.Length(max=200))
    relationship = fields.String(validate=validate.OneOf(events.RELATIONSHIPS))
    id_last4 = fields.String(validate=validate.Regexp(r"^[0-9]{4}\Z"))


_event_form = CourierEventForm()


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    return web.error_page(error)


def signed_in() -> Caller | None:
    """The courier (or dispatcher) this browser signed in as, while their key is valid."""
    client_id = session.get(SIGNED_IN)
    if not isinstance(client_id, int):
        return None
    found = caller_for_client(common.session(), client_id)
    return found if found is not None and found.role in PAGE_ROLES else None


@blp.get("/login")
def login_form() -> Any:
    if signed_in() is not None:
        return redirect(url_for("courier.stops"), code=303)
    return render_template("courier/login.html")


@blp.post("/login")
def login() -> Any:
    """Sign in with a courier or dispatcher API key; only the client id goes into the session."""
    web.enforce_rate_limit("login")
    key = request.form.get("api_key", "").strip()
    found = authenticate(common.session(), key) if key else None
    if found is None or found.role not in PAGE_ROLES:
        return render_template("courier/login.html", failed=True), 401
    session.clear()
    session.permanent = True
    session[SIGNED_IN] = found.client_id
    web.new_csrf_token()
    return redirect(url_for("courier.stops"), code=303)


@blp.post("/logout")
def logout() -> Any:
    session.clear()
    web.new_csrf_token()
    flash(_("Đã đăng xuất."), "ok")
    return redirect(url_for("courier.login_form"), code=303)


@blp.get("/")
def stops() -> Any:
    who = signed_in()
    if who is None:
        return redirect(url_for("courier.login_form"), code=303)
    return _stops_page(who)


@blp.post("/orders/<string:order_id>/events")
def record(order_id: str) -> Any:
    """Record a delivery, a failed attempt or a new attempt through the same use case as the API."""
    who = signed_in()
    if who is None:
        return redirect(url_for("courier.login_form"), code=303)
    if not _ORDER_ID.fullmatch(order_id):  # e.g. a NUL byte, which PostgreSQL refuses
        return _stops_page(who, error=_domain_problem(OrderNotFound("No such order.")),
                           status=404)
    try:
        data = _event_form.load({k: v for k, v in request.form.items() if v.strip()})
    except ValidationError as error:
        return _stops_page(who, error=_form_problem(error.normalized_messages()), status=422)
    db_session = common.session()
    try:
        recorded = events.record_event(db_session, order_id, _event_input(data), caller=who,
                                       policy=lifecycle_policy(), now=common.now())
        order = recorded[-1].order
        label = status_label(order.status, order.kind).in_language(web.current_language())
        done = _("%(number)s: đã ghi nhận “%(status)s”.", number=order.tracking_number,
                 status=label)
        db_session.commit()
    except DomainError as error:
        db_session.rollback()
        return _stops_page(who, error=_domain_problem(error), status=status_of(error))
    flash(done, "ok")
    return redirect(url_for("courier.stops"), code=303)


def _event_input(data: Mapping[str, Any]) -> events.EventInput:
    recipient = None
    if "recipient_name" in data:
        recipient = events.Recipient(name=data["recipient_name"],
                                     relationship=data.get("relationship", "self"),
                                     id_last4=data.get("id_last4"))
    return events.EventInput(type=Status(data["type"]), failure_reason=data.get("failure_reason"),
                             recipient=recipient)


def _stops_page(who: Caller, *, error: str | None = None, status: int = 200) -> Any:
    language = web.current_language()
    return render_template(
        "courier/stops.html", who=who, stops=list_stops(common.session(), caller=who),
        error=error, language=language, status_label=status_label, kind_label=kind_label,
        reasons=_reason_choices(language), relationships=_relationship_choices()), status


def _reason_choices(language: str) -> dict[str, list[tuple[str, str]]]:
    """Failure reasons a courier may pick, per kind (incomplete documents: pickups only)."""
    return {kind.value: [(r.value, failure_reason_label(r).in_language(language))
                         for r in FailureReason
                         if kind is Kind.DOSSIER_PICKUP or r not in events.PICKUP_ONLY_REASONS]
            for kind in Kind}


def _relationship_choices() -> list[tuple[str, str]]:
    labels = {"self": _("Chính chủ"), "family": _("Người thân"),
              "authorised": _("Người được ủy quyền"), "agency_staff": _("Cán bộ cơ quan"),
              "other": _("Khác")}
    return [(code, labels.get(code, code)) for code in events.RELATIONSHIPS]


def _form_problem(messages: Mapping[str, Any]) -> str:
    if "recipient_name" in messages:
        return _("Tên người nhận quá dài hoặc không hợp lệ.")
    if "id_last4" in messages:
        return _("4 số cuối giấy tờ phải là đúng 4 chữ số.")
    if "failure_reason" in messages:
        return _("Hãy chọn lý do trong danh sách.")
    return _("Biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại.")


def _domain_problem(error: DomainError) -> str:
    if isinstance(error, OrderNotFound):
        return _("Không tìm thấy đơn này trong bưu cục của bạn.")
    if isinstance(error, InvalidTransition):
        return _("Đơn này đã đổi trạng thái nên không ghi nhận được. Danh sách đã được cập nhật.")
    if "recipient" in error.errors:
        return _("Hãy nhập tên người nhận và quan hệ với người dân.")
    if "failure_reason" in error.errors:
        return _("Hãy chọn lý do không giao được.")
    return _("Không ghi nhận được. Hãy thử lại.")
