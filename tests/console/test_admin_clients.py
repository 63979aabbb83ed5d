"""Console admin pages for API clients: the key is shown once, revocation is immediate even in
a process that caches keys, and console users' own clients are never revocable here."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from postal_svc.access.models import ApiClient, StaffUser
from postal_svc.access.service import hash_key
from tests.conftest import test_settings

_KEY = re.compile(r'id="new-key" readonly value="([^"]+)"')


@pytest.fixture
def settings(database_url):
    # Keys are remembered for five minutes, as in production: a revocation must still bite
    # at once in the process that made it.
    return test_settings(database_url, auth_cache_seconds=300)


@pytest.fixture
def admin(signed_in):
    return signed_in("admin")


def text(answer) -> str:
    return answer.get_data(as_text=True)


def issue(admin, **form) -> str:
    answer = admin.post("/console/admin/clients", {"name": "Một cửa Linh Trung",
                                                   "role": "agency_system",
                                                   "scope": "AG-LINHTRUNG", **form})
    assert answer.status_code == 201, text(answer)
    return _KEY.search(text(answer)).group(1)


def test_clients_are_listed_with_role_scope_and_key_prefix_and_console_users_apart(
        admin, make_key, db_session):
    make_key("agency_system", ["AG-LINHTRUNG"], name="Hệ thống một cửa")
    outside = text(admin.get("/console/admin/clients"))
    assert "Hệ thống một cửa" in outside and "AG-LINHTRUNG" in outside and "psk_" in outside
    assert "console:admin1" not in outside
    inside = text(admin.get("/console/admin/clients?console=1"))
    assert "console:admin1" in inside and "Hệ thống một cửa" not in inside
    assert "/revoke" not in inside


def test_a_new_key_is_shown_once_stored_as_a_hash_and_works_at_once(admin, client,
                                                                    db_session):
    answer = admin.post("/console/admin/clients", {"name": "Một cửa Linh Trung",
                                                   "role": "agency_system",
                                                   "scope": "AG-LINHTRUNG, AG-TRUONGTHANH"})
    assert answer.status_code == 201
    assert "no-store" in answer.headers["Cache-Control"]
    key = _KEY.search(text(answer)).group(1)
    stored = db_session.scalar(select(ApiClient).where(ApiClient.name == "Một cửa Linh Trung"))
    assert stored.key_hash == hash_key(key) and key not in (stored.key_prefix, stored.key_hash)
    assert stored.scope == ["AG-LINHTRUNG", "AG-TRUONGTHANH"]
    assert key.startswith(stored.key_prefix)
    # Nowhere to see it again: not in the list, and the form page does not hold it.
    assert key not in text(admin.get("/console/admin/clients"))
    assert key not in text(admin.get("/console/admin/clients/new"))
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {key}"}
                      ).status_code == 200


@pytest.mark.parametrize("form, field", [
    ({"role": "superuser"}, "role"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"name": "console:lan"}, "name"),
    ({"role": "dispatcher", "scope": ""}, "scope"),
    ({"role": "dispatcher", "scope": "PO-NOWHERE"}, "scope"),
    ({"role": "agency_system", "scope": "PO-THUDUC"}, "scope"),
    ({"role": "courier", "scope": "x" * 65}, "scope"),
])
def test_a_bad_client_form_is_422_with_the_field_named_and_issues_nothing(
        admin, count_rows, form, field):
    clients = count_rows(ApiClient)
    answer = admin.post("/console/admin/clients", {"name": "Hệ thống A", "role": "agency_system",
                                                   "scope": "AG-LINHTRUNG", **form})
    assert answer.status_code == 422
    page = text(answer)
    assert f"<strong>{field}</strong>" in page and 'id="new-key"' not in page
    assert count_rows(ApiClient) == clients


def test_an_admin_client_needs_no_scope_and_gets_none(admin, db_session):
    issue(admin, name="Quản trị viên máy", role="admin", scope="")
    stored = db_session.scalar(select(ApiClient).where(ApiClient.name == "Quản trị viên máy"))
    assert (stored.role, stored.scope) == ("admin", [])


def test_revoking_asks_first_then_the_key_stops_working_at_once_despite_the_cache(
        admin, client, db_session):
    key = issue(admin)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/orders", headers=headers).status_code == 200  # now cached
    stored = db_session.scalar(select(ApiClient).where(ApiClient.name == "Một cửa Linh Trung"))

    confirm = admin.get(f"/console/admin/clients/{stored.id}/revoke")
    assert confirm.status_code == 200 and "Không thể hoàn tác" in text(confirm)
    db_session.refresh(stored)
    assert stored.revoked_at is None  # asking writes nothing

    done = admin.post(f"/console/admin/clients/{stored.id}/revoke")
    assert done.status_code == 303 and done.headers["Location"] == "/console/admin/clients"
    db_session.refresh(stored)
    assert stored.revoked_at is not None
    assert client.get("/api/v1/orders", headers=headers).status_code == 401
    row = re.search(rf'<tr id="client-{stored.id}">.*?</tr>',
                    text(admin.get("/console/admin/clients")), re.S).group(0)
    assert "Đã thu hồi" in row and "/revoke" not in row


def test_a_console_users_own_client_is_never_revoked_here(admin, db_session):
    user = db_session.scalar(select(StaffUser).where(StaffUser.username == "admin1"))
    assert admin.get(f"/console/admin/clients/{user.client_id}/revoke").status_code == 409
    answer = admin.post(f"/console/admin/clients/{user.client_id}/revoke")
    assert answer.status_code == 409 and "khóa tài khoản người dùng" in text(answer)
    assert db_session.get(ApiClient, user.client_id).revoked_at is None
    assert admin.get("/console/admin").status_code == 200  # still signed in and working


@pytest.mark.parametrize("client_id", ["999999", str(2**70)])
def test_revoking_an_unknown_client_is_404(admin, client_id):
    assert admin.get(f"/console/admin/clients/{client_id}/revoke").status_code == 404
    assert admin.post(f"/console/admin/clients/{client_id}/revoke").status_code == 404
