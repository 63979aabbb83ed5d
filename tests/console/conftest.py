"""Console tests: staff users and a signed-in browser-like client (cookies, CSRF tokens)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

import pytest
from sqlalchemy.orm import Session

from postal_svc.access.staff import create_staff_user
from postal_svc.directory.models import PostOffice

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def make_staff(db_session: Session, now: datetime) -> Callable[..., Any]:
    """make_staff(username, role="dispatcher", offices=("PO-THUDUC",), password=PASSWORD)."""
    def _make(username: str, role: str = "dispatcher",
              offices: tuple[str, ...] = ("PO-THUDUC",), password: str = PASSWORD) -> Any:
        user = create_staff_user(
            db_session, username=username, role=role, password=password,
            post_office_codes=offices if role == "dispatcher" else (),
            office_exists=lambda code: db_session.get(PostOffice, code) is not None, now=now)
        db_session.commit()
        return user
    return _make


class ConsoleClient:
    """The Flask test client as a browser: it keeps the session cookie and sends the page's
    CSRF token with every form."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def csrf_token(self) -> str:
        page = self.client.get("/console/login")
        found = _CSRF.search(page.get_data(as_text=True))
        assert found, "no CSRF token on the sign-in page"
        return found.group(1)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        return self.client.post("/console/login", data={
            "csrf_token": self.csrf_token(), "username": username, "password": password,
            "next": "/console/"})

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> Any:
        form = dict(data or {})
        if csrf:
            with self.client.session_transaction() as session:
                form.setdefault("csrf_token", session.get("csrf", ""))
        return self.client.post(path, data=form, **kwargs)


@pytest.fixture
def console(client: Any) -> ConsoleClient:
    return ConsoleClient(client)


@pytest.fixture
def signed_in(app: Any, make_staff: Callable[..., Any], reference_data: dict[str, Any]
              ) -> Callable[..., ConsoleClient]:
    """signed_in(role="dispatcher", offices=("PO-THUDUC",)) -> a fresh client signed in as a
    new user of that role."""
    count = [0]

    def _sign_in(role: str = "dispatcher", offices: tuple[str, ...] = ("PO-THUDUC",)
                 ) -> ConsoleClient:
        count[0] += 1
        user = make_staff(f"{role}{count[0]}", role=role, offices=offices)
        browser = ConsoleClient(app.test_client())
        answer = browser.login(user.username)
        assert answer.status_code == 303, answer.get_data(as_text=True)
        return browser
    return _sign_in
