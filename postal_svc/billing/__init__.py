"""Billing: pure pricing of legs (tariffs, promotions, VAT) in integer VND."""
from __future__ import annotations

from postal_svc.billing.errors import (
    AddOnNotOffered,
    BillingError,
    InvalidPricingFacts,
    InvalidPromotion,
    InvalidTariff,
    InvalidTaxRate,
    NoTariffInForce,
    NoTaxRateInForce,
    NoZoneForRoute,
    WeightOutOfRange,
)
from postal_svc.billing.facts import AreaRef, Channel, OrderKind, PaymentMethod, PricingFacts
from postal_svc.billing.money import percent_of, round_vnd, split_vat
from postal_svc.billing.pricing import LineCode, Price, PriceLine, TariffBook, price_order
from postal_svc.billing.promotions import (
    AppliedPromotion,
    Eligibility,
    Promotion,
    PromotionKind,
    combine_promotions,
)
from postal_svc.billing.tariffs import (
    AddOns,
    Exemption,
    RegionMap,
    RegionRelation,
    TariffVersion,
    WeightBand,
    ZoneRelation,
    ZoneRule,
)
from postal_svc.billing.tax import (
    DEFAULT_VAT_TABLE,
    TaxCategory,
    VatRate,
    VatTable,
    default_vat_rates,
    format_rate,
    vietnam_date,
)

__all__ = [
    "DEFAULT_VAT_TABLE", "AddOnNotOffered", "AddOns", "AppliedPromotion", "AreaRef",
    "BillingError", "Channel", "Eligibility", "Exemption", "InvalidPricingFacts",
    "InvalidPromotion", "InvalidTariff", "InvalidTaxRate", "LineCode", "NoTariffInForce",
    "NoTaxRateInForce", "NoZoneForRoute", "OrderKind", "PaymentMethod", "Price", "PriceLine",
    "PricingFacts", "Promotion", "PromotionKind", "RegionMap", "RegionRelation", "TariffBook",
    "TariffVersion", "TaxCategory", "VatRate", "VatTable", "WeightBand", "WeightOutOfRange",
    "ZoneRelation", "ZoneRule", "combine_promotions", "default_vat_rates", "format_rate",
    "percent_of", "price_order", "round_vnd", "split_vat", "vietnam_date",
]
