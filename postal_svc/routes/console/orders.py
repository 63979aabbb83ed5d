"""Orders: find one (tracking number, dossier code, phone), read it, act on it as the lifecycle
allows, fix its address, print its label; the API's use cases behind server-rendered pages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from postal_svc.directory.service import get_agency, list_agencies
from postal_svc.errors import DomainError
from postal_svc.geo.places import ward_by_code, wards_of_province
from postal_svc.routes import common, web
from postal_svc.routes.console.base import blp, caller, post_office_codes, staff_required
from postal_svc.routes.console.today import attention_labels, vietnam_day_start
from postal_svc.routes.errors import status_of
from postal_svc.routes.fields import CleanString, CodeString
from postal_svc.routes.labels import label_response
from postal_svc.routes.order_schemas import (
    EVENT_TYPES, AddressCorrectionSchema, CancelSchema, CreateEventSchema)
from postal_svc.routes.orders import lifecycle_policy, settle_payments_after_cancel
from postal_svc.shipments import events, intake, payments
from postal_svc.shipments.attention import FINAL, Attention, attention_of
from postal_svc.shipments.intake import (
    InvalidAddressCorrection, OrderFilters, OrderFinished, OrderNotFound)
from postal_svc.shipments.lifecycle import (
    FAILED, FailureReason, InvalidTransition, Kind, Status, allowed_next)
from postal_svc.shipments.models import Order
from postal_svc.shipments.stops import NEEDS_RECIPIENT
from postal_svc.shipments.tracking import failure_reason_label, kind_label, status_label

PAGE_SIZE = 50
MAX_AGENCIES = 1000
_ORDER_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")  # e.g. a NUL byte would reach PostgreSQL
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
# Dispatchers record every event the API takes from them, and cancel through its own use case.
DISPATCHER_MOVES = frozenset(Status(t) for t in EVENT_TYPES) | {Status.CANCELLED}


# -- the orders list ----------------------------------------------------------------------------

class OrderSearchForm(Schema):
    """The list's GET form: one search box, filters, and the cursor of the page."""

    class Meta:
        unknown = EXCLUDE  # `lang` and the like

    q = CleanString(validate=validate.Length(max=64))
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    kind = fields.String(validate=validate.OneOf([k.value for k in Kind]))
    agency_code = CodeString()
    attention = fields.String(validate=validate.OneOf([a.value for a in Attention]))
    # Calendar days in Vietnam, both included.
    created_from = fields.Date(validate=validate.Range(_FIRST_DAY, _LAST_DAY))
    created_to = fields.Date(validate=validate.Range(_FIRST_DAY, _LAST_DAY))
    cursor = fields.String(validate=validate.Length(max=200))

    @validates_schema
    def days_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "created_from" in data and "created_to" in data \
                and data["created_from"] > data["created_to"]:
            raise ValidationError("Must not be before created_from.", "created_to")


_search_form = OrderSearchForm()


def order_filters(args: Mapping[str, Any]) -> OrderFilters:
    """The form's values as the list use case takes them (days become UTC instants)."""
    start, end = args.get("created_from"), args.get("created_to")
    return OrderFilters(
        status=args.get("status"), kind=args.get("kind"), agency_code=args.get("agency_code"),
        search=args.get("q"),
        attention=Attention(args["attention"]) if "attention" in args else None,
        created_from=vietnam_day_start(start) if start else None,
        created_to=vietnam_day_start(end + timedelta(days=1)) if end else None)


@blp.get("/orders")
@staff_required
def orders() -> Any:
    """Search and filter the orders of the user's offices, newest first, a page at a time."""
    sent = {k: v for k, v in request.args.items() if k in _search_form.fields and v.strip()}
    try:
        args = _search_form.load(sent)
    except ValidationError as error:
        return _list_page(sent, problems=_search_problems(error.normalized_messages())), 422
    cursor = args.pop("cursor", None)
    try:
        page = intake.list_orders(common.session(), order_filters(args), caller=caller(),
                                  limit=PAGE_SIZE, cursor=cursor, now=common.now())
    except DomainError as error:  # a cursor this service did not give out
        return _list_page(sent, problems=[_refusal(error)]), status_of(error)
    return _list_page(sent, rows=page.items, next_cursor=page.next_cursor)


