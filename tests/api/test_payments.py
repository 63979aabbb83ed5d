"""Paying for an order online, against a real localstripe: the API, the pay page's calls, refunds
and cancellation. Each step is checked where a person would notice it: the order's payment
state, the webhooks government systems receive, and what Stripe (localstripe) holds."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from postal_svc import create_app
from postal_svc.billing.models import Payment, Refund
from postal_svc.shipments.models import Order
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from postal_svc.shipments.pay_links import SALT, pay_token
from postal_svc.webhooks.models import WebhookEvent
from tests.api.journeys import create_order, record, walk
from tests.conftest import assert_api_error, test_settings
from tests.payments_support import (
    AMOUNT, CARD_3DS, CARD_DECLINED, CARD_OK, card_token, finish_3ds, set_price,
    stripe_client, stripe_settings)

ORDERS = "/api/v1/orders"
_CSRF = re.compile(r'data-csrf="([^"]+)"')


@pytest.fixture
def pay_app(connection, database_url, localstripe):
    settings = stripe_settings(database_url, localstripe, tracking_rate_per_minute=0)
    return create_app({"settings": settings, "db_bind": connection, "TESTING": True})


@pytest.fixture
def api(pay_app):
    return pay_app.test_client()


@pytest.fixture
def order(api, auth, db_session) -> dict[str, Any]:
    """An order of AG-LINHTRUNG, paid online by the citizen, priced 20,800 đ."""
    created = create_order(api, auth["agency"])
    set_price(db_session, created["id"])
    return created


def open_payment(api, headers, order_id: str, status: int = 201) -> dict[str, Any]:
    response = api.post(f"{ORDERS}/{order_id}/payments", headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def read_order(api, auth, order_id: str) -> dict[str, Any]:
    response = api.get(f"{ORDERS}/{order_id}", headers=auth["agency"])
    assert response.status_code == 200
    return response.get_json()


def pay_path(pay_url: str) -> str:
    assert pay_url.startswith("/pay/"), pay_url
    return pay_url


def csrf_of_pay_page(api, path: str) -> str:
    page = api.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, "the pay page has no card form"
    return found.group(1)


def pay_with(api, localstripe, pay_url: str, number: str) -> dict[str, Any]:
    """What the pay page's script does: tokenise the card with Stripe.js, send us the token."""
    csrf = csrf_of_pay_page(api, pay_url)
    response = api.post(f"{pay_url}/confirm", headers={"Accept": "application/json"},
                        data={"csrf_token": csrf, "card_token": card_token(localstripe, number)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refresh(api, pay_url: str) -> dict[str, Any]:
    csrf = csrf_of_pay_page(api, pay_url)
    response = api.post(f"{pay_url}/refresh", data={"csrf_token": csrf})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def events_of(db_session, order_id: str, type_: str) -> list[WebhookEvent]:
    internal = db_session.scalar(select(Order.id).where(Order.public_id == order_id))
    return list(db_session.scalars(select(WebhookEvent).where(
        WebhookEvent.order_id == internal, WebhookEvent.type == type_)))


def refund(api, headers, order_id: str, amount: int | None, status: int = 201,
           reason: str = "khách yêu cầu") -> dict[str, Any]:
    response = api.post(f"{ORDERS}/{order_id}/refunds", headers=headers,
                        json={"amount": amount, "reason": reason})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def paid_order(api, auth, localstripe, order) -> dict[str, Any]:
    payment = open_payment(api, auth["agency"], order["id"])
    assert pay_with(api, localstripe, payment["pay_url"], CARD_OK)["paid"] is True
    return payment


# -- creating the payment ------------------------------------------------------------------

def test_a_payment_is_a_vnd_payment_intent_for_the_amount_due_with_a_client_secret(
        api, auth, order, localstripe):
    payment = open_payment(api, auth["agency"], order["id"])
    assert payment["status"] == "requires_payment_method"
    assert (payment["amount"], payment["currency"], payment["captured"]) == (AMOUNT, "VND", 0)
    assert payment["client_secret"].startswith(payment["provider_payment_intent_id"])
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(
        payment["provider_payment_intent_id"])
    # Zero-decimal: 20800 at Stripe is 20,800 đ, not 208 đ.
    assert (intent.amount, intent.currency) == (20_800, "vnd")
    assert intent.metadata["order_id"] == order["id"]
    assert payment["pay_url"].startswith("/pay/")


def test_asking_again_returns_the_open_payment_instead_of_a_second_intent(
        api, auth, order, db_session):
    first = open_payment(api, auth["agency"], order["id"])
    again = open_payment(api, auth["dispatcher"], order["id"], status=200)
    assert again["id"] == first["id"]
    assert again["provider_payment_intent_id"] == first["provider_payment_intent_id"]
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 1


def test_the_order_and_the_public_tracking_carry_a_pay_link_while_it_is_unpaid(
        api, auth, order):
    pay_url = read_order(api, auth, order["id"])["payment"]["pay_url"]
    assert pay_url and pay_url.startswith("/pay/")
    tracking = api.get(f"/api/v1/tracking/{order['tracking_number']}?phone_last4=3456")
    assert tracking.get_json()["pay_url"].startswith("/pay/")
    page = api.get(f"/track/{order['tracking_number']}?phone_last4=3456").get_data(as_text=True)
    assert 'href="/pay/' in page
    masked = api.get(f"/api/v1/tracking/{order['tracking_number']}").get_json()
    assert "pay_url" not in masked


def test_an_order_paid_another_way_or_without_a_price_cannot_be_paid_online(
        api, auth, db_session, count_rows):
    cod = create_order(api, auth["agency"], payment_method="cash_on_delivery")
    set_price(db_session, cod["id"])
    assert_api_error(api.post(f"{ORDERS}/{cod['id']}/payments", headers=auth["agency"]),
                     409, "order_not_payable")
    unpriced = create_order(api, auth["agency"])
    assert read_order(api, auth, unpriced["id"])["payment"]["pay_url"] is None
    assert_api_error(api.post(f"{ORDERS}/{unpriced['id']}/payments", headers=auth["agency"]),
                     409, "order_not_payable")
    assert count_rows(Payment) == 0


def test_a_courier_may_not_open_a_payment_and_another_agency_gets_404(api, auth, order,
                                                                        count_rows):
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/payments", headers=auth["courier"]), 403)
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/payments",
                              headers=auth["other_agency"]), 404, "order_not_found")
    assert count_rows(Payment) == 0


