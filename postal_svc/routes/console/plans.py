"""Plan: queue a post office's day, watch it solve, adjust, re-optimise, publish and print.

Every action calls the use case the route-plans API calls (routing.planning) and hands solves
to the same worker dispatch, so the console and the API cannot disagree about a plan.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from postal_svc.config import Settings
from postal_svc.directory.couriers import Courier, couriers_of
from postal_svc.directory.models import PostOffice
from postal_svc.directory.service import PostOfficeNotFound, get_post_office, list_post_offices
from postal_svc.errors import DomainError, RuleViolation
from postal_svc.routes import common
from postal_svc.routes.console.base import blp, caller, post_office_codes, staff_required
from postal_svc.routes.errors import status_of
from postal_svc.routes.fields import CodeString
from postal_svc.routes.orders import lifecycle_policy
from postal_svc.routes.route_plans import dispatch_plan
from postal_svc.routing import manifests, plan_board, planning
from postal_svc.routing.models import FAILED, QUEUED, READY, SOLVING, RoutePlan

PAGE_SIZE = 20
OFFICE_LIST_LIMIT = 500  # every post office of a city fits one list for an admin
_PLAN_ID = re.compile(r"[A-Za-z0-9_]{1,32}")
# One colour per courier, in the plan's courier order; the map and the tables share them.
COURIER_COLOURS = ("#0b57d0", "#d93025", "#188038", "#e37400", "#9334e6", "#00838f",
                   "#c2185b", "#5d4037", "#3f51b5", "#827717")
UNFINISHED = (QUEUED, SOLVING)


# -- forms -----------------------------------------------------------------------------------

class CreatePlanForm(Schema):
    """The new-plan form: one office, its day, the couriers ticked, the solver's time."""

    class Meta:
        unknown = EXCLUDE  # the CSRF field and the button

    post_office_code = CodeString(required=True, max_length=32)
    date = fields.Date(required=True)
    couriers = fields.List(CodeString(max_length=32), required=True,
                           validate=validate.Length(min=1, max=500))
    time_limit_s = fields.Integer(required=True, strict=False)


class OrdersToCourierForm(Schema):
    """A stop's orders (all of them move together) and the courier they go to or stay with."""

    class Meta:
        unknown = EXCLUDE

    order_ids = fields.List(CodeString(max_length=32), required=True,
                            validate=validate.Length(min=1, max=2000))
    courier_code = CodeString(required=True, max_length=32)


class UnlockForm(Schema):
    class Meta:
        unknown = EXCLUDE

    order_ids = fields.List(CodeString(max_length=32), required=True,
                            validate=validate.Length(min=1, max=2000))


class InvalidPlanForm(RuleViolation):
    """A plan action's form was malformed (a forged or truncated post)."""

    code = "invalid_plan_form"


def _form_data(*lists: str) -> dict[str, Any]:
    """The posted form as a dict: ``lists`` fields as lists, blank single fields left out."""
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k not in lists and v.strip()}
    for name in lists:
        values = [v for v in request.form.getlist(name) if v.strip()]
        if values:
            data[name] = values
    return data


# -- reading the request ---------------------------------------------------------------------

def _today() -> date:
    return common.now().astimezone(planning.VIETNAM).date()


def _plan(plan_id: str) -> RoutePlan:
    """The plan if it belongs to the user's offices; 404 otherwise (like the API)."""
    if not _PLAN_ID.fullmatch(plan_id):  # e.g. a NUL byte, which PostgreSQL refuses
        raise planning.RoutePlanNotFound("No such route plan.")
    return planning.get_route_plan(common.session(), plan_id, offices=post_office_codes())


def _offices() -> list[PostOffice]:
    """The post offices the user may plan for: theirs, or every one for an admin."""
    scope = post_office_codes()
    return list(list_post_offices(common.session(), limit=OFFICE_LIST_LIMIT, cursor=None,
                                  codes=scope).items)


def _chosen_office(offices: list[PostOffice], wanted: str | None) -> PostOffice | None:
    if not wanted:
        return offices[0] if offices else None
    for office in offices:
        if office.code == wanted:
            return office
    raise PostOfficeNotFound("No such post office among those you act for.")