def _list_page(sent: Mapping[str, str], *, rows: Any = (), next_cursor: str | None = None,
               problems: list[str] | None = None) -> str:
    language, now = web.current_language(), common.now()
    agencies = list_agencies(common.session(), limit=MAX_AGENCIES, cursor=None).items
    filters = {k: v for k, v in sent.items() if k != "cursor"}
    return render_template(
        "console/orders/list.html", rows=rows, sent=sent, filters=filters,
        next_cursor=next_cursor, problems=problems or [], agencies=agencies,
        statuses=[(s.value, status_label(s.value).in_language(language)) for s in Status],
        kinds=[(k.value, kind_label(k.value).in_language(language)) for k in Kind],
        attention=attention_labels(), attention_of=lambda o: attention_of(o, now=now),
        status_label=lambda o: status_label(o.status, o.kind).in_language(language),
        kind_label=lambda o: kind_label(o.kind).in_language(language),
        national=national_phone)


def _search_problems(messages: Mapping[str, Any]) -> list[str]:
    names = {"q": _("Ô tìm kiếm (tối đa 64 ký tự)"), "status": _("Trạng thái"),
             "kind": _("Loại đơn"), "agency_code": _("Cơ quan"),
             "attention": _("Cần xử lý"), "created_from": _("Từ ngày"),
             "created_to": _("Đến ngày"), "cursor": _("Trang")}
    return [_("%(field)s: giá trị không hợp lệ.", field=names.get(field, field))
            for field in messages]


def national_phone(e164: str) -> str:
    """+84912345678 -> 0912 345 678, the way a dispatcher reads it out on the phone."""
    if not e164.startswith("+84"):
        return e164
    national = "0" + e164[3:]
    if len(national) == 10:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return f"{national[:3]} {national[3:7]} {national[7:]}"


# -- one order ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """A move the lifecycle allows from the order's status, as one small form."""

    status: Status
    label: str
    needs_reason: bool = False
    takes_recipient: bool = False
    cancel: bool = False


def dispatcher_actions(order: Order, language: str) -> list[Action]:
    """What a dispatcher may do next, straight from the lifecycle's transition table."""
    kind = Kind(order.kind)
    moves = allowed_next(kind, Status(order.status)) & DISPATCHER_MOVES
    return [Action(status=s, label=status_label(s.value, kind.value).in_language(language),
                   needs_reason=s is FAILED[kind], takes_recipient=s in NEEDS_RECIPIENT,
                   cancel=s is Status.CANCELLED)
            for s in Status if s in moves]


def _checked_id(public_id: str) -> str:
    if not _ORDER_ID.fullmatch(public_id):
        raise OrderNotFound("No such order.")
    return public_id


@blp.get("/orders/<string:public_id>")
@staff_required
def order_detail(public_id: str) -> Any:
    """Everything about one order of the user's offices, and what can be done with it."""
    return _detail_page(_checked_id(public_id))


def _detail_page(public_id: str, *, problem: str | None = None, status: int = 200) -> Any:
    db_session = common.session()
    order, paid, refunds = payments.order_payments(db_session, public_id, caller=caller())
    language, now = web.current_language(), common.now()
    settings = common.settings()
    wards = wards_of_province(order.province_code or settings.default_province_code)
    candidates = [w for code in (order.address_candidates or [])
                  if (w := ward_by_code(code)) is not None]
    return render_template(
        "console/orders/detail.html", order=order, payments=paid, refunds=refunds,
        agency=get_agency(db_session, order.agency_code), problem=problem,
        actions=dispatcher_actions(order, language), needs=attention_of(order, now=now),
        attention=attention_labels(), finished=Status(order.status) in FINAL,
        status_label=lambda s: status_label(s, order.kind).in_language(language),
        kind_text=kind_label(order.kind).in_language(language),
        event_label=_event_label(order.kind, language), reason_label=_reason_label(language),
        reasons=_reason_choices(Kind(order.kind), language),
        relationships=_relationship_choices(), relationship_names=dict(_relationship_choices()),
        words=_words(),
        candidates=candidates, wards=sorted(wards, key=lambda w: w.short.casefold()),
        map_wards=[{"code": w.code, "name": w.name, "lat": w.lat, "lon": w.lon} for w in wards],
        tile_url=settings.console_tile_url, tile_attribution=settings.console_tile_attribution,
        national=national_phone), status


@blp.post("/orders/<string:public_id>/events")
@staff_required
def record_order_event(public_id: str) -> Any:
    """Record an event through the same use case as `POST /api/v1/orders/{id}/events`."""
    public_id = _checked_id(public_id)
    try:
        data = _event_schema.load(_event_body(request.form))
    except ValidationError as error:
        return _detail_page(public_id, problem=_event_problem(error.normalized_messages()),
                            status=422)
    recipient = data.get("recipient")
    db_session = common.session()
    try:
        recorded = events.record_event(
            db_session, public_id, events.EventInput(
                type=Status(data["type"]), failure_reason=data.get("failure_reason"),
                note=data.get("note"),
                recipient=events.Recipient(**recipient) if recipient else None),
            caller=caller(), policy=lifecycle_policy(), now=common.now())
    except OrderNotFound:
        raise
    except DomainError as error:
        db_session.rollback()
        return _detail_page(public_id, problem=_refusal(error), status=status_of(error))
    order = recorded[-1].order
    if any(e.status == Status.CANCELLED.value for e in recorded):
        settle_payments_after_cancel(order)
    label = status_label(order.status, order.kind).in_language(web.current_language())
    db_session.commit()
    flash(_("%(number)s: đã ghi nhận “%(status)s”.", number=order.tracking_number,
            status=label), "ok")
    return redirect(url_for("console.order_detail", public_id=public_id), code=303)


