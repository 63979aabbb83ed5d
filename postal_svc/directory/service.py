"""Use cases for agencies and post offices (admins maintain them)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postal_svc.directory.models import Agency, PostOffice, ServedWard
from postal_svc.errors import Conflict, NotFound, RuleViolation
from postal_svc.geo.gazetteer import get_gazetteer
from postal_svc.geo.resolver import resolve_address
from postal_svc.pagination import Page, paginate


class AgencyNotFound(NotFound):
    code = "agency_not_found"


class PostOfficeNotFound(NotFound):
    code = "post_office_not_found"


class AlreadyExists(Conflict):
    code = "already_exists"


class WardAlreadyServed(Conflict):
    code = "ward_already_served"


class InvalidOfficeHours(RuleViolation):
    code = "invalid_office_hours"


DEFAULT_OFFICE_HOURS = [["07:30", "11:30"], ["13:00", "17:00"]]


def check_office_hours(hours: Iterable[Iterable[str]], field: str = "office_hours") -> list[list[str]]:
    """Opening intervals as [["HH:MM","HH:MM"], ...], each opening before it closes, in order."""
    checked: list[list[str]] = []
    previous_close = ""
    for index, interval in enumerate(hours):
        pair = list(interval)
        if len(pair) != 2 or not all(_is_hhmm(t) for t in pair):
            raise InvalidOfficeHours("Office hours are pairs of HH:MM times.",
                                     errors={f"{field}.{index}": ["Expected [\"HH:MM\", \"HH:MM\"]."]})
        opens, closes = pair
        if opens >= closes or opens < previous_close:
            raise InvalidOfficeHours(
                "Each interval must open before it closes and after the previous one closes.",
                errors={f"{field}.{index}": ["Intervals must be increasing and not overlap."]})
        previous_close = closes
        checked.append([opens, closes])
    return checked


def _is_hhmm(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hh, mm = value[:2], value[3:]
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60


# -- post offices -------------------------------------------------------------------------

def get_post_office(session: Session, code: str) -> PostOffice:
    office = session.get(PostOffice, code)
    if office is None:
        raise PostOfficeNotFound(f"No post office {code!r}.")
    return office


def list_post_offices(session: Session, *, limit: int, cursor: str | None,
                      codes: Iterable[str] | None = None) -> Page[PostOffice]:
    stmt = select(PostOffice)
    if codes is not None:
        stmt = stmt.where(PostOffice.code.in_(list(codes)))
    return paginate(session, stmt, PostOffice.code, limit=limit, cursor=cursor)


def _assign_wards(session: Session, office: PostOffice, ward_codes: list[str]) -> None:
    wanted = list(dict.fromkeys(ward_codes))
    if wanted:
        taken = session.execute(
            select(ServedWard.ward_code, ServedWard.post_office_code)
            .where(ServedWard.ward_code.in_(wanted), ServedWard.post_office_code != office.code)
        ).all()
        if taken:
            raise WardAlreadyServed(
                "Every ward is served by at most one post office.",
                errors={"served_ward_codes": [f"{w} is served by {po}." for w, po in taken]})
    keep = {w.ward_code: w for w in office.wards}
    office.wards = [keep.get(code) or ServedWard(ward_code=code) for code in wanted]


def create_post_office(session: Session, data: dict[str, Any], *, now: datetime) -> PostOffice:
    """Create a post office and the wards it serves; raises AlreadyExists, WardAlreadyServed."""
    if session.get(PostOffice, data["code"]) is not None:
        raise AlreadyExists(f"Post office {data['code']!r} exists already.",
                            errors={"code": ["Already exists."]})
    office = PostOffice(code=data["code"], name=data["name"], address_text=data.get("address_text"),
                        phone=data.get("phone"), lat=data.get("lat"), lon=data.get("lon"),
                        created_at=now, updated_at=now)
    with _conflicts_as(AlreadyExists(f"Post office {data['code']!r} exists already, or one of "
                                     "its wards is served by another office.",
                                     errors={"code": ["Already exists, or a ward is taken."]}),
                       session):
        session.add(office)
        _assign_wards(session, office, data.get("served_ward_codes", []))
        session.flush()
    return office


@contextmanager
def _conflicts_as(error: Conflict, session: Session) -> Iterator[None]:
    """A unique key broken by a concurrent request is the caller's 409, not our 500: the
    checks above run before the insert, so a race can still slip between the two."""
    savepoint = session.begin_nested()
    try:
        yield
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise error from None


def update_post_office(session: Session, code: str, changes: dict[str, Any], *,
                       now: datetime) -> PostOffice:
    """Apply a partial update; `served_ward_codes` replaces the whole set."""
    office = get_post_office(session, code)
    with _conflicts_as(WardAlreadyServed("A ward was just given to another post office.",
                                         errors={"served_ward_codes": ["A ward is taken."]}),
                       session):
        for attr in ("name", "address_text", "phone", "lat", "lon"):
            if attr in changes:
                setattr(office, attr, changes[attr])
        if "served_ward_codes" in changes:
            _assign_wards(session, office, changes["served_ward_codes"])
        office.updated_at = now
        session.flush()
    return office


# -- agencies -----------------------------------------------------------------------------

def get_agency(session: Session, code: str) -> Agency:
    agency = session.get(Agency, code)
    if agency is None:
        raise AgencyNotFound(f"No agency {code!r}.")
    return agency


def list_agencies(session: Session, *, limit: int, cursor: str | None,
                  codes: Iterable[str] | None = None) -> Page[Agency]:
    stmt = select(Agency)
    if codes is not None:
        stmt = stmt.where(Agency.code.in_(list(codes)))
    return paginate(session, stmt, Agency.code, limit=limit, cursor=cursor)


def _check_post_office_exists(session: Session, code: str | None) -> None:
    if code is not None and session.get(PostOffice, code) is None:
        raise RuleViolation(f"No post office {code!r}.",
                            errors={"post_office_code": ["Unknown post office."]})


def _locate(agency: Agency) -> None:
    """Place the agency's desk in a 2025 ward from its address (origin of its orders' legs)."""
    parts = agency.address or {}
    if parts.get("line") or parts.get("ward"):
        found = resolve_address(line=parts.get("line"), ward=parts.get("ward"),
                                district=parts.get("district"), province=parts.get("province"),
                                lat=parts.get("lat"), lon=parts.get("lon"))
    elif agency.address_text:
        found = resolve_address(agency.address_text)
    else:
        found = None
    if found is None or found.ward_code is None:
        agency.ward_code = agency.province_code = agency.old_district_code = None
        agency.lat = agency.lon = None
        return
    agency.ward_code, agency.province_code = found.ward_code, found.province_code
    agency.lat, agency.lon = found.lat, found.lon
    old = get_gazetteer().old_wards.get(found.old_ward_code or "")
    agency.old_district_code = old.district_code if old else None


def create_agency(session: Session, data: dict[str, Any], *, now: datetime) -> Agency:
    """Create an agency, placed in its ward; raises AlreadyExists, InvalidOfficeHours,
    RuleViolation."""
    if session.get(Agency, data["code"]) is not None:
        raise AlreadyExists(f"Agency {data['code']!r} exists already.",
                            errors={"code": ["Already exists."]})
    _check_post_office_exists(session, data.get("post_office_code"))
    agency = Agency(
        code=data["code"], name=data["name"], address=data.get("address"),
        address_text=data.get("address_text"), phone=data.get("phone"),
        office_hours=check_office_hours(data.get("office_hours") or DEFAULT_OFFICE_HOURS),
        post_office_code=data.get("post_office_code"), created_at=now, updated_at=now)
    _locate(agency)
    with _conflicts_as(AlreadyExists(f"Agency {data['code']!r} exists already.",
                                     errors={"code": ["Already exists."]}), session):
        session.add(agency)
        session.flush()
    return agency


def update_agency(session: Session, code: str, changes: dict[str, Any], *, now: datetime) -> Agency:
    """Apply a partial update to an agency."""
    agency = get_agency(session, code)
    if "post_office_code" in changes:
        _check_post_office_exists(session, changes["post_office_code"])
    if "office_hours" in changes:
        changes = {**changes, "office_hours": check_office_hours(changes["office_hours"])}
    for attr in ("name", "address", "address_text", "phone", "office_hours", "post_office_code"):
        if attr in changes:
            setattr(agency, attr, changes[attr])
    if "address" in changes or "address_text" in changes:
        _locate(agency)
    agency.updated_at = now
    session.flush()
    return agency
