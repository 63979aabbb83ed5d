"""Demo data: HCMC post offices, ward agencies, one API client per role, and the billing data
(tariffs, the Covid-19 promotion, the VAT table); loading it twice adds nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.models import ApiClient, StaffUser
from postal_svc.access.service import KEY_PREFIX, Role, hash_key
from postal_svc.access.staff import create_staff_user
from postal_svc.billing.service import load_demo_billing
from postal_svc.directory.couriers import Courier, create_courier
from postal_svc.directory.models import Agency, PostOffice
from postal_svc.directory.service import DEFAULT_OFFICE_HOURS, create_agency, create_post_office
from postal_svc.geo.places import wards_of_province
from postal_svc.geo.resolver import distance_m

# Figures and names below are illustrative demo data, not reference data. Every 2025 ward of
# Hồ Chí Minh City (including former Bình Dương and Bà Rịa-Vũng Tàu) is served by the demo
# office nearest to the ward's centre.
POST_OFFICES = [
    {"code": "BD-SAIGON", "name": "Bưu điện Trung tâm Sài Gòn",
     "address_text": "2 Công xã Paris, Phường Sài Gòn, Thành phố Hồ Chí Minh",
     "lat": 10.7798, "lon": 106.6999},
    {"code": "BD-THUDUC", "name": "Bưu điện Thủ Đức",
     "address_text": "2 Võ Văn Ngân, Phường Thủ Đức, Thành phố Hồ Chí Minh",
     "lat": 10.8500, "lon": 106.7720},
    {"code": "BD-GOVAP", "name": "Bưu điện Gò Vấp", "lat": 10.8380, "lon": 106.6650,
     "address_text": "Nguyễn Văn Nghi, Phường Gò Vấp, Thành phố Hồ Chí Minh"},
    {"code": "BD-CHOLON", "name": "Bưu điện Chợ Lớn", "lat": 10.7546, "lon": 106.6633,
     "address_text": "Hùng Vương, Phường Chợ Lớn, Thành phố Hồ Chí Minh"},
    {"code": "BD-BINHCHANH", "name": "Bưu điện Bình Chánh", "lat": 10.6900, "lon": 106.5900,
     "address_text": "Quốc lộ 1A, Xã Bình Chánh, Thành phố Hồ Chí Minh"},
    {"code": "BD-CUCHI", "name": "Bưu điện Củ Chi", "lat": 10.9730, "lon": 106.4930,
     "address_text": "Tỉnh lộ 8, Xã Củ Chi, Thành phố Hồ Chí Minh"},
    {"code": "BD-NHABE", "name": "Bưu điện Nhà Bè", "lat": 10.6300, "lon": 106.7300,
     "address_text": "Huỳnh Tấn Phát, Xã Nhà Bè, Thành phố Hồ Chí Minh"},
    {"code": "BD-THUDAUMOT", "name": "Bưu điện Thủ Dầu Một", "lat": 10.9804, "lon": 106.6519,
     "address_text": "Yersin, Phường Thủ Dầu Một, Thành phố Hồ Chí Minh"},
    {"code": "BD-DIAN", "name": "Bưu điện Dĩ An", "lat": 10.9000, "lon": 106.7700,
     "address_text": "Nguyễn An Ninh, Phường Dĩ An, Thành phố Hồ Chí Minh"},
    {"code": "BD-BENCAT", "name": "Bưu điện Bến Cát", "lat": 11.1500, "lon": 106.5900,
     "address_text": "Quốc lộ 13, Phường Bến Cát, Thành phố Hồ Chí Minh"},
    {"code": "BD-VUNGTAU", "name": "Bưu điện Vũng Tàu", "lat": 10.3460, "lon": 107.0843,
     "address_text": "Lê Lợi, Phường Vũng Tàu, Thành phố Hồ Chí Minh"},
    {"code": "BD-BARIA", "name": "Bưu điện Bà Rịa", "lat": 10.4963, "lon": 107.1685,
     "address_text": "Cách Mạng Tháng Tám, Phường Bà Rịa, Thành phố Hồ Chí Minh"},
]
HCMC = "79"


def wards_by_nearest_office() -> dict[str, list[str]]:
    """Every 2025 HCMC ward, given to the demo office nearest to its centre."""
    served: dict[str, list[str]] = {office["code"]: [] for office in POST_OFFICES}
    for ward in wards_of_province(HCMC):
        nearest = min(POST_OFFICES, key=lambda o: distance_m((o["lat"], o["lon"]), (ward.lat, ward.lon)))
        served[nearest["code"]].append(ward.code)
    return served

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


COURIERS_PER_OFFICE = 4
@dataclass(frozen=True)
class DemoStaffUser:
    username: str
    role: Role
    post_office_codes: tuple[str, ...]
    password: str


# Console users with well-known passwords (never in production: `demo load` refuses there).
DEMO_STAFF = [
    DemoStaffUser("dieuphoi", Role.DISPATCHER, ("BD-THUDUC",), "demo-dieuphoi"),
    DemoStaffUser("quantri", Role.ADMIN, (), "demo-quantri"),
]


DEMO_COURIER_CODE = "BD-THUDUC-C1"
"""The courier whose key is the demo courier client's."""


def demo_couriers() -> list[dict[str, object]]:
    """Four motorbike couriers per demo office (illustrative capacity and shifts)."""
    return [{"code": f"{office['code']}-C{n}", "name": f"Bưu tá {n} ({office['name']})",
             "post_office_code": office["code"], "capacity_items": 60, "capacity_kg": 30,
             "shifts": [["07:30", "11:30"], ["13:00", "17:00"]]}
            for office in POST_OFFICES for n in range(1, COURIERS_PER_OFFICE + 1)]


def _load_demo_couriers(session: Session, *, now: datetime) -> None:
    session.flush()
    courier_client = session.scalar(select(ApiClient.id).where(
        ApiClient.key_hash == hash_key(KEY_PREFIX + "demo_courier_key")))
    for courier in demo_couriers():
        if session.get(Courier, courier["code"]) is None:
            linked = courier["code"] == DEMO_COURIER_CODE and courier_client is not None
            create_courier(session, {**courier, "client_id": courier_client if linked else None},
                           now=now)


def load_demo(session: Session, *, now: datetime) -> dict[str, int]:
    """Insert whatever demo data is missing; running it again changes nothing."""
    added = {"post_offices": 0, "agencies": 0, "clients": 0}
    served = wards_by_nearest_office()
    for office in POST_OFFICES:
        if session.get(PostOffice, office["code"]) is None:
            create_post_office(session, {**office, "served_ward_codes": served[office["code"]]},
                               now=now)
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
    for staff in DEMO_STAFF:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == staff.username)) is None:
            create_staff_user(session, username=staff.username, role=staff.role.value,
                              password=staff.password, post_office_codes=staff.post_office_codes,
                              office_exists=lambda code: session.get(PostOffice, code) is not None,
                              now=now)
    # Couriers, the demo courier client riding as BD-THUDUC-C1 (idempotent; not counted).
    _load_demo_couriers(session, now=now)
    # Tariffs, the Covid-19 promotion and the VAT table (idempotent too). Its counts stay out
    # of the returned summary, whose shape callers compare.
    load_demo_billing(session, now)
    session.flush()
    return added