@blp.post("/orders/<string:public_id>/cancel")
@staff_required
def cancel_order(public_id: str) -> Any:
    """Cancel through the same use case as `POST /api/v1/orders/{id}/cancel` (refunds a paid
    order)."""
    public_id = _checked_id(public_id)
    try:
        data = _cancel_schema.load(_blank_dropped(request.form, ("reason",)))
    except ValidationError:
        return _detail_page(public_id, problem=_("Lý do hủy tối đa 500 ký tự."), status=422)
    db_session = common.session()
    try:
        order = events.cancel_order(db_session, public_id, caller=caller(),
                                    reason=data.get("reason"), now=common.now())
    except OrderNotFound:
        raise
    except DomainError as error:
        db_session.rollback()
        return _detail_page(public_id, problem=_refusal(error), status=status_of(error))
    settle_payments_after_cancel(order)
    db_session.commit()
    flash(_("%(number)s: đã hủy đơn.", number=order.tracking_number), "ok")
    return redirect(url_for("console.order_detail", public_id=public_id), code=303)


@blp.post("/orders/<string:public_id>/address")
@staff_required
def correct_address(public_id: str) -> Any:
    """Fix the address by a ward and/or a point, as `PATCH /api/v1/orders/{id}/address`."""
    public_id = _checked_id(public_id)
    sent = _blank_dropped(request.form, ("ward_code", "lat", "lon"))
    if not sent:
        return _detail_page(public_id, problem=_("Hãy chọn phường, hoặc một điểm trên bản đồ."),
                            status=422)
    try:
        data = _address_schema.load(sent)
    except ValidationError as error:
        return _detail_page(public_id, problem=_address_problem(error.normalized_messages()),
                            status=422)
    db_session = common.session()
    try:
        order = intake.correct_address(
            db_session, public_id, caller=caller(), ward_code=data.get("ward_code"),
            lat=data.get("lat"), lon=data.get("lon"), now=common.now(),
            street_radius_m=common.settings().street_radius_m,
            directory=common.state().directory)
    except OrderNotFound:
        raise
    except DomainError as error:
        db_session.rollback()
        return _detail_page(public_id, problem=_refusal(error), status=status_of(error))
    number, ward, office = order.tracking_number, order.ward_name, order.post_office_code
    db_session.commit()
    offices = post_office_codes()
    if offices is not None and office not in offices:
        # The ward belongs to another office, which takes the order over: it leaves this list.
        flash(_("%(number)s: đã sửa địa chỉ (%(ward)s); đơn chuyển sang bưu cục %(office)s.",
                number=number, ward=ward, office=office or "-"), "ok")
        return redirect(url_for("console.orders"), code=303)
    flash(_("%(number)s: đã sửa địa chỉ (%(ward)s).", number=number, ward=ward), "ok")
    return redirect(url_for("console.order_detail", public_id=public_id), code=303)


@blp.get("/orders/<string:public_id>/label.pdf")
@staff_required
def order_label(public_id: str) -> Any:
    """The A6 label, from the same builder as `GET /api/v1/orders/{id}/label.pdf`."""
    order = intake.get_order(common.session(), _checked_id(public_id), caller=caller())
    return label_response(order)


# -- forms and what went wrong with them --------------------------------------------------------

_event_schema = CreateEventSchema()
_cancel_schema = CancelSchema()
_address_schema = AddressCorrectionSchema()


