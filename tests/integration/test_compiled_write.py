"""CompiledWrite writes what the same SQLAlchemy statement would, on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postal_svc.db import CompiledWrite
from postal_svc.webhooks.models import WebhookEvent

EVENTS = WebhookEvent.__table__
STATEMENT = insert(EVENTS).values(
    public_id=bindparam("public_id"), type="order.status_changed",
    data=bindparam("data", type_=EVENTS.c.data.type),
    created_at=bindparam("created_at", type_=EVENTS.c.created_at.type),
).returning(EVENTS.c.id)
SAIGON = timezone(timedelta(hours=7))


def test_rows_written_by_driver_sql_match_the_statements_own(db_session: Session) -> None:
    write = CompiledWrite.compile(STATEMENT, db_session.get_bind().dialect)
    at = datetime(2026, 11, 28, 9, 30, tzinfo=SAIGON)  # stored as the same instant, in UTC
    data = {"status": "delivered", "amount": 22000, "name": "Nguyễn Văn An", "lines": [1, None]}
    ours = write.execute(db_session, {"public_id": "evt_driver", "data": data,
                                      "created_at": at}).scalar_one()
    theirs = db_session.execute(STATEMENT, {"public_id": "evt_sqlalchemy", "data": data,
                                            "created_at": at}).scalar_one()
    rows = {row.id: row for row in db_session.execute(
        select(EVENTS).where(EVENTS.c.id.in_([ours, theirs])))}
    assert rows[ours].data == rows[theirs].data == data
    assert rows[ours].created_at == rows[theirs].created_at == at
    assert rows[ours].created_at.utcoffset() == timedelta(0)
    assert rows[ours].type == rows[theirs].type == "order.status_changed"


def test_bind_processors_and_error_wrapping_are_sqlalchemys(db_session: Session) -> None:
    write = CompiledWrite.compile(STATEMENT, db_session.get_bind().dialect)
    naive = datetime(2026, 11, 28, 9, 30)
    with pytest.raises(ValueError, match="naive"):  # UTCDateTime refuses it before sending
        write.execute(db_session, {"public_id": "evt_naive", "data": {}, "created_at": naive})
    db_session.rollback()
    now = datetime.now(timezone.utc)
    write.execute(db_session, {"public_id": "evt_twice", "data": {}, "created_at": now})
    with pytest.raises(IntegrityError):  # the unique public id, wrapped as SQLAlchemy's
        write.execute(db_session, {"public_id": "evt_twice", "data": {}, "created_at": now})
