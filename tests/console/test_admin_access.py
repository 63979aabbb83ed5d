"""Only admins reach the admin pages, every admin form needs the session's CSRF token, and the
admin pages answer in the reader's language. URLs are read from the app's own routes, so a new
admin page is covered without editing this file."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from postal_svc.access.models import ApiClient
from postal_svc.billing import service
from postal_svc.billing.models import BillingAuditEntry, PromotionRecord
from postal_svc.webhooks.models import WebhookAttempt

SAMPLE_VALUES = {"code": "COVID19-ONLINE-20", "client_id": 1, "endpoint_id": "we_0",
                 "event_id": "evt_0"}


def admin_urls(app: Any, method: str) -> list[str]:
    urls = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("console.admin") and method in rule.methods:
                urls.append(url_for(rule.endpoint, **{a: SAMPLE_VALUES[a]
                                                      for a in rule.arguments}))
    return sorted(urls)


@pytest.fixture
def demo_billing(db_session, now):
    service.load_demo_billing(db_session, now)
    db_session.commit()


def test_there_are_admin_pages_and_forms_to_check(app):
    assert len(admin_urls(app, "GET")) >= 12
    assert len(admin_urls(app, "POST")) >= 6


def test_a_dispatcher_gets_403_on_every_admin_page_and_form_and_changes_nothing(
        app, signed_in, demo_billing, db_session, count_rows):
    dispatcher = signed_in("dispatcher")
    before = (count_rows(BillingAuditEntry), count_rows(ApiClient))
    for url in admin_urls(app, "GET"):
        assert dispatcher.get(url).status_code == 403, url
    for url in admin_urls(app, "POST"):
        answer = dispatcher.post(url, {"valid_until": "2031-01-01T00:00:00+07:00",
                                       "name": "x", "role": "admin"})
        assert answer.status_code == 403, url
    assert (count_rows(BillingAuditEntry), count_rows(ApiClient)) == before
    assert db_session.get(PromotionRecord, "COVID19-ONLINE-20").valid_until is None
    nav = dispatcher.get("/console/").get_data(as_text=True)
    assert 'href="/console/admin"' not in nav


def test_a_stranger_is_sent_to_sign_in_from_every_admin_page(app, client, reference_data):
    for url in admin_urls(app, "GET"):
        answer = client.get(url)
        assert answer.status_code == 303, url
        assert answer.headers["Location"].startswith("/console/login?next="), url


def test_every_admin_form_without_the_csrf_token_is_400_and_changes_nothing(
        app, signed_in, demo_billing, db_session, count_rows):
    admin = signed_in("admin")
    user_client = db_session.scalar(select(func.max(ApiClient.id)))
    before = (count_rows(BillingAuditEntry), count_rows(ApiClient), count_rows(WebhookAttempt))
    for url in admin_urls(app, "POST"):
        url = url.replace("/clients/1/", f"/clients/{user_client}/")
        for token in (None, "forged"):
            data = {"valid_until": "2031-01-01T00:00:00+07:00", "name": "Khách mới",
                    "role": "admin", "category": "standard", "rate_percent": "10",
                    "valid_from": "2040-01-01", "legal_basis": "x"}
            if token:
                data["csrf_token"] = token
            assert admin.post(url, data, csrf=False).status_code == 400, url
    assert (count_rows(BillingAuditEntry), count_rows(ApiClient),
            count_rows(WebhookAttempt)) == before
    assert db_session.get(PromotionRecord, "COVID19-ONLINE-20").valid_until is None


def test_the_admin_pages_answer_in_english_by_choice(signed_in, demo_billing):
    admin = signed_in("admin")
    page = admin.get("/console/admin/promotions?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page
    # Instants keep their exact form, written the English way.
    assert "00:00:00, 15 Feb 2020" in page
