"""Citizens' tracking pages: a form and a masked timeline, server-rendered, no JavaScript."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from postal_svc.errors import NotFound
from postal_svc.routes import common, web
from postal_svc.shipments.tracking import normalize_tracking_number, track

blp = Blueprint("pages", __name__)
blp.before_request(web.enforce_rate_limit)
blp.after_request(web.remember_language)
_LAST4 = re.compile(r"\d{4}")


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    return web.error_page(error)


@blp.get("/track")
def track_form() -> Any:
    """The form; with a number (a GET form, so it works without JavaScript) go to its page."""
    raw = request.args.get("tracking_number", "")
    if not raw.strip():
        return render_template("track_form.html")
    number = normalize_tracking_number(raw)
    if number is None:
        return render_template("track_form.html", not_found=True, number=raw[:40]), 404
    last4 = request.args.get("phone_last4", "").strip()
    args: dict[str, Any] = {"phone_last4": last4} if _LAST4.fullmatch(last4) else {}
    return redirect(url_for("pages.track_page", tracking_number=number, **args), code=303)


@blp.get("/track/<path:tracking_number>")
def track_page(tracking_number: str) -> Any:
    """One item's timeline, newest first; the window and pay link with the right digits."""
    digits = request.args.get("phone_last4")
    # Without digits the lookup is one read: no transaction around it.
    db_session = common.session(single_statement=digits is None)
    try:
        found = track(db_session, tracking_number, phone_last4=digits,
                      pay_link=common.pay_url, now=common.now())
        db_session.commit()  # a wrong phone_last4 is counted
    except NotFound:
        return render_template("track_form.html", not_found=True,
                               number=tracking_number[:40]), 404
    g.phone_verified = found.private is not None
    return render_template("track.html", t=found, language=web.current_language())