def test_without_a_stripe_key_payments_answer_503_and_orders_have_no_pay_link(
        connection, database_url, auth, order):
    app = create_app({"settings": test_settings(database_url), "db_bind": connection})
    plain = app.test_client()
    assert_api_error(plain.post(f"{ORDERS}/{order['id']}/payments", headers=auth["agency"]),
                     503, "payments_unavailable")
    assert plain.get(f"{ORDERS}/{order['id']}", headers=auth["agency"]).get_json()[
        "payment"]["pay_url"] is None


# -- paying on the pay page ------------------------------------------------------------------

def test_paying_with_4242_marks_the_order_paid_and_tells_the_agency_once(
        api, auth, order, localstripe, db_session):
    payment = open_payment(api, auth["agency"], order["id"])
    answer = pay_with(api, localstripe, payment["pay_url"], CARD_OK)
    assert answer == {"status": "succeeded", "paid": True, "message": None,
                      "next_action": None}
    after = read_order(api, auth, order["id"])
    assert after["payment"]["status"] == "paid" and after["payment"]["pay_url"] is None
    listed = api.get(f"{ORDERS}/{order['id']}/payments", headers=auth["dispatcher"]).get_json()
    assert listed["data"][0]["captured"] == AMOUNT and "client_secret" not in listed["data"][0]
    [event] = events_of(db_session, order["id"], "payment.succeeded")
    assert event.data["amount"] == AMOUNT and event.data["order_id"] == order["id"]
    # Paying again is not offered: the page says paid, and no second intent is made.
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/payments", headers=auth["agency"]),
                     409, "order_already_paid")
    assert len(events_of(db_session, order["id"], "payment.succeeded")) == 1
    page = api.get(payment["pay_url"]).get_data(as_text=True)
    assert "Đã thanh toán" in page and "20.800 đ" in page


