"""Named billing errors; each carries the machine `code` of the API error shape."""
from __future__ import annotations

from typing import Any


class BillingError(Exception):
    """Base of every billing condition a caller can act on.

    Same constructor as the project's `DomainError` (message, `errors` keyed by field path,
    `details`) so these classes can be re-parented onto that hierarchy without touching callers.
    """

    code = "billing_error"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.details = details or {}


class InvalidPricingFacts(BillingError):
    """The order facts handed to pricing are malformed (unknown kind, weight <= 0, naive time)."""

    code = "invalid_pricing_facts"


class WeightOutOfRange(InvalidPricingFacts):
    """The item is heavier than the tariff version in force accepts."""

    code = "weight_out_of_range"


class NoTariffInForce(BillingError):
    """No tariff version was effective at the registration instant."""

    code = "no_tariff_in_force"


class NoZoneForRoute(BillingError):
    """No zone rule of the tariff version matches the origin/destination pair."""

    code = "no_zone_for_route"


class AddOnNotOffered(BillingError):
    """The order asks for an add-on (fee forwarding, cash on delivery) the tariff does not offer."""

    code = "add_on_not_offered"


class NoTaxRateInForce(BillingError):
    """The VAT table has no row for the tax category on the Vietnam-local registration date."""

    code = "no_tax_rate_in_force"


class InvalidTariff(BillingError):
    """Tariff data (a version or a tariff book) is inconsistent."""

    code = "invalid_tariff"


class InvalidPromotion(BillingError):
    """Promotion data is inconsistent (a value unfit for its kind, a window ending too early)."""

    code = "invalid_promotion"


class InvalidTaxRate(BillingError):
    """VAT table data is inconsistent (overlapping periods, a rate for `not_subject`...)."""

    code = "invalid_tax_rate"
