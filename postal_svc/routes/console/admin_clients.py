"""Admin pages for API clients: list, issue a key (shown once), revoke with confirmation."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _

from postal_svc.access import clients
from postal_svc.access.service import Role
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.errors import DomainError
from postal_svc.routes import common
from postal_svc.routes.console.admin_common import (
    PAGE_SIZE, form_text, page_cursor, path_id, problems_of, render_admin)
from postal_svc.routes.console.base import admin_required, blp
from postal_svc.routes.errors import status_of

ROLES = tuple(role.value for role in Role)


@blp.get("/admin/clients")
@admin_required
def admin_clients() -> Any:
    """External API clients, newest first; `?console=1`: console users' own (never revoked)."""
    console = request.args.get("console") == "1"
    page = clients.list_clients(common.session(), console=console, limit=PAGE_SIZE,
                                cursor=page_cursor())
    return render_admin("clients.html", page=page, console=console)


def _form_page(form: dict[str, str], status: int = 200, message: str | None = None,
               problems: dict[str, list[str]] | None = None) -> Any:
    return render_admin("client_new.html", form=form, roles=ROLES, message=message,
                        problems=problems or {}), status


@blp.get("/admin/clients/new")
@admin_required
def admin_client_new() -> Any:
    return _form_page({"name": "", "role": Role.AGENCY_SYSTEM.value, "scope": ""})


def _code_exists(role: Role, code: str) -> bool:
    """Scope codes name agencies for an agency system, post offices for the others."""
    model = Agency if role is Role.AGENCY_SYSTEM else PostOffice
    return common.session().get(model, code) is not None


@blp.post("/admin/clients")
@admin_required
def admin_client_create() -> Any:
    """Issue a client and show its key in this answer only: it is stored as a hash, the
    page is not cached, and no redirect leads to a page that could show it again."""
    form = {"name": form_text("name", 1000), "role": form_text("role", 32),
            "scope": form_text("scope", 20000)}
    db_session = common.session()
    try:
        client, key = clients.issue_client(
            db_session, name=form["name"], role=form["role"],
            scope=form["scope"].replace(",", " ").split(), code_exists=_code_exists,
            now=common.now())
        db_session.commit()
    except DomainError as error:
        db_session.rollback()
        return _form_page(form, status_of(error), error.message, problems_of(error.errors))
    response = make_response(render_admin("client_key.html", client=client, key=key), 201)
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_revocable() -> clients.ConsoleClientNotRevocable:
    return clients.ConsoleClientNotRevocable(
        _("Khóa này thuộc một người dùng bảng điều phối nên không thu hồi ở đây; "
          "hãy khóa tài khoản người dùng đó."))


@blp.get("/admin/clients/<int:client_id>/revoke")
@admin_required
def admin_client_revoke_confirm(client_id: int) -> Any:
    """Revocation is final: the page says whose key stops working before it does."""
    db_session = common.session()
    client = clients.get_client(db_session, path_id(client_id))
    if clients.is_console_client(db_session, client.id):
        raise _not_revocable()
    return render_admin("client_revoke.html", client=client)


@blp.post("/admin/clients/<int:client_id>/revoke")
@admin_required
def admin_client_revoke(client_id: int) -> Any:
    """Revoke (`revoke_client`), then make this process forget the key at once; other
    processes forget it within their authentication cache's lifetime."""
    db_session = common.session()
    try:
        client = clients.revoke_external_client(db_session, path_id(client_id),
                                                now=common.now())
    except clients.ConsoleClientNotRevocable:
        raise _not_revocable() from None
    name, revoked_id = client.name, client.id
    db_session.commit()
    current_app.extensions["postal"].authenticator.forget(revoked_id)
    flash(_("Đã thu hồi khóa của %(name)s.", name=name), "ok")
    return redirect(url_for("console.admin_clients"), code=303)
