"""Today: counts by status and the orders that need attention, each one click from its list."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from postal_svc.clock import VIETNAM
from postal_svc.routes import common, web
from postal_svc.routes.console.base import blp, caller, staff_required
from postal_svc.shipments.attention import Attention
from postal_svc.shipments.dashboard import dashboard
from postal_svc.shipments.lifecycle import Status
from postal_svc.shipments.tracking import status_label


def vietnam_day_start(day: date) -> datetime:
    """The instant a Vietnam calendar day begins, in UTC (00:00 ICT = 17:00Z the day before)."""
    return datetime.combine(day, time.min, tzinfo=VIETNAM).astimezone(timezone.utc)


def attention_labels() -> dict[Attention, tuple[str, str]]:
    """Each attention list's title and what it means, in the reader's language."""
    return {
        Attention.ADDRESS: (_("Địa chỉ chưa rõ"),
                            _("Chưa xác định được phường, hoặc phường được chọn tạm giữa nhiều phường.")),
        Attention.OVERDUE: (_("Quá hạn"), _("Đã qua hạn giao mà chưa kết thúc.")),
        Attention.FAILED_ATTEMPTS: (_("Giao/lấy không thành công"),
                                    _("Đã có lần giao hoặc lấy hồ sơ không thành công.")),
        Attention.UNPAID: (_("Chưa thanh toán"),
                           _("Thanh toán trực tuyến nhưng người dân chưa trả tiền.")),
    }


@blp.get("/")
@staff_required
def today() -> Any:
    """The day at a glance for the user's post offices (an admin: every office)."""
    now = common.now()
    today_vn = now.astimezone(VIETNAM).date()
    figures = dashboard(common.session(), caller=caller(), now=now,
                        since=vietnam_day_start(today_vn))
    language = web.current_language()
    statuses = [(s.value, status_label(s.value).in_language(language),
                 figures.by_status.get(s.value, 0)) for s in Status]
    return render_template("console/today.html", figures=figures, statuses=statuses,
                           attention=attention_labels(), today=today_vn.isoformat(), now=now)
