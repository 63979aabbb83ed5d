"""The pricing facts of an order leg, built one way for quotes and for orders alike.

A quote is honoured only for an order whose facts equal the quoted ones, so both must be
built by this one function from the same inputs.
"""
from __future__ import annotations

from typing import Protocol
from weakref import WeakKeyDictionary

from postal_svc.billing.facts import AreaRef, OrderKind, PricingFacts
from postal_svc.geo.gazetteer import Gazetteer, get_gazetteer
from postal_svc.shipments.addresses import ResolvedAddress


class Located(Protocol):
    """Anything placed in a ward: an Agency row, or the agency's cached look-up."""

    @property
    def ward_code(self) -> str | None: ...

    @property
    def province_code(self) -> str | None: ...

    @property
    def old_district_code(self) -> str | None: ...


def agency_area(agency: Located | None, gazetteer: Gazetteer | None = None) -> AreaRef | None:
    """The agency desk's end of a leg, or None while its address has no ward."""
    if agency is None or not agency.ward_code or not agency.province_code:
        return None
    return AreaRef(ward_code=agency.ward_code,
                   old_district_code=(agency.old_district_code
                                      or old_district_of_ward(agency.ward_code, gazetteer)),
                   province_code=agency.province_code)


def address_area(address: ResolvedAddress, gazetteer: Gazetteer | None = None) -> AreaRef | None:
    """The citizen's end of a leg, or None while the address has no ward.

    The old (pre-2025-07-01) district, by which the 2020 tariff zones, comes from the old ward
    the citizen wrote when they wrote old units, else from the 2025 ward when it lies wholly
    in one old district.
    """
    if not address.ward_code or not address.province_code:
        return None
    old_district_code = None
    if address.old_ward_code:
        old_ward = (gazetteer or get_gazetteer()).old_wards.get(address.old_ward_code)
        old_district_code = old_ward.district_code if old_ward is not None else None
    return AreaRef(ward_code=address.ward_code,
                   old_district_code=(old_district_code
                                      or old_district_of_ward(address.ward_code, gazetteer)),
                   province_code=address.province_code)


def old_district_of_ward(ward_code: str, gazetteer: Gazetteer | None = None) -> str | None:
    """The old district a 2025 ward lay in, when every old ward it was made of (even in part)
    belonged to that one district (about 9 wards in 10); None when it straddles districts."""
    return _old_districts_by_ward(gazetteer or get_gazetteer()).get(ward_code)


_OLD_DISTRICTS: WeakKeyDictionary[Gazetteer, dict[str, str]] = WeakKeyDictionary()


def _old_districts_by_ward(gazetteer: Gazetteer) -> dict[str, str]:
    found = _OLD_DISTRICTS.get(gazetteer)
    if found is None:
        districts: dict[str, set[str]] = {}
        for old_ward in gazetteer.old_wards.values():
            for successor in old_ward.successors:
                districts.setdefault(successor.ward_code, set()).add(old_ward.district_code)
        found = {ward: next(iter(codes)) for ward, codes in districts.items() if len(codes) == 1}
        # Built once per gazetteer (there is one per process); a race builds it twice, harmlessly.
        _OLD_DISTRICTS[gazetteer] = found
    return found


def leg_pricing_facts(*, kind: str, channel: str, agency_code: str,
                      agency_location: Located | AreaRef | None,
                      citizen_address: ResolvedAddress, weight_g: int, payment_method: str,
                      fee_forwarding_vnd: int | None = None,
                      beneficiary_category: str | None = None) -> PricingFacts | None:
    """PricingFacts for one leg: the agency's desk is the origin of a result delivery and the
    destination of a dossier pickup; the citizen's address is the other end.

    Returns None when either end has no ward yet (the order is priced later, once a
    dispatcher fixes the address). Raises InvalidPricingFacts (422) for malformed values.
    """
    agency_end = (agency_location if isinstance(agency_location, AreaRef)
                  else agency_area(agency_location))
    citizen_end = address_area(citizen_address)
    if agency_end is None or citizen_end is None:
        return None
    pickup = kind == OrderKind.DOSSIER_PICKUP
    return PricingFacts(
        kind=kind,  # type: ignore[arg-type]  # normalised to the enum by PricingFacts
        channel=channel,  # type: ignore[arg-type]
        agency_code=agency_code,
        origin=citizen_end if pickup else agency_end,
        destination=agency_end if pickup else citizen_end,
        weight_g=weight_g,
        payment_method=payment_method,  # type: ignore[arg-type]
        # 0 and None both mean "nothing to forward": one spelling, so facts compare equal.
        fee_forwarding_vnd=fee_forwarding_vnd or None,
        beneficiary_category=beneficiary_category,
    )
