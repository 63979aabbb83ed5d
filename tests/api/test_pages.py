"""HTML pages through the Flask test client: the citizen's tracking pages (Vietnamese by default,
English by choice, masked, light) and the courier's page (sign-in, CSRF, recording events)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from postal_svc import create_app
from postal_svc.access.models import ApiClient
from postal_svc.access.service import revoke_client
from tests.api.journeys import (
    ADDRESS_LINE, FULL_NAME, PHONE_FORMS, TO_OUT_FOR_DELIVERY, create_order, csrf_of,
    order_status, record, saigon_citizen, walk)
from tests.conftest import test_settings

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def html(response) -> str:
    assert response.mimetype == "text/html", (response.status_code, response.mimetype)
    return response.get_data(as_text=True)


@pytest.fixture
def on_its_way(client, auth):
    """An order out for delivery in Thủ Đức, with a delivery window."""
    before = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    order = create_order(client, auth["agency"], deliver_after=(before - timedelta(hours=4))
                         .isoformat(), deliver_before=before.isoformat())
    walk(client, auth["dispatcher"], order["id"], *TO_OUT_FOR_DELIVERY)
    return order


# -- the tracking form ---------------------------------------------------------------------------

def test_the_tracking_form_is_a_get_form_in_vietnamese_for_a_phone(client):
    response = client.get("/track")
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="vi">' in page
    assert VIEWPORT in page
    assert re.search(r'<form[^>]*method="get"[^>]*action="/track"', page)
    assert 'name="tracking_number"' in page and 'name="phone_last4"' in page
    assert "Tra cứu bưu gửi" in page
    assert "<script" not in page  # works without JavaScript
    assert "http://" not in page and "https://" not in page  # no external assets


def test_the_form_sends_a_typed_number_to_its_page(client, on_its_way):
    number = on_its_way["tracking_number"]
    typed = f"{number[:2].lower()} {number[2:6]} {number[6:]}"
    response = client.get("/track", query_string={"tracking_number": typed, "phone_last4": "3456"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/track/{number}?phone_last4=3456"
    response = client.get("/track", query_string={"tracking_number": number, "phone_last4": ""})
    assert response.headers["Location"] == f"/track/{number}"


@pytest.mark.parametrize("typed", ["RR123456784VN", "nonsense", "x" * 5000,
                                   "<script>alert(1)</script>"])
def test_a_malformed_number_in_the_form_is_a_friendly_404(client, typed):
    response = client.get("/track", query_string={"tracking_number": typed})
    assert response.status_code == 404
    page = html(response)
    assert "Không tìm thấy bưu gửi có mã này" in page
    assert "<script>alert" not in page


def test_an_unknown_number_page_is_a_friendly_404_page(client, reference_data):
    response = client.get("/track/RR123456785VN")
    assert response.status_code == 404
    assert "Không tìm thấy bưu gửi có mã này" in html(response)


# -- the tracking page -------------------------------------------------------------------------

def test_the_tracking_page_shows_status_timeline_expected_delivery_and_masked_recipient(
        client, on_its_way):
    response = client.get(f"/track/{on_its_way['tracking_number']}")
    assert response.status_code == 200
    page = html(response)
    assert VIEWPORT in page
    assert "Đang giao" in page
    timeline = page[page.index('<ol class="timeline">'):]
    timeline = timeline[:timeline.index("</ol>")]
    assert timeline.count("<li") == 4  # created, collected, at the post office, out for delivery
    # Newest first on the page: what the citizen wants to know is on top.
    assert timeline.index("Đang giao") < timeline.index("Đã tiếp nhận yêu cầu")
    assert "N*** V*** A" in page and "*******456" in page
    assert "Dự kiến giao trước" in page
    assert "PO-THUDUC" in page


def test_the_tracking_page_never_shows_the_full_name_phone_or_address_line(client, on_its_way):
    for query in ({}, {"phone_last4": "3456"}, {"lang": "en"}):
        page = html(client.get(f"/track/{on_its_way['tracking_number']}", query_string=query))
        for secret in (FULL_NAME, "Văn An", ADDRESS_LINE, "Đường số 7", *PHONE_FORMS):
            assert secret not in page, (secret, query)


def test_english_by_choice_is_remembered_in_a_cookie(client, on_its_way):
    number = on_its_way["tracking_number"]
    response = client.get(f"/track/{number}", query_string={"lang": "en"})
    page = html(response)
    assert '<html lang="en">' in page
    assert "Out for delivery" in page and "Journey" in page and "Expected by" in page
    assert "Đang giao" not in page
    assert "lang=en" in response.headers["Set-Cookie"]
    later = html(client.get("/track"))  # the cookie remembers
    assert "Track an item" in later and '<html lang="en">' in later
    back = html(client.get("/track", query_string={"lang": "vi"}))
    assert "Tra cứu bưu gửi" in back


def test_the_browsers_language_is_followed_when_nothing_was_chosen(client, on_its_way):
    number = on_its_way["tracking_number"]
    english = html(client.get(f"/track/{number}", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "Out for delivery" in english
    other = html(client.get(f"/track/{number}", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert "Đang giao" in other


def test_the_right_phone_digits_show_the_window_and_a_pay_link_placeholder(client, on_its_way):
    page = html(client.get(f"/track/{on_its_way['tracking_number']}",
                           query_string={"phone_last4": "3456"}))
    assert "Khung giờ giao" in page
    # Online and unpaid, but not priced yet: no link to pay with so far.
    assert "Liên kết thanh toán trực tuyến sẽ sớm có" in page


def test_wrong_phone_digits_show_the_same_page_as_none(client, on_its_way):
    url = f"/track/{on_its_way['tracking_number']}"
    plain = client.get(url).get_data()
    for wrong in ("0000", "345", "abcd", "34567"):
        assert client.get(url, query_string={"phone_last4": wrong}).get_data() == plain
    assert "Khung giờ giao" not in plain.decode()


def test_the_language_link_keeps_the_phone_digits_only_when_they_were_right(client, on_its_way):
    url = f"/track/{on_its_way['tracking_number']}"
    right = html(client.get(url, query_string={"phone_last4": "3456"}))
    assert f'href="{url}?phone_last4=3456&amp;lang=en"' in right
    wrong = html(client.get(url, query_string={"phone_last4": "0000"}))
    assert f'href="{url}?lang=en"' in wrong and "phone_last4=" not in wrong


def test_a_tracking_page_with_its_stylesheet_weighs_under_30_kb(client, on_its_way):
    page = client.get(f"/track/{on_its_way['tracking_number']}",
                      query_string={"phone_last4": "3456"}).get_data()
    css = client.get("/static/site.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    form = client.get("/track").get_data()
    assert len(page) + len(css.get_data()) < 30 * 1024
    assert len(form) + len(css.get_data()) < 30 * 1024
    # One stylesheet, no scripts, images, fonts or other sites.
    assert set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page.decode())) == {"/static/site.css"}
    assert not re.search(r"<(script|img|iframe)|@import|url\(|@font-face", page.decode()
                         + css.get_data(as_text=True))


def test_tracking_pages_are_rate_limited_with_a_friendly_429(connection, database_url, on_its_way):
    app = create_app({"settings": test_settings(database_url, tracking_rate_per_minute=2),
                      "db_bind": connection})
    client = app.test_client()
    url = f"/track/{on_its_way['tracking_number']}"
    assert client.get(url).status_code == 200
    assert client.get("/track").status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Quá nhiều yêu cầu" in html(response)
    # The API shares the allowance: pages and API together are one client's budget.
    assert client.get(f"/api/v1/tracking/{on_its_way['tracking_number']}").status_code == 429


def test_the_english_page_keeps_no_vietnamese_interface_text(client, on_its_way):
    page = html(client.get(f"/track/{on_its_way['tracking_number']}",
                           query_string={"lang": "en", "phone_last4": "3456"}))
    for vietnamese in ("Khung giờ giao", "Hành trình", "Người nhận", "Tra cứu mã khác"):
        assert vietnamese not in page


# -- the courier page ----------------------------------------------------------------------------

def sign_in(client, key: str):
    token = csrf_of(html(client.get("/courier/login")))
    return client.post("/courier/login", data={"csrf_token": token, "api_key": key})


@pytest.fixture
def courier_key(make_key, reference_data):
    return make_key("courier", ["PO-THUDUC"], name="Bưu tá Thủ Đức")


def test_the_courier_signs_in_with_a_key_and_sees_the_offices_stops(client, auth, courier_key,
                                                                     on_its_way):
    assert client.get("/courier/").headers["Location"] == "/courier/login"
    response = sign_in(client, courier_key)
    assert response.status_code == 303 and response.headers["Location"] == "/courier/"
    page = html(client.get("/courier/"))
    assert VIEWPORT in page
    assert on_its_way["tracking_number"] in page
    assert FULL_NAME in page and ADDRESS_LINE in page  # the courier needs them at the door
    assert "Đã giao" in page and "Không giao được" in page
    assert courier_key not in page
    cookie = client.get_cookie("session")
    assert courier_key not in cookie.value


def test_stops_are_listed_by_due_time_then_ward_with_what_can_be_done(client, auth, courier_key):
    later = create_order(client, auth["agency"], deliver_before=(
        datetime.now(timezone.utc) + timedelta(days=20)).isoformat())
    sooner = create_order(client, auth["agency"])
    failed = create_order(client, auth["agency"])
    not_yet = create_order(client, auth["agency"])  # still at the agency: not a stop
    for order in (later, sooner, failed):
        walk(client, auth["dispatcher"], order["id"], *TO_OUT_FOR_DELIVERY)
    record(client, auth["dispatcher"], failed["id"], "delivery_failed",
           failure_reason="recipient_not_home")
    sign_in(client, courier_key)
    page = html(client.get("/courier/"))
    positions = [page.index(o["tracking_number"]) for o in (sooner, failed, later)]
    assert positions == sorted(positions)
    assert not_yet["tracking_number"] not in page
    block = page[page.index(failed["id"]):]
    block = block[:block.index("</li>")]
    assert "Đi giao lại" in block and "Đã giao" not in block  # a new attempt comes first


def test_a_wrong_key_or_a_key_of_another_role_does_not_sign_in(client, auth, make_key):
    for key in ("psk_nonsense", "", make_key("agency_system", ["AG-LINHTRUNG"]),
                make_key("admin")):
        response = sign_in(client, key)
        assert response.status_code == 401
        assert "Khóa không đúng" in html(response)
        assert client.get("/courier/").status_code == 303


def test_every_post_needs_the_sessions_csrf_token(client, auth, courier_key, on_its_way):
    assert client.post("/courier/login", data={"api_key": courier_key}).status_code == 400
    client.get("/courier/login")
    bad = client.post("/courier/login", data={"api_key": courier_key, "csrf_token": "forged"})
    assert bad.status_code == 400
    assert "Biểu mẫu đã hết hạn" in html(bad)
    sign_in(client, courier_key)
    url = f"/courier/orders/{on_its_way['id']}/events"
    for data in ({"type": "delivered", "recipient_name": "An"},
                 {"type": "delivered", "recipient_name": "An", "csrf_token": "forged"}):
        assert client.post(url, data=data).status_code == 400
    assert order_status(client, auth["dispatcher"], on_its_way["id"]) == "out_for_delivery"
    assert client.post("/courier/logout").status_code == 400


def test_a_token_from_before_sign_in_is_not_accepted_after_it(client, auth, courier_key,
                                                              on_its_way):
    before = csrf_of(html(client.get("/courier/login")))
    sign_in(client, courier_key)
    response = client.post(f"/courier/orders/{on_its_way['id']}/events",
                           data={"csrf_token": before, "type": "delivery_failed",
                                 "failure_reason": "other"})
    assert response.status_code == 400


def test_the_courier_marks_a_stop_delivered_with_the_recipient(client, auth, courier_key,
                                                               on_its_way):
    sign_in(client, courier_key)
    token = csrf_of(html(client.get("/courier/")))
    response = client.post(f"/courier/orders/{on_its_way['id']}/events", data={
        "csrf_token": token, "type": "delivered", "recipient_name": "Nguyễn Thị Hoa",
        "relationship": "family", "id_last4": "0427"})
    assert response.status_code == 303 and response.headers["Location"] == "/courier/"
    assert order_status(client, auth["dispatcher"], on_its_way["id"]) == "delivered"
    events = client.get(f"/api/v1/orders/{on_its_way['id']}/events",
                        headers=auth["dispatcher"]).get_json()["data"]
    assert events[-1]["data"]["recipient"] == {"name": "Nguyễn Thị Hoa",
                                               "relationship": "family", "id_last4": "0427"}
    assert events[-1]["actor_role"] == "courier"
    page = html(client.get("/courier/"))
    assert f"{on_its_way['tracking_number']}: đã ghi nhận “Đã giao thành công”" in page
    assert 'id="' + on_its_way["id"] + '"' not in page  # no longer a stop


def test_the_courier_marks_a_stop_failed_with_a_reason(client, auth, courier_key, on_its_way):
    sign_in(client, courier_key)
    token = csrf_of(html(client.get("/courier/")))
    response = client.post(f"/courier/orders/{on_its_way['id']}/events", data={
        "csrf_token": token, "type": "delivery_failed", "failure_reason": "recipient_not_home"})
    assert response.status_code == 303
    order = client.get(f"/api/v1/orders/{on_its_way['id']}", headers=auth["dispatcher"]).get_json()
    assert order["status"] == "delivery_failed"
    assert order["attempt_count"] == 1
    # The citizen sees it, with the reason and without the courier's details.
    public = client.get(f"/api/v1/tracking/{on_its_way['tracking_number']}").get_json()
    assert public["events"][-1]["failure_reason"] == "recipient_not_home"


def test_the_courier_records_a_dossier_pickup(client, auth, courier_key):
    order = create_order(client, auth["agency"], kind="dossier_pickup")
    walk(client, auth["dispatcher"], order["id"], "pickup_scheduled")
    sign_in(client, courier_key)
    page = html(client.get("/courier/"))
    assert "Đã lấy hồ sơ" in page and "Hồ sơ chưa đủ giấy tờ" in page
    token = csrf_of(page)
    response = client.post(f"/courier/orders/{order['id']}/events",
                           data={"csrf_token": token, "type": "picked_up"})
    assert response.status_code == 303
    assert order_status(client, auth["dispatcher"], order["id"]) == "picked_up"


@pytest.mark.parametrize("data, status, message", [
    ({"type": "delivered"}, 422, "Hãy nhập tên người nhận"),
    ({"type": "delivery_failed"}, 422, "Hãy chọn lý do không giao được"),
    ({"type": "delivery_failed", "failure_reason": "meteor"}, 422, "Hãy chọn lý do"),
    ({"type": "delivered", "recipient_name": "An", "id_last4": "12345678"}, 422, "4 số cuối"),
    ({"type": "delivered", "recipient_name": "A" * 201}, 422, "quá dài"),
    ({"type": "returned_to_agency"}, 422, "Biểu mẫu không hợp lệ"),
    ({"type": "delivered_to_agency", "recipient_name": "An"}, 409, "đã đổi trạng thái"),
    ({"type": "delivery_failed", "failure_reason": "documents_incomplete"}, 422,
     "Hãy chọn lý do không giao được"),
])
def test_a_bad_form_is_a_friendly_4xx_and_changes_nothing(client, auth, courier_key, on_its_way,
                                                          data, status, message):
    sign_in(client, courier_key)
    token = csrf_of(html(client.get("/courier/")))
    response = client.post(f"/courier/orders/{on_its_way['id']}/events",
                           data={"csrf_token": token, **data})
    assert response.status_code == status
    page = html(response)
    assert message in page
    assert on_its_way["tracking_number"] in page  # the stops are still there to retry
    assert order_status(client, auth["dispatcher"], on_its_way["id"]) == "out_for_delivery"


def test_a_second_tap_on_delivered_is_a_friendly_409(client, auth, courier_key, on_its_way):
    sign_in(client, courier_key)
    token = csrf_of(html(client.get("/courier/")))
    data = {"csrf_token": token, "type": "delivered", "recipient_name": "An",
            "relationship": "self"}
    url = f"/courier/orders/{on_its_way['id']}/events"
    assert client.post(url, data=data).status_code == 303
    again = client.post(url, data=data)
    assert again.status_code == 409
    assert "đã đổi trạng thái" in html(again)


def test_a_courier_of_another_office_sees_nothing_of_this_office(client, auth, make_key,
                                                                 on_its_way):
    saigon = create_order(client, auth["other_agency"], agency_code="AG-BENNGHE",
                          citizen=saigon_citizen())
    walk(client, auth["other_dispatcher"], saigon["id"], *TO_OUT_FOR_DELIVERY)
    assert saigon["post_office_code"] == "PO-SAIGON"
    sign_in(client, make_key("courier", ["PO-SAIGON"]))
    page = html(client.get("/courier/"))
    assert saigon["tracking_number"] in page
    for secret in (on_its_way["tracking_number"], on_its_way["id"], FULL_NAME, ADDRESS_LINE):
        assert secret not in page
    token = csrf_of(page)
    response = client.post(f"/courier/orders/{on_its_way['id']}/events", data={
        "csrf_token": token, "type": "delivery_failed", "failure_reason": "other"})
    assert response.status_code == 404
    assert "Không tìm thấy đơn này" in html(response)
    assert order_status(client, auth["dispatcher"], on_its_way["id"]) == "out_for_delivery"


def test_a_dispatcher_may_use_the_page_too(client, make_key, reference_data, auth, on_its_way):
    sign_in(client, make_key("dispatcher", ["PO-THUDUC"]))
    assert on_its_way["tracking_number"] in html(client.get("/courier/"))


def test_logging_out_ends_the_session(client, courier_key, on_its_way):
    sign_in(client, courier_key)
    token = csrf_of(html(client.get("/courier/")))
    response = client.post("/courier/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/courier/login"
    assert "Đã đăng xuất" in html(client.get("/courier/login"))
    assert client.get("/courier/").status_code == 303


def test_a_revoked_key_ends_its_page_session(client, courier_key, db_session, now, on_its_way):
    sign_in(client, courier_key)
    assert client.get("/courier/").status_code == 200
    client_row = db_session.scalar(select(ApiClient).where(ApiClient.name == "Bưu tá Thủ Đức"))
    revoke_client(db_session, client_row.id, now=now)
    db_session.commit()
    assert client.get("/courier/").status_code == 303


def test_the_courier_page_in_english(client, courier_key, on_its_way):
    sign_in(client, courier_key)
    page = html(client.get("/courier/", query_string={"lang": "en"}))
    assert "Today's stops" in page and "Could not deliver" in page
    assert "Recipient not at home" in page and "Out for delivery" in page


def test_the_session_cookie_is_http_only_and_same_site(client, courier_key):
    response = sign_in(client, courier_key)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/track/", 404), ("POST", "/track", 405), ("GET", "/courier/nope", 404),
    ("GET", "/courier/orders/x/events", 405), ("PUT", "/courier/login", 405),
])
def test_unknown_page_paths_and_methods_get_a_friendly_page(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert "<h1>" in html(response)
    if status == 405:
        assert response.headers["Allow"]


def test_api_paths_keep_answering_errors_in_the_api_shape(client):
    assert client.get("/api/v1/nope").is_json
    assert client.get("/trackers").is_json  # not a page path


def test_pages_are_not_cached_and_send_no_referrer(client, on_its_way):
    response = client.get(f"/track/{on_its_way['tracking_number']}",
                          query_string={"phone_last4": "3456"})
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("order_id", ["%00", "ord_%00x", "x" * 300, "ord_nope"])
def test_an_impossible_order_id_in_the_form_is_a_friendly_404(client, courier_key, order_id):
    sign_in(client, courier_key)
    token = csrf_of(html(client.get("/courier/")))
    response = client.post(f"/courier/orders/{order_id}/events", data={
        "csrf_token": token, "type": "delivery_failed", "failure_reason": "other"})
    assert response.status_code == 404
    assert "Không tìm thấy đơn này" in html(response)


def test_courier_sign_in_attempts_are_rate_limited(connection, database_url, reference_data):
    app = create_app({"settings": test_settings(database_url, tracking_rate_per_minute=2),
                      "db_bind": connection})
    client = app.test_client()
    statuses = [sign_in(client, "psk_guess").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
