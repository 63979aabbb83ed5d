"""Settings read from POSTAL_* environment variables, with embedded defaults."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


ENVIRONMENTS = ("development", "test", "production")

SPEED_PROFILE_KEYS = ("circuity", "offpeak_centre_kmh", "offpeak_outer_kmh", "peak_centre_kmh",
                      "peak_outer_kmh")
DEFAULT_SPEED_PROFILES: dict[str, dict[str, float]] = {
    # Illustrative HCMC figures (DOMAIN.md), to be calibrated: road metres per straight-line
    # metre, and km/h in the centre and outside it, off-peak and at peak (07-09, 16:30-18:30).
    "motorbike": {"circuity": 1.35, "offpeak_centre_kmh": 20.0, "offpeak_outer_kmh": 25.0,
                  "peak_centre_kmh": 15.0, "peak_outer_kmh": 20.0},
    "bicycle": {"circuity": 1.3, "offpeak_centre_kmh": 11.0, "offpeak_outer_kmh": 13.0,
                "peak_centre_kmh": 9.0, "peak_outer_kmh": 11.0},
    "walking": {"circuity": 1.25, "offpeak_centre_kmh": 4.5, "offpeak_outer_kmh": 4.5,
                "peak_centre_kmh": 4.0, "peak_outer_kmh": 4.5},
    "car": {"circuity": 1.4, "offpeak_centre_kmh": 18.0, "offpeak_outer_kmh": 30.0,
            "peak_centre_kmh": 10.0, "peak_outer_kmh": 18.0},
}
"""Couriers' named speed profiles; POSTAL_SPEED_PROFILES (JSON) changes or adds to them."""


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'postal.sqlite3'}"


