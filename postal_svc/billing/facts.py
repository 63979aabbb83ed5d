"""What an order tells pricing: kind, channel, both ends, weight, payment (values as in API.md)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from postal_svc.billing.errors import InvalidPricingFacts


class OrderKind(StrEnum):
    DOSSIER_PICKUP = "dossier_pickup"  # citizen address -> agency
    RESULT_DELIVERY = "result_delivery"  # agency -> citizen address


class Channel(StrEnum):
    ONLINE_PUBLIC_SERVICE = "online_public_service"
    COUNTER = "counter"
    HOTLINE = "hotline"


class PaymentMethod(StrEnum):
    ONLINE = "online"
    CASH_ON_DELIVERY = "cash_on_delivery"
    AGENCY_ACCOUNT = "agency_account"


@dataclass(frozen=True, slots=True)
class AreaRef:
    """One end of a leg as zoning sees it.

    `old_district_code` is the pre-2025-07-01 district (None on the new two-level map);
    `region` is a fallback for provinces the tariff's own province->region map does not list.
    """

    ward_code: str
    old_district_code: str | None
    province_code: str
    region: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingFacts:
    """The order facts pricing depends on, validated on construction.

    `weight_g` is the weight of the sealed item (a dossier travels as one sealed item, so
    `pieces` is recorded but does not multiply postage). `fee_forwarding_vnd` is the procedure
    fee the post collects and forwards to the agency; None or 0 means there is nothing to forward.
    String values for kind, channel and payment method are accepted and normalised to enums.
    Raises InvalidPricingFacts listing every bad field.
    """

    kind: OrderKind
    channel: Channel
    agency_code: str
    origin: AreaRef
    destination: AreaRef
    weight_g: int
    payment_method: PaymentMethod
    pieces: int = 1
    fee_forwarding_vnd: int | None = None
    beneficiary_category: str | None = None

    def __post_init__(self) -> None:
        problems: dict[str, list[str]] = {}
        for name, enum in (("kind", OrderKind), ("channel", Channel),
                           ("payment_method", PaymentMethod)):
            try:
                object.__setattr__(self, name, enum(getattr(self, name)))
            except ValueError:
                problems[name] = [f"must be one of {', '.join(m.value for m in enum)}"]
        if not _is_code(self.agency_code):
            problems["agency_code"] = ["required"]
        for end in ("origin", "destination"):
            _check_area(getattr(self, end), end, problems)
        if not _is_int(self.weight_g) or self.weight_g <= 0:
            problems["weight_g"] = ["must be a positive whole number of grams"]
        if not _is_int(self.pieces) or self.pieces < 1:
            problems["pieces"] = ["must be a whole number >= 1"]
        if self.fee_forwarding_vnd is not None and (
                not _is_int(self.fee_forwarding_vnd) or self.fee_forwarding_vnd < 0):
            problems["fee_forwarding_vnd"] = ["must be a whole number of VND >= 0, or null"]
        if self.beneficiary_category is not None and not _is_code(self.beneficiary_category):
            problems["beneficiary_category"] = ["must be a non-empty code or null"]
        if problems:
            raise InvalidPricingFacts("the order facts cannot be priced", errors=problems)

    @property
    def agency_area(self) -> AreaRef:
        """The agency's end of the leg: where the service is provided, for promotion eligibility."""
        return self.destination if self.kind is OrderKind.DOSSIER_PICKUP else self.origin


def _check_area(area: object, path: str, problems: dict[str, list[str]]) -> None:
    if not isinstance(area, AreaRef):
        problems[path] = ["must be an AreaRef"]
        return
    if not _is_code(area.ward_code):
        problems[f"{path}.ward_code"] = ["required"]
    if not _is_code(area.province_code):
        problems[f"{path}.province_code"] = ["required"]
    if area.old_district_code is not None and not _is_code(area.old_district_code):
        problems[f"{path}.old_district_code"] = ["must be a non-empty code or null"]
    if area.region is not None and not _is_code(area.region):
        problems[f"{path}.region"] = ["must be a non-empty code or null"]


def _is_code(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_int(value: object) -> bool:
    return type(value) is int
