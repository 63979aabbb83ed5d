"""Public tracking: what anyone holding a tracking number may see, masked; a little more with the
last 4 digits of the citizen's phone."""
from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from postal_svc.errors import NotFound
from postal_svc.geo.places import ward_by_code
from postal_svc.phones import mask_phone
from postal_svc.shipments.phone_checks import PHONE_CHECKS, PhoneCheckPolicy, check_phone_answer
from postal_svc.shipments.lifecycle import FailureReason, Kind, Status
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.shipments.payments import is_payable_online
from postal_svc.shipments.s10 import is_valid_tracking_number

# Labels are data, not UI chrome: the public API answers both languages at once, and the pages
# pick one. Vietnamese first, as the citizen reads it.
STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.CREATED: ("Đã tiếp nhận yêu cầu", "Request received"),
    Status.COLLECTED: ("Đã nhận kết quả tại cơ quan", "Collected from the agency"),
    Status.AT_POST_OFFICE: ("Đang ở bưu cục", "At the post office"),
    Status.OUT_FOR_DELIVERY: ("Đang giao", "Out for delivery"),
    Status.DELIVERED: ("Đã giao thành công", "Delivered"),
    Status.DELIVERY_FAILED: ("Giao không thành công", "Delivery attempt failed"),
    Status.RETURNING: ("Đang chuyển hoàn về cơ quan", "Returning to the agency"),
    Status.RETURNED_TO_AGENCY: ("Đã chuyển hoàn cho cơ quan", "Returned to the agency"),
    Status.PICKUP_SCHEDULED: ("Đã hẹn lấy hồ sơ", "Pickup scheduled"),
    Status.PICKED_UP: ("Đã lấy hồ sơ", "Dossier picked up"),
    Status.PICKUP_FAILED: ("Lấy hồ sơ không thành công", "Pickup attempt failed"),
    Status.DELIVERED_TO_AGENCY: ("Đã nộp hồ sơ cho cơ quan", "Dossier handed to the agency"),
    Status.CANCELLED: ("Đã hủy", "Cancelled"),
}
# A dossier on its way goes to the agency, not to the citizen.
KIND_STATUS_LABELS: dict[tuple[Kind, Status], tuple[str, str]] = {
    (Kind.DOSSIER_PICKUP, Status.OUT_FOR_DELIVERY): ("Đang chuyển hồ sơ đến cơ quan",
                                                     "On the way to the agency"),
}
KIND_LABELS: dict[Kind, tuple[str, str]] = {
    Kind.RESULT_DELIVERY: ("Trả kết quả", "Result delivery"),
    Kind.DOSSIER_PICKUP: ("Nhận hồ sơ", "Dossier pickup"),
}
FAILURE_REASON_LABELS: dict[FailureReason, tuple[str, str]] = {
    FailureReason.RECIPIENT_NOT_HOME: ("Người nhận không có nhà", "Recipient not at home"),
    FailureReason.RECIPIENT_REFUSED: ("Người nhận từ chối nhận", "Recipient refused"),
    FailureReason.IDENTITY_VERIFICATION_FAILED: ("Không xác minh được người nhận",
                                                 "Identity could not be verified"),
    FailureReason.ADDRESS_NOT_FOUND: ("Không tìm thấy địa chỉ", "Address not found"),
    FailureReason.INCORRECT_ADDRESS: ("Địa chỉ không đúng", "Incorrect address"),
    FailureReason.ACCESS_RESTRICTED: ("Không vào được nơi nhận", "Access restricted"),
    FailureReason.DOCUMENTS_INCOMPLETE: ("Hồ sơ chưa đủ giấy tờ", "Documents incomplete"),
    FailureReason.OTHER: ("Lý do khác", "Other reason"),
}
LANGUAGES = ("vi", "en")
_SEPARATORS = re.compile(r"[\s\-.]")
# ASCII only: "３４５６" is no answer at all, neither right nor a guess to count.
_LAST4 = re.compile(r"[0-9]{4}")


class TrackingNotFound(NotFound):
    code = "tracking_not_found"


@dataclass(frozen=True)
class Label:
    vi: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.vi


def status_label(status: str, kind: str | None = None) -> Label:
    """The label of a status (of an order of `kind`), in both languages."""
    parsed = Status(status)
    pair = (KIND_STATUS_LABELS.get((Kind(kind), parsed)) if kind else None) \
        or STATUS_LABELS[parsed]
    return Label(*pair)


def kind_label(kind: str) -> Label:
    return Label(*KIND_LABELS[Kind(kind)])


def failure_reason_label(reason: str) -> Label:
    """The label of a failure reason; a code this version does not know reads as "other"."""
    try:
        return Label(*FAILURE_REASON_LABELS[FailureReason(reason)])
    except ValueError:
        return Label(*FAILURE_REASON_LABELS[FailureReason.OTHER])


def mask_name(name: str) -> str:
    """"Nguyễn Văn An" -> "N*** V*** A": each word's first letter, hiding the rest; the last
    word (the given name) shows its first letter only."""
    words = unicodedata.normalize("NFC", name).split()
    if not words:
        return ""
    return " ".join([w[0] + "***" for w in words[:-1]] + [words[-1][0]])


def normalize_tracking_number(raw: str) -> str | None:
    """An S10 number as people type it ("rr 1234 5678 5 vn") in canonical form, or None."""
    compact = _SEPARATORS.sub("", raw or "").upper()
    return compact if len(compact) == 13 and is_valid_tracking_number(compact) else None


@dataclass(frozen=True)
class PublicEvent:
    occurred_at: datetime
    status: str
    label: Label
    failure_reason: str | None
    failure_reason_label: Label | None
    ward_name: str | None
    post_office_code: str | None