def _as_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with; each field maps to POSTAL_<NAME>."""

    database_url: str = field(default_factory=_default_database_url)
    secret_key: str = "dev-only-change-me"
    environment: str = "development"  # development | production | test
    # S10 service indicator: two capital letters in front of every tracking number.
    tracking_prefix: str = "RR"
    max_content_length: int = 2 * 1024 * 1024
    # Orders may be registered up to this many days before they reach us.
    registered_at_max_age_days: int = 180
    # Clock skew tolerated between a government system and us for registered_at.
    registered_at_future_skew_s: int = 300
    idempotency_ttl_hours: int = 24
    # Seconds an authenticated API key is remembered per process (0: ask the database each
    # time). A revoked key stops working within this time.
    auth_cache_seconds: int = 30
    # Seconds intake may use a remembered agency or ward-to-post-office answer (0: never).
    reference_cache_seconds: int = 10
    # An in-flight idempotency record older than this is considered abandoned (crashed worker).
    idempotency_lock_timeout_s: int = 600
    # Working days to deliver a result when the citizen gave no window.
    delivery_working_days: int = 3
    batch_max_items: int = 500
    # Minutes a price quote (POST /api/v1/quotes) is honoured for an order.
    quote_validity_minutes: int = 30
    # Failed delivery (or pickup) attempts before a result returns to the agency by itself.
    max_delivery_attempts: int = 2
    # Outbound webhooks: private/loopback targets only when allowed (tests, the demo).
    webhook_allow_private_targets: bool = False
    webhook_allow_http: bool = False
    webhook_retry_hours: int = 24
    scheduler_webhook_seconds: int = 5
    # Addresses without a province are read in this province (GSO code; 79 = Hồ Chí Minh City).
    default_province_code: str = "79"
    # A caller's point counts as street precision within this distance of the ward's centre.
    street_radius_m: int = 3000
    # Optional online geocoder after the embedded gazetteer: "none" or "nominatim".
    geocoder: str = "none"
    geocoder_url: str = ""  # e.g. a self-hosted Nominatim's domain; empty: the geocoder's default
    geocoder_user_agent: str = "postal-svc"
    geocoder_min_delay_s: int = 1
    # Public tracking (API and pages) and the courier login: requests a minute per client
    # address, per process (0: no limit).
    tracking_rate_per_minute: int = 60
    # Proxies in front of the app whose X-Forwarded-For may be trusted (0: the peer address is
    # the client; 1: one load balancer sets the header; never more than really are there).
    trusted_proxy_count: int = 0
    # Map tiles for the console's maps, as a Leaflet URL template
    # (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); empty: no tiles, the maps still
    # draw stops and routes on a plain background. `console_tile_attribution` is shown with them.
    console_tile_url: str = ""
    console_tile_attribution: str = ""
    # Console sign-in: consecutive failures before an account is locked, and for how long.
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    log_level: str = "INFO"
    log_json: bool = True
    scheduler_idempotency_purge_minutes: int = 15
    # Payments (Stripe). An empty secret key means no payment provider is configured:
    # `postal-svc serve` then starts localstripe and fills these in for its children.
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_api_base: str = ""  # empty: Stripe's own (https://api.stripe.com)
    stripe_webhook_secret: str = ""
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # Seconds one call to Stripe may take (the SDK retries network errors twice on top).
    stripe_timeout_s: int = 20
    # How long a citizen's pay link (/pay/<token>) stays valid.
    pay_link_days: int = 7
    # Prefix of the pay links handed out (e.g. https://bcci.example.vn); empty: relative links.
    public_base_url: str = ""
    # The reconciliation job: how often it runs, and how long a payment or refund must have
    # stayed in a non-final state before it re-reads it from Stripe.
    scheduler_payments_seconds: int = 60
    payment_reconcile_after_s: int = 60
    # Route planning: worker processes of the web process's pool (spawned lazily), and
    # POSTAL_PLANNER_INLINE=1 to solve in the request instead (tests only; never production).
    planner_max_workers: int = 1
    planner_inline: bool = False
    planner_default_time_limit_s: int = 10
    planner_max_time_limit_s: int = 300
    # How often the scheduler looks for queued plans (0: it does not; the web pool solves them).
    scheduler_plans_seconds: int = 0
    # Couriers' speed profiles: a JSON object {name: {key: number}} over DEFAULT_SPEED_PROFILES
    # (keys: SPEED_PROFILE_KEYS; a new name starts from the default profile's figures), and the
    # profile of a courier who has none.
    speed_profiles: str = ""
    default_speed_profile: str = "motorbike"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from POSTAL_* variables; explicit overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"POSTAL_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("bool", bool):
                values[f.name] = _as_bool(raw)
            else:
                values[f.name] = raw
        settings = cls(**values)
        return replace(settings, **overrides) if overrides else settings

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def validate(self) -> None:
        """Refuse settings that would make the service misbehave silently."""
        prefix = self.tracking_prefix
        if len(prefix) != 2 or not prefix.isascii() or not prefix.isalpha() or not prefix.isupper():
            raise ValueError("POSTAL_TRACKING_PREFIX must be two capital letters, e.g. RR")
        if self.trusted_proxy_count < 0:
            raise ValueError("POSTAL_TRUSTED_PROXY_COUNT must be 0 or more")
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"POSTAL_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}")
        if self.environment == "production":
            if self.secret_key == Settings.secret_key or len(self.secret_key) < 32:
                raise ValueError("POSTAL_SECRET_KEY must be set to 32 or more random characters "
                                 "in production")
            if self.webhook_allow_private_targets or self.webhook_allow_http:
                raise ValueError("webhooks to private addresses or over plain http are for tests "
                                 "and the demo, never production")
        if self.stripe_secret_key and not self.stripe_webhook_secret \
                and self.environment == "production":
            raise ValueError("POSTAL_STRIPE_WEBHOOK_SECRET must be set with a Stripe key")
        if self.pay_link_days < 1:
            raise ValueError("POSTAL_PAY_LINK_DAYS must be 1 or more")
        if self.planner_max_workers < 1:
            raise ValueError("POSTAL_PLANNER_MAX_WORKERS must be 1 or more")
        if self.planner_inline and self.environment == "production":
            raise ValueError("POSTAL_PLANNER_INLINE solves in the request thread: tests only")
        if self.default_speed_profile not in self.travel_profiles():
            raise ValueError("POSTAL_DEFAULT_SPEED_PROFILE must name a speed profile")

    def travel_profiles(self) -> dict[str, dict[str, float]]:
        """Every named speed profile with its figures: the defaults, then POSTAL_SPEED_PROFILES.
        Raises ValueError when the JSON is malformed or a figure is not a positive number."""
        profiles = {name: dict(figures) for name, figures in DEFAULT_SPEED_PROFILES.items()}
        try:
            extra = json.loads(self.speed_profiles) if self.speed_profiles.strip() else {}
        except ValueError:
            raise ValueError("POSTAL_SPEED_PROFILES must be a JSON object") from None
        if not isinstance(extra, dict):
            raise ValueError("POSTAL_SPEED_PROFILES must be a JSON object")
        base = DEFAULT_SPEED_PROFILES["motorbike"]
        for name, figures in extra.items():
            if not isinstance(name, str) or not name or len(name) > 32 or not isinstance(figures, dict):
                raise ValueError(f"POSTAL_SPEED_PROFILES: {name!r} must name an object of figures")
            unknown = set(figures) - set(SPEED_PROFILE_KEYS)
            if unknown:
                raise ValueError(f"POSTAL_SPEED_PROFILES: {name}: unknown keys {sorted(unknown)}")
            merged = {**profiles.get(name, base), **figures}
            for key, value in merged.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                        or value != value or value == float("inf"):
                    raise ValueError(f"POSTAL_SPEED_PROFILES: {name}.{key} must be a positive number")
            if merged["circuity"] < 1:
                raise ValueError(f"POSTAL_SPEED_PROFILES: {name}.circuity must be 1 or more")
            profiles[name] = {k: float(v) for k, v in merged.items()}
        return profiles

    @property
    def payments_enabled(self) -> bool:
        return bool(self.stripe_secret_key)
