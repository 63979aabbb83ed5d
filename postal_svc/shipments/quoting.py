"""Quoting an order leg before it is placed: the order's own facts, priced and kept 30 minutes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from postal_svc.access.service import Caller, Role
from postal_svc.billing import service as billing
from postal_svc.billing.facts import AreaRef
from postal_svc.billing.models import Quote
from postal_svc.directory.models import Agency
from postal_svc.errors import RuleViolation
from postal_svc.shipments.addresses import AddressInput, AddressResolver
from postal_svc.shipments.intake import InvalidOrder, UnknownAgency, payment_method_for
from postal_svc.shipments.pricing_facts import address_area, leg_pricing_facts


class AddressUnresolved(RuleViolation):
    """An end of the leg cannot be placed in a ward, so it cannot be zoned and priced."""

    code = "address_unresolved"


@dataclass(frozen=True)
class QuoteRequest:
    """The pricing-relevant fields of an order (formats already checked)."""

    kind: str
    channel: str
    agency_code: str
    citizen_address: AddressInput
    weight_g: int
    payer: str = "citizen"
    registered_at: datetime | None = None
    # Where the agency's desk is, when it differs from (or is missing in) the directory.
    origin_address: AddressInput | None = None
    payment_method: str | None = None
    fee_forwarding_vnd: int | None = None
    beneficiary_category: str | None = None


def quote_leg(session: Session, request: QuoteRequest, *, caller: Caller, now: datetime,
              resolve_address: AddressResolver, validity: timedelta = billing.QUOTE_VALIDITY,
              future_skew: timedelta = timedelta(0)) -> Quote:
    """Quote an order leg as intake would price it, at `registered_at` (default `now`).

    Agency systems quote for their own agencies (others are unknown, as in intake); staff
    for any agency. The agency's desk is the leg's agency end unless `origin_address` says
    otherwise. Raises UnknownAgency, InvalidOrder (payment method unfit for the payer),
    AddressUnresolved (an end without a ward), InvalidQuote (a future instant) and the
    pricing errors (all 422).
    """
    allowed = caller.agency_codes() if caller.role is Role.AGENCY_SYSTEM else None
    agency = session.get(Agency, request.agency_code)
    if agency is None or (allowed is not None and request.agency_code not in allowed):
        raise UnknownAgency("No such agency among those you act for.",
                            errors={"agency_code": ["Unknown agency."]})
    method, problem = payment_method_for(request.payer, request.payment_method)
    if problem:
        raise InvalidOrder("The payment method does not fit the payer.",
                           errors={"payment_method": [problem]})

    citizen = resolve_address(session, request.citizen_address)
    if address_area(citizen) is None:
        raise AddressUnresolved("The citizen's address cannot be placed in a ward.",
                                errors={"citizen.address": ["No ward found for this address."]})
    agency_end: Agency | AreaRef = agency
    if request.origin_address is not None:
        origin = address_area(resolve_address(session, request.origin_address))
        if origin is None:
            raise AddressUnresolved("The origin address cannot be placed in a ward.",
                                    errors={"origin.address": ["No ward found for this address."]})
        agency_end = origin
    facts = leg_pricing_facts(
        kind=request.kind, channel=request.channel, agency_code=request.agency_code,
        agency_location=agency_end, citizen_address=citizen, weight_g=request.weight_g,
        payment_method=method, fee_forwarding_vnd=request.fee_forwarding_vnd,
        beneficiary_category=request.beneficiary_category)
    if facts is None:
        raise AddressUnresolved(
            "The agency's desk has no known ward; give its address as `origin`.",
            errors={"origin": ["Required: the agency's location is unknown."]})
    return billing.quote_price(session, facts, request.registered_at or now,
                               client_id=caller.client_id, now=now, validity=validity,
                               future_skew=future_skew)
