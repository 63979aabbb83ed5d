"""What every console page shares: the signed-in staff user, role checks, CSRF, errors."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar, cast

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import HTTPException

from postal_svc.access.models import StaffUser
from postal_svc.access.service import Caller, Role
from postal_svc.access.staff import active_user, staff_caller
from postal_svc.errors import DomainError
from postal_svc.routes import common, web
from postal_svc.routes.errors import status_of

blp = Blueprint("console", __name__, url_prefix="/console")
blp.before_request(web.check_csrf)
blp.after_request(web.remember_language)

SIGNED_IN = "console_user_id"
# Which password the session was opened with (a fingerprint): a new password signs it out.
PASSWORD_FINGERPRINT = "console_password_fingerprint"
F = TypeVar("F", bound=Callable[..., Any])


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    return web.error_page(error)


@blp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Any:
    """A use case refused: the console says why, in a page, with the API's status."""
    return render_template("console/problem.html", problem=error), status_of(error)


def current_user() -> StaffUser | None:
    """The staff user this browser signed in as, while their account is active and their
    password is the one they signed in with."""
    if "staff_user" in g:
        return cast("StaffUser | None", g.staff_user)
    user_id = session.get(SIGNED_IN)
    user = active_user(common.session(), user_id, session.get(PASSWORD_FINGERPRINT)) \
        if isinstance(user_id, int) else None
    g.staff_user = user
    return user


def caller() -> Caller:
    """The caller the signed-in user acts as in every use case (their own API client)."""
    user = current_user()
    if user is None:  # views are wrapped in staff_required, so this is a bug
        raise HTTPForbidden()
    return staff_caller(user)


def staff_required(view: F) -> F:
    """Signed-in dispatchers and admins only; otherwise to the sign-in page and back."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("console.login_form", next=_local_next()), code=303)
        return view(*args, **kwargs)
    return cast(F, wrapper)


def admin_required(view: F) -> F:
    """Admins only: a signed-in dispatcher gets 403."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("console.login_form", next=_local_next()), code=303)
        if user.role != Role.ADMIN.value:
            raise HTTPForbidden(_("Chỉ quản trị viên mới vào được trang này."))
        return view(*args, **kwargs)
    return cast(F, wrapper)


def is_admin() -> bool:
    user = current_user()
    return user is not None and user.role == Role.ADMIN.value


def post_office_codes() -> frozenset[str] | None:
    """The post offices the user works for; None for an admin (every office)."""
    return caller().post_office_codes()


def _local_next() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else url_for("console.today")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path of ours, never another site."""
    if target and target.startswith("/console/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return url_for("console.today")


@blp.app_context_processor
def _console_globals() -> dict[str, Any]:
    if request.blueprint != "console":
        return {}
    return {"console_user": current_user, "console_is_admin": is_admin,
            "console_endpoints": lambda: current_app.view_functions.keys()}
