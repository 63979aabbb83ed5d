"""Route planning API: dispatchers queue a day's plan, watch it solve, adjust, publish, print.

Solving never runs in a request thread: plans are handed to a process pool (spawn context)
created lazily in the web process, or picked up by `postal-svc plans run-queued`.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any

from flask import Response, after_this_request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from postal_svc.access.service import Role
from postal_svc.clock import isoformat_z
from postal_svc.directory.service import PostOfficeNotFound, get_post_office
from postal_svc.routes import common
from postal_svc.routes.blueprint import Blueprint
from postal_svc.routes.fields import CodeString, StrictInteger
from postal_svc.routes.orders import lifecycle_policy
from postal_svc.routing import manifests, planning
from postal_svc.routing.models import RoutePlan

log = logging.getLogger("postal_svc.routes.route_plans")

blp = Blueprint("route_plans", __name__, url_prefix="/api/v1",
                description="Route plans of a post office's day.")

PLANNERS = (Role.ADMIN, Role.DISPATCHER)

# -- the worker pool (web process only) -------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _planner_pool(max_workers: int) -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=max_workers,
                                        mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _reset_pool() -> None:
    global _pool
    with _pool_lock:
        _pool = None


def dispatch_plan(public_id: str) -> None:
    """After the commit: solve in-process (tests, POSTAL_PLANNER_INLINE) or in the pool. A
    plan the pool cannot take stays queued for `postal-svc plans run-queued`."""
    conf = common.settings()
    if conf.planner_inline:
        planning.solve_plan(common.database(), public_id,
                            speeds=planning.SpeedProfiles.from_settings(conf))
        return
    for _ in range(2):
        try:
            _planner_pool(conf.planner_max_workers).submit(
                planning.run_plan_in_process, conf.database_url, public_id,
                conf.speed_profiles, conf.default_speed_profile)
            return
        except BrokenProcessPool:
            _reset_pool()
    log.warning("route plan %s left queued: the planner pool is unavailable", public_id)


def _dispatch_after_response(public_id: str) -> None:
    @after_this_request
    def _go(response: Response) -> Response:
        if response.status_code < 400:
            dispatch_plan(public_id)
        return response


# -- schemas ---------------------------------------------------------------------------------

class CreateRoutePlanSchema(Schema):
    date = fields.Date(metadata={"description": "The Vietnam-time day; default today."})
    couriers = fields.List(CodeString(max_length=32), validate=validate.Length(min=1, max=500),
                           metadata={"description": "Default: the office's active couriers."})
    time_limit_s = StrictInteger(validate=validate.Range(1, 3600))


class OrderCourierSchema(Schema):
    order_id = CodeString(required=True, max_length=32)
    courier_code = CodeString(required=True, max_length=32)


class MoveSchema(OrderCourierSchema):
    trip = CodeString(max_length=16, metadata={
        "description": "The courier's trip (t1, t2, ... one per shift); default: the cheapest."})
    position = StrictInteger(validate=validate.Range(1, 10_000), metadata={
        "description": "1-based place of the stop in the trip; default: the cheapest feasible."})


class ChangeRoutePlanSchema(Schema):
    moves = fields.List(fields.Nested(MoveSchema), load_default=list,
                        validate=validate.Length(max=2000))
    locks = fields.List(fields.Nested(OrderCourierSchema), load_default=list,
                        validate=validate.Length(max=2000))

    @validates_schema
    def moves_or_locks(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("moves") and not data.get("locks"):
            raise ValidationError("Give moves or locks.", "moves")


class RoutePlanSchema(Schema):
    id = fields.String()
    post_office_code = fields.String()
    date = fields.String()
    status = fields.String(metadata={"description": "queued | solving | ready | published | failed"})
    couriers = fields.List(fields.String())
    time_limit_s = fields.Integer()
    progress = fields.Dict(allow_none=True)
    routes = fields.List(fields.Dict())
    unassigned = fields.List(fields.Dict())
    totals = fields.Dict(allow_none=True)
    locks = fields.List(fields.Dict())
    error = fields.Dict(allow_none=True)
    created_at = fields.String()
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    published_at = fields.String(allow_none=True)
    links = fields.Dict()


class PublishResultSchema(RoutePlanSchema):
    moved = fields.List(fields.Dict())
    not_moved = fields.List(fields.Dict())


def present_plan(plan: RoutePlan) -> dict[str, Any]:
    base = f"/api/v1/route-plans/{plan.public_id}"
    return {"id": plan.public_id, "post_office_code": plan.post_office_code,
            "date": plan.plan_date.isoformat(), "status": plan.status,
            "couriers": plan.courier_codes, "time_limit_s": plan.time_limit_s,
            "progress": plan.progress, "routes": (plan.result or {}).get("routes", []),
            "unassigned": plan.unassigned or [], "totals": plan.totals, "locks": plan.locks or [],
            "error": plan.error, "created_at": isoformat_z(plan.created_at),
            "started_at": isoformat_z(plan.started_at),
            "finished_at": isoformat_z(plan.finished_at),
            "published_at": isoformat_z(plan.published_at),
            "links": {"self": base, "manifest": base + "/manifest.pdf", "geojson": base + ".geojson"}}


def _plan(plan_id: str) -> RoutePlan:
    return planning.get_route_plan(common.session(), plan_id,
                                   offices=common.caller().post_office_codes())


def _today() -> date:
    return common.now().astimezone(planning.VIETNAM).date()


# -- views -----------------------------------------------------------------------------------

@blp.route("/post-offices/<string:code>/route-plans")
class OfficeRoutePlans(MethodView):
    @common.require_roles(*PLANNERS)
    @common.idempotent
    @blp.arguments(CreateRoutePlanSchema())
    @blp.response(202, RoutePlanSchema)
    def post(self, data: dict[str, Any], code: str) -> dict[str, Any]:
        """Queue a route plan for the office's day; a worker process solves it."""
        scope = common.caller().post_office_codes()
        if scope is not None and code not in scope:
            raise PostOfficeNotFound(f"No post office {code!r}.")
        conf = common.settings()
        plan = planning.create_route_plan(
            common.session(), code, day=data.get("date") or _today(),
            courier_codes=data.get("couriers"),
            time_limit_s=min(data.get("time_limit_s", conf.planner_default_time_limit_s),
                             conf.planner_max_time_limit_s),
            client_id=common.caller().client_id, now=common.now())
        _dispatch_after_response(plan.public_id)
        return present_plan(plan)


