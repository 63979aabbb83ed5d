"""Real Chromium against the real app served over HTTP on 127.0.0.1, on the test database.

Chromium is Debian's package at /usr/bin/chromium, driven by Playwright (never a browser
Playwright downloads). Without it the browser tests are skipped, saying why; CI installs it.
Data is committed through the app (as in tests/integration) and the tables are emptied after
each test, so the rest of the suite never sees it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from postal_svc import create_app
from postal_svc.access.service import create_client
from postal_svc.directory.service import create_agency, create_post_office
from tests.conftest import test_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; "
                                   "CI installs it in .ci/run)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@dataclass
class LiveServer:
    url: str
    app: Any


@pytest.fixture(scope="session")
def live_server(engine: Engine, database_url: str) -> Iterator[LiveServer]:
    """The app on a free port of 127.0.0.1 in a thread, committing to the test database."""
    settings = test_settings(database_url, tracking_rate_per_minute=0,
                             secret_key="browser-tests-secret")
    app = create_app({"settings": settings, "db_bind": engine})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    """A page in a cheap phone's viewport, in Vietnamese, with JavaScript off: every flow
    must work without it."""
    context = chromium.new_context(viewport=PHONE, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def world(committed_engine: Engine, live_server: LiveServer) -> dict[str, Any]:
    """A post office for Thủ Đức, its agency, and keys for a one-stop system, a dispatcher
    and a courier (committed; emptied by committed_engine afterwards)."""
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức",
                                     "served_ward_codes": ["26794", "26857"]}, now=now)
        create_agency(session, {"code": "AG-LINHTRUNG", "name": "UBND phường Linh Trung",
                                "post_office_code": "PO-THUDUC"}, now=now)
        keys = {}
        for role, scope, name in (("agency_system", ["AG-LINHTRUNG"], "one-stop"),
                                  ("dispatcher", ["PO-THUDUC"], "Điều phối Thủ Đức"),
                                  ("courier", ["PO-THUDUC"], "Bưu tá Minh")):
            _, keys[role] = create_client(session, name=name, role=role, scope=scope, now=now)
        session.commit()
    return {"url": live_server.url, "api": live_server.app.test_client(), "keys": keys,
            "headers": {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}}


def no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= 360"))


def screenshot(page: Any, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / name
    page.screenshot(path=str(path), full_page=True)
    return path


# -- the pay page: the app with payments, and a localstripe of its own ------------------------

@dataclass
class PayServer:
    url: str
    app: Any
    localstripe: Any


@pytest.fixture(scope="session")
def pay_server(engine: Engine, database_url: str) -> Iterator[PayServer]:
    """The app with online payment on localstripe (started here, its signed webhooks sent to
    this server), served on a free port of 127.0.0.1."""
    from postal_svc.stripe_emulator import start_localstripe
    from tests.payments_support import WEBHOOK_SECRET, stripe_settings

    emulator = start_localstripe()
    settings = stripe_settings(database_url, emulator, tracking_rate_per_minute=0,
                               secret_key="browser-tests-secret")
    app = create_app({"settings": settings, "db_bind": engine})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pay-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    emulator.register_webhook(f"{url}/webhooks/stripe", WEBHOOK_SECRET)
    try:
        yield PayServer(url=url, app=app, localstripe=emulator)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        emulator.stop()


@pytest.fixture
def pay_world(committed_engine: Engine, pay_server: PayServer) -> dict[str, Any]:
    """Thủ Đức's office, agency and staff keys, on the server that takes payments."""
    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức",
                                     "served_ward_codes": ["26794", "26857"]}, now=now)
        create_agency(session, {"code": "AG-LINHTRUNG", "name": "UBND phường Linh Trung",
                                "post_office_code": "PO-THUDUC"}, now=now)
        keys = {}
        for role, scope in (("agency_system", ["AG-LINHTRUNG"]), ("dispatcher", ["PO-THUDUC"])):
            _, keys[role] = create_client(session, name=role, role=role, scope=scope, now=now)
        session.commit()
    return {"url": pay_server.url, "api": pay_server.app.test_client(),
            "localstripe": pay_server.localstripe, "engine": committed_engine,
            "headers": {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}}


@pytest.fixture
def phone_with_js(chromium: Any) -> Iterator[Any]:
    """A phone-sized page in Vietnamese with JavaScript on (the card field is Stripe.js)."""
    context = chromium.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


# -- the dispatcher console: staff users and a laptop-sized browser ---------------------------

CONSOLE_PASSWORD = "correct-horse-battery"
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def console_world(world: dict[str, Any], committed_engine: Engine) -> dict[str, Any]:
    """`world` plus console users (committed): a dispatcher of PO-THUDUC (`dieuphoi`), an
    admin (`quantri`), and a dispatcher of another office (`khac`, of PO-SAIGON); all with
    CONSOLE_PASSWORD."""
    from postal_svc.access.staff import create_staff_user
    from postal_svc.directory.models import PostOffice

    now = datetime.now(timezone.utc)
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-SAIGON", "name": "Bưu điện Sài Gòn",
                                     "served_ward_codes": ["26740"]}, now=now)
        for username, role, offices in (("dieuphoi", "dispatcher", ["PO-THUDUC"]),
                                        ("quantri", "admin", []),
                                        ("khac", "dispatcher", ["PO-SAIGON"])):
            create_staff_user(session, username=username, role=role, password=CONSOLE_PASSWORD,
                              post_office_codes=offices, now=now,
                              office_exists=lambda code: session.get(PostOffice, code) is not None)
        session.commit()
    return {**world, "password": CONSOLE_PASSWORD}


@pytest.fixture
def laptop(chromium: Any) -> Iterator[Any]:
    """A page in a laptop's viewport, in Vietnamese, with JavaScript on (the console's maps
    and the planner's progress need it; every other flow works without)."""
    context = chromium.new_context(viewport=LAPTOP, locale="vi-VN")
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def console_sign_in(page: Any, url: str, username: str,
                    password: str = CONSOLE_PASSWORD) -> None:
    page.goto(f"{url}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/console/")
