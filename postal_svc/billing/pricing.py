"""Pricing a leg: a pure function of the order facts, the registration instant and tariff data."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from postal_svc.billing.errors import (
    AddOnNotOffered,
    InvalidPricingFacts,
    InvalidPromotion,
    InvalidTariff,
    NoTariffInForce,
)
from postal_svc.billing.facts import AreaRef, OrderKind, PaymentMethod, PricingFacts
from postal_svc.billing.money import split_vat
from postal_svc.billing.promotions import Promotion, combine_promotions
from postal_svc.billing.tariffs import TariffVersion
from postal_svc.billing.tax import (
    DEFAULT_VAT_TABLE, TaxCategory, VatTable, format_rate, vietnam_date)

__all__ = ["AreaRef", "LineCode", "Price", "PriceLine", "PricingFacts", "TariffBook",
           "price_order", "remembered_price"]


class LineCode(StrEnum):
    POSTAGE = "postage"
    PROMOTION = "promotion"
    EXEMPTION = "exemption"
    FEE_FORWARDING = "fee_forwarding"
    COD_FEE = "cod_fee"


_KIND_LABELS = {
    OrderKind.DOSSIER_PICKUP: "Cước chuyển phát hồ sơ",
    OrderKind.RESULT_DELIVERY: "Cước chuyển trả kết quả",
}
_FEE_FORWARDING_LABEL = "Phí dịch vụ thu hộ, chuyển lệ phí cho cơ quan"
_COD_LABEL = "Phí thu tiền khi phát (COD)"


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One invoice line, with its own VAT split (negative for discounts).

    Raises ValueError if `net + vat != amount`: a line that does not add up is never built.
    """

    code: LineCode
    description: str
    amount: int
    net: int
    vat: int
    tax_category: TaxCategory
    vat_rate: Decimal | None
    tariff_version: str | None = None
    zone: str | None = None
    promotion_code: str | None = None

    def __post_init__(self) -> None:
        if self.net + self.vat != self.amount:
            raise ValueError(f"{self.code} line: net {self.net} + vat {self.vat} "
                             f"!= amount {self.amount}")

    def to_dict(self) -> dict[str, Any]:
        """The line as in API.md's PRICE object; every key is always present (null if n/a)."""
        return {
            "code": self.code.value,
            "description": self.description,
            "amount": self.amount,
            "tariff_version": self.tariff_version,
            "zone": self.zone,
            "promotion_code": self.promotion_code,
            "tax_category": self.tax_category.value,
            "vat_rate": format_rate(self.vat_rate),
            "net": self.net,
            "vat": self.vat,
        }


@dataclass(frozen=True, slots=True)
class Price:
    """A priced leg: the snapshot an order or a quote keeps.

    `total` is the sum of line amounts (the post's price, VAT included) and `vat_included` the
    sum of line VATs (both checked on construction, ValueError otherwise). `procedure_fee` is
    the agency's procedure fee the post collects and forwards untouched: it is not part of the
    price (no VAT, no discount, not the post's revenue), so it is no line and not in `total`;
    `amount_due` = `total` + `procedure_fee` is what the payer hands the post. `priced_at` is
    the instant the rules were evaluated at, i.e. the registration instant, not the wall clock.
    """

    lines: tuple[PriceLine, ...]
    total: int
    vat_included: int
    vat_rate: Decimal | None
    tax_category: TaxCategory
    priced_at: datetime
    tariff_version: str
    zone: str
    promotion_codes: tuple[str, ...]
    procedure_fee: int = 0
    currency: str = "VND"

    def __post_init__(self) -> None:
        if self.total != sum(line.amount for line in self.lines):
            raise ValueError("price total is not the sum of its lines")
        if self.vat_included != sum(line.vat for line in self.lines):
            raise ValueError("price VAT is not the sum of its lines' VAT")
        if type(self.procedure_fee) is not int or self.procedure_fee < 0:
            raise ValueError("procedure fee must be an int number of VND >= 0")

    @property
    def amount_due(self) -> int:
        """What the payer hands the post: the price plus the procedure fee it forwards."""
        return self.total + self.procedure_fee

    def to_dict(self) -> dict[str, Any]:
        """The PRICE object of API.md: integer VND, `vat_rate` as "8%" or null, times in UTC."""
        return {
            "currency": self.currency,
            "lines": [line.to_dict() for line in self.lines],
            "total": self.total,
            "vat_included": self.vat_included,
            "procedure_fee": self.procedure_fee,
            "amount_due": self.amount_due,
            "vat_rate": format_rate(self.vat_rate),
            "tax_category": self.tax_category.value,
            "tariff_version": self.tariff_version,
            "zone": self.zone,
            "promotion_codes": list(self.promotion_codes),
            "priced_at": self.priced_at.astimezone(timezone.utc).isoformat()
                                           .replace("+00:00", "Z"),
        }


