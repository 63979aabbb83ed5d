"""Signing in to the console: passwords, lock-out, sessions, CSRF, roles."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from postal_svc.access.login_failures import failures_of
from postal_svc.access.models import StaffUser
from postal_svc.access.staff import (
    check_password, hash_password, session_fingerprint, set_password)
from postal_svc.clock import VIETNAM
from postal_svc.routes import common
from tests.console.conftest import PASSWORD

NEW_PASSWORD = "a-new-password-after-the-leak"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


class Clock:
    """The instant every request sees, moved by the test."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(T0)
    monkeypatch.setattr(common, "utcnow", fixed)
    return fixed


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
        console, make_staff, reference_data, clock):
    make_staff("lan")
    for _ in range(4):
        assert console.login("lan", "not-the-password").status_code == 401
    locked = console.login("lan", "not-the-password")
    assert locked.status_code == 401
    assert "bị khóa đến" in locked.get_data(as_text=True)
    refused = console.login("lan", PASSWORD)
    assert refused.status_code == 401 and "bị khóa đến" in refused.get_data(as_text=True)
    # Once the lock has run out, the right password works again and clears the count.
    clock.advance(minutes=15)
    assert console.login("lan", PASSWORD).status_code == 303


def _without_username(answer, username: str) -> bytes:
    page = answer.get_data()
    echoed = f'value="{username}"'.encode()
    assert page.count(echoed) == 1
    return page.replace(echoed, b'value=""')


def test_an_unknown_username_is_refused_and_locked_byte_for_byte_like_a_real_one(
        console, make_staff, reference_data, clock):
    make_staff("lan")
    lock_time = (T0 + timedelta(minutes=4 + 15)).astimezone(VIETNAM).strftime("%H:%M")
    for attempt in range(1, 7):
        real = console.login("lan", "not-the-password")
        unknown = console.login("nobody", "not-the-password")
        assert real.status_code == unknown.status_code == 401
        assert real.headers.get("Set-Cookie") is None and unknown.headers.get("Set-Cookie") is None
        assert _without_username(real, "lan") == _without_username(unknown, "nobody"), attempt
        page = real.get_data(as_text=True)
        if attempt < 5:
            assert "Tên đăng nhập hoặc mật khẩu không đúng." in page and "bị khóa" not in page
        else:  # locked at the fifth failure, until 15 minutes after it
            assert f"bị khóa đến {lock_time}" in page, page
        clock.advance(minutes=1)
    # The right password of the real account is refused just like anything for the unknown one.
    right = console.login("lan", PASSWORD)
    unknown = console.login("nobody", PASSWORD)
    assert right.status_code == unknown.status_code == 401
    assert _without_username(right, "lan") == _without_username(unknown, "nobody")


def test_failures_count_by_normalised_username(console, make_staff, reference_data, clock):
    make_staff("lan")
    for typed in ("lan", "LAN", " Lan ", "lAn", "lan\t"):
        console.login(typed, "not-the-password")
    assert "bị khóa đến" in console.login("lan", PASSWORD).get_data(as_text=True)


def test_a_lock_runs_out_after_fifteen_minutes_for_real_and_unknown_names_alike(
        console, make_staff, reference_data, clock, db_session):
    make_staff("lan")
    for _ in range(5):
        console.login("lan", "not-the-password")
        console.login("nobody", "not-the-password")
    clock.advance(minutes=14, seconds=59)
    assert "bị khóa đến" in console.login("lan", PASSWORD).get_data(as_text=True)
    assert "bị khóa đến" in console.login("nobody", "x").get_data(as_text=True)
    clock.advance(seconds=1)
    # A wrong password after the lock is the first failure of a new count, not a new lock.
    for name in ("lan", "nobody"):
        page = console.login(name, "not-the-password").get_data(as_text=True)
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in page and "bị khóa" not in page
        assert failures_of(db_session, name) == 1
    assert console.login("lan", PASSWORD).status_code == 303


def test_a_success_clears_the_count(console, make_staff, reference_data, clock, db_session):
    make_staff("lan")
    for _ in range(4):
        console.login("lan", "not-the-password")
    assert failures_of(db_session, "lan") == 4
    assert console.login("lan", PASSWORD).status_code == 303
    assert failures_of(db_session, "lan") == 0
    assert console.post("/console/logout").status_code == 303
    for _ in range(4):
        page = console.login("lan", "not-the-password").get_data(as_text=True)
        assert "bị khóa" not in page
    assert console.login("lan", PASSWORD).status_code == 303


def test_a_new_password_lifts_the_lock(console, make_staff, reference_data, clock, db_session):
    make_staff("lan")
    for _ in range(5):
        console.login("lan", "not-the-password")
    set_password(db_session, "lan", NEW_PASSWORD)
    db_session.commit()
    assert failures_of(db_session, "lan") == 0
    assert console.login("lan", NEW_PASSWORD).status_code == 303


def test_a_password_change_signs_every_older_session_out(console, make_staff, reference_data,
                                                         db_session):
    make_staff("lan")
    assert console.login("lan").status_code == 303
    assert console.get("/console/").status_code == 200
    set_password(db_session, "lan", NEW_PASSWORD)
    db_session.commit()
    old = console.get("/console/")
    assert old.status_code == 303
    assert old.headers["Location"].startswith("/console/login?next=/console/")
    assert console.get("/console/login").status_code == 200  # the sign-in form, not a redirect
    assert console.login("lan", PASSWORD).status_code == 401
    assert console.login("lan", NEW_PASSWORD).status_code == 303
    assert console.get("/console/").status_code == 200


def test_the_session_holds_a_fingerprint_of_the_password_never_its_hash(
        console, make_staff, reference_data):
    user = make_staff("lan")
    console.login("lan")
    with console.client.session_transaction() as session:
        stored = "".join(str(value) for value in session.values())
    salt, digest = user.password_hash.split("$")[-2:]
    assert salt not in stored and digest not in stored
    assert session_fingerprint(user) in stored


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
