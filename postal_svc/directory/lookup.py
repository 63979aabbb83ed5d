"""Fast reads of reference data on the intake path, remembered briefly per process."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.directory.models import Agency, ServedWard

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class AgencyInfo:
    """What intake needs of an agency: who collects there, and where its desk is."""

    code: str
    post_office_code: str | None
    ward_code: str | None = None
    province_code: str | None = None
    old_district_code: str | None = None


class _TtlMemo(Generic[K, V]):
    """Remembers found values for `ttl_s` seconds; misses are never remembered, so a new
    agency or ward assignment is seen at once and only changes take up to `ttl_s`."""

    def __init__(self, ttl_s: float, clock: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[K, tuple[float, V]] = {}

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        if self.ttl_s <= 0:
            return load()
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = (now + self.ttl_s, value)
        return value


class DirectoryLookup:
    """Agency and ward-to-post-office look-ups for order intake.

    With `ttl_s` > 0 an answer may be up to `ttl_s` seconds old (reference data changes
    rarely and the database's foreign keys still guard every write).
    """

    def __init__(self, ttl_s: float = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self._agencies: _TtlMemo[str, AgencyInfo] = _TtlMemo(ttl_s, clock)
        self._wards: _TtlMemo[str, str] = _TtlMemo(ttl_s, clock)

    def agency(self, session: Session, code: str) -> AgencyInfo | None:
        def load() -> AgencyInfo | None:
            row = session.execute(
                select(Agency.code, Agency.post_office_code, Agency.ward_code,
                       Agency.province_code, Agency.old_district_code)
                .where(Agency.code == code)).first()
            return AgencyInfo(*row) if row else None
        return self._agencies.get(code, load)

    def post_office_for_ward(self, session: Session, ward_code: str | None) -> str | None:
        if not ward_code:
            return None
        return self._wards.get(ward_code, lambda: session.scalar(
            select(ServedWard.post_office_code).where(ServedWard.ward_code == ward_code)))