def _blank_dropped(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The named fields that were filled in: an empty input means "not given"."""
    return {n: form[n] for n in names if form.get(n, "").strip()}


def _event_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The action form as the API's event body (recipient fields nested)."""
    body: dict[str, Any] = _blank_dropped(form, ("type", "failure_reason", "note"))
    recipient = _blank_dropped(form, ("recipient_name", "relationship", "id_last4"))
    if "recipient_name" in recipient:
        body["recipient"] = {"name": recipient["recipient_name"],
                             "relationship": recipient.get("relationship", ""),
                             **({"id_last4": recipient["id_last4"]}
                                if "id_last4" in recipient else {})}
    return body


def _event_problem(messages: Mapping[str, Any]) -> str:
    if "failure_reason" in messages:
        return _("Hãy chọn lý do trong danh sách.")
    if "recipient" in messages:
        return _("Tên người nhận tối đa 200 ký tự, quan hệ chọn trong danh sách, "
                 "4 số cuối giấy tờ là đúng 4 chữ số.")
    if "note" in messages:
        return _("Ghi chú tối đa 1000 ký tự.")
    return _("Thao tác này không có. Hãy tải lại trang và thử lại.")


def _address_problem(messages: Mapping[str, Any]) -> str:
    if "lat" in messages or "lon" in messages:
        return _("Điểm trên bản đồ không hợp lệ. Hãy chọn lại điểm.")
    return _("Mã phường không hợp lệ. Hãy chọn phường trong danh sách.")


def _refusal(error: DomainError) -> str:
    """A use case's refusal in the reader's language (its own message is for API clients)."""
    if isinstance(error, InvalidTransition):
        return _("Trạng thái hiện tại của đơn không cho phép thao tác này (có thể vừa có người "
                 "cập nhật đơn). Trang đã được tải lại.")
    if isinstance(error, OrderFinished):
        return _("Đơn đã kết thúc nên không sửa địa chỉ được nữa.")
    if isinstance(error, InvalidAddressCorrection):
        if "lat" in error.errors:
            return _("Điểm đã chọn quá xa trung tâm phường. Hãy chọn đúng phường chứa điểm đó, "
                     "hoặc để trống phường để hệ thống tự xác định theo điểm.")
        return _("Không có phường nào (danh mục 2025) với mã này.")
    if isinstance(error, events.PricePending):
        return _("Đơn thu hộ (COD) này chưa có giá: hãy sửa địa chỉ trước khi đi giao.")
    if isinstance(error, events.InvalidEvent):
        if "recipient" in error.errors:
            return _("Hãy nhập tên người nhận và quan hệ với người dân.")
        if "failure_reason" in error.errors:
            return _("Hãy chọn lý do không giao được.")
    if "cursor" in error.errors:
        return _("Liên kết trang không hợp lệ. Hãy tìm lại từ đầu.")
    return _("Không thực hiện được: %(reason)s", reason=error.message)


# -- words of the detail page -------------------------------------------------------------------

_STATUS_VALUES = frozenset(s.value for s in Status)


def _event_label(kind: str, language: str) -> Any:
    others = {"address_corrected": _("Đã sửa địa chỉ")}

    def label(event_type: str) -> str:
        if event_type in _STATUS_VALUES:
            return status_label(event_type, kind).in_language(language)
        return others.get(event_type, event_type)
    return label


def _reason_label(language: str) -> Any:
    return lambda reason: failure_reason_label(reason).in_language(language)


def _reason_choices(kind: Kind, language: str) -> list[tuple[str, str]]:
    """Failure reasons for this kind of order (incomplete documents: pickups only)."""
    return [(r.value, failure_reason_label(r).in_language(language)) for r in FailureReason
            if kind is Kind.DOSSIER_PICKUP or r not in events.PICKUP_ONLY_REASONS]


def _relationship_choices() -> list[tuple[str, str]]:
    labels = {"self": _("Chính chủ"), "family": _("Người thân"),
              "authorised": _("Người được ủy quyền"), "agency_staff": _("Cán bộ cơ quan"),
              "other": _("Khác")}
    return [(code, labels.get(code, code)) for code in events.RELATIONSHIPS]


def _words() -> dict[str, str]:
    """Codes stored on orders and payments, as a dispatcher reads them."""
    return {
        "citizen": _("Người dân"), "agency": _("Cơ quan"),
        "online": _("Trực tuyến"), "cash_on_delivery": _("Thu tiền khi giao (COD)"),
        "agency_account": _("Cơ quan trả theo tháng"),
        "unpaid": _("Chưa thanh toán"), "due_on_delivery": _("Thu khi giao"),
        "on_account": _("Ghi nợ cơ quan"), "paid": _("Đã thanh toán"),
        "partially_refunded": _("Đã hoàn một phần"), "refunded": _("Đã hoàn tiền"),
        "online_public_service": _("Dịch vụ công trực tuyến"), "counter": _("Tại quầy"),
        "hotline": _("Tổng đài"),
        "street": _("Đến số nhà, đường"), "ward": _("Đến phường (tâm phường)"),
        "unresolved": _("Chưa xác định"),
        "succeeded": _("Thành công"), "canceled": _("Đã hủy"), "pending": _("Đang xử lý"),
        "failed": _("Thất bại"), "canceling": _("Đang hủy"),
        "dispatcher": _("Điều phối viên"), "courier": _("Bưu tá"), "admin": _("Quản trị viên"),
        "agency_system": _("Hệ thống của cơ quan"),
    }