def test_a_declined_card_leaves_the_order_unpaid_and_another_card_then_pays(
        api, auth, order, localstripe, db_session):
    payment = open_payment(api, auth["agency"], order["id"])
    declined = pay_with(api, localstripe, payment["pay_url"], CARD_DECLINED)
    assert (declined["status"], declined["paid"]) == ("requires_payment_method", False)
    assert "từ chối" in declined["message"]
    assert read_order(api, auth, order["id"])["payment"]["status"] == "unpaid"
    listed = api.get(f"{ORDERS}/{order['id']}/payments", headers=auth["agency"]).get_json()
    assert listed["data"][0]["last_error"]["code"] == "card_declined"
    assert events_of(db_session, order["id"], "payment.succeeded") == []
    assert pay_with(api, localstripe, payment["pay_url"], CARD_OK)["paid"] is True
    assert read_order(api, auth, order["id"])["payment"]["status"] == "paid"
    # The declined attempt's intent was cancelled and the good card paid a fresh one.
    listed = api.get(f"{ORDERS}/{order['id']}/payments", headers=auth["agency"]).get_json()
    assert [(p["attempt"], p["status"]) for p in listed["data"]] == [(1, "canceled"),
                                                                    (2, "succeeded")]
    assert len(events_of(db_session, order["id"], "payment.succeeded")) == 1


def test_a_3d_secure_card_is_paid_once_the_citizen_completes_the_check(
        api, auth, order, localstripe):
    payment = open_payment(api, auth["agency"], order["id"])
    answer = pay_with(api, localstripe, payment["pay_url"], CARD_3DS)
    assert (answer["status"], answer["next_action"], answer["paid"]) == \
        ("requires_action", "authenticate", False)
    assert read_order(api, auth, order["id"])["payment"]["status"] == "unpaid"
    finish_3ds(localstripe, payment["provider_payment_intent_id"], answer["client_secret"])
    assert refresh(api, payment["pay_url"])["paid"] is True
    assert read_order(api, auth, order["id"])["payment"]["status"] == "paid"


def test_a_failed_3d_secure_check_leaves_the_order_unpaid(api, auth, order, localstripe):
    payment = open_payment(api, auth["agency"], order["id"])
    answer = pay_with(api, localstripe, payment["pay_url"], CARD_3DS)
    finish_3ds(localstripe, payment["provider_payment_intent_id"], answer["client_secret"],
               success=False)
    after = refresh(api, payment["pay_url"])
    assert (after["status"], after["paid"]) == ("requires_payment_method", False)
    assert read_order(api, auth, order["id"])["payment"]["status"] == "unpaid"


