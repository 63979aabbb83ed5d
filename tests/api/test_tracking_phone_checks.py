"""Guessing the phone digits through the public API and the tracking page: five wrong answers
lock both, and the locked answer to the right digits is exactly the answer to no digits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.api.journeys import create_order

RIGHT = "3456"  # order_body()'s citizen phone is 0903123456
WRONG = ["0000", "1111", "2222", "4444", "5555"]


@pytest.fixture
def order(client, auth):
    before = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    return create_order(client, auth["agency"], deliver_after=(before - timedelta(hours=4))
                        .isoformat(), deliver_before=before.isoformat())


def api(client, number, **query):
    response = client.get(f"/api/v1/tracking/{number}", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def page(client, number, **query):
    response = client.get(f"/track/{number}", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_after_five_wrong_digits_the_api_answers_the_right_ones_exactly_like_none(client, order):
    number = order["tracking_number"]
    plain = api(client, number).get_data()
    for wrong in WRONG:
        assert api(client, number, phone_last4=wrong).get_data() == plain
    locked = api(client, number, phone_last4=RIGHT)
    assert locked.get_data() == plain
    assert "delivery_window" not in locked.get_json() and "pay_url" not in locked.get_json()


def test_after_five_wrong_digits_the_page_shows_the_right_ones_the_plain_page(client, order):
    number = order["tracking_number"]
    assert "Khung giờ giao" in page(client, number, phone_last4=RIGHT).get_data(as_text=True)
    plain = page(client, number).get_data()
    for wrong in WRONG:
        assert page(client, number, phone_last4=wrong).get_data() == plain
    assert page(client, number, phone_last4=RIGHT).get_data() == plain


def test_the_page_and_the_api_share_one_count_per_tracking_number(client, auth, order):
    number = order["tracking_number"]
    other = create_order(client, auth["agency"])["tracking_number"]
    for wrong in WRONG[:3]:
        api(client, number, phone_last4=wrong)
    for wrong in WRONG[3:]:
        page(client, number, phone_last4=wrong)
    assert "delivery_window" not in api(client, number, phone_last4=RIGHT).get_json()
    assert "Khung giờ giao" not in page(client, number, phone_last4=RIGHT).get_data(as_text=True)
    # Another item's citizen is not locked out by guesses at this one.
    assert "delivery_window" in api(client, other, phone_last4=RIGHT).get_json()


def test_four_wrong_digits_still_let_the_citizen_in(client, order):
    number = order["tracking_number"]
    for wrong in WRONG[:4]:
        api(client, number, phone_last4=wrong)
    assert api(client, number, phone_last4=RIGHT).get_json()["delivery_window"] == {
        "deliver_after": order["deliver_after"], "deliver_before": order["deliver_before"]}
