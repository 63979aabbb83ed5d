"""Outbound webhooks end to end: real commits, the real job, a real HTTP receiver on 127.0.0.1.

The receiver is a `ThreadingHTTPServer` that records every request and answers a status the
test chooses (or is stopped, to be down). Time never passes by itself here: the delivery job
is driven with explicit `now` values, so backoff and the 24 h limit are checked without sleeps.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from postal_svc import create_app
from postal_svc.access.service import Caller, Role, create_client, revoke_client
from postal_svc.config import Settings
from postal_svc.db import Database
from postal_svc.directory.service import create_agency, create_post_office
from postal_svc.jobs import deliver_webhooks
from postal_svc.shipments.events import EventInput, LifecyclePolicy, record_event
from postal_svc.shipments.lifecycle import Status
from postal_svc.webhooks.models import (
    WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent)
from postal_svc.webhooks.service import SendResult, WebhookPolicy, create_endpoint, deliver_due
from postal_svc.webhooks.signing import verify_signature
from postal_svc.webhooks.targets import UnsafeWebhookTarget, check_target
from tests.conftest import assert_api_error, order_body, test_settings

ORDERS = "/api/v1/orders"
ENDPOINTS = "/api/v1/webhook-endpoints"
CITIZEN = order_body()["citizen"]


# -- the receiver -----------------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A government system's webhook receiver on 127.0.0.1; `status` is what it answers."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.status = 200
        self.status_at: dict[str, int] = {}  # a status for one path, over `status`
        self.location: str | None = None  # sent with a 3xx status
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.status_at.get(self.path, receiver.status)
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()),
                                                      body, status))
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Down: the port refuses connections until start() is called again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=10)
            self._server = None

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def acknowledged(self, path: str = "/hooks") -> list[Received]:
        return [r for r in self.at(path) if 200 <= r.answered < 300]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    # Only 127.0.0.1 is ever called: no proxy from the environment may sit in between.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


# -- the service on the committed engine ----------------------------------------------------

@dataclass
class Live:
    client: Any
    settings: Settings
    db: Database
    engine: Engine
    headers: dict[str, dict[str, str]]
    client_ids: dict[str, int]

    def run_job(self, now: datetime) -> int:
        return deliver_webhooks(self.db, self.settings, now=now)

    def drain(self, now: datetime, max_runs: int = 50) -> int:
        """Run the job at `now` until nothing more is attempted; returns the attempts made."""
        total = 0
        for _ in range(max_runs):
            attempted = self.run_job(now)
            if attempted == 0:
                return total
            total += attempted
        raise AssertionError("the job kept attempting deliveries")

    def count(self, model: type) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def deliveries(self) -> list[WebhookDelivery]:
        with Session(self.engine) as session:
            return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.fixture
def live(committed_engine: Engine, database_url: str) -> Live:
    now = datetime.now(timezone.utc)
    clients = {"agency": ("agency_system", ["AG-LINHTRUNG", "AG-TRUONGTHANH"]),
               "other_agency": ("agency_system", ["AG-BENNGHE"]),
               "admin": ("admin", []),
               "dispatcher": ("dispatcher", ["PO-THUDUC"]),
               "other_dispatcher": ("dispatcher", ["PO-SAIGON"]),
               "courier": ("courier", ["PO-THUDUC"])}
    headers, ids = {}, {}
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-THUDUC", "name": "Bưu điện Thủ Đức",
                                     "served_ward_codes": ["26794", "26857"]}, now=now)
        create_post_office(session, {"code": "PO-SAIGON", "name": "Bưu điện Sài Gòn",
                                     "served_ward_codes": ["26740"]}, now=now)
        for code, name, office in [("AG-LINHTRUNG", "UBND phường Linh Trung", "PO-THUDUC"),
                                   ("AG-TRUONGTHANH", "UBND phường Trường Thạnh", "PO-THUDUC"),
                                   ("AG-BENNGHE", "UBND phường Bến Nghé", "PO-SAIGON")]:
            create_agency(session, {"code": code, "name": name, "post_office_code": office},
                          now=now)
        for who, (role, scope) in clients.items():
            client, key = create_client(session, name=who, role=role, scope=scope, now=now)
            headers[who], ids[who] = {"Authorization": f"Bearer {key}"}, client.id
        session.commit()
    settings = test_settings(database_url, webhook_allow_private_targets=True,
                             webhook_allow_http=True)
    app = create_app({"settings": settings, "db_bind": committed_engine})
    return Live(app.test_client(), settings, Database(committed_engine), committed_engine,
                headers, ids)


def register(live: Live, who: str, url: str,
             events: tuple[str, ...] = ("order.status_changed",)) -> tuple[str, str]:
    response = live.client.post(ENDPOINTS, json={"url": url, "events": list(events)},
                                headers=live.headers[who])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["secret"].startswith("whsec_")
    return body["id"], body["secret"]


def create_order(live: Live, who: str = "agency", **overrides: Any) -> dict[str, Any]:
    response = live.client.post(ORDERS, json=order_body(**overrides), headers=live.headers[who])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def courier_records(live: Live, order_id: str, type_: str, **extra: Any) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"type": type_, **extra}
    if type_ == "delivered":
        body.setdefault("recipient", {"name": CITIZEN["name"], "relationship": "self",
                                      "id_last4": "1234"})
    if type_ in ("delivery_failed", "pickup_failed"):
        body.setdefault("failure_reason", "recipient_not_home")
    response = live.client.post(f"{ORDERS}/{order_id}/events", json=body,
                                headers=live.headers["courier"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # The posted event, then what the lifecycle recorded by itself after it.
    return [body, *body.pop("follow_up_events")]


def cancel(live: Live, order_id: str, who: str = "agency") -> None:
    response = live.client.post(f"{ORDERS}/{order_id}/cancel", json={"reason": "Công dân hủy"},
                                headers=live.headers[who])
    assert response.status_code == 200, response.get_json()


def delivery_log(live: Live, endpoint_id: str, who: str = "agency") -> list[dict[str, Any]]:
    response = live.client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries", headers=live.headers[who])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def event_positions(live: Live) -> dict[str, int]:
    """Each event's place among its order's events, in the order they were written."""
    positions: dict[str, int] = {}
    counters: dict[int | None, int] = {}
    with Session(live.engine) as session:
        for event in session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)):
            positions[event.public_id] = counters.get(event.order_id, 0)
            counters[event.order_id] = positions[event.public_id] + 1
    return positions


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def statuses_received(requests: list[Received]) -> dict[str, list[str]]:
    """Per order, the statuses of the events received, in arrival order."""
    out: dict[str, list[str]] = {}
    for r in requests:
        out.setdefault(r.json["data"]["order_id"], []).append(r.json["data"]["status"])
    return out


# -- (a) a status change reaches the receiver, signed and without personal data ---------------

def test_a_cancelled_order_is_posted_to_the_agency_endpoint_signed_and_without_personal_data(
        live, receiver):
    endpoint_id, secret = register(live, "agency", receiver.url())
    order = create_order(live)
    assert live.count(WebhookEvent) == 0  # creating an order is not a status change
    cancel(live, order["id"])
    assert live.count(WebhookEvent) == 1
    assert [(d.status, d.attempts) for d in live.deliveries()] == [("pending", 0)]

    now = datetime.now(timezone.utc)
    assert live.run_job(now) == 1
    [got] = receiver.at("/hooks")
    assert got.headers["Content-Type"] == "application/json"
    assert verify_signature(secret, got.body, got.headers["Postal-Signature"],
                            now=int(now.timestamp()))
    assert got.headers["Postal-Signature"].startswith(f"t={int(now.timestamp())},v1=")
    # A receiver holding another secret, or a tampered body, does not verify.
    assert not verify_signature("whsec_other", got.body, got.headers["Postal-Signature"],
                                now=int(now.timestamp()))
    assert not verify_signature(secret, got.body.replace(b"cancelled", b"delivered"),
                                got.headers["Postal-Signature"], now=int(now.timestamp()))

    event = got.json
    assert set(event) == {"id", "type", "created", "data"}
    assert event["id"].startswith("evt_")
    assert got.headers["Postal-Event-Id"] == event["id"]
    assert event["type"] == "order.status_changed"
    assert event["created"].endswith("Z")
    assert parse(event["created"]) <= now
    data = event["data"]
    assert (data["order_id"], data["tracking_number"], data["agency_code"]) == (
        order["id"], order["tracking_number"], "AG-LINHTRUNG")
    assert (data["status"], data["previous_status"], data["kind"]) == (
        "cancelled", "created", "result_delivery")
    text = got.body.decode()
    for personal in (CITIZEN["name"], CITIZEN["phone"], CITIZEN["phone"][1:],
                     CITIZEN["address"]["line"], "Nguyễn", "Đường số 7"):
        assert personal not in text, personal
    assert not {"citizen", "name", "phone", "address", "email", "recipient"} & set(data)

    [logged] = delivery_log(live, endpoint_id)
    assert (logged["event_id"], logged["status"], logged["attempts"]) == (
        event["id"], "delivered", 1)
    assert [(a["status_code"], a["manual"]) for a in logged["log"]] == [(200, False)]
    assert logged["next_attempt_at"] is None
    # Nothing is sent twice.
    assert live.run_job(now + timedelta(hours=1)) == 0
    assert len(receiver.at("/hooks")) == 1


def test_courier_events_reach_the_receiver_in_the_order_they_happened(live, receiver):
    _, secret = register(live, "agency", receiver.url())
    order = create_order(live)
    steps = ["collected", "at_post_office", "out_for_delivery", "delivered"]
    for step in steps:
        courier_records(live, order["id"], step)
    now = datetime.now(timezone.utc)
    assert live.drain(now) == 4
    got = receiver.acknowledged()
    assert [r.json["data"]["status"] for r in got] == steps
    assert [r.json["data"]["previous_status"] for r in got] == ["created", *steps[:-1]]
    assert all(verify_signature(secret, r.body, r.headers["Postal-Signature"],
                                now=int(now.timestamp())) for r in got)
    # The recipient from the proof of delivery is not sent either.
    assert all(CITIZEN["name"] not in r.body.decode() and "recipient" not in r.json["data"]
               for r in got)


def test_the_automatic_step_after_the_last_failed_attempt_is_an_event_of_its_own(live, receiver):
    register(live, "agency", receiver.url())
    order = create_order(live)
    for step in ["collected", "at_post_office", "out_for_delivery", "delivery_failed",
                 "out_for_delivery", "delivery_failed"]:
        courier_records(live, order["id"], step)
    live.drain(datetime.now(timezone.utc))
    last_two = [r.json["data"] for r in receiver.acknowledged()][-2:]
    assert [(d["status"], d["automatic"], d["attempt_count"], d["failure_reason"])
            for d in last_two] == [("delivery_failed", False, 2, "recipient_not_home"),
                                   ("returning", True, 2, None)]


# -- (b) receiver down: backoff, a full log, then every event once and in order ---------------

def test_while_the_receiver_is_down_deliveries_back_off_and_later_arrive_once_in_order(
        live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url())
    receiver.stop()
    first, second = create_order(live), create_order(live)
    happened = {first["id"]: ["collected", "at_post_office", "out_for_delivery",
                              "delivery_failed", "out_for_delivery", "delivered"],
                second["id"]: ["collected", "at_post_office", "out_for_delivery"]}
    # Interleaved, as two couriers would record them.
    for i in range(6):
        for order_id, steps in happened.items():
            if i < len(steps):
                courier_records(live, order_id, steps[i])
    assert live.count(WebhookDelivery) == 9

    t0 = datetime.now(timezone.utc)
    # Only the oldest pending delivery of each order is tried: the rest wait behind it.
    assert live.run_job(t0) == 2
    assert live.run_job(t0) == 0
    heads = [d for d in live.deliveries() if d.attempts]
    assert len(heads) == 2
    assert all(d.status == "pending" and d.last_status_code is None and d.last_error
               for d in heads)
    waits = [(heads[0].next_attempt_at - t0)]

    # Not yet due: nothing is tried.
    assert live.run_job(t0 + timedelta(seconds=29)) == 0
    # Down, then answering 500: each retry waits twice as long as the one before.
    now = t0
    receiver.start()
    receiver.status = 500
    for _ in range(4):
        now = min(d.next_attempt_at for d in live.deliveries() if d.attempts)
        assert live.run_job(now) == 2
        head = next(d for d in live.deliveries() if d.id == heads[0].id)
        waits.append(head.next_attempt_at - now)
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120),
                     timedelta(seconds=240), timedelta(seconds=480)]
    assert all(d.status == "pending" for d in live.deliveries())

    # Every attempt is in the log: one refused connection, then four 500s.
    log = delivery_log(live, endpoint_id)
    assert len(log) == 9
    tried = [entry for entry in log if entry["attempts"]]
    assert len(tried) == 2
    for entry in tried:
        assert entry["status"] == "pending"
        assert entry["attempts"] == 5
        assert entry["last_status_code"] == 500
        assert parse(entry["next_attempt_at"]) == now + timedelta(seconds=480)
        assert [a["status_code"] for a in entry["log"]] == [None, 500, 500, 500, 500]
        assert entry["log"][0]["error"]
        assert not any(a["manual"] for a in entry["log"])
        times = [parse(a["attempted_at"]) for a in entry["log"]]
        assert times == sorted(times)
    untried = [entry for entry in log if not entry["attempts"]]
    assert all(entry["log"] == [] and entry["status"] == "pending" for entry in untried)
    # The receiver saw only the heads, never a later event before an earlier one.
    assert {tuple(s) for s in statuses_received(receiver.at("/hooks")).values()} == {
        ("collected",) * 4}

    # Back up: everything arrives, once each, in the order it happened per order.
    receiver.status = 200
    later = now + timedelta(hours=1)
    assert live.drain(later) == 9
    acknowledged = receiver.acknowledged()
    assert len(acknowledged) == 9
    assert len({r.json["id"] for r in acknowledged}) == 9
    assert statuses_received(acknowledged) == happened
    # Counting the 500-answered attempts too, no order's events ever arrive out of order.
    position = event_positions(live)
    for order_id in happened:
        seen = [position[r.json["id"]] for r in receiver.at("/hooks")
                if r.json["data"]["order_id"] == order_id]
        assert seen == sorted(seen), (order_id, seen)
    assert all(d.status == "delivered" for d in live.deliveries())
    assert live.drain(later + timedelta(hours=1)) == 0


def test_backoff_grows_to_an_hour_and_stays_there():
    policy = WebhookPolicy()
    waits = [policy.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2),
                         timedelta(minutes=4)]
    assert waits == sorted(waits)
    assert waits[-1] == timedelta(hours=1)
    assert max(waits) == timedelta(hours=1)


def test_an_endpoint_that_is_down_does_not_hold_back_another_endpoint(live, receiver):
    register(live, "agency", receiver.url("/down"))
    register(live, "admin", receiver.url("/up"))
    receiver.status_at["/down"] = 500
    order = create_order(live)
    steps = ["collected", "at_post_office", "out_for_delivery"]
    for step in steps:
        courier_records(live, order["id"], step)
    assert live.drain(datetime.now(timezone.utc)) == 4  # three to /up, one try to /down
    assert [r.json["data"]["status"] for r in receiver.acknowledged("/up")] == steps
    assert [r.json["data"]["status"] for r in receiver.at("/down")] == ["collected"]


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url("/moved"))
    receiver.status = 302
    receiver.location = receiver.url("/elsewhere")  # could as well be a private address
    order = create_order(live)
    cancel(live, order["id"])
    assert live.run_job(datetime.now(timezone.utc)) == 1
    assert [r.path for r in receiver.requests] == ["/moved"]
    [logged] = delivery_log(live, endpoint_id)
    assert (logged["status"], logged["last_status_code"]) == ("pending", 302)


# -- (c) nothing is sent for a change that rolled back -------------------------------------

def test_a_refused_transition_writes_no_event_and_sends_nothing(live, receiver):
    register(live, "agency", receiver.url())
    order = create_order(live)
    response = live.client.post(f"{ORDERS}/{order['id']}/events", json={"type": "delivered",
                                "recipient": {"name": "A", "relationship": "self"}},
                                headers=live.headers["courier"])
    assert_api_error(response, 409, "invalid_transition")
    invalid = live.client.post(f"{ORDERS}/{order['id']}/events",
                               json={"type": "collected", "occurred_at": "2099-01-01T00:00:00Z"},
                               headers=live.headers["courier"])
    assert_api_error(invalid, 422, "invalid_event")
    assert live.count(WebhookEvent) == 0
    assert live.count(WebhookDelivery) == 0
    assert live.drain(datetime.now(timezone.utc) + timedelta(minutes=1)) == 0
    assert receiver.requests == []


def test_an_event_recorded_in_a_transaction_that_rolls_back_is_never_sent(live, receiver):
    register(live, "agency", receiver.url())
    order = create_order(live)
    courier = Caller(client_id=live.client_ids["courier"], name="courier", role=Role.COURIER,
                     scope=frozenset({"PO-THUDUC"}))
    now = datetime.now(timezone.utc)
    with Session(live.engine) as session:
        recorded = record_event(session, order["id"], EventInput(type=Status.COLLECTED),
                                caller=courier, policy=LifecyclePolicy(), now=now)
        assert [e.status for e in recorded] == ["collected"]
        # Written in the same transaction as the change...
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        session.rollback()
    # ...and gone with it.
    assert live.count(WebhookEvent) == 0
    assert live.count(WebhookDelivery) == 0
    assert live.drain(now + timedelta(minutes=1)) == 0
    assert receiver.requests == []
    # The order is still where it was; the next real change is sent normally.
    cancel(live, order["id"])
    assert live.drain(datetime.now(timezone.utc)) == 1
    assert [r.json["data"]["previous_status"] for r in receiver.acknowledged()] == ["created"]


# -- (d) 24 hours of failures ---------------------------------------------------------------

def test_a_delivery_still_failing_24_hours_after_its_event_is_failed_for_good(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url())
    receiver.status = 500
    order = create_order(live)
    cancel(live, order["id"])
    [delivery] = live.deliveries()
    created = delivery.created_at

    assert live.run_job(created) == 1
    assert live.run_job(created + timedelta(hours=23, minutes=59)) == 1
    [delivery] = live.deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    assert live.run_job(created + timedelta(hours=24)) == 1
    [delivery] = live.deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", 3)

    [logged] = delivery_log(live, endpoint_id)
    assert (logged["status"], logged["attempts"], logged["next_attempt_at"]) == ("failed", 3, None)
    assert [a["status_code"] for a in logged["log"]] == [500, 500, 500]
    # Failed is final for the job, even once the receiver is fine again.
    receiver.status = 200
    assert live.drain(created + timedelta(days=3)) == 0
    assert len(receiver.at("/hooks")) == 3


def test_a_delivery_retried_all_day_becomes_failed_only_after_24_hours(live, receiver):
    receiver.stop()
    register(live, "agency", receiver.url())
    order = create_order(live)
    cancel(live, order["id"])
    [delivery] = live.deliveries()
    now, runs = delivery.created_at, 0
    while delivery.status == "pending":
        assert live.run_job(now) == 1
        runs += 1
        [delivery] = live.deliveries()
        if delivery.status == "pending":
            assert delivery.next_attempt_at - now <= timedelta(hours=1)
            assert now - delivery.created_at < timedelta(hours=24)
            now = delivery.next_attempt_at
        assert runs < 100
    assert delivery.status == "failed"
    assert delivery.last_attempt_at - delivery.created_at >= timedelta(hours=24)
    assert delivery.attempts == runs
    assert live.count(WebhookAttempt) == runs


def test_a_later_event_waits_while_an_earlier_one_of_the_same_order_is_retried(live, receiver):
    register(live, "agency", receiver.url())
    receiver.status = 500
    order = create_order(live, kind="dossier_pickup")
    courier_records(live, order["id"], "pickup_scheduled")
    [first] = live.deliveries()
    assert live.run_job(first.created_at) == 1
    courier_records(live, order["id"], "picked_up")
    receiver.status = 200
    # The first is in backoff: the second, though due, waits behind it.
    assert live.drain(first.created_at + timedelta(seconds=29)) == 0
    assert live.drain(first.created_at + timedelta(seconds=30)) == 2
    assert [r.json["data"]["status"] for r in receiver.acknowledged()] == [
        "pickup_scheduled", "picked_up"]


def test_once_an_earlier_delivery_has_failed_for_good_the_later_ones_of_the_order_go_out(
        live, receiver):
    register(live, "agency", receiver.url())
    receiver.status = 500
    order = create_order(live, kind="dossier_pickup")
    courier_records(live, order["id"], "pickup_scheduled")
    courier_records(live, order["id"], "picked_up")
    first, second = live.deliveries()
    assert live.run_job(first.created_at) == 1
    assert live.run_job(first.created_at + timedelta(hours=24)) == 1
    assert [d.status for d in live.deliveries()] == ["failed", "pending"]
    receiver.status = 200
    assert live.drain(first.created_at + timedelta(hours=24)) == 1
    assert [r.json["data"]["status"] for r in receiver.acknowledged()] == ["picked_up"]
    assert [d.status for d in live.deliveries()] == ["failed", "delivered"]


# -- (e) manual redelivery ------------------------------------------------------------------

def test_manual_redelivery_sends_the_event_again_and_logs_a_manual_attempt(live, receiver):
    endpoint_id, secret = register(live, "agency", receiver.url())
    order = create_order(live)
    cancel(live, order["id"])
    assert live.run_job(datetime.now(timezone.utc)) == 1
    [original] = receiver.at("/hooks")
    event_id = original.json["id"]

    response = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/{event_id}",
                                headers=live.headers["agency"])
    assert response.status_code == 200, response.get_json()
    delivery = response.get_json()
    assert (delivery["event_id"], delivery["status"], delivery["attempts"]) == (
        event_id, "delivered", 2)
    assert [(a["status_code"], a["manual"]) for a in delivery["log"]] == [(200, False),
                                                                          (200, True)]
    first, again = receiver.at("/hooks")
    assert again.body == first.body  # the same event, byte for byte
    assert again.headers["Postal-Event-Id"] == event_id
    assert verify_signature(secret, again.body, again.headers["Postal-Signature"],
                            now=int(time.time()))
    assert delivery_log(live, endpoint_id)[0]["log"] == delivery["log"]


def test_manual_redelivery_of_a_failed_delivery_delivers_it(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url())
    receiver.status = 503
    order = create_order(live)
    cancel(live, order["id"])
    [delivery] = live.deliveries()
    live.run_job(delivery.created_at)
    live.run_job(delivery.created_at + timedelta(hours=24))
    [logged] = delivery_log(live, endpoint_id)
    assert logged["status"] == "failed"

    receiver.status = 200
    response = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/{logged['event_id']}",
                                headers=live.headers["agency"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "delivered"
    assert [(a["status_code"], a["manual"]) for a in response.get_json()["log"]] == [
        (503, False), (503, False), (200, True)]
    assert len(receiver.acknowledged()) == 1


def test_a_failed_manual_redelivery_is_logged_and_leaves_the_retry_schedule_alone(live,
                                                                                  receiver):
    endpoint_id, _ = register(live, "agency", receiver.url())
    receiver.status = 500
    order = create_order(live)
    cancel(live, order["id"])
    [delivery] = live.deliveries()
    live.run_job(delivery.created_at)
    [before] = live.deliveries()
    response = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/"
                                f"{delivery_log(live, endpoint_id)[0]['event_id']}",
                                headers=live.headers["agency"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["attempts"], body["last_status_code"]) == ("pending", 2, 500)
    assert [a["manual"] for a in body["log"]] == [False, True]
    [after] = live.deliveries()
    assert after.next_attempt_at == before.next_attempt_at


def test_redelivery_of_an_unknown_event_or_someone_elses_endpoint_is_404(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url())
    order = create_order(live)
    cancel(live, order["id"])
    live.run_job(datetime.now(timezone.utc))
    event_id = receiver.at("/hooks")[0].json["id"]
    unknown = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/evt_doesnotexist",
                               headers=live.headers["agency"])
    assert_api_error(unknown, 404, "webhook_event_not_found")
    elsewhere = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/{event_id}",
                                 headers=live.headers["other_agency"])
    assert_api_error(elsewhere, 404, "webhook_endpoint_not_found")
    log = live.client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries",
                          headers=live.headers["other_agency"])
    assert_api_error(log, 404, "webhook_endpoint_not_found")
    assert len(receiver.at("/hooks")) == 1
    # An admin may act on any endpoint.
    by_admin = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/{event_id}",
                                headers=live.headers["admin"])
    assert by_admin.status_code == 200
    assert len(receiver.at("/hooks")) == 2


# -- (f) SSRF -------------------------------------------------------------------------------

UNSAFE_WITH_DEFAULTS = ["http://127.0.0.1/hooks", "http://127.0.0.1:8080/hooks",
                        "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                        "https://localhost/", "https://127.0.0.1/hooks",
                        "https://10.0.0.1/", "https://169.254.169.254/",
                        "https://[::1]/", "https://0.0.0.0/", "https://192.168.1.10/",
                        "https://172.16.5.4/", "https://[fd00::1]/",
                        "https://[fe80::1]/",
                        # shared address space, where a cloud metadata service answers:
                        "https://100.100.100.200/latest/meta-data/",
                        "https://user:secret@8.8.8.8/hooks"]


@pytest.mark.parametrize("url", UNSAFE_WITH_DEFAULTS)
def test_with_default_settings_a_private_or_plain_http_target_is_422_unsafe_webhook_url(
        client, auth, count_rows, url):
    response = client.post(ENDPOINTS, json={"url": url, "events": ["order.status_changed"]},
                           headers=auth["agency"])
    body = assert_api_error(response, 422, "unsafe_webhook_url")
    assert "url" in body["errors"]
    assert "secret" not in body
    assert count_rows(WebhookEndpoint) == 0


@pytest.fixture
def http_allowed_client(connection: Any, database_url: str) -> Any:
    settings = test_settings(database_url, webhook_allow_http=True)
    return create_app({"settings": settings, "db_bind": connection, "TESTING": True}).test_client()


@pytest.mark.parametrize("url", ["http://127.0.0.1/hooks", "http://10.0.0.1/",
                                 "http://169.254.169.254/latest/meta-data/",
                                 "http://192.168.0.1/", "http://[::1]:8080/",
                                 "http://100.64.0.1/"])
def test_allowing_http_does_not_allow_private_targets(http_allowed_client, auth, url):
    response = http_allowed_client.post(ENDPOINTS, json={"url": url,
                                                         "events": ["order.status_changed"]},
                                        headers=auth["agency"])
    assert_api_error(response, 422, "unsafe_webhook_url")


def test_plain_http_to_a_public_address_is_refused_unless_http_is_allowed(
        client, http_allowed_client, auth):
    body = {"url": "http://8.8.8.8/hooks", "events": ["order.status_changed"]}
    assert_api_error(client.post(ENDPOINTS, json=body, headers=auth["agency"]), 422,
                     "unsafe_webhook_url")
    # Registering sends nothing, so a public literal address is safe to use here.
    allowed = http_allowed_client.post(ENDPOINTS, json=body, headers=auth["agency"])
    assert allowed.status_code == 201, allowed.get_json()


def test_an_unknown_event_type_is_refused(client, auth):
    response = client.post(ENDPOINTS, json={"url": "https://8.8.8.8/hooks",
                                            "events": ["order.teleported"]},
                           headers=auth["agency"])
    assert_api_error(response, 422, "validation_error")


def resolver_to(*addresses: str) -> Any:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return list(addresses)
    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize("addresses", [
    ("10.20.30.40",), ("127.0.0.1",), ("169.254.169.254",), ("192.168.1.1",), ("::1",),
    ("fe80::1%eth0",), ("fd12:3456::1",), ("::ffff:10.0.0.1",), ("0.0.0.0",),
    ("100.100.100.200",), ("224.0.0.1",),
    ("93.184.216.34", "10.0.0.7"),  # one private answer among public ones is enough
    (),
], ids=lambda a: ",".join(a) or "no-address")
def test_a_host_name_resolving_to_a_private_address_is_refused(addresses):
    resolve = resolver_to(*addresses)
    with pytest.raises(UnsafeWebhookTarget) as raised:
        check_target("https://hooks.agency.example/in", allow_private=False, allow_http=False,
                     resolve=resolve)
    assert raised.value.code == "unsafe_webhook_url"
    assert resolve.asked == [("hooks.agency.example", 443)]


def test_a_host_name_resolving_to_public_addresses_is_accepted():
    resolve = resolver_to("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    check_target("https://hooks.agency.example:8443/in", allow_private=False, allow_http=False,
                 resolve=resolve)
    assert resolve.asked == [("hooks.agency.example", 8443)]


def test_a_host_name_that_does_not_resolve_is_refused():
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(UnsafeWebhookTarget):
        check_target("https://nowhere.example/", allow_private=False, allow_http=False,
                     resolve=resolve)


def test_when_private_targets_are_allowed_nothing_is_resolved():
    resolve = resolver_to("10.0.0.1")
    check_target("http://127.0.0.1:9/hooks", allow_private=True, allow_http=True, resolve=resolve)
    assert resolve.asked == []
    with pytest.raises(UnsafeWebhookTarget):  # the scheme is still checked
        check_target("ftp://127.0.0.1/hooks", allow_private=True, allow_http=True,
                     resolve=resolve)


def test_a_host_that_turns_private_after_registration_is_not_called(live):
    # DNS rebinding: public when registered, private when the delivery goes out.
    answers = {"now": ["93.184.216.34"]}

    def resolve(host: str, port: int) -> list[str]:
        return answers["now"]

    policy = WebhookPolicy(allow_private_targets=False, allow_http=False, resolve=resolve)
    agency = Caller(client_id=live.client_ids["agency"], name="agency",
                    role=Role.AGENCY_SYSTEM, scope=frozenset({"AG-LINHTRUNG"}))
    now = datetime.now(timezone.utc)
    with live.db.session() as session:
        create_endpoint(session, caller=agency, url="https://hooks.agency.example/in",
                        events=["order.status_changed"], policy=policy, now=now)
    order = create_order(live)
    cancel(live, order["id"])
    answers["now"] = ["10.0.0.5"]
    sent: list[str] = []

    def send(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> SendResult:
        sent.append(url)
        return SendResult(200, None)

    assert deliver_due(live.db, now=datetime.now(timezone.utc), policy=policy, send=send) == 1
    assert sent == []
    [delivery] = live.deliveries()
    assert delivery.status == "pending"
    assert "private" in (delivery.last_error or "")
    assert delivery.last_status_code is None
    # Public again: now it goes out.
    answers["now"] = ["93.184.216.34"]
    assert deliver_due(live.db, now=delivery.next_attempt_at, policy=policy, send=send) == 1
    assert sent == ["https://hooks.agency.example/in"]


# -- (g) who gets what --------------------------------------------------------------------------

def test_each_endpoint_gets_only_the_orders_its_client_may_see(live, receiver):
    for who in ("agency", "other_agency", "admin", "dispatcher", "other_dispatcher"):
        register(live, who, receiver.url(f"/{who}"))
    ours = create_order(live, "agency")
    theirs = create_order(live, "other_agency", agency_code="AG-BENNGHE")
    assert (ours["post_office_code"], theirs["post_office_code"]) == ("PO-THUDUC", "PO-THUDUC")
    cancel(live, ours["id"])
    cancel(live, theirs["id"], who="other_agency")
    live.drain(datetime.now(timezone.utc))

    def orders_at(path: str) -> set[str]:
        return {r.json["data"]["order_id"] for r in receiver.at(path)}

    assert orders_at("/agency") == {ours["id"]}
    assert orders_at("/other_agency") == {theirs["id"]}
    assert orders_at("/admin") == {ours["id"], theirs["id"]}
    # Dispatchers by post office: both orders are served by Thủ Đức.
    assert orders_at("/dispatcher") == {ours["id"], theirs["id"]}
    assert orders_at("/other_dispatcher") == set()


def test_an_endpoint_subscribed_to_other_event_types_gets_no_status_changes(live, receiver):
    register(live, "agency", receiver.url("/payments"), events=("payment.succeeded",))
    order = create_order(live)
    cancel(live, order["id"])
    assert live.count(WebhookEvent) == 1
    assert live.count(WebhookDelivery) == 0
    assert live.drain(datetime.now(timezone.utc)) == 0
    assert receiver.requests == []


def test_a_disabled_endpoint_gets_nothing_new(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url("/old"))
    register(live, "agency", receiver.url("/new"))
    order = create_order(live)
    courier_records(live, order["id"], "collected")
    live.drain(datetime.now(timezone.utc))
    assert len(receiver.at("/old")) == len(receiver.at("/new")) == 1

    response = live.client.delete(f"{ENDPOINTS}/{endpoint_id}", headers=live.headers["agency"])
    assert response.status_code == 200
    assert response.get_json()["active"] is False
    listed = live.client.get(ENDPOINTS, headers=live.headers["agency"]).get_json()["data"]
    assert {e["id"]: e["active"] for e in listed}[endpoint_id] is False

    courier_records(live, order["id"], "at_post_office")
    live.drain(datetime.now(timezone.utc))
    assert [r.json["data"]["status"] for r in receiver.at("/old")] == ["collected"]
    assert [r.json["data"]["status"] for r in receiver.at("/new")] == ["collected",
                                                                       "at_post_office"]
    assert len(delivery_log(live, endpoint_id)) == 1


def test_deliveries_still_pending_when_an_endpoint_is_disabled_are_not_sent(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url("/old"))
    receiver.status = 500
    order = create_order(live)
    cancel(live, order["id"])
    [delivery] = live.deliveries()
    assert live.run_job(delivery.created_at) == 1
    live.client.delete(f"{ENDPOINTS}/{endpoint_id}", headers=live.headers["agency"])
    receiver.status = 200
    # "Stop sending to this endpoint (pending deliveries stay in the log)."
    assert live.drain(delivery.created_at + timedelta(hours=1)) == 0
    assert receiver.acknowledged("/old") == []
    [logged] = delivery_log(live, endpoint_id)
    assert (logged["status"], logged["attempts"]) == ("pending", 1)


def test_the_endpoint_of_a_revoked_client_gets_nothing_new(live, receiver):
    register(live, "agency", receiver.url("/revoked"))
    register(live, "admin", receiver.url("/admin"))
    with live.db.session() as session:
        revoke_client(session, live.client_ids["agency"], now=datetime.now(timezone.utc))
    order = create_order(live, "admin")
    cancel(live, order["id"], who="admin")
    live.drain(datetime.now(timezone.utc))
    assert receiver.at("/revoked") == []
    assert len(receiver.acknowledged("/admin")) == 1


def test_another_agencys_client_cannot_disable_or_list_this_endpoint(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url())
    response = live.client.delete(f"{ENDPOINTS}/{endpoint_id}",
                                  headers=live.headers["other_agency"])
    assert_api_error(response, 404, "webhook_endpoint_not_found")
    listed = live.client.get(ENDPOINTS, headers=live.headers["other_agency"]).get_json()["data"]
    assert listed == []
    mine = live.client.get(ENDPOINTS, headers=live.headers["agency"]).get_json()["data"]
    assert [(e["id"], e["active"]) for e in mine] == [(endpoint_id, True)]
    assert all("secret" not in e for e in mine)


def test_couriers_may_not_register_endpoints(live, receiver):
    response = live.client.post(ENDPOINTS, json={"url": receiver.url(),
                                                 "events": ["order.status_changed"]},
                                headers=live.headers["courier"])
    assert_api_error(response, 403, "forbidden")
    assert live.count(WebhookEndpoint) == 0


def test_a_disabled_endpoint_cannot_be_sent_to_by_hand_either(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url("/hooks"))
    order = create_order(live)
    courier_records(live, order["id"], "collected")
    live.drain(datetime.now(timezone.utc))
    event_id = delivery_log(live, endpoint_id)[0]["event_id"]
    live.client.delete(f"{ENDPOINTS}/{endpoint_id}", headers=live.headers["agency"])
    response = live.client.post(f"{ENDPOINTS}/{endpoint_id}/redeliver/{event_id}",
                                headers=live.headers["agency"])
    assert response.status_code == 409
    assert response.get_json()["code"] == "webhook_endpoint_disabled"
    assert len(receiver.at("/hooks")) == 1


def test_the_delivery_log_pages_by_cursor_without_gaps_or_repeats(live, receiver):
    endpoint_id, _ = register(live, "agency", receiver.url("/hooks"))
    order = create_order(live)
    for step in ("collected", "at_post_office", "out_for_delivery"):
        courier_records(live, order["id"], step)
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = live.client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries", query_string=query,
                               headers=live.headers["agency"]).get_json()
        seen += [d["id"] for d in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3
    assert seen == sorted(seen, reverse=True)
