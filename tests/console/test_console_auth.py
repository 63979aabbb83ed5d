"""Signing in to the console: passwords, lock-out, sessions, CSRF, roles."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from postal_svc.access.models import StaffUser
from postal_svc.access.staff import check_password, hash_password
from tests.console.conftest import PASSWORD


def test_passwords_are_stored_as_scrypt_hashes_that_check(make_staff, reference_data):
    user = make_staff("lan")
    assert user.password_hash.startswith("scrypt$")
    assert PASSWORD not in user.password_hash
    assert check_password(user.password_hash, PASSWORD)
    assert not check_password(user.password_hash, PASSWORD + "x")
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted


def test_pages_send_a_stranger_to_the_sign_in_page_and_back(console, make_staff, reference_data):
    make_staff("lan")
    answer = console.get("/console/")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/console/login?next=/console/")
    signed = console.login("lan")
    assert signed.status_code == 303 and signed.headers["Location"] == "/console/"
    assert console.get("/console/").status_code == 200


def test_sign_in_never_redirects_off_site(console, make_staff, reference_data):
    make_staff("lan")
    answer = console.client.post("/console/login", data={
        "csrf_token": console.csrf_token(), "username": "lan", "password": PASSWORD,
        "next": "//evil.example/console/"})
    assert answer.headers["Location"] == "/console/"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(console, make_staff,
                                                                   reference_data):
    make_staff("lan")
    wrong = console.login("lan", "not-the-password")
    unknown = console.login("nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in unknown.get_data(as_text=True)


def test_a_username_no_account_can_have_gets_the_wrong_password_answer(console, make_staff,
                                                                       reference_data):
    # A NUL byte in the name (refused by PostgreSQL in text) must not turn a sign-in into a 500.
    make_staff("lan")
    for username in ("lan\x00", "\x00", "lan" + "x" * 500):
        answer = console.login(username, PASSWORD)
        assert answer.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in answer.get_data(as_text=True)


def test_five_failures_lock_the_account_even_against_the_right_password(
        console, make_staff, reference_data, db_session):
    make_staff("lan")
    for _ in range(4):
        assert console.login("lan", "not-the-password").status_code == 401
    locked = console.login("lan", "not-the-password")
    assert locked.status_code == 401
    assert "bị khóa đến" in locked.get_data(as_text=True)
    refused = console.login("lan", PASSWORD)
    assert refused.status_code == 401 and "bị khóa đến" in refused.get_data(as_text=True)
    user = db_session.scalar(select(StaffUser).where(StaffUser.username == "lan"))
    db_session.refresh(user)
    assert user.locked_until is not None
    # Once the lock has run out, the right password works again and clears the count.
    user.locked_until = user.locked_until - timedelta(minutes=16)
    db_session.commit()
    assert console.login("lan", PASSWORD).status_code == 303


def test_a_post_without_the_session_csrf_token_is_refused(console, make_staff, reference_data):
    make_staff("lan")
    assert console.client.post("/console/login", data={
        "username": "lan", "password": PASSWORD}).status_code == 400
    console.login("lan")
    assert console.post("/console/logout", csrf=False).status_code == 400
    assert console.post("/console/logout", {"csrf_token": "forged"}, csrf=False
                        ).status_code == 400
    assert console.post("/console/logout").status_code == 303
    assert console.get("/console/").status_code == 303  # signed out


def test_a_disabled_user_is_signed_out_at_once(signed_in, db_session, now):
    browser = signed_in("dispatcher")
    user = db_session.scalar(select(StaffUser).where(StaffUser.username == "dispatcher1"))
    user.disabled_at = now
    db_session.commit()
    assert browser.get("/console/").status_code == 303


def test_the_console_speaks_english_by_choice(signed_in):
    browser = signed_in("admin")
    page = browser.get("/console/?lang=en").get_data(as_text=True)
    assert "Today" in page and 'lang="en"' in page
