"""Allocating S10 tracking numbers: unique, never reused, safe under concurrency."""
from __future__ import annotations

import threading

from sqlalchemy import Sequence, insert, select, update
from sqlalchemy.orm import Session

from postal_svc.db import Base, database_key
from postal_svc.errors import ServiceUnavailable
from postal_svc.shipments.models import SerialCounter
from postal_svc.shipments.s10 import MAX_SERIAL, format_tracking_number

# PostgreSQL: a sequence of blocks of BLOCK_SIZE serials. nextval() is outside transactions,
# so a block handed to one process is never handed to another, and a process only asks the
# database once per BLOCK_SIZE orders. Unused serials of a block are lost when the process
# ends: gaps are allowed, reuse never.
TRACKING_SERIAL_SEQ = Sequence("tracking_serial_seq", start=1, metadata=Base.metadata)
BLOCK_SIZE = 100
COUNTER_NAME = "tracking_serial"


class SerialsExhausted(ServiceUnavailable):
    code = "tracking_serials_exhausted"


class _BlockPool:
    """The current block of serials of this process, per database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocks: dict[str, tuple[int, int]] = {}

    def take(self, session: Session) -> int:
        database = database_key(session)
        with self._lock:
            following, end = self._blocks.get(database, (0, 0))
            if following >= end:
                block = int(session.scalar(select(TRACKING_SERIAL_SEQ.next_value())) or 0)
                following, end = block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE
            self._blocks[database] = (following + 1, end)
            return following


_pool = _BlockPool()


def next_serial(session: Session) -> int:
    """The next tracking serial of this process; raises SerialsExhausted past 8 digits."""
    if session.get_bind().dialect.name == "postgresql":
        serial: int | None = _pool.take(session)
    else:
        # SQLite serialises writers (BEGIN IMMEDIATE) and rolls the counter back with the
        # order, so a plain counter row in the same transaction is safe there.
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