@dataclass(frozen=True)
class PrivateDetails:
    """Shown only to whoever knows the last 4 digits of the citizen's phone."""

    deliver_after: datetime | None
    deliver_before: datetime | None
    # The online payment link of an unpaid order paid online, once it is priced and online
    # payment is configured; else None.
    pay_url: str | None
    payment_due: bool


@dataclass(frozen=True)
class PublicTracking:
    tracking_number: str
    kind: str
    kind_label: Label
    status: str
    label: Label
    events: list[PublicEvent]
    due_at: datetime
    window_end: datetime | None
    recipient_name: str  # masked
    recipient_phone: str  # masked
    private: PrivateDetails | None


def _phone_matches(phone_e164: str, phone_last4: str) -> bool:
    return hmac.compare_digest(phone_e164[-4:].encode(), phone_last4.encode())


def _phone_unlocks(session: Session, order: Any, phone_last4: str | None, *, now: datetime,
                   policy: PhoneCheckPolicy) -> bool:
    """Whether these digits unlock the private details; a wrong 4-digit answer is counted."""
    if phone_last4 is None or not _LAST4.fullmatch(phone_last4):
        return False
    return check_phone_answer(session, order.tracking_number, now=now, policy=policy,
                              right=_phone_matches(order.citizen_phone, phone_last4))


def _ward_name(order: Order, ward_code: str | None) -> str | None:
    if ward_code is None:
        return None
    if ward_code == order.ward_code and order.ward_name:
        return order.ward_name
    ward = ward_by_code(ward_code)
    return ward.name if ward else None


_ORDERS, _EVENTS = Order.__table__.c, TrackingEvent.__table__.c
# Table columns, not model attributes: a plain Core statement skips the ORM's result
# machinery on the hottest read of the service. Only what every answer shows: the private
# details (window, payment) are read only for the right phone digits, which few lookups carry.
_ORDER_BY_NUMBER = select(
    _ORDERS.id, _ORDERS.tracking_number, _ORDERS.kind, _ORDERS.status, _ORDERS.due_at,
    _ORDERS.deliver_before, _ORDERS.citizen_name, _ORDERS.citizen_phone, _ORDERS.ward_code,
    _ORDERS.ward_name,
    _EVENTS.status.label("event_status"), _EVENTS.occurred_at, _EVENTS.failure_reason,
    _EVENTS.ward_code.label("event_ward_code"), _EVENTS.post_office_code,
).select_from(
    # The order with its events in one statement: one round trip, and one snapshot (an event
    # recorded meanwhile cannot show beside a status from before it). Every order has its
    # `created` event; the outer join keeps the order even so.
    Order.__table__.outerjoin(TrackingEvent.__table__, _EVENTS.order_id == _ORDERS.id)
).where(_ORDERS.tracking_number == bindparam("number")).order_by(_EVENTS.occurred_at, _EVENTS.id)
_PRIVATE_OF_ORDER = select(
    _ORDERS.public_id, _ORDERS.status, _ORDERS.deliver_after, _ORDERS.deliver_before,
    _ORDERS.payment_method, _ORDERS.payment_status, _ORDERS.price, _ORDERS.total_vnd,
).where(_ORDERS.id == bindparam("order_id"))


def track(session: Session, tracking_number: str, *, now: datetime,
          phone_last4: str | None = None,
          pay_link: Callable[[str], str | None] | None = None,
          phone_checks: PhoneCheckPolicy = PHONE_CHECKS) -> PublicTracking:
    """What the public may see of the order with this tracking number.

    Never the address line, coordinates, notes, the recipient's details or the full name or
    phone. With the right `phone_last4` it adds the delivery window and the pay link; a wrong
    one changes nothing (the answer is the same as without) but is counted, and after
    `phone_checks.max_wrong` wrong ones in its window even the right digits add nothing (the
    caller commits the count). Raises TrackingNotFound for an unknown or malformed number.
    """
    number = normalize_tracking_number(tracking_number)
    # The hottest read of the service: one compiled Core statement selecting only what the
    # public answer needs (no address, no raw input), rows read by attribute like the model.
    connection = session.connection()
    rows = [] if number is None else connection.execute(
        _ORDER_BY_NUMBER, {"number": number}).all()
    if not rows:
        raise TrackingNotFound("No item has this tracking number.")
    order = rows[0]
    events = [
        PublicEvent(occurred_at=e.occurred_at, status=e.event_status,
                    label=status_label(e.event_status, order.kind),
                    failure_reason=e.failure_reason,
                    failure_reason_label=(failure_reason_label(e.failure_reason)
                                          if e.failure_reason else None),
                    ward_name=_ward_name(order, e.event_ward_code),
                    post_office_code=e.post_office_code)
        for e in rows if e.event_status is not None]
    private = None
    if _phone_unlocks(session, order, phone_last4, now=now, policy=phone_checks):
        details = connection.execute(_PRIVATE_OF_ORDER, {"order_id": order.id}).one()
        private = PrivateDetails(
            deliver_after=details.deliver_after, deliver_before=details.deliver_before,
            pay_url=(pay_link(details.public_id)
                     if pay_link is not None and is_payable_online(details) else None),
            payment_due=(details.payment_method == "online"
                         and details.payment_status == "unpaid"
                         and details.status != Status.CANCELLED.value))
    return PublicTracking(
        tracking_number=order.tracking_number, kind=order.kind, kind_label=kind_label(order.kind),
        status=order.status, label=status_label(order.status, order.kind), events=events,
        due_at=order.due_at, window_end=order.deliver_before,
        recipient_name=mask_name(order.citizen_name),
        recipient_phone=mask_phone(order.citizen_phone), private=private)
