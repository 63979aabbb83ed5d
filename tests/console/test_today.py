"""The console's Today page: figures counted by the database, one click from their lists."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from postal_svc.shipments.models import Order
from tests.api.journeys import TO_OUT_FOR_DELIVERY, record, walk
from tests.console.orders_support import (
    ambiguous_order, figure, link_of, listed, saigon_order, statements_on, thuduc_order,
    unresolved_order)


def test_today_counts_a_dispatchers_orders_by_status_and_none_of_another_office(
        client, auth, signed_in):
    first, second = thuduc_order(client, auth), thuduc_order(client, auth)
    walk(client, auth["dispatcher"], second["id"], "collected")
    saigon_order(client, auth)
    page = signed_in("dispatcher").get("/console/").get_data(as_text=True)
    assert figure(page, "status-created") == 1
    assert figure(page, "status-collected") == 1
    assert figure(page, "status-delivered") == 0
    assert figure(page, "created-today") == 2
    other = signed_in("dispatcher", offices=("PO-SAIGON",)).get("/console/").get_data(as_text=True)
    assert figure(other, "status-created") == 1
    assert figure(other, "status-collected") == 0


def test_an_admin_counts_every_office(client, auth, signed_in):
    thuduc_order(client, auth)
    saigon_order(client, auth)
    page = signed_in("admin").get("/console/").get_data(as_text=True)
    assert figure(page, "status-created") == 2


def test_orders_needing_attention_are_counted_by_kind_of_attention(
        client, auth, signed_in, db_session, now):
    unresolved, ambiguous = unresolved_order(client, auth), ambiguous_order(client, auth)
    late = thuduc_order(client, auth, payment_method="cash_on_delivery")
    failed = thuduc_order(client, auth, payer="agency", payment_method="agency_account")
    walk(client, auth["dispatcher"], failed["id"], *TO_OUT_FOR_DELIVERY)
    record(client, auth["dispatcher"], failed["id"], "delivery_failed",
           failure_reason="recipient_not_home")
    db_session.execute(update(Order).where(Order.public_id == late["id"])
                       .values(due_at=now - timedelta(hours=1)))
    db_session.commit()
    page = signed_in("dispatcher").get("/console/").get_data(as_text=True)
    assert figure(page, "attention-address") == 2
    assert figure(page, "attention-overdue") == 1
    assert figure(page, "attention-failed_attempts") == 1
    # Paid online and not paid yet: the unresolved and ambiguous ones (the COD and the
    # agency-paid ones are paid otherwise).
    assert figure(page, "attention-unpaid") == 2
    assert {unresolved["id"], ambiguous["id"]} == set(
        listed(signed_in("admin").get("/console/orders?attention=address").get_data(as_text=True)))


def test_each_figure_is_one_click_from_the_list_showing_exactly_those_orders(
        client, auth, signed_in):
    unresolved_order(client, auth)
    thuduc_order(client, auth, payment_method="cash_on_delivery")
    collected = thuduc_order(client, auth)
    walk(client, auth["dispatcher"], collected["id"], "collected")
    saigon_order(client, auth)
    browser = signed_in("dispatcher")
    page = browser.get("/console/").get_data(as_text=True)
    for element_id in ("status-created", "status-collected", "attention-address",
                       "attention-unpaid", "attention-overdue", "created-today"):
        answer = browser.get(link_of(page, element_id))
        assert answer.status_code == 200, element_id
        assert len(listed(answer.get_data(as_text=True))) == figure(page, element_id), element_id


def test_the_figures_take_the_same_few_queries_for_few_or_many_orders(
        client, auth, signed_in, connection):
    browser = signed_in("dispatcher")
    thuduc_order(client, auth)
    with statements_on(connection) as few:
        assert browser.get("/console/").status_code == 200
    for _ in range(6):
        thuduc_order(client, auth)
    with statements_on(connection) as many:
        assert browser.get("/console/").status_code == 200
    assert len(many) == len(few)
    counted = [s for s in many if "FROM orders" in s]
    assert len(counted) == 2 and all("count(" in s.lower() for s in counted)
    assert not any("orders.citizen_name" in s for s in many)  # no order is loaded


def test_today_needs_a_signed_in_user(console):
    answer = console.get("/console/")
    assert answer.status_code == 303 and "/console/login" in answer.headers["Location"]


def test_today_speaks_english_by_choice(signed_in):
    page = signed_in("dispatcher").get("/console/?lang=en")
    assert page.status_code == 200 and 'lang="en"' in page.get_data(as_text=True)


def test_the_attention_rules_read_the_same_in_the_database_and_on_a_loaded_order(
        client, auth, db_session, now):
    from sqlalchemy import select

    from postal_svc.shipments.attention import Attention, attention_condition, attention_of

    unresolved_order(client, auth)
    ambiguous_order(client, auth)
    failed = thuduc_order(client, auth, payment_method="cash_on_delivery")
    walk(client, auth["dispatcher"], failed["id"], "collected", "at_post_office")
    delivered = thuduc_order(client, auth, payer="agency", payment_method="agency_account")
    walk(client, auth["dispatcher"], delivered["id"], *TO_OUT_FOR_DELIVERY)
    record(client, auth["dispatcher"], delivered["id"], "delivered",
           recipient={"name": "An", "relationship": "self"})
    cancelled = thuduc_order(client, auth)
    client.post(f"/api/v1/orders/{cancelled['id']}/cancel", json={}, headers=auth["dispatcher"])
    # Everything is past due; only what is not finished is overdue.
    db_session.execute(update(Order).values(due_at=now - timedelta(days=1)))
    db_session.execute(update(Order).where(Order.public_id == failed["id"])
                       .values(attempt_count=1, status="delivery_failed"))
    db_session.commit()
    loaded = list(db_session.scalars(select(Order).execution_options(populate_existing=True)))
    for attention in Attention:
        in_sql = set(db_session.scalars(
            select(Order.public_id).where(attention_condition(attention, now=now))))
        on_order = {o.public_id for o in loaded if attention in attention_of(o, now=now)}
        assert in_sql == on_order, attention
        assert in_sql, attention
        assert delivered["id"] not in in_sql and cancelled["id"] not in in_sql, attention
