"""Console admin pages for webhooks: every endpoint with its owner, the delivery log with each
attempt, and manual redelivery through the API's use case to a real receiver on 127.0.0.1."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from postal_svc.access.models import ApiClient
from postal_svc.access.service import Caller, Role
from postal_svc.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from postal_svc.webhooks.service import WebhookPolicy, create_endpoint, publish
from tests.conftest import test_settings
from tests.integration.test_webhooks import receiver  # noqa: F401 (a fixture)

LOCAL = WebhookPolicy(allow_private_targets=True, allow_http=True)


@pytest.fixture
def settings(database_url):
    # The receiver listens on 127.0.0.1 over plain HTTP.
    return test_settings(database_url, webhook_allow_private_targets=True,
                         webhook_allow_http=True)


@pytest.fixture
def admin(signed_in):
    return signed_in("admin")


def text(answer) -> str:
    return answer.get_data(as_text=True)


def owner(db_session, make_key, name: str, role: str, scope: list[str]) -> Caller:
    make_key(role, scope, name=name)
    client = db_session.scalar(select(ApiClient).where(ApiClient.name == name))
    return Caller(client_id=client.id, name=name, role=Role(role), scope=frozenset(scope))


@pytest.fixture
def endpoints(db_session, make_key, now, receiver):  # noqa: F811
    """An agency system's endpoint on the receiver, with one pending delivery, and a
    dispatcher's endpoint elsewhere."""
    agency = owner(db_session, make_key, "Một cửa Linh Trung", "agency_system",
                   ["AG-LINHTRUNG"])
    dispatcher = owner(db_session, make_key, "Điều phối Sài Gòn", "dispatcher", ["PO-SAIGON"])
    mine, _ = create_endpoint(db_session, caller=agency, url=receiver.url(),
                              events=["order.status_changed"], policy=LOCAL, now=now)
    other, _ = create_endpoint(db_session, caller=dispatcher, url="http://127.0.0.1:9/hooks",
                               events=["payment.succeeded"], policy=LOCAL, now=now)
    event = publish(db_session, type="order.status_changed", now=now, order_id=None,
                    agency_code="AG-LINHTRUNG", data={"status": "delivered"})
    db_session.commit()
    return {"mine": mine.public_id, "other": other.public_id, "event": event.public_id}


def test_every_endpoint_is_listed_with_its_owner_events_and_state(
        admin, endpoints, receiver):  # noqa: F811
    page = text(admin.get("/console/admin/webhooks"))
    assert endpoints["mine"] in page and endpoints["other"] in page
    assert "Một cửa Linh Trung" in page and "Điều phối Sài Gòn" in page
    assert receiver.url() in page and "order.status_changed" in page
    assert "Đang gửi" in page


def test_the_delivery_log_shows_each_event_and_when_it_is_retried(admin, endpoints):
    page = text(admin.get(f"/console/admin/webhooks/{endpoints['mine']}"))
    assert endpoints["event"] in page and "order.status_changed" in page
    assert "Đang chờ gửi lại" in page and "Chưa gửi lần nào." in page
    assert "(giờ Việt Nam, UTC+7)" in page  # the next retry
    assert "Gửi lại ngay" in page


def test_redelivering_by_hand_sends_the_event_and_logs_a_manual_attempt(
        admin, endpoints, receiver, db_session):  # noqa: F811
    answer = admin.post(f"/console/admin/webhooks/{endpoints['mine']}/redeliver/"
                        f"{endpoints['event']}")
    assert answer.status_code == 303
    [received] = receiver.at("/hooks")
    assert received.headers["Postal-Event-Id"] == endpoints["event"]
    delivery = db_session.scalar(select(WebhookDelivery))
    db_session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    attempt = db_session.scalar(select(WebhookAttempt))
    assert (attempt.status_code, attempt.manual) == (200, True)
    page = text(admin.get(answer.headers["Location"]))
    assert "máy nhận trả lời 200" in page  # the flash
    assert "HTTP 200" in page and "gửi lại thủ công" in page and "Đã nhận" in page


def test_a_failed_redelivery_is_logged_with_its_status(admin, endpoints, receiver,  # noqa: F811
                                                       db_session):
    receiver.status = 503
    answer = admin.post(f"/console/admin/webhooks/{endpoints['mine']}/redeliver/"
                        f"{endpoints['event']}")
    assert answer.status_code == 303
    page = text(admin.get(answer.headers["Location"]))
    assert "không thành công: 503" in page and "HTTP 503" in page
    delivery = db_session.scalar(select(WebhookDelivery))
    db_session.refresh(delivery)
    assert delivery.status == "pending"  # the retry schedule carries on


def test_redelivery_of_an_unknown_event_or_endpoint_is_404(admin, endpoints):
    assert admin.post(f"/console/admin/webhooks/{endpoints['mine']}/redeliver/evt_nope"
                      ).status_code == 404
    assert admin.post(f"/console/admin/webhooks/we_nope/redeliver/{endpoints['event']}"
                      ).status_code == 404
    assert admin.get("/console/admin/webhooks/we_nope").status_code == 404
    assert admin.get("/console/admin/webhooks/%00").status_code == 404


def test_a_disabled_endpoint_is_shown_so_and_is_not_redelivered_to(
        admin, endpoints, db_session, now, receiver):  # noqa: F811
    endpoint = db_session.scalar(select(WebhookEndpoint).where(
        WebhookEndpoint.public_id == endpoints["mine"]))
    endpoint.active, endpoint.disabled_at = False, now
    db_session.commit()
    page = text(admin.get(f"/console/admin/webhooks/{endpoints['mine']}"))
    assert "Đã tắt" in page and "Gửi lại ngay" not in page
    answer = admin.post(f"/console/admin/webhooks/{endpoints['mine']}/redeliver/"
                        f"{endpoints['event']}")
    assert answer.status_code == 409
    assert receiver.at("/hooks") == []


def test_the_delivery_log_pages_by_delivery_id(admin, endpoints, db_session, now):
    for minute in range(55):
        publish(db_session, type="order.status_changed", now=now + timedelta(minutes=minute),
                order_id=None, agency_code="AG-LINHTRUNG", data={"n": minute})
    db_session.commit()
    first = text(admin.get(f"/console/admin/webhooks/{endpoints['mine']}"))
    before = re.search(r'rel="next" href="[^"]*before=(\d+)', first).group(1)
    second = text(admin.get(f"/console/admin/webhooks/{endpoints['mine']}?before={before}"))
    assert endpoints["event"] in second and endpoints["event"] not in first
    for bad in ("abc", "-1", str(2**70), "²"):
        assert admin.get(f"/console/admin/webhooks/{endpoints['mine']}?before={bad}"
                         ).status_code == 400
