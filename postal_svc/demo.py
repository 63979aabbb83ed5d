"""Demo data: HCMC post offices, ward agencies and one API client per role (idempotent)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient
from postal_svc.access.service import KEY_PREFIX, Role, hash_key
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.directory.service import DEFAULT_OFFICE_HOURS, create_agency, create_post_office

# Figures and names below are illustrative demo data, not reference data.
POST_OFFICES = [
    {"code": "BD-THUDUC", "name": "Bưu điện Thành phố Thủ Đức",
     "address_text": "2 Võ Văn Ngân, Phường Thủ Đức, Thành phố Hồ Chí Minh",
     "lat": 10.8500, "lon": 106.7720,
     # New (2025) wards of the former Thủ Đức city.
     "served_ward_codes": ["26794", "26797", "26812", "26824", "26833", "26842", "26848",
                           "26857", "26860", "27097", "27112", "27118"]},
    {"code": "BD-SAIGON", "name": "Bưu điện Trung tâm Sài Gòn",
     "address_text": "2 Công xã Paris, Phường Sài Gòn, Thành phố Hồ Chí Minh",
     "lat": 10.7798, "lon": 106.6999,
     "served_ward_codes": ["26734", "26737", "26740", "26743"]},
]

AGENCIES = [
    {"code": "UBND-LINHTRUNG", "name": "UBND phường Linh Trung",
     "address_text": "Đường số 9, Phường Linh Xuân, Thành phố Hồ Chí Minh",
     "post_office_code": "BD-THUDUC"},
    {"code": "UBND-TRUONGTHANH", "name": "UBND phường Trường Thạnh",
     "address_text": "Lò Lu, Phường Long Phước, Thành phố Hồ Chí Minh",
     "post_office_code": "BD-THUDUC"},
    {"code": "UBND-BENNGHE", "name": "UBND phường Bến Nghé",
     "address_text": "29 Nguyễn Thị Minh Khai, Phường Sài Gòn, Thành phố Hồ Chí Minh",
     "post_office_code": "BD-SAIGON"},
]


@dataclass(frozen=True)
class DemoClient:
    name: str
    role: Role
    scope: tuple[str, ...]
    key: str


# Well-known keys so the README can show working requests; `demo load` refuses production.
DEMO_CLIENTS = [
    DemoClient("Demo admin", Role.ADMIN, (), KEY_PREFIX + "demo_admin_key"),
    DemoClient("Demo one-stop system (Thủ Đức wards)", Role.AGENCY_SYSTEM,
               ("UBND-LINHTRUNG", "UBND-TRUONGTHANH"), KEY_PREFIX + "demo_agency_key"),
    DemoClient("Demo dispatcher, Thủ Đức", Role.DISPATCHER, ("BD-THUDUC",),
               KEY_PREFIX + "demo_dispatcher_key"),
    DemoClient("Demo courier, Thủ Đức", Role.COURIER, ("BD-THUDUC",), KEY_PREFIX + "demo_courier_key"),
]


def load_demo(session: Session, *, now: datetime) -> dict[str, int]:
    """Insert whatever demo data is missing; running it again changes nothing."""
    added = {"post_offices": 0, "agencies": 0, "clients": 0}
    for office in POST_OFFICES:
        if session.get(PostOffice, office["code"]) is None:
            create_post_office(session, dict(office), now=now)
            added["post_offices"] += 1
    for agency in AGENCIES:
        if session.get(Agency, agency["code"]) is None:
            create_agency(session, {**agency, "office_hours": DEFAULT_OFFICE_HOURS}, now=now)
            added["agencies"] += 1
    for client in DEMO_CLIENTS:
        digest = hash_key(client.key)
        if session.scalar(select(ApiClient.id).where(ApiClient.key_hash == digest)) is None:
            session.add(ApiClient(name=client.name, role=client.role.value, scope=list(client.scope),
                                  key_prefix=client.key[:12], key_hash=digest, created_at=now))
            added["clients"] += 1
    session.flush()
    return added