def test_the_pay_page_is_in_vietnamese_and_shows_the_amount_and_stripe_js(
        api, auth, order, localstripe):
    pay_url = read_order(api, auth, order["id"])["payment"]["pay_url"]
    page = api.get(pay_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="vi">' in html
    assert "Thanh toán bưu phí" in html and "20.800 đ" in html
    assert f'src="{localstripe.js_url}"' in html
    assert "Nguyễn Văn An" not in html and "12 Đường số 7" not in html  # masked
    assert page.headers["Referrer-Policy"] == "no-referrer"
    english = api.get(pay_url + "?lang=en").get_data(as_text=True)
    assert "20,800 VND" in english


def test_a_forged_or_expired_pay_link_is_refused(api, auth, order, pay_app):
    assert api.get("/pay/not-a-token").status_code == 404
    good = read_order(api, auth, order["id"])["payment"]["pay_url"]
    assert api.get(good[:-2] + ("AA" if not good.endswith("AA") else "BB")).status_code == 404
    secret = pay_app.extensions["postal"].settings.secret_key

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - timedelta(days=8).total_seconds())

    old = URLSafeTimedSerializer(secret, salt=SALT, signer=EightDaysAgo).dumps(order["id"])
    assert api.get(f"/pay/{pay_token(secret, order['id'])}").status_code == 200
    expired = api.get(f"/pay/{old}")
    assert expired.status_code == 410
    assert "hết hạn" in expired.get_data(as_text=True)


def test_the_pay_calls_need_the_pages_csrf_token_and_a_card_token(api, auth, order,
                                                                   localstripe):
    payment = open_payment(api, auth["agency"], order["id"])
    refused = api.post(f"{payment['pay_url']}/confirm",
                       data={"card_token": card_token(localstripe, CARD_OK)})
    assert_api_error(refused, 400)
    csrf = csrf_of_pay_page(api, payment["pay_url"])
    bad = api.post(f"{payment['pay_url']}/confirm", data={"csrf_token": csrf,
                                                          "card_token": "4242424242424242"})
    assert_api_error(bad, 422, "invalid_card_token")
    unknown = api.post(f"{payment['pay_url']}/confirm", data={"csrf_token": csrf,
                                                              "card_token": "tok_unknown"})
    assert_api_error(unknown, 422, "invalid_card_token")
    assert read_order(api, auth, order["id"])["payment"]["status"] == "unpaid"


# -- refunds -------------------------------------------------------------------------------

def test_a_partial_then_a_full_refund_never_exceed_what_was_captured(
        api, auth, order, localstripe, db_session):
    payment = paid_order(api, auth, localstripe, order)
    first = refund(api, auth["dispatcher"], order["id"], 5_000)
    assert (first["status"], first["amount"], first["order_payment_status"]) == \
        ("succeeded", 5_000, "partially_refunded")
    assert first["payment"] == {"id": payment["id"], "captured": AMOUNT, "refunded": 5_000,
                                "refund_pending": 0, "refundable": AMOUNT - 5_000}
    assert read_order(api, auth, order["id"])["payment"]["status"] == "partially_refunded"
    body = assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds", headers=auth["admin"],
                                     json={"amount": AMOUNT}), 409, "refund_exceeds_captured")
    assert body["refundable"] == AMOUNT - 5_000
    rest = refund(api, auth["admin"], order["id"], None)
    assert (rest["amount"], rest["order_payment_status"]) == (AMOUNT - 5_000, "refunded")
    assert read_order(api, auth, order["id"])["payment"]["status"] == "refunded"
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds", headers=auth["admin"],
                              json={"amount": None}), 409, "refund_exceeds_captured")
    at_stripe = stripe_client(localstripe).v1.refunds.list(
        params={"payment_intent": payment["provider_payment_intent_id"]})
    assert sorted(r.amount for r in at_stripe.data) == [5_000, AMOUNT - 5_000]
    refunded = events_of(db_session, order["id"], "payment.refunded")
    assert [e.data["amount"] for e in refunded] == [5_000, AMOUNT - 5_000]
    assert refunded[-1].data["refunded_total"] == AMOUNT


@pytest.mark.parametrize("amount", [0, -1, 1.5, "5000", True])
def test_a_refund_amount_must_be_a_positive_integer(api, auth, order, localstripe, amount,
                                                    count_rows):
    paid_order(api, auth, localstripe, order)
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds", headers=auth["dispatcher"],
                              json={"amount": amount}), 422)
    assert count_rows(Refund) == 0


