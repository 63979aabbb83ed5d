"""Helpers for the console's Today and Orders tests: orders made through the API, figures and
rows read off the pages."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import event

from tests.api.journeys import create_order, saigon_citizen

UNREADABLE = "zzqx wqpt, khu vực không rõ"  # accepted unresolved, at the agency's office
LINH_TAY = "5 Kha Vạn Cân, P. Linh Tây, TP. Thủ Đức"  # split old ward: ambiguous
_ROW = re.compile(r'href="/console/orders/(ord_[0-9a-f]+)"')


def thuduc_order(client: Any, auth: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """An order of AG-LINHTRUNG for a citizen in Linh Xuân: PO-THUDUC's."""
    return create_order(client, auth["agency"], **overrides)


def saigon_order(client: Any, auth: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """An order of AG-BENNGHE for a citizen in Sài Gòn ward: PO-SAIGON's."""
    return create_order(client, auth["other_agency"], agency_code="AG-BENNGHE",
                        citizen=saigon_citizen(), **overrides)


def unresolved_order(client: Any, auth: dict[str, Any]) -> dict[str, Any]:
    return thuduc_order(client, auth, citizen={"name": "Lê Văn Chín", "phone": "0987000111",
                                               "address_text": UNREADABLE})


def ambiguous_order(client: Any, auth: dict[str, Any]) -> dict[str, Any]:
    return thuduc_order(client, auth, citizen={"name": "Phạm Thị Dung", "phone": "0987000222",
                                               "address_text": LINH_TAY})


def figure(html: str, element_id: str) -> int:
    """The number shown in the stat card with this id."""
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>\s*<span class="n">(\d+)</span>', html)
    assert found, f"no figure {element_id!r} on the page"
    return int(found.group(1))


def link_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{re.escape(element_id)}" href="([^"]+)"', html)
    assert found, f"no link {element_id!r} on the page"
    return found.group(1).replace("&amp;", "&")


def listed(html: str) -> list[str]:
    """The order ids of the list page's rows, in order."""
    return _ROW.findall(html)


@contextmanager
def statements_on(engine_or_connection: Any) -> Iterator[list[str]]:
    """Collect the SQL statements run while inside the block."""
    seen: list[str] = []

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)
    target = getattr(engine_or_connection, "engine", engine_or_connection)
    event.listen(target, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", _record)
