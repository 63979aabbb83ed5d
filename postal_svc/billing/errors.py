"""Named billing errors; each carries the machine `code` of the API error shape.

They sit on the project's DomainError hierarchy, so `routes/` maps them like any other:
bad data and broken business rules -> RuleViolation (422), unknown codes -> NotFound (404),
duplicates -> Conflict (409).
"""
from __future__ import annotations

from postal_svc.errors import Conflict, DomainError, NotFound, RuleViolation


class BillingError(DomainError):
    """Base of every billing condition a caller can act on."""

    code = "billing_error"


class InvalidPricingFacts(BillingError, RuleViolation):
    """The order facts handed to pricing are malformed (unknown kind, weight <= 0, naive time)."""

    code = "invalid_pricing_facts"


class WeightOutOfRange(InvalidPricingFacts):
    """The item is heavier than the tariff version in force accepts."""

    code = "weight_out_of_range"


class NoTariffInForce(BillingError, RuleViolation):
    """No tariff version was effective at the registration instant."""

    code = "no_tariff_in_force"


class NoZoneForRoute(BillingError, RuleViolation):
    """No zone rule of the tariff version matches the origin/destination pair."""

    code = "no_zone_for_route"


class AddOnNotOffered(BillingError, RuleViolation):
    """The order asks for an add-on (fee forwarding, cash on delivery) the tariff does not offer."""

    code = "add_on_not_offered"


class NoTaxRateInForce(BillingError, RuleViolation):
    """The VAT table has no row for the tax category on the Vietnam-local registration date."""

    code = "no_tax_rate_in_force"


class InvalidTariff(BillingError, RuleViolation):
    """Tariff data (a version or a tariff book) is inconsistent."""

    code = "invalid_tariff"


class InvalidPromotion(BillingError, RuleViolation):
    """Promotion data is inconsistent (a value unfit for its kind, a window ending too early)."""

    code = "invalid_promotion"


class InvalidTaxRate(BillingError, RuleViolation):
    """VAT table data is inconsistent (overlapping periods, a rate for `not_subject`...)."""

    code = "invalid_tax_rate"


class TariffVersionNotFound(BillingError, NotFound):
    code = "tariff_version_not_found"


class PromotionNotFound(BillingError, NotFound):
    code = "promotion_not_found"


class TariffVersionExists(BillingError, Conflict):
    """A tariff version with this code, or taking effect at this instant, exists already."""

    code = "tariff_version_exists"


class PromotionExists(BillingError, Conflict):
    code = "promotion_exists"


class TaxRateExists(BillingError, Conflict):
    """A VAT row of this category starting on this date exists already."""

    code = "tax_rate_exists"


class RetroactiveChange(BillingError, RuleViolation):
    """A change that would alter prices at instants already past (past prices never change)."""

    code = "retroactive_change"


class QuoteNotFound(BillingError, RuleViolation):
    """No quote with this id belongs to the caller (422: it is a bad field of an order)."""

    code = "quote_not_found"


class QuoteExpired(BillingError, RuleViolation):
    code = "quote_expired"


class QuoteMismatch(BillingError, RuleViolation):
    """The order's pricing facts differ from the facts the quote was given for."""

    code = "quote_mismatch"


class QuoteUsed(BillingError, RuleViolation):
    """Another order has redeemed this quote already."""

    code = "quote_used"


class InvalidQuote(BillingError, RuleViolation):
    """A quote request breaks a rule (e.g. a registration instant in the future)."""

    code = "invalid_quote"