def test_refunds_of_an_unpaid_order_and_by_the_wrong_people_are_refused(
        api, auth, order, count_rows):
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds", headers=auth["dispatcher"],
                              json={"amount": 100}), 409, "refund_not_allowed")
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds", headers=auth["courier"],
                              json={"amount": 100}), 403)
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds", headers=auth["agency"],
                              json={"amount": 100}), 403)
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/refunds",
                              headers=auth["other_dispatcher"], json={"amount": 100}),
                     404, "order_not_found")
    assert count_rows(Refund) == 0


def test_a_refund_with_an_idempotency_key_is_made_once(api, auth, order, localstripe):
    payment = paid_order(api, auth, localstripe, order)
    headers = {**auth["dispatcher"], "Idempotency-Key": "refund-1"}
    first = api.post(f"{ORDERS}/{order['id']}/refunds", headers=headers, json={"amount": 1_000})
    again = api.post(f"{ORDERS}/{order['id']}/refunds", headers=headers, json={"amount": 1_000})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    at_stripe = stripe_client(localstripe).v1.refunds.list(
        params={"payment_intent": payment["provider_payment_intent_id"]})
    assert [r.amount for r in at_stripe.data] == [1_000]


# -- cancellation ----------------------------------------------------------------------------

def test_cancelling_a_paid_order_refunds_it_in_full_once(api, auth, order, localstripe,
                                                         db_session):
    payment = paid_order(api, auth, localstripe, order)
    refund(api, auth["dispatcher"], order["id"], 3_000)
    cancelled = api.post(f"{ORDERS}/{order['id']}/cancel", headers=auth["agency"],
                         json={"reason": "Công dân nhận tại quầy"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["payment"]["status"] == "refunded"
    refunds = api.get(f"{ORDERS}/{order['id']}/refunds", headers=auth["agency"]).get_json()
    assert [(r["amount"], r["origin"], r["status"]) for r in refunds["data"]] == [
        (3_000, "request", "succeeded"), (AMOUNT - 3_000, "cancellation", "succeeded")]
    at_stripe = stripe_client(localstripe).v1.refunds.list(
        params={"payment_intent": payment["provider_payment_intent_id"]})
    assert sum(r.amount for r in at_stripe.data) == AMOUNT
    assert_api_error(api.post(f"{ORDERS}/{order['id']}/cancel", headers=auth["agency"],
                              json={}), 409, "invalid_transition")
    assert len(events_of(db_session, order["id"], "payment.refunded")) == 2


def test_cancelling_an_unpaid_order_cancels_its_open_payment_intent(
        api, auth, order, localstripe):
    payment = open_payment(api, auth["agency"], order["id"])
    assert api.post(f"{ORDERS}/{order['id']}/cancel", headers=auth["agency"],
                    json={}).status_code == 200
    listed = api.get(f"{ORDERS}/{order['id']}/payments", headers=auth["agency"]).get_json()
    assert listed["data"][0]["status"] == "canceled"
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(
        payment["provider_payment_intent_id"])
    assert intent.status == "canceled"
    page = api.get(payment["pay_url"]).get_data(as_text=True)
    assert "đã hủy" in page


def test_a_courier_delivering_an_order_paid_online_collects_no_cash(
        api, auth, order, localstripe):
    paid_order(api, auth, localstripe, order)
    walk(api, auth["courier"], order["id"], "collected", "at_post_office", "out_for_delivery")
    record(api, auth["courier"], order["id"], "delivered",
           recipient={"name": "Nguyễn Văn An", "relationship": "self"})
    done = read_order(api, auth, order["id"])
    assert (done["payment"]["status"], done["cash_collected"]) == ("paid", None)


def test_the_check_constraint_refuses_more_refunded_than_captured(db_session, api, auth, order,
                                                                  localstripe):
    paid_order(api, auth, localstripe, order)
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db_session.begin_nested():
            db_session.execute(update(Payment).values(refunded_vnd=AMOUNT + 1))
