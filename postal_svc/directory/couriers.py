"""Couriers as reference data: who rides for which post office, with what capacity and shifts."""
from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from postal_svc.config import DEFAULT_SPEED_PROFILES
from postal_svc.db import Base, JSONType, UTCDateTime
from postal_svc.directory.service import (
    AlreadyExists, DEFAULT_OFFICE_HOURS, InvalidOfficeHours, check_office_hours,
    get_post_office)
from postal_svc.errors import NotFound, RuleViolation
from postal_svc.pagination import Page, paginate


class Courier(Base):
    """A courier (one motorbike) of a post office; capacity holds per trip, one trip a shift."""

    __tablename__ = "couriers"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    post_office_code: Mapped[str] = mapped_column(ForeignKey("post_offices.code"), index=True)
    capacity_items: Mapped[int] = mapped_column(Integer)
    capacity_g: Mapped[int] = mapped_column(Integer)
    # [["07:30","11:30"],["13:00","17:00"]]: Vietnam time; lunch splits the day into two trips.
    shifts: Mapped[list[list[str]]] = mapped_column(JSONType)
    # A named speed profile (motorbike, bicycle, walking, car, ...; settings); None: the default.
    speed_profile: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    # The API client whose key this courier uses (so a courier's key maps to the courier).
    client_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_clients.id"),
                                                  unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CourierNotFound(NotFound):
    code = "courier_not_found"


class InvalidCourier(RuleViolation):
    code = "invalid_courier"


SPEED_PROFILES = tuple(DEFAULT_SPEED_PROFILES)
"""The built-in speed profiles; settings may add more (the caller passes the names it knows)."""


def _check(data: dict[str, Any], profiles: Collection[str] = SPEED_PROFILES) -> dict[str, Any]:
    out = dict(data)
    if "capacity_kg" in out:
        kg = out.pop("capacity_kg")
        out["capacity_g"] = round(kg * 1000)
    if "shifts" in out:
        try:
            out["shifts"] = check_office_hours(out["shifts"] or [], field="shifts")
        except InvalidOfficeHours as error:
            raise InvalidCourier("Shifts are increasing [\"HH:MM\", \"HH:MM\"] intervals.",
                                 errors=error.errors) from None
        if not out["shifts"]:
            raise InvalidCourier("A courier needs at least one shift.",
                                 errors={"shifts": ["At least one shift."]})
    if out.get("speed_profile") not in (None, *profiles):
        raise InvalidCourier("Unknown speed profile.",
                             errors={"speed_profile": [f"One of: {', '.join(sorted(profiles))}."]})
    return out


def _check_client(session: Session, client_id: int | None, courier_code: str) -> None:
    if client_id is None:
        return
    # access is a sibling floor: read its table through the shared metadata, not its model
    clients = Base.metadata.tables["api_clients"]
    role = session.execute(select(clients.c.role).where(clients.c.id == client_id)).scalar()
    if role != "courier":
        raise InvalidCourier("client_id must be a courier client.",
                             errors={"client_id": ["Not a courier client."]})
    taken = session.scalar(select(Courier.code).where(Courier.client_id == client_id,
                                                      Courier.code != courier_code))
    if taken is not None:
        raise InvalidCourier("That client already belongs to another courier.",
                             errors={"client_id": [f"Used by {taken}."]})


def create_courier(session: Session, data: dict[str, Any], *, now: datetime,
                   speed_profiles: Collection[str] = SPEED_PROFILES) -> Courier:
    """Register a courier of an existing post office. Raises AlreadyExists (409),
    PostOfficeNotFound (404, as a 422 field error), InvalidCourier (422; also for a speed
    profile not among ``speed_profiles``)."""
    checked = _check({"shifts": DEFAULT_OFFICE_HOURS, **data}, speed_profiles)
    if session.get(Courier, checked["code"]) is not None:
        raise AlreadyExists(f"Courier {checked['code']!r} already exists.",
                            errors={"code": ["Already exists."]})
    try:
        get_post_office(session, checked["post_office_code"])
    except NotFound:
        raise InvalidCourier("Unknown post office.",
                             errors={"post_office_code": ["No such post office."]}) from None
    _check_client(session, checked.get("client_id"), checked["code"])
    courier = Courier(code=checked["code"], name=checked["name"],
                      post_office_code=checked["post_office_code"],
                      capacity_items=checked["capacity_items"], capacity_g=checked["capacity_g"],
                      shifts=checked["shifts"], speed_profile=checked.get("speed_profile"),
                      active=checked.get("active", True), client_id=checked.get("client_id"),
                      created_at=now, updated_at=now)
    session.add(courier)
    session.flush()
    return courier


def get_courier(session: Session, code: str, *, offices: frozenset[str] | None = None) -> Courier:
    """The courier if it rides for one of ``offices`` (None: any); CourierNotFound otherwise."""
    courier = session.get(Courier, code)
    if courier is None or (offices is not None and courier.post_office_code not in offices):
        raise CourierNotFound(f"No courier {code!r}.")
    return courier


def update_courier(session: Session, code: str, changes: dict[str, Any], *, now: datetime,
                   speed_profiles: Collection[str] = SPEED_PROFILES) -> Courier:
    """Change a courier's details (a courier never changes post office here: make a new one).
    Raises CourierNotFound, InvalidCourier (as create_courier)."""
    courier = get_courier(session, code)
    checked = _check(changes, speed_profiles)
    if "client_id" in checked:
        _check_client(session, checked["client_id"], code)
    for name, value in checked.items():
        setattr(courier, name, value)
    courier.updated_at = now
    session.flush()
    return courier


def list_couriers(session: Session, *, offices: Iterable[str] | None, limit: int,
                  cursor: str | None, active: bool | None = None) -> Page[Courier]:
    stmt = select(Courier)
    if offices is not None:
        stmt = stmt.where(Courier.post_office_code.in_(sorted(offices)))
    if active is not None:
        stmt = stmt.where(Courier.active.is_(active))
    return paginate(session, stmt, Courier.code, limit=limit, cursor=cursor)


def couriers_of(session: Session, post_office_code: str, codes: Iterable[str] | None = None) -> list[Courier]:
    """The office's active couriers (or exactly ``codes``, which must all ride for it)."""
    if codes is None:
        return list(session.scalars(select(Courier).where(
            Courier.post_office_code == post_office_code, Courier.active.is_(True))
            .order_by(Courier.code)))
    wanted = list(dict.fromkeys(codes))
    found = {c.code: c for c in session.scalars(select(Courier).where(
        Courier.code.in_(wanted), Courier.post_office_code == post_office_code))}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise InvalidCourier("Some couriers do not ride for this post office.",
                             errors={"couriers": [f"Unknown here: {', '.join(missing)}."]})
    return [found[c] for c in wanted]
