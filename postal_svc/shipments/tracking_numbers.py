"""Allocating S10 tracking numbers: unique, never reused, safe under concurrency."""
from __future__ import annotations

from sqlalchemy import Sequence, insert, select, update
from sqlalchemy.orm import Session

from postal_svc.db import Base
from postal_svc.errors import DomainError
from postal_svc.shipments.models import SerialCounter
from postal_svc.shipments.s10 import MAX_SERIAL, format_tracking_number

# PostgreSQL: a sequence, so concurrent inserts never wait on each other for a serial.
TRACKING_SERIAL_SEQ = Sequence("tracking_serial_seq", start=1, metadata=Base.metadata)
COUNTER_NAME = "tracking_serial"


class SerialsExhausted(DomainError):
    code = "tracking_serials_exhausted"


def next_serial(session: Session) -> int:
    """The next tracking serial; gaps may occur (rolled-back orders), reuse never does."""
    if session.get_bind().dialect.name == "postgresql":
        serial = session.scalar(select(TRACKING_SERIAL_SEQ.next_value()))
    else:
        # SQLite serialises writers (BEGIN IMMEDIATE), so an UPDATE ... RETURNING is safe.
        serial = session.scalar(
            update(SerialCounter).where(SerialCounter.name == COUNTER_NAME)
            .values(value=SerialCounter.value + 1).returning(SerialCounter.value))
        if serial is None:
            session.execute(insert(SerialCounter).values(name=COUNTER_NAME, value=1))
            serial = 1
    if serial is None or serial > MAX_SERIAL:
        raise SerialsExhausted("No tracking serials left for this prefix; configure a new prefix.")
    return int(serial)


def allocate_tracking_number(session: Session, prefix: str) -> str:
    return format_tracking_number(prefix, next_serial(session))