# -- the plans page --------------------------------------------------------------------------

@blp.get("/plans")
@staff_required
def plans() -> Any:
    """Recent plans of the user's offices, and the form that queues a new one."""
    return _plans_page(request.args.get("office"))


def _plans_page(office_code: str | None, *, values: Mapping[str, Any] | None = None,
                errors: Mapping[str, str] | None = None, status: int = 200) -> Any:
    offices = _offices()
    office = _chosen_office(offices, office_code)
    couriers: list[Courier] = couriers_of(common.session(), office.code) if office else []
    page = plan_board.list_route_plans(common.session(), offices=post_office_codes(),
                                       limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    conf = common.settings()
    form = {"date": _today().isoformat(), "couriers": [c.code for c in couriers],
            "time_limit_s": conf.planner_default_time_limit_s, **(values or {})}
    return render_template(
        "console/plans/index.html", offices=offices, office=office, couriers=couriers,
        plans=page.items, next_cursor=page.next_cursor, form=form, errors=errors or {},
        max_time_limit_s=conf.planner_max_time_limit_s), status


@blp.post("/plans")
@staff_required
def plans_create() -> Any:
    """Queue a plan exactly as POST /api/v1/post-offices/{code}/route-plans does, then show it."""
    data = _form_data("couriers")
    conf = common.settings()
    try:
        form = CreatePlanForm().load(data)
    except ValidationError as error:
        return _refused_form(data, _create_form_errors(error.normalized_messages(), conf))
    problems = _create_form_errors({}, conf, form)
    if problems:
        return _refused_form(data, problems)
    scope = post_office_codes()
    if scope is not None and form["post_office_code"] not in scope:
        raise PostOfficeNotFound("No such post office among those you act for.")
    db_session = common.session()
    try:
        plan = planning.create_route_plan(
            db_session, form["post_office_code"], day=form["date"], courier_codes=form["couriers"],
            time_limit_s=form["time_limit_s"], client_id=caller().client_id, now=common.now())
    except DomainError as error:
        db_session.rollback()
        if status_of(error) == 404:
            raise
        return _refused_form(data, {"form": _plan_refusal(error)}, status=status_of(error))
    public_id = plan.public_id
    db_session.commit()
    dispatch_plan(public_id)
    return redirect(url_for("console.plans_show", plan_id=public_id), code=303)


def _create_form_errors(messages: Mapping[str, Any], conf: Settings,
                        form: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Field -> a message in the reader's language, for what the form got wrong."""
    limit = conf.planner_max_time_limit_s
    errors: dict[str, str] = {}
    if "post_office_code" in messages:
        errors["post_office_code"] = _("Hãy chọn bưu cục.")
    if "date" in messages or (form and not 2000 <= form["date"].year <= 2999):
        errors["date"] = _("Ngày phải có dạng YYYY-MM-DD, ví dụ 2025-03-02.")
    if "couriers" in messages:
        errors["couriers"] = _("Hãy chọn ít nhất một bưu tá.")
    if "time_limit_s" in messages or (form and not 1 <= form["time_limit_s"] <= limit):
        errors["time_limit_s"] = _("Thời gian tìm lời giải phải từ 1 đến %(max)s giây.", max=limit)
    return errors


def _refused_form(data: Mapping[str, Any], errors: Mapping[str, str], status: int = 422) -> Any:
    office = data.get("post_office_code")
    values = {k: data[k] for k in ("date", "time_limit_s") if k in data}
    values["couriers"] = list(data.get("couriers", []))
    # An office outside the user's scope is a 404 here too: the form never reveals it.
    return _plans_page(office if isinstance(office, str) else None, values=values,
                       errors=errors, status=status)


def _plan_refusal(error: DomainError) -> str:
    """Why the planner refused the form, in the reader's language."""
    if error.code == "invalid_courier":
        return _("Có bưu tá không làm việc cho bưu cục này.")
    if error.code == "invalid_route_plan" and "post_office_code" in error.errors:
        return _("Bưu cục chưa có tọa độ để làm điểm xuất phát của lộ trình.")
    if error.code == "invalid_route_plan":
        return _("Bưu cục không có bưu tá nào đang hoạt động.")
    return error.message


# -- one plan --------------------------------------------------------------------------------

@blp.get("/plans/<string:plan_id>")
@staff_required
def plans_show(plan_id: str) -> Any:
    """The plan: live progress while it solves; the map, each courier's stops, what was left out
    and the actions once ready."""
    plan = _plan(plan_id)
    db_session = common.session()
    routes = (plan.result or {}).get("routes", [])
    locks = {lock["order_id"]: lock["courier_code"] for lock in plan.locks or []}
    order_ids = {oid for r in routes for s in r["stops"] for oid in s["order_ids"]}
    order_ids |= {u["order_id"] for u in plan.unassigned or []} | set(locks)
    conf = common.settings()
    return render_template(
        "console/plans/plan.html", plan=plan, office=get_post_office(db_session, plan.post_office_code),
        unfinished=plan.status in UNFINISHED, editable=plan.status in (READY, FAILED),
        publishable=plan.status == READY,
        courier_routes=_courier_routes(plan, routes),
        names=plan_board.courier_names(db_session, plan.courier_codes),
        colours=_colours(plan), orders=plan_board.tracking_numbers(db_session, order_ids),
        locks=locks, percent=_percent(plan), tile_url=conf.console_tile_url,
        tile_attribution=conf.console_tile_attribution, reason_label=_unassigned_reason,
        kind_label=_stop_kind, hhmm=_hhmm,
        pins_of=lambda stop: sorted({locks[o] for o in stop["order_ids"] if o in locks}))


def _hhmm(instant: str) -> str:
    """A stored ISO instant ("...Z") as the Vietnam-time clock reading a courier uses."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(planning.VIETNAM).strftime("%H:%M")


def _colours(plan: RoutePlan) -> dict[str, str]:
    return {code: COURIER_COLOURS[n % len(COURIER_COLOURS)]
            for n, code in enumerate(plan.courier_codes)}


def _courier_routes(plan: RoutePlan, routes: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each courier of the plan with its trips (possibly none), in the plan's courier order."""
    trips: dict[str, list[dict[str, Any]]] = {code: [] for code in plan.courier_codes}
    for route in routes:
        trips.setdefault(route["courier_code"], []).append(route)
    return list(trips.items())


def _percent(plan: RoutePlan) -> int:
    elapsed = float((plan.progress or {}).get("elapsed_s") or 0)
    if plan.status not in UNFINISHED:
        return 100
    return max(0, min(99, round(100 * elapsed / max(plan.time_limit_s, 1))))


def _stop_kind(kind: str) -> str:
    labels = {planning.COLLECT_RESULT: _("Nhận kết quả tại cơ quan"),
              planning.DELIVER_RESULT: _("Phát kết quả"),
              planning.PICKUP_DOSSIER: _("Nhận hồ sơ"),
              planning.DELIVER_DOSSIER: _("Nộp hồ sơ tại cơ quan")}
    return labels.get(kind, kind)


def _unassigned_reason(reason: str) -> str:
    labels = {"no_location": _("Địa chỉ chưa có tọa độ"),
              "agency_no_location": _("Cơ quan chưa có tọa độ"),
              "window_not_today": _("Khung giờ hẹn không thuộc ngày này"),
              "no_room": _("Các chuyến đã đầy"),
              "time_window": _("Không kịp khung giờ hẹn"),
              "capacity": _("Vượt tải trọng của mọi chuyến"),
              "shift": _("Quá xa so với ca làm việc"),
              "lock": _("Không giữ được bưu tá đã ghim"),
              "pairing": _("Không đi được cả hai chặng trong một chuyến")}
    return labels.get(reason, reason)


@blp.get("/plans/<string:plan_id>/progress.json")
@staff_required
def plans_progress(plan_id: str) -> Any:
    """The solve's progress for the page's indicator (polled about once a second)."""
    plan = _plan(plan_id)
    return {"status": plan.status, "finished": plan.status not in UNFINISHED,
            "progress": plan.progress, "time_limit_s": plan.time_limit_s,
            "percent": _percent(plan)}


@blp.get("/plans/<string:plan_id>/map.geojson")
@staff_required
def plans_geojson(plan_id: str) -> Response:
    """The plan for the map: depot, stops and one line per route (routing.plan_geojson)."""
    plan = _plan(plan_id)
    office = get_post_office(common.session(), plan.post_office_code)
    body = planning.plan_geojson(plan, (office.lat or 0.0, office.lon or 0.0))
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json")


@blp.get("/plans/<string:plan_id>/manifest.pdf")
@staff_required
def plans_manifest(plan_id: str) -> Response:
    """The couriers' manifests, from the builder the API's manifest.pdf uses."""
    plan = _plan(plan_id)
    pdf = manifests.manifest_pdf(common.session(), plan)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{plan.public_id}-manifest.pdf"'})


# -- actions ---------------------------------------------------------------------------------

@blp.post("/plans/<string:plan_id>/moves")
@staff_required
def plans_move(plan_id: str) -> Any:
    """Give a stop's orders to another courier: the stop moves now, to the cheapest feasible
    place in that courier's trips, and stays with them when the plan is re-optimised."""
    return _pin(plan_id, as_move=True)


@blp.post("/plans/<string:plan_id>/locks")
@staff_required
def plans_lock(plan_id: str) -> Any:
    """Keep a stop's orders with their courier when the plan is re-optimised."""
    return _pin(plan_id, as_move=False)


def _pin(plan_id: str, *, as_move: bool) -> Any:
    plan = _plan(plan_id)
    form = _load(OrdersToCourierForm(), _form_data("order_ids"))
    pins = [{"order_id": oid, "courier_code": form["courier_code"]} for oid in form["order_ids"]]
    db_session = common.session()
    planning.change_plan(db_session, plan, moves=pins if as_move else [],
                         locks=[] if as_move else pins, now=common.now())
    db_session.commit()
    if as_move:
        flash(_("Đã chuyển điểm dừng cho bưu tá %(courier)s và ghim lại khi tối ưu lại.",
                courier=form["courier_code"]), "ok")
    else:
        flash(_("Đã ghim điểm dừng với bưu tá %(courier)s.", courier=form["courier_code"]), "ok")
    return redirect(url_for("console.plans_show", plan_id=plan_id), code=303)


@blp.post("/plans/<string:plan_id>/unlock")
@staff_required
def plans_unlock(plan_id: str) -> Any:
    """Let the planner choose the courier of a stop's orders again."""
    plan = _plan(plan_id)
    form = _load(UnlockForm(), _form_data("order_ids"))
    db_session = common.session()
    plan_board.unlock_orders(db_session, plan, form["order_ids"], now=common.now())
    db_session.commit()
    flash(_("Đã bỏ ghim điểm dừng."), "ok")
    return redirect(url_for("console.plans_show", plan_id=plan_id), code=303)


@blp.post("/plans/<string:plan_id>/reoptimize")
@staff_required
def plans_reoptimize(plan_id: str) -> Any:
    """Solve the plan again; pinned orders stay with their courier."""
    db_session = common.session()
    plan = planning.reoptimize_plan(db_session, _plan(plan_id), now=common.now())
    public_id = plan.public_id
    db_session.commit()
    dispatch_plan(public_id)
    return redirect(url_for("console.plans_show", plan_id=public_id), code=303)


@blp.post("/plans/<string:plan_id>/publish")
@staff_required
def plans_publish(plan_id: str) -> Any:
    """Hand the plan to the couriers: the orders move through their lifecycle."""
    db_session = common.session()
    outcome = planning.publish_plan(db_session, _plan(plan_id), caller=caller(),
                                    policy=lifecycle_policy(), now=common.now())
    db_session.commit()
    flash(_("Đã công bố lộ trình: %(moved)s đơn đã chuyển trạng thái, %(kept)s đơn giữ nguyên.",
            moved=len(outcome["moved"]), kept=len(outcome["not_moved"])), "ok")
    return redirect(url_for("console.plans_show", plan_id=plan_id), code=303)


def _load(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(schema.load(data))
    except ValidationError as error:
        raise InvalidPlanForm(_("Biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại."),
                              errors={k: [str(v)] for k, v in error.normalized_messages().items()}
                              ) from None