@blp.route("/route-plans/<string:plan_id>")
class RoutePlanById(MethodView):
    @common.require_roles(*PLANNERS)
    @blp.response(200, RoutePlanSchema)
    def get(self, plan_id: str) -> dict[str, Any]:
        """A plan: status and progress while solving; routes, unassigned orders and totals."""
        return present_plan(_plan(plan_id))

    @common.require_roles(*PLANNERS)
    @blp.arguments(ChangeRoutePlanSchema())
    @blp.response(200, RoutePlanSchema)
    def patch(self, data: dict[str, Any], plan_id: str) -> dict[str, Any]:
        """Move orders to couriers (at once: routes, times and totals follow) or lock them;
        either way they stay with those couriers when the plan is re-optimised."""
        db_session = common.session()
        plan = planning.change_plan(db_session, _plan(plan_id), moves=data["moves"],
                                    locks=data["locks"], now=common.now(),
                                    speeds=planning.SpeedProfiles.from_settings(common.settings()))
        db_session.commit()
        return present_plan(plan)


@blp.route("/route-plans/<string:plan_id>/reoptimize")
class RoutePlanReoptimize(MethodView):
    @common.require_roles(*PLANNERS)
    @common.idempotent
    @blp.response(202, RoutePlanSchema)
    def post(self, plan_id: str) -> dict[str, Any]:
        """Solve the plan again (locked orders stay with their courier)."""
        plan = planning.reoptimize_plan(common.session(), _plan(plan_id), now=common.now())
        _dispatch_after_response(plan.public_id)
        return present_plan(plan)


@blp.route("/route-plans/<string:plan_id>/publish")
class RoutePlanPublish(MethodView):
    @common.require_roles(*PLANNERS)
    @common.idempotent
    @blp.response(200, PublishResultSchema)
    def post(self, plan_id: str) -> dict[str, Any]:
        """Publish: deliveries become out_for_delivery, dossier pickups pickup_scheduled."""
        db_session = common.session()
        plan = _plan(plan_id)
        outcome = planning.publish_plan(db_session, plan, caller=common.caller(),
                                        policy=lifecycle_policy(), now=common.now())
        return {**present_plan(plan), **outcome}


@blp.route("/route-plans/<string:plan_id>.geojson")
class RoutePlanGeoJson(MethodView):
    @common.require_roles(*PLANNERS)
    @blp.response(200, content_type="application/geo+json",
                  description="FeatureCollection: depot, stops (Points), one LineString per route.")
    def get(self, plan_id: str) -> Response:
        """The plan for a map."""
        plan = _plan(plan_id)
        office = get_post_office(common.session(), plan.post_office_code)
        body = planning.plan_geojson(plan, (office.lat or 0.0, office.lon or 0.0))
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json")


@blp.route("/route-plans/<string:plan_id>/manifest.pdf")
class RoutePlanManifest(MethodView):
    @common.require_roles(*PLANNERS)
    @blp.response(200, content_type="application/pdf",
                  description="One A4 sheet per courier: stops in order, recipients, cash to collect.")
    def get(self, plan_id: str) -> Response:
        """Printable manifests of the plan."""
        plan = _plan(plan_id)
        pdf = manifests.manifest_pdf(common.session(), plan)
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{plan.public_id}-manifest.pdf"'})
