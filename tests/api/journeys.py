"""Helpers for the tracking and courier tests: create an order and walk it along its lifecycle
through the public API, as a government system and a dispatcher would."""
from __future__ import annotations

import re
from typing import Any

from tests.conftest import order_body

ORDERS = "/api/v1/orders"
TO_OUT_FOR_DELIVERY = ("collected", "at_post_office", "out_for_delivery")
# Personal data of order_body()'s citizen that public pages must never show.
FULL_NAME = "Nguyễn Văn An"
PHONE_FORMS = ("0903123456", "+84903123456", "903123456", "3123456")
ADDRESS_LINE = "12 Đường số 7"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_order(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(ORDERS, json=order_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def record(client: Any, headers: dict[str, str], order_id: str, type_: str,
           **fields: Any) -> dict[str, Any]:
    """Post one event; the 201 body is that event, with the lifecycle's `follow_up_events`."""
    response = client.post(f"{ORDERS}/{order_id}/events", json={"type": type_, **fields},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def walk(client: Any, headers: dict[str, str], order_id: str, *types: str) -> None:
    for type_ in types:
        record(client, headers, order_id, type_)


def order_status(client: Any, headers: dict[str, str], order_id: str) -> str:
    response = client.get(f"{ORDERS}/{order_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["status"])


def saigon_citizen() -> dict[str, Any]:
    """A citizen in Phường Bến Nghé (now Sài Gòn ward), served by PO-SAIGON."""
    return {"name": "Trần Thị Bình", "phone": "0912000789",
            "address": {"line": "5 Lê Duẩn", "ward": "Phường Bến Nghé", "district": "Quận 1",
                        "province": "Thành phố Hồ Chí Minh"}}


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)
