"""Signing in and out of the console, with lock-out after repeated failures; a session is
bound to the password it was opened with."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from postal_svc.access.login_failures import LockoutPolicy
from postal_svc.access.staff import SignInRefused, session_fingerprint, sign_in
from postal_svc.routes import common, web
from postal_svc.routes.console.base import (
    PASSWORD_FINGERPRINT, SIGNED_IN, blp, current_user, safe_next)


def lockout_policy() -> LockoutPolicy:
    from datetime import timedelta

    settings = common.settings()
    return LockoutPolicy(max_failures=settings.login_max_failures,
                         lockout=timedelta(minutes=settings.login_lockout_minutes))


@blp.get("/login")
def login_form() -> Any:
    if current_user() is not None:
        return redirect(safe_next(request.args.get("next")), code=303)
    return render_template("console/login.html", next=safe_next(request.args.get("next")))


@blp.post("/login")
def login() -> Any:
    """Username and password; a refusal never says whether the username exists."""
    web.enforce_rate_limit("login")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    db_session = common.session()
    try:
        user = sign_in(db_session, username, password, now=common.now(),
                       policy=lockout_policy())
    except SignInRefused as refused:
        db_session.commit()  # the failure count survives the refusal
        return render_template("console/login.html", next=target, username=username[:64],
                               locked_until=refused.locked_until, failed=True), 401
    user_id, fingerprint = user.id, session_fingerprint(user)
    db_session.commit()
    session.clear()
    session.permanent = True
    session[SIGNED_IN] = user_id
    session[PASSWORD_FINGERPRINT] = fingerprint
    web.new_csrf_token()
    return redirect(target, code=303)


@blp.post("/logout")
def logout() -> Any:
    session.clear()
    web.new_csrf_token()
    flash(_("Đã đăng xuất."), "ok")
    return redirect(url_for("console.login_form"), code=303)
