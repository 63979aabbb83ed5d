"""Admin pages for webhook endpoints: every endpoint, its delivery log, manual redelivery."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from postal_svc.access.clients import clients_by_id
from postal_svc.routes import common
from postal_svc.routes.console.admin_common import PAGE_SIZE, path_code, render_admin
from postal_svc.routes.console.base import admin_required, blp, caller
from postal_svc.routes.webhooks import webhook_policy
from postal_svc.webhooks import service
from postal_svc.webhooks.endpoints import get_endpoint

_MAX_ID = 2**63 - 1


@blp.get("/admin/webhooks")
@admin_required
def admin_webhooks() -> Any:
    """All endpoints (an admin's `list_endpoints`), each with the client that owns it."""
    db_session = common.session()
    endpoints = service.list_endpoints(db_session, caller=caller())
    owners = clients_by_id(db_session, (e.client_id for e in endpoints))
    return render_admin("webhooks.html", endpoints=endpoints, owners=owners)


def _before_id() -> int | None:
    """The `before` query argument: page on from deliveries older than this id."""
    raw = request.args.get("before", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= _MAX_ID:  # not "²"
        raise BadRequest(_("Con trỏ trang không hợp lệ."))
    return int(raw)


@blp.get("/admin/webhooks/<endpoint_id>")
@admin_required
def admin_webhook(endpoint_id: str) -> Any:
    """An endpoint's deliveries, newest first, each with every attempt."""
    db_session = common.session()
    endpoint_id = path_code(endpoint_id)
    rows = service.delivery_log(db_session, endpoint_id, caller=caller(),
                                limit=PAGE_SIZE + 1, before_id=_before_id())
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    endpoint = get_endpoint(db_session, endpoint_id, caller=caller())
    owner = clients_by_id(db_session, [endpoint.client_id]).get(endpoint.client_id)
    return render_admin("webhook.html", endpoint=endpoint, owner=owner, rows=rows,
                        before=rows[-1][0].id if more and rows else None)


@blp.post("/admin/webhooks/<endpoint_id>/redeliver/<event_id>")
@admin_required
def admin_webhook_redeliver(endpoint_id: str, event_id: str) -> Any:
    """Send one event again now (`redeliver`, as the API does); the attempt is logged."""
    db_session = common.session()
    delivery = service.redeliver(db_session, path_code(endpoint_id), path_code(event_id),
                                 caller=caller(), now=common.now(), policy=webhook_policy())
    status, code, error = delivery.status, delivery.last_status_code, delivery.last_error
    db_session.commit()
    if status == "delivered" and code is not None and 200 <= code < 300:
        flash(_("Đã gửi lại sự kiện %(event)s: máy nhận trả lời %(code)s.", event=event_id,
                code=code), "ok")
    else:
        flash(_("Gửi lại sự kiện %(event)s không thành công: %(why)s", event=event_id,
                why=code if code is not None else (error or "")), "error")
    return redirect(url_for("console.admin_webhook", endpoint_id=endpoint_id), code=303)
