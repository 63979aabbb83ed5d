"""The one place that wires the application together (no I/O happens here)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, g, request
from flask_smorest import Api
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from postal_svc import ids
from postal_svc import models  # noqa: F401  (every table on the metadata)
from postal_svc.access.service import CachedAuthenticator
from postal_svc.billing.gateway import PaymentGateway, gateway_from_settings
from postal_svc.config import INSTANCE_DIR, Settings
from postal_svc.db import Database, make_engine
from postal_svc.directory.lookup import DirectoryLookup
from postal_svc.errors import DomainError
from postal_svc.geo.geocoders import GazetteerGeocoder, GeocoderChain, build_online_geocoder
from postal_svc.geo.resolver import AddressResolver as GeoAddressResolver
from postal_svc.logs import configure_logging
from postal_svc.routes import errors as error_handlers
from postal_svc.routes import billing as billing_routes
from postal_svc.routes import console
from postal_svc.routes import (
    courier, couriers, geocode, labels, ops, orders, pages, pay, payments, reference, stripe_webhooks,
    route_plans, tracking, web,
    webhooks)
from postal_svc.routes.common import close_session
from postal_svc.routes.json_provider import FastJSONProvider
from postal_svc.shipments.addresses import AddressResolver, ChainAddressResolver

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


@dataclass
class PostalState:
    """What views reach through `current_app.extensions["postal"]`."""

    settings: Settings
    db: Database
    resolve_address: AddressResolver
    authenticator: CachedAuthenticator
    directory: DirectoryLookup
    # None when no payment provider is configured (online payment then answers 503).
    payment_gateway: PaymentGateway | None = None


class PostalApi(Api):
    """flask-smorest, answering every HTTP error in the API error shape."""

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        return error_handlers.handle_http_exception(error)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. `test_config` may override settings (`settings`), the database bind
    (`db_bind`: an Engine or a Connection whose outer transaction the test owns) or the
    payment gateway (`payment_gateway`; by default Stripe's, from the settings)."""
    test_config = dict(test_config or {})
    settings: Settings = test_config.pop("settings", None) or Settings.from_env()
    settings.validate()
    configure_logging(settings.log_level, settings.log_json)

    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.json = FastJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        API_TITLE="postal-svc",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/static/swagger-ui/",
        API_SPEC_OPTIONS={
            "info": {"description": "Public postal service for administrative procedures: "
                                    "order intake, tracking, billing and routing."},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    bind = test_config.pop("db_bind", None) or make_engine(settings.database_url)
    resolver: AddressResolver = (test_config.pop("resolve_address", None)
                                 or build_address_resolver(settings))
    gateway: PaymentGateway | None = (test_config.pop("payment_gateway", None)
                                      or gateway_from_settings(settings))
    app.config.update(test_config)
    app.extensions["postal"] = PostalState(
        settings=settings, db=Database(bind), resolve_address=resolver,
        authenticator=CachedAuthenticator(ttl_s=settings.auth_cache_seconds),
        directory=DirectoryLookup(ttl_s=settings.reference_cache_seconds),
        payment_gateway=gateway)

    api = PostalApi(app)
    api.register_blueprint(orders.blp)
    api.register_blueprint(labels.blp)
    api.register_blueprint(reference.blp)
    api.register_blueprint(geocode.blp)
    api.register_blueprint(billing_routes.blp)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(tracking.blp)
    api.register_blueprint(payments.blp)
    api.register_blueprint(couriers.blp)
    api.register_blueprint(route_plans.blp)
    app.register_blueprint(ops.blp)
    app.register_blueprint(pages.blp)
    app.register_blueprint(pay.blp)
    app.register_blueprint(stripe_webhooks.blp)
    app.register_blueprint(courier.blp)
    app.register_blueprint(console.blp)
    web.init_app(app, settings)  # languages, rate limits, client address, page sessions
    _install_swagger_assets(app)
    ops.install_metrics(app)

    app.register_error_handler(DomainError, error_handlers.handle_domain_error)
    app.register_error_handler(IntegrityError, error_handlers.handle_integrity_error)
    app.register_error_handler(HTTPException, error_handlers.handle_http_exception)
    app.register_error_handler(Exception, error_handlers.handle_unexpected)
    app.teardown_appcontext(close_session)

    @app.before_request
    def _refuse_nul_in_path() -> None:
        # No id or code contains NUL, and PostgreSQL refuses it in text. (The pages and the
        # public tracking answer such paths with their own 404.)
        if ("\x00" in request.path and request.path.startswith("/api/")
                and not request.path.startswith("/api/v1/tracking/")):
            abort(404)

    @app.before_request
    def _request_id() -> None:
        sent = request.headers.get("X-Request-Id", "")
        g.request_id = sent if _REQUEST_ID.fullmatch(sent) else new_request_id()

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id") or new_request_id()
        return response

    return app


def new_request_id() -> str:
    """128 random bits as hex, for correlating log lines (not a secret). Not uuid4, whose
    system call per id `postal_svc.ids` saves."""
    return ids.random_hex(16)


def build_address_resolver(settings: Settings) -> ChainAddressResolver:
    """The geocoder chain the settings ask for (no network unless an online geocoder is set)."""
    options: dict[str, Any] = {"user_agent": settings.geocoder_user_agent}
    if settings.geocoder_url:
        options["domain"] = settings.geocoder_url
    online = build_online_geocoder(settings.geocoder, **options)
    gazetteer = GazetteerGeocoder(
        GeoAddressResolver(default_province_code=settings.default_province_code,
                           street_radius_m=settings.street_radius_m),
        default_province_code=settings.default_province_code)
    return ChainAddressResolver(GeocoderChain(
        gazetteer, online=online, max_online_distance_m=settings.street_radius_m,
        min_delay_seconds=settings.geocoder_min_delay_s))


def _install_swagger_assets(app: Flask) -> None:
    """Swagger UI served from the swagger-ui-bundle package, so the docs work offline."""
    import swagger_ui_bundle  # type: ignore[import-untyped]
    from flask import send_from_directory

    assets = swagger_ui_bundle.swagger_ui_path

    @app.get("/api/static/swagger-ui/<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(assets, filename)