@dataclass(frozen=True, slots=True)
class TariffBook:
    """Every tariff version, promotion and VAT rate pricing may need, indexed once.

    Versions are sorted by `effective_from` and promotions by (priority, code) at construction,
    so a quote costs a bisection and a linear scan of promotions, never a sort. Build one per
    change of tariff data and reuse it across quotes. Raises InvalidTariff for duplicate version
    codes or effective instants, InvalidPromotion for duplicate promotion codes.
    """

    tariff_versions: tuple[TariffVersion, ...]
    promotions: tuple[Promotion, ...] = ()
    vat_table: VatTable = DEFAULT_VAT_TABLE
    _effective_froms: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    # Every instant at which a version takes effect or a promotion starts or ends.
    _rule_changes: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    # Prices already worked out, by (facts, rules period): see `remembered_price`.
    _prices: dict[tuple[PricingFacts, int, date], Price] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        versions = tuple(sorted(self.tariff_versions, key=lambda v: v.effective_from))
        if len({v.code for v in versions}) != len(versions):
            raise InvalidTariff("tariff version codes must be unique",
                                errors={"code": ["duplicate tariff version code"]})
        effective_froms = tuple(v.effective_from for v in versions)
        if any(a == b for a, b in pairwise(effective_froms)):
            raise InvalidTariff("two tariff versions take effect at the same instant",
                                errors={"effective_from": ["duplicate effective instant"]})
        promotions = tuple(sorted(self.promotions, key=lambda p: (p.priority, p.code)))
        if len({p.code for p in promotions}) != len(promotions):
            raise InvalidPromotion("promotion codes must be unique",
                                   errors={"code": ["duplicate promotion code"]})
        object.__setattr__(self, "tariff_versions", versions)
        object.__setattr__(self, "promotions", promotions)
        object.__setattr__(self, "_effective_froms", effective_froms)
        object.__setattr__(self, "_rule_changes", tuple(sorted(
            [*effective_froms, *(p.valid_from for p in promotions),
             *(p.valid_until for p in promotions if p.valid_until is not None)])))
        object.__setattr__(self, "_prices", {})

    def rules_period(self, instant: datetime) -> tuple[int, date]:
        """Names the stretch of time around `instant` in which the same rules apply: the
        same tariff version, the same promotions valid and the same VAT rate. It lies
        between two consecutive rule changes (each takes effect at its own instant), on one
        Vietnamese calendar day (VAT rates go by the day)."""
        return bisect_right(self._rule_changes, instant), vietnam_date(instant)

    def version_at(self, instant: datetime) -> TariffVersion:
        """The version in force: the greatest `effective_from` <= `instant`.

        Raises NoTariffInForce when the instant precedes every version.
        """
        index = bisect_right(self._effective_froms, instant) - 1
        if index < 0:
            raise NoTariffInForce(f"no tariff version in force at {instant.isoformat()}",
                                  details={"registered_at": instant.isoformat()})
        return self.tariff_versions[index]

    def promotions_for(self, facts: PricingFacts, zone_code: str,
                       instant: datetime) -> Iterable[Promotion]:
        """Promotions valid at `instant` and applicable to the order in `zone_code`,
        in (priority, code) order."""
        return [p for p in self.promotions
                if p.is_valid_at(instant) and p.applies_to(facts, zone_code)]


def price_order(facts: PricingFacts, registered_at: datetime, book: TariffBook) -> Price:
    """Price one leg as the rules in force at `registered_at` say (use case `quote_price`'s core).

    Guarantees: integer VND everywhere; `total` = sum of line amounts; `vat_included` = sum of
    line VATs, each line split once (discount lines carry the VAT they remove, so postage after
    discounts splits exactly as its own amount would); promotions reduce postage only and never
    below zero; a beneficiary exempt under the version pays no postage and gets no promotion;
    the procedure fee is a pass-through outside the price (`procedure_fee`, in `amount_due`
    but not in `total`). The same inputs always give the same price: nothing reads the clock
    or the database.

    Raises InvalidPricingFacts (naive `registered_at`), WeightOutOfRange, NoTariffInForce,
    NoZoneForRoute, AddOnNotOffered, NoTaxRateInForce.
    """
    _check_aware(registered_at)
    return _work_out_price(facts, registered_at, book)


# How many prices one book remembers; past that it starts afresh (a book lives until the
# tariff data changes, and the facts of orders are many).
PRICE_MEMO_SIZE = 4096


