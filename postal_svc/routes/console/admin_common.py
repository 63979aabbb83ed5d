"""What the admin pages share: exact Vietnam times, path and cursor guards, form problems."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from flask import render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, NotFound

from postal_svc.billing.service import Actor
from postal_svc.clock import VIETNAM
from postal_svc.routes.console.base import caller
from postal_svc.routes.web import current_language

PAGE_SIZE = 50
# Codes and public ids in paths: what the services ever issue; anything else is a 404 before
# it reaches a query (a NUL byte would otherwise reach PostgreSQL).
_PATH_CODE = re.compile(r"[A-Za-z0-9._\-]{1,64}")
_CURSOR = re.compile(r"[A-Za-z0-9_\-]{1,200}")
_EXACT_FORMATS = {"vi": "HH:mm:ss dd/MM/yyyy", "en": "HH:mm:ss, d MMM yyyy"}
_MAX_ID = 2**63 - 1


def exact_vietnam_time(moment: datetime | None) -> str:
    """An instant to the second in Vietnam time, saying so: what an admin confirms is exact."""
    if moment is None:
        return ""
    shown = format_datetime(moment, _EXACT_FORMATS[current_language()])
    return _("%(time)s (giờ Việt Nam, UTC+7)", time=shown)


def render_admin(template: str, **context: Any) -> str:
    """An admin page, with the helpers every admin template uses."""
    return render_template(f"console/admin/{template}", exact=exact_vietnam_time, **context)


def actor() -> Actor:
    """The billing actor a console admin acts as (their own client, by their username)."""
    who = caller()
    return Actor(client_id=who.client_id, name=who.name)


def path_code(value: str) -> str:
    """A code or public id from the path, or 404."""
    if not _PATH_CODE.fullmatch(value):
        raise NotFound()
    return value


def path_id(value: int) -> int:
    """A numeric id from the path that the database can hold, or 404."""
    if not 0 < value <= _MAX_ID:
        raise NotFound()
    return value


def page_cursor() -> str | None:
    """The `cursor` query argument of a list page (opaque; the service checks its value)."""
    cursor = request.args.get("cursor")
    if cursor is None or cursor == "":
        return None
    if not _CURSOR.fullmatch(cursor):
        raise BadRequest(_("Con trỏ trang không hợp lệ."))
    return cursor


def next_minute(now: datetime) -> datetime:
    """The next whole minute after `now`: the default instant an admin confirms."""
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def parse_vietnam_local(text: str) -> datetime | None:
    """`2026-11-28T10:15` or `...T10:15:30` from a datetime-local field, read as Vietnam time;
    None when it is not such a value."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None or len(text.strip()) > 19:
        return None
    try:  # in UTC at once: 0001-01-01T00:00 in Vietnam has no UTC form
        return moment.replace(tzinfo=VIETNAM).astimezone(timezone.utc)
    except OverflowError:
        return None


def vietnam_local_value(moment: datetime | None) -> str:
    """An instant as a datetime-local field's value in Vietnam time (to the second)."""
    if moment is None:
        return ""
    return moment.astimezone(VIETNAM).replace(tzinfo=None).isoformat(timespec="seconds")


def form_text(name: str, max_length: int = 2000) -> str:
    """A trimmed form field, cut to a length no column needs more of."""
    return request.form.get(name, "").strip()[:max_length]


def problems_of(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """A use case's field errors as `{field: [messages]}` for the form templates."""
    return {str(k): [str(m) for m in (v if isinstance(v, (list, tuple)) else [v])]
            for k, v in errors.items()}
