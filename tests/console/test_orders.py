"""The console's Orders pages: search, filters, pages, one order, its actions, its address and
its label; always within the user's post offices, every form with CSRF, bad input refused."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from postal_svc.clock import VIETNAM
from postal_svc.routes.console import orders as console_orders
from postal_svc.shipments.models import Order, TrackingEvent
from tests.api.journeys import TO_OUT_FOR_DELIVERY, order_status, walk
from tests.console.orders_support import (
    ambiguous_order, listed, saigon_order, statements_on, thuduc_order, unresolved_order)

LINH_XUAN, SAI_GON, TAN_DINH = "26794", "26740", "26737"
A6_MEDIABOX = b"/MediaBox [ 0 0 297.6378 419.5276 ]"


def text(answer) -> str:
    return answer.get_data(as_text=True)


def alert(answer) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]+)<', text(answer))
    assert found, text(answer)
    return found.group(1)


def events_of(db_session, public_id: str) -> list[str]:
    return list(db_session.scalars(
        select(TrackingEvent.type).join(Order).where(Order.public_id == public_id)
        .order_by(TrackingEvent.id)))


# -- finding orders -----------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["0912 345 678", "+84912345678", "0912.345.678", "84912345678"])
def test_an_order_is_found_by_the_citizens_phone_however_it_is_written(
        client, auth, signed_in, typed):
    wanted = thuduc_order(client, auth, citizen={
        "name": "Võ Thị Hoa", "phone": "0912345678",
        "address": {"line": "3 Đường số 9", "ward": "Phường Linh Xuân",
                    "province": "Thành phố Hồ Chí Minh"}})
    thuduc_order(client, auth)
    answer = signed_in("dispatcher").get("/console/orders", query_string={"q": typed})
    assert answer.status_code == 200
    assert listed(text(answer)) == [wanted["id"]]
    assert "0912 345 678" in text(answer)  # staff see the whole number


def test_an_order_is_found_by_its_tracking_number_or_its_dossier_code(client, auth, signed_in):
    wanted, other = thuduc_order(client, auth), thuduc_order(client, auth)
    browser = signed_in("dispatcher")
    number = wanted["tracking_number"]
    typed_number = f" {number[:2].lower()} {number[2:6]} {number[6:]} "
    for typed in (number, typed_number, wanted["dossier_code"]):
        assert listed(text(browser.get("/console/orders", query_string={"q": typed}))) \
            == [wanted["id"]], typed
    assert other["id"] not in listed(text(browser.get("/console/orders",
                                                      query_string={"q": number})))


def test_a_dispatcher_never_finds_another_offices_orders_but_an_admin_does(
        client, auth, signed_in):
    mine, theirs = thuduc_order(client, auth), saigon_order(client, auth)
    dispatcher = signed_in("dispatcher")
    assert listed(text(dispatcher.get("/console/orders"))) == [mine["id"]]
    for typed in (theirs["tracking_number"], theirs["dossier_code"], "0912000789"):
        answer = dispatcher.get("/console/orders", query_string={"q": typed})
        assert answer.status_code == 200 and listed(text(answer)) == []
        assert "Trần Thị Bình" not in text(answer) and 'id="no-orders"' in text(answer)
    admin = signed_in("admin")
    assert set(listed(text(admin.get("/console/orders")))) == {mine["id"], theirs["id"]}
    assert listed(text(admin.get("/console/orders", query_string={"q": "0912 000 789"}))) \
        == [theirs["id"]]


def test_the_list_filters_by_status_kind_agency_attention_and_days(
        client, auth, signed_in, db_session):
    created = thuduc_order(client, auth)
    collected = thuduc_order(client, auth, agency_code="AG-TRUONGTHANH")
    walk(client, auth["dispatcher"], collected["id"], "collected")
    pickup = thuduc_order(client, auth, kind="dossier_pickup")
    unclear = unresolved_order(client, auth)
    old = thuduc_order(client, auth)
    ten_days_ago = datetime.now(VIETNAM) - timedelta(days=10)
    db_session.execute(update(Order).where(Order.public_id == old["id"])
                       .values(created_at=ten_days_ago))
    db_session.commit()
    browser = signed_in("dispatcher")

    def ids(**query):
        answer = browser.get("/console/orders", query_string=query)
        assert answer.status_code == 200, text(answer)
        return set(listed(text(answer)))

    assert ids(status="collected") == {collected["id"]}
    assert ids(kind="dossier_pickup") == {pickup["id"]}
    assert ids(agency_code="AG-TRUONGTHANH") == {collected["id"]}
    assert ids(attention="address") == {unclear["id"]}
    today = datetime.now(VIETNAM).date()
    assert ids(created_from=today.isoformat(), created_to=today.isoformat()) \
        == {created["id"], collected["id"], pickup["id"], unclear["id"]}
    day = ten_days_ago.date().isoformat()
    assert ids(created_from=day, created_to=day) == {old["id"]}
    assert ids(created_to=(today - timedelta(days=1)).isoformat()) == {old["id"]}
    assert ids(status="created", kind="result_delivery", agency_code="AG-LINHTRUNG") \
        == {created["id"], unclear["id"], old["id"]}
    # Blank fields of a submitted form are no filter at all.
    assert len(ids(q="", status="", kind="", agency_code="", attention="")) == 5


def test_the_list_goes_page_by_page_newest_first(client, auth, signed_in, monkeypatch):
    made = [thuduc_order(client, auth)["id"] for _ in range(5)]
    monkeypatch.setattr(console_orders, "PAGE_SIZE", 2)
    browser = signed_in("dispatcher")
    seen, path = [], "/console/orders?kind=result_delivery"
    while path:
        page = text(browser.get(path))
        seen += listed(page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        path = found.group(1).replace("&amp;", "&") if found else None
        if path:
            assert "kind=result_delivery" in path  # the filters travel with the cursor
    assert seen == list(reversed(made))


def test_the_list_takes_the_same_few_queries_for_a_page_of_few_or_many_orders(
        client, auth, signed_in, connection):
    browser = signed_in("dispatcher")
    thuduc_order(client, auth)
    with statements_on(connection) as few:
        assert browser.get("/console/orders").status_code == 200
    for _ in range(6):
        thuduc_order(client, auth)
    with statements_on(connection) as many:
        assert browser.get("/console/orders").status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("query", [
    {"status": "lost"}, {"kind": "parcel"}, {"attention": "urgent"},
    {"created_from": "2025-02-30"}, {"created_from": "yesterday"},
    {"created_from": "2025-03-02", "created_to": "2025-03-01"}, {"created_to": "0001-01-01"},
    {"agency_code": "AG\x00X"}, {"q": "x" * 65}, {"cursor": "not-a-cursor"},
    {"cursor": "eyJrIjoiYWJjIn0"}, {"cursor": "x" * 201},
])
def test_a_bad_filter_is_answered_4xx_with_a_message(client, auth, signed_in, query):
    thuduc_order(client, auth)
    answer = signed_in("dispatcher").get("/console/orders", query_string=query)
    assert answer.status_code in (400, 422)
    assert alert(answer)
    assert listed(text(answer)) == []


def test_control_characters_in_the_search_box_are_harmless(client, auth, signed_in):
    wanted = thuduc_order(client, auth)
    answer = signed_in("dispatcher").get("/console/orders",
                                         query_string={"q": wanted["dossier_code"] + "\x00"})
    assert answer.status_code == 200 and listed(text(answer)) == [wanted["id"]]


def test_the_api_list_is_unchanged_and_refuses_the_consoles_filters(client, auth):
    thuduc_order(client, auth)
    for name in ("search", "attention", "q"):
        answer = client.get(f"/api/v1/orders?{name}=x", headers=auth["dispatcher"])
        assert answer.status_code == 422, name


# -- one order ----------------------------------------------------------------------------------

def test_the_order_page_shows_everything_unmasked_with_timeline_price_and_payment(
        client, auth, signed_in):
    order = thuduc_order(client, auth)
    walk(client, auth["dispatcher"], order["id"], "collected")
    answer = signed_in("dispatcher").get(f"/console/orders/{order['id']}")
    page = text(answer)
    assert answer.status_code == 200
    assert order["tracking_number"] in page and order["dossier_code"] in page
    assert "Nguyễn Văn An" in page and "0903 123 456" in page and "12 Đường số 7" in page
    timeline = page[page.index('id="timeline"'):]
    assert "Đã tiếp nhận yêu cầu" in timeline and "Đã nhận kết quả tại cơ quan" in timeline
    assert 'id="price"' in page and 'id="payment"' in page and "Chưa thanh toán" in page
    assert f'/console/orders/{order["id"]}/label.pdf' in page


def test_the_actions_offered_are_the_moves_the_lifecycle_allows(client, auth, signed_in):
    order = thuduc_order(client, auth)
    browser = signed_in("dispatcher")

    def offered():
        return set(re.findall(r'id="action-([a-z_]+)"', text(browser.get(
            f"/console/orders/{order['id']}"))))
    assert offered() == {"collected", "cancelled"}
    walk(client, auth["dispatcher"], order["id"], *TO_OUT_FOR_DELIVERY)
    assert offered() == {"delivered", "delivery_failed"}
    pickup = thuduc_order(client, auth, kind="dossier_pickup")
    page = text(browser.get(f"/console/orders/{pickup['id']}"))
    assert set(re.findall(r'id="action-([a-z_]+)"', page)) == {"pickup_scheduled", "cancelled"}


def test_an_action_is_recorded_through_the_lifecycle(client, auth, signed_in, db_session):
    order = thuduc_order(client, auth)
    browser = signed_in("dispatcher")
    answer = browser.post(f"/console/orders/{order['id']}/events",
                          {"type": "collected", "note": "Đã nhận ở quầy một cửa"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/console/orders/{order['id']}"
    assert order_status(client, auth["admin"], order["id"]) == "collected"
    assert "Đã nhận kết quả tại cơ quan" in text(browser.get(answer.headers["Location"]))
    api_events = client.get(f"/api/v1/orders/{order['id']}/events",
                            headers=auth["admin"]).get_json()["data"]
    assert api_events[-1]["note"] == "Đã nhận ở quầy một cửa"
    assert api_events[-1]["actor_role"] == "dispatcher"


def test_a_failed_attempt_needs_a_reason_and_a_delivery_a_recipient(
        client, auth, signed_in, db_session):
    order = thuduc_order(client, auth)
    walk(client, auth["dispatcher"], order["id"], *TO_OUT_FOR_DELIVERY)
    browser = signed_in("dispatcher")
    path = f"/console/orders/{order['id']}/events"
    before = events_of(db_session, order["id"])
    for form in ({"type": "delivery_failed"},
                 {"type": "delivery_failed", "failure_reason": "dog_ate_it"},
                 {"type": "delivery_failed", "failure_reason": "documents_incomplete"},
                 {"type": "delivered"},
                 {"type": "delivered", "recipient_name": "An", "relationship": "neighbour"},
                 {"type": "delivered", "recipient_name": "An", "relationship": "self",
                  "id_last4": "12345"},
                 {"type": "teleported"}, {}):
        answer = browser.post(path, form)
        assert answer.status_code == 422, form
        assert alert(answer), form
    assert events_of(db_session, order["id"]) == before
    assert browser.post(path, {"type": "delivery_failed",
                               "failure_reason": "recipient_not_home"}).status_code == 303
    assert browser.post(path, {"type": "out_for_delivery"}).status_code == 303
    assert browser.post(path, {"type": "delivered", "recipient_name": "Nguyễn Văn An",
                               "relationship": "self", "id_last4": "1234"}).status_code == 303
    assert order_status(client, auth["admin"], order["id"]) == "delivered"
    page = text(browser.get(f"/console/orders/{order['id']}"))
    assert "Người nhận không có nhà" in page and "Nguyễn Văn An" in page and "1234" in page
    assert 'id="actions"' not in page  # a delivered order has nothing left to do


def test_a_move_the_lifecycle_forbids_is_409_and_writes_nothing(
        client, auth, signed_in, db_session):
    order = thuduc_order(client, auth)
    browser = signed_in("dispatcher")
    before = events_of(db_session, order["id"])
    answer = browser.post(f"/console/orders/{order['id']}/events",
                          {"type": "delivered", "recipient_name": "An", "relationship": "self"})
    assert answer.status_code == 409
    assert "không cho phép" in alert(answer)
    walk(client, auth["dispatcher"], order["id"], "collected")
    assert browser.post(f"/console/orders/{order['id']}/cancel").status_code == 409
    assert events_of(db_session, order["id"]) == before + ["collected"]
    assert order_status(client, auth["admin"], order["id"]) == "collected"


def test_cancelling_goes_through_the_cancel_use_case(client, auth, signed_in):
    order = thuduc_order(client, auth)
    browser = signed_in("dispatcher")
    answer = browser.post(f"/console/orders/{order['id']}/cancel",
                          {"reason": "Người dân đến nhận tại quầy"})
    assert answer.status_code == 303
    read = client.get(f"/api/v1/orders/{order['id']}", headers=auth["admin"]).get_json()
    assert read["status"] == "cancelled"
    assert read["cancel_reason"] == "Người dân đến nhận tại quầy"
    too_long = thuduc_order(client, auth)
    assert browser.post(f"/console/orders/{too_long['id']}/cancel",
                        {"reason": "x" * 501}).status_code == 422
    assert order_status(client, auth["admin"], too_long["id"]) == "created"


def test_another_offices_order_is_404_everywhere_and_untouched(
        client, auth, signed_in, db_session):
    theirs = saigon_order(client, auth)
    browser = signed_in("dispatcher")
    before = events_of(db_session, theirs["id"])
    base = f"/console/orders/{theirs['id']}"
    assert browser.get(base).status_code == 404
    assert browser.get(f"{base}/label.pdf").status_code == 404
    assert browser.post(f"{base}/events", {"type": "collected"}).status_code == 404
    assert browser.post(f"{base}/cancel").status_code == 404
    assert browser.post(f"{base}/address", {"ward_code": LINH_XUAN}).status_code == 404
    # Even a bad form gets the 404 first-hand, saying nothing about the order.
    assert browser.post(f"{base}/events", {"type": "bogus"}).status_code == 404
    assert events_of(db_session, theirs["id"]) == before
    assert order_status(client, auth["admin"], theirs["id"]) == "created"
    admin = signed_in("admin")
    assert admin.get(base).status_code == 200
    assert admin.get(f"{base}/label.pdf").status_code == 200


@pytest.mark.parametrize("public_id", ["ord_doesnotexist", "ord_%00x", "x" * 65, "ord_ä"])
def test_an_unknown_or_malformed_order_id_is_404(signed_in, public_id):
    browser = signed_in("dispatcher")
    assert browser.get(f"/console/orders/{public_id}").status_code == 404
    assert browser.post(f"/console/orders/{public_id}/events",
                        {"type": "collected"}).status_code == 404


def test_every_form_is_refused_without_the_csrf_token_and_writes_nothing(
        client, auth, signed_in, db_session):
    order = unresolved_order(client, auth)
    browser = signed_in("dispatcher")
    before = events_of(db_session, order["id"])
    base = f"/console/orders/{order['id']}"
    for path, form in ((f"{base}/events", {"type": "collected"}), (f"{base}/cancel", {}),
                       (f"{base}/address", {"ward_code": LINH_XUAN})):
        assert browser.post(path, form, csrf=False).status_code == 400, path
        assert browser.post(path, {**form, "csrf_token": "forged"}, csrf=False
                            ).status_code == 400, path
    assert events_of(db_session, order["id"]) == before
    read = client.get(f"/api/v1/orders/{order['id']}", headers=auth["admin"]).get_json()
    assert read["status"] == "created" and read["address"]["precision"] == "unresolved"


def test_a_stranger_is_sent_to_sign_in_and_nothing_is_written(client, auth, console, db_session):
    order = thuduc_order(client, auth)
    before = events_of(db_session, order["id"])
    base = f"/console/orders/{order['id']}"
    console.csrf_token()  # a session with a token, as from the sign-in page, but signed out
    for answer in (console.get("/console/orders"), console.get(base),
                   console.get(f"{base}/label.pdf"),
                   console.post(f"{base}/events", {"type": "collected"})):
        assert answer.status_code == 303 and "/console/login" in answer.headers["Location"]
    assert events_of(db_session, order["id"]) == before


@pytest.fixture
def billing(db_session, reference_data, now) -> None:
    from postal_svc.billing import service
    from postal_svc.directory.service import update_agency

    service.load_demo_billing(db_session, now)
    update_agency(db_session, "AG-LINHTRUNG",
                  {"address_text": "Đường số 9, P. Linh Trung, TP. Thủ Đức, TP.HCM"}, now=now)
    db_session.commit()


def test_the_order_page_shows_the_stored_price_lines_and_totals(client, auth, signed_in, billing):
    order = thuduc_order(client, auth)
    page = text(signed_in("dispatcher").get(f"/console/orders/{order['id']}"))
    price = page[page.index('id="price"'):page.index('id="payment"')]
    for shown in ("27.500 đ", "-5.500 đ", "22.000 đ", "COVID19-ONLINE-20", "HCM-BCCI-2025-07",
                  "thuế 8%"):
        assert shown in price, shown
    assert re.search(r'id="amount-due"><strong>22.000 đ<', price)


def test_an_order_priced_at_zero_owes_nothing_and_is_not_unpaid(client, auth, signed_in, billing):
    exempt = thuduc_order(client, auth, beneficiary_category="heroic_mother")
    owing = thuduc_order(client, auth)
    listed_unpaid = listed(text(signed_in("dispatcher").get("/console/orders?attention=unpaid")))
    assert listed_unpaid == [owing["id"]] and exempt["id"] not in listed_unpaid


# -- fixing an address --------------------------------------------------------------------------

def test_an_unresolved_address_is_fixed_by_choosing_the_ward(client, auth, signed_in, db_session):
    order = unresolved_order(client, auth)
    browser = signed_in("dispatcher")
    page = text(browser.get(f"/console/orders/{order['id']}"))
    assert 'id="fix-address"' in page and f'<option value="{LINH_XUAN}"' in page
    answer = browser.post(f"/console/orders/{order['id']}/address", {"ward_code": LINH_XUAN})
    assert answer.status_code == 303
    read = client.get(f"/api/v1/orders/{order['id']}", headers=auth["admin"]).get_json()
    assert read["address"]["ward_code"] == LINH_XUAN
    assert read["address"]["precision"] == "ward"
    assert read["post_office_code"] == "PO-THUDUC"
    assert events_of(db_session, order["id"])[-1] == "address_corrected"
    assert "Phường Linh Xuân" in text(browser.get(answer.headers["Location"]))
    assert order["id"] not in listed(text(browser.get("/console/orders?attention=address")))


def test_an_address_is_fixed_by_a_point_on_the_map(client, auth, signed_in):
    order = unresolved_order(client, auth)
    answer = signed_in("dispatcher").post(f"/console/orders/{order['id']}/address",
                                          {"ward_code": "", "lat": "10.8612", "lon": "106.7795"})
    assert answer.status_code == 303
    read = client.get(f"/api/v1/orders/{order['id']}", headers=auth["admin"]).get_json()
    assert read["address"]["ward_code"] == LINH_XUAN
    assert read["address"]["precision"] == "street"
    assert (read["address"]["lat"], read["address"]["lon"]) == (10.8612, 106.7795)


def test_an_ambiguous_address_offers_its_candidate_wards_first(client, auth, signed_in):
    order = ambiguous_order(client, auth)
    page = text(signed_in("dispatcher").get(f"/console/orders/{order['id']}"))
    form = page[page.index('id="ward_code"'):page.index("</select>", page.index('id="ward_code"'))]
    suggested = form[:form.index("Tất cả phường, xã")]
    assert set(re.findall(r'<option value="(\d+)"', suggested)) == {"26794", "26824"}


def test_fixing_the_address_into_another_offices_ward_hands_the_order_over(
        client, auth, signed_in):
    order = unresolved_order(client, auth)
    browser = signed_in("dispatcher")
    answer = browser.post(f"/console/orders/{order['id']}/address", {"ward_code": SAI_GON})
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/orders"
    assert "PO-SAIGON" in text(browser.get("/console/orders"))
    assert browser.get(f"/console/orders/{order['id']}").status_code == 404


@pytest.mark.parametrize("form", [
    {}, {"ward_code": ""}, {"ward_code": "99999"}, {"ward_code": "26 794"},
    {"ward_code": LINH_XUAN, "lat": "10.7805", "lon": "106.704"},  # 10 km off Linh Xuân
    {"lat": "10.86"}, {"lat": "abc", "lon": "106.7"}, {"lat": "nan", "lon": "106.7"},
    {"lat": "95", "lon": "106.7"}, {"lat": "0", "lon": "0"},  # far from every ward
    {"ward_code": "x" * 17},
])
def test_a_bad_address_fix_is_4xx_and_changes_nothing(client, auth, signed_in, db_session, form):
    order = unresolved_order(client, auth)
    before = events_of(db_session, order["id"])
    answer = signed_in("dispatcher").post(f"/console/orders/{order['id']}/address", form)
    assert answer.status_code == 422
    assert alert(answer)
    assert events_of(db_session, order["id"]) == before
    read = client.get(f"/api/v1/orders/{order['id']}", headers=auth["admin"]).get_json()
    assert read["address"]["precision"] == "unresolved"


def test_fixing_an_unplaced_address_prices_the_order(client, auth, signed_in, billing):
    order = unresolved_order(client, auth)
    browser = signed_in("dispatcher")
    assert "Chưa có giá" in text(browser.get(f"/console/orders/{order['id']}"))
    browser.post(f"/console/orders/{order['id']}/address", {"ward_code": LINH_XUAN})
    assert "22.000 đ" in text(browser.get(f"/console/orders/{order['id']}"))


def test_a_finished_orders_address_cannot_change(client, auth, signed_in):
    order = thuduc_order(client, auth)
    browser = signed_in("dispatcher")
    browser.post(f"/console/orders/{order['id']}/cancel")
    page = text(browser.get(f"/console/orders/{order['id']}"))
    assert 'id="fix-address"' not in page
    answer = browser.post(f"/console/orders/{order['id']}/address", {"ward_code": LINH_XUAN})
    assert answer.status_code == 409 and alert(answer)


# -- the label ----------------------------------------------------------------------------------

def test_the_label_is_the_apis_a6_pdf_with_the_tracking_number(client, auth, signed_in):
    order = thuduc_order(client, auth)
    answer = signed_in("dispatcher").get(f"/console/orders/{order['id']}/label.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    assert A6_MEDIABOX in answer.data
    assert order["tracking_number"] in answer.headers["Content-Disposition"]
    api = client.get(f"/api/v1/orders/{order['id']}/label.pdf", headers=auth["dispatcher"])
    assert answer.data.count(b"/Subtype /Image") + answer.data.count(b"/Type /Page") \
        == api.data.count(b"/Subtype /Image") + api.data.count(b"/Type /Page")
    assert len(answer.data) == pytest.approx(len(api.data), rel=0.05)


def test_the_order_pages_speak_english_by_choice(client, auth, signed_in):
    order = unresolved_order(client, auth)
    browser = signed_in("dispatcher")
    for path in ("/console/orders?lang=en", f"/console/orders/{order['id']}?lang=en"):
        answer = browser.get(path)
        assert answer.status_code == 200 and 'lang="en"' in text(answer)
