"""What the HTML pages share: language, client address, rate limits, CSRF, friendly errors."""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from flask import (
    Flask, Request, Response, current_app, g, render_template, request, session, url_for)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel, format_datetime, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import (
    BadRequest, HTTPException, MethodNotAllowed, NotFound, TooManyRequests)
from werkzeug.middleware.proxy_fix import ProxyFix

from postal_svc.config import Settings
from postal_svc.ratelimit import RateLimiter, build_limiter
from postal_svc.routes import errors as error_handlers

LANGUAGES = ("vi", "en")
PAGE_PREFIXES = ("/track", "/courier", "/pay", "/console")
LANG_COOKIE = "lang"
LIMITER = "postal_rate_limiter"
CSRF_FIELD = "csrf_token"
_CSRF_KEY = "csrf"
# Vietnamese time, written the way each language writes it.
_TIME_FORMATS = {"vi": "HH:mm, dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}


def init_app(app: Flask, settings: Settings) -> None:
    """Languages (Flask-Babel), the client address behind trusted proxies, the rate limiter
    and the page session cookie."""
    app.config.update(
        BABEL_DEFAULT_LOCALE="vi", BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.environment == "production",
        # A courier stays signed in for a working day on their phone.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
    app.session_interface = PageSessionInterface()
    Babel(app, locale_selector=select_language)
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["vnd"] = format_vnd
    app.jinja_env.globals.update(lang_url=lang_url, csrf_token=csrf_token,
                                 current_language=current_language)
    if settings.trusted_proxy_count:
        # Only then is X-Forwarded-For believed, and only as many hops as there are proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app,  # type: ignore[method-assign]
                                x_for=settings.trusted_proxy_count,
                                x_proto=settings.trusted_proxy_count)
    app.extensions[LIMITER] = build_limiter(settings.tracking_rate_per_minute)
    # Unknown paths and methods under the pages never reach a page blueprint's own handler.
    for routing_error in (NotFound, MethodNotAllowed):
        app.register_error_handler(routing_error, _routing_error)


class PageSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie of the pages (console, courier). The API authenticates by
    bearer key and never uses it, so its requests skip reading and verifying the cookie; a
    view under /api/ that tried to write a session would fail loudly (a null session)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _routing_error(error: HTTPException) -> Any:
    if any(request.path == p or request.path.startswith(p + "/") for p in PAGE_PREFIXES):
        return error_page(error)
    return error_handlers.handle_http_exception(error)


# -- language ---------------------------------------------------------------------------------

def select_language() -> str:
    """`?lang=` first (and remembered), then the cookie, then Accept-Language; Vietnamese by
    default."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return cast(str, chosen)
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LANGUAGES:
        return cast(str, remembered)
    return request.accept_languages.best_match(LANGUAGES, default="vi") or "vi"


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "vi"


def remember_language(response: Response) -> Response:
    """After a page: keep a `?lang=` choice in a cookie; pages differ by language and person."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, cast(str, chosen), max_age=365 * 24 * 3600,
                            samesite="Lax", httponly=True,
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    response.headers["Cache-Control"] = "private, no-store"
    # The page's query (phone digits) must not travel on in a Referer, not even to our own
    # stylesheet request, whose access log line would carry it.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def lang_url(language: str) -> str:
    """This page in another language (a form's answer page links to the form's page)."""
    if request.method != "GET" or request.endpoint is None:
        return url_for("courier.stops", lang=language) if request.blueprint == "courier" \
            else url_for("pages.track_form", lang=language)
    # The phone digits travel on only when they were right: a page answering wrong digits must
    # be the very page that answers none.
    private = ("lang",) if g.get("phone_verified") else ("lang", "phone_last4")
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in private}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=language)


def format_when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return format_datetime(moment, _TIME_FORMATS[current_language()])


def format_vnd(amount: int | None) -> str:
    """20800 -> "20.800 đ" (Vietnamese) or "20,800 VND" (English): integer đồng, no decimals."""
    if amount is None:
        return ""
    if current_language() == "en":
        return f"{amount:,} VND"
    return f"{amount:,}".replace(",", ".") + " đ"


# -- client address and rate limits -----------------------------------------------------------

def client_address() -> str:
    """The client's address: the peer, or what trusted proxies said (see ProxyFix above)."""
    return request.remote_addr or "unknown"


def limiter() -> RateLimiter:
    return cast(RateLimiter, current_app.extensions[LIMITER])


def enforce_rate_limit(bucket: str = "tracking") -> None:
    """Raise 429 with Retry-After when this client has used up its requests for now."""
    decision = limiter().hit(f"{bucket}:{client_address()}")
    if not decision.allowed:
        raise TooManyRequests("Too many requests; wait a moment and try again.",
                              retry_after=decision.retry_after_s)


# -- CSRF ---------------------------------------------------------------------------------------

def csrf_token() -> str:
    """The session's CSRF token, for a hidden field in every POST form."""
    token = session.get(_CSRF_KEY)
    if not token:
        token = session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return cast(str, token)


def check_csrf() -> None:
    """400 unless a POST carries the session's token."""
    if request.method != "POST":
        return
    expected = session.get(_CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise BadRequest("The form expired or did not come from this site.")


def new_csrf_token() -> None:
    """A fresh token (at sign-in and sign-out), so one from before cannot be replayed."""
    session[_CSRF_KEY] = secrets.token_urlsafe(32)


# -- friendly errors ------------------------------------------------------------------------

def error_page(error: HTTPException) -> tuple[str, int, dict[str, Any]]:
    """An HTTP error as a small page in the reader's language."""
    status = error.code or 500
    titles = {
        400: _("Yêu cầu không hợp lệ"),
        403: _("Không được phép"),
        404: _("Không tìm thấy"),
        405: _("Không hỗ trợ thao tác này"),
        413: _("Dữ liệu gửi quá lớn"),
        429: _("Quá nhiều yêu cầu"),
    }
    messages = {
        400: _("Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang và thử lại."),
        404: _("Trang hoặc mã bưu gửi này không có."),
        429: _("Bạn đã tra cứu quá nhiều lần. Hãy đợi một chút rồi thử lại."),
    }
    kept = error.get_response().headers
    headers = {name: kept[name] for name in ("Retry-After", "Allow") if name in kept}
    retry_after = headers.get("Retry-After")
    body = render_template("error.html", status=status,
                           title=titles.get(status, _("Đã có lỗi")),
                           message=messages.get(status, _("Hãy thử lại sau.")),
                           retry_after=retry_after)
    return body, status, headers