def remembered_price(facts: PricingFacts, registered_at: datetime, book: TariffBook) -> Price:
    """`price_order`, for a caller that prices many orders of the same few shapes (intake:
    a government system sends the same wards, weights and channel all day).

    Within one rules period the same facts get the same lines, so a price the book worked
    out once serves every later order of that shape, with its own `priced_at` (a third of
    the time). Facts that never repeat pay a little for the look-up: `price_order` is the
    one for them.
    """
    _check_aware(registered_at)
    key = (facts, *book.rules_period(registered_at))
    known = book._prices.get(key)
    if known is not None:
        return replace(known, priced_at=registered_at)
    price = _work_out_price(facts, registered_at, book)
    if len(book._prices) >= PRICE_MEMO_SIZE:
        book._prices.clear()
    book._prices[key] = price
    return price


def _check_aware(registered_at: datetime) -> None:
    if not isinstance(registered_at, datetime) or registered_at.utcoffset() is None:
        raise InvalidPricingFacts("registration time must carry a UTC offset",
                                  errors={"registered_at": ["must be an aware datetime"]})


def _work_out_price(facts: PricingFacts, registered_at: datetime, book: TariffBook) -> Price:
    version = book.version_at(registered_at)
    category = version.tax_category
    rate = book.vat_table.rate_at(category, registered_at).rate
    zone = version.zone_for(facts.origin, facts.destination)
    postage = version.postage_vnd(zone, facts.weight_g)

    def vat_of(amount: int) -> int:
        return 0 if rate is None else split_vat(amount, rate)[1]

    def line(code: LineCode, description: str, amount: int, vat: int, *,
             zone_code: str | None = None, promotion_code: str | None = None) -> PriceLine:
        return PriceLine(code, description, amount, amount - vat, vat, category, rate,
                         version.code, zone_code, promotion_code)

    postage_vat = vat_of(postage)
    lines = [line(LineCode.POSTAGE,
                  f"{_KIND_LABELS[facts.kind]}: {zone.description}, {facts.weight_g} g",
                  postage, postage_vat, zone_code=zone.code)]
    promotion_codes: list[str] = []
    exemption = version.exemption_for(facts.beneficiary_category)
    if exemption is not None:
        lines.append(line(LineCode.EXEMPTION, f"Miễn cước: {exemption.description}",
                          -postage, -postage_vat, zone_code=zone.code))
    else:
        remaining_vat = postage_vat
        for applied in combine_promotions(book.promotions_for(facts, zone.code, registered_at),
                                          postage, zone.code):
            # The discount's VAT is what it removes from the postage's VAT, so the discounted
            # postage splits exactly as its own amount would (20,800 -> 19,259 + 1,541).
            after_vat = vat_of(applied.postage_after_vnd)
            promotion = applied.promotion
            lines.append(line(LineCode.PROMOTION,
                              promotion.description or f"Khuyến mại {promotion.code}",
                              -applied.discount_vnd, after_vat - remaining_vat,
                              zone_code=zone.code, promotion_code=promotion.code))
            promotion_codes.append(promotion.code)
            remaining_vat = after_vat

    if facts.fee_forwarding_vnd:
        forwarding_fee = version.add_ons.fee_forwarding_vnd
        if forwarding_fee is None:
            raise AddOnNotOffered(f"tariff {version.code} does not offer fee forwarding",
                                  errors={"fee_forwarding_vnd": ["fee forwarding not offered"]})
        lines.append(line(LineCode.FEE_FORWARDING, _FEE_FORWARDING_LABEL, forwarding_fee,
                          vat_of(forwarding_fee)))
    if facts.payment_method is PaymentMethod.CASH_ON_DELIVERY:
        cod_fee = version.add_ons.cash_on_delivery_vnd
        if cod_fee is None:
            raise AddOnNotOffered(f"tariff {version.code} does not offer cash on delivery",
                                  errors={"payment_method": ["cash on delivery not offered"]})
        lines.append(line(LineCode.COD_FEE, _COD_LABEL, cod_fee, vat_of(cod_fee)))

    return Price(
        lines=tuple(lines),
        total=sum(item.amount for item in lines),
        vat_included=sum(item.vat for item in lines),
        vat_rate=rate,
        tax_category=category,
        priced_at=registered_at,
        tariff_version=version.code,
        zone=zone.code,
        promotion_codes=tuple(promotion_codes),
        # The agency's fee passes through untouched: no VAT, no discount, not the post's revenue.
        procedure_fee=facts.fee_forwarding_vnd or 0,
    )
