"""Promotions on postage: eligibility, validity window, and the rule that combines several."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from postal_svc.billing.errors import InvalidPromotion
from postal_svc.billing.facts import Channel, OrderKind, PricingFacts
from postal_svc.billing.money import percent_of


class PromotionKind(StrEnum):
    PERCENT_OFF = "percent_off"  # value: Decimal percent, 0 < value <= 100
    AMOUNT_OFF = "amount_off"  # value: int VND > 0
    FIXED_PRICE = "fixed_price"  # value: {zone code: promotional postage in VND}


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who a promotion is for; an empty set means "any".

    `province_codes` and `agency_codes` are judged on the agency's end of the leg (the
    destination of a dossier pickup, the origin of a result delivery): that is where the
    service is provided and where a provincial post office runs its promotions.
    """

    channels: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    province_codes: frozenset[str] = frozenset()
    agency_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        problems: dict[str, list[str]] = {}
        for name, enum in (("channels", Channel), ("kinds", OrderKind)):
            try:
                object.__setattr__(self, name,
                                   frozenset(enum(value) for value in getattr(self, name)))
            except ValueError:
                problems[f"eligibility.{name}"] = [
                    f"values must be among {', '.join(m.value for m in enum)}"]
        for name in ("province_codes", "agency_codes"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if problems:
            raise InvalidPromotion("invalid promotion eligibility", errors=problems)

    def admits(self, facts: PricingFacts) -> bool:
        return ((not self.channels or facts.channel in self.channels)
                and (not self.kinds or facts.kind in self.kinds)
                and (not self.agency_codes or facts.agency_code in self.agency_codes)
                and (not self.province_codes
                     or facts.agency_area.province_code in self.province_codes))


@dataclass(frozen=True, slots=True)
class Promotion:
    """A reduction of postage valid on [valid_from, valid_until) (None = open-ended).

    Instants are aware datetimes compared as instants, so "from 2020-02-15T00:00+07:00" and
    "from 2020-02-14T17:00Z" are the same promotion. A promotion never touches fee forwarding,
    cash-on-delivery fees or procedure fees. Lower `priority` values come first.
    Raises InvalidPromotion when the value does not fit the kind or the window is inverted.
    """

    code: str
    kind: PromotionKind
    value: Decimal | int | Mapping[str, int]
    valid_from: datetime
    valid_until: datetime | None = None
    eligibility: Eligibility = Eligibility()
    stackable: bool = False
    priority: int = 100
    description: str = ""

    def __post_init__(self) -> None:
        problems: dict[str, list[str]] = {}
        if not self.code:
            problems["code"] = ["required"]
        try:
            object.__setattr__(self, "kind", PromotionKind(self.kind))
        except ValueError:
            problems["kind"] = [f"must be one of {', '.join(m.value for m in PromotionKind)}"]
        else:
            value_problem = self._value_problem()
            if value_problem:
                problems["value"] = [value_problem]
        if not _is_aware(self.valid_from):
            problems["valid_from"] = ["must be an aware datetime"]
        if self.valid_until is not None:
            if not _is_aware(self.valid_until):
                problems["valid_until"] = ["must be an aware datetime or null"]
            elif _is_aware(self.valid_from) and self.valid_until <= self.valid_from:
                problems["valid_until"] = ["must be after valid_from (it is exclusive)"]
        if type(self.stackable) is not bool:
            problems["stackable"] = ["must be a boolean"]
        if type(self.priority) is not int:
            problems["priority"] = ["must be an integer"]
        if problems:
            raise InvalidPromotion(f"promotion {self.code!r} is inconsistent", errors=problems)

    def _value_problem(self) -> str | None:
        if self.kind is PromotionKind.PERCENT_OFF:
            if type(self.value) is int:  # 20 is as exact as Decimal(20)
                object.__setattr__(self, "value", Decimal(self.value))
            if type(self.value) is not Decimal or not (0 < self.value <= 100):
                return "percent_off takes a Decimal percentage in (0, 100]"
        elif self.kind is PromotionKind.AMOUNT_OFF:
            if type(self.value) is not int or self.value <= 0:
                return "amount_off takes an int number of VND > 0"
        else:
            if not isinstance(self.value, Mapping) or not self.value:
                return "fixed_price takes a non-empty {zone code: VND} mapping"
            if not all(type(price) is int and price >= 0 for price in self.value.values()):
                return "fixed prices must be ints >= 0"
            object.__setattr__(self, "value", MappingProxyType(dict(self.value)))
        return None

    def is_valid_at(self, instant: datetime) -> bool:
        return self.valid_from <= instant and (self.valid_until is None
                                               or instant < self.valid_until)

    def state_at(self, instant: datetime) -> str:
        """`scheduled` before it starts, `active` while valid, `ended` after."""
        if instant < self.valid_from:
            return "scheduled"
        return "active" if self.is_valid_at(instant) else "ended"

    def applies_to(self, facts: PricingFacts, zone_code: str) -> bool:
        """Eligibility of an order in a zone (a fixed price exists only for the zones it lists)."""
        value = self.value
        if isinstance(value, MappingProxyType) and zone_code not in value:
            return False
        return self.eligibility.admits(facts)

    def discount_vnd(self, postage_vnd: int, zone_code: str) -> int:
        """The reduction this promotion gives on `postage_vnd`, within [0, postage_vnd].

        A fixed price lower than the postage brings it down to that price; one at or above the
        postage gives nothing (a promotion never raises a price).
        """
        if postage_vnd <= 0:
            return 0
        # Validation tied each kind to one value type, so the value's type names the kind.
        value = self.value
        if isinstance(value, Decimal):
            discount = percent_of(postage_vnd, value)
        elif isinstance(value, int):
            discount = value
        else:
            fixed = value.get(zone_code)
            discount = 0 if fixed is None else postage_vnd - fixed
        return max(0, min(discount, postage_vnd))


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    """A promotion as applied: postage before and after it, and the discount in between."""

    promotion: Promotion
    postage_before_vnd: int
    discount_vnd: int

    @property
    def postage_after_vnd(self) -> int:
        return self.postage_before_vnd - self.discount_vnd


def combine_promotions(promotions: Iterable[Promotion], postage_vnd: int,
                       zone_code: str) -> tuple[AppliedPromotion, ...]:
    """Apply eligible, currently valid promotions to `postage_vnd` by the combination rule.

    1. Among non-stackable promotions only one applies: the one with the largest discount on the
       full postage (the best for the customer); ties go to the lower (priority, code).
    2. Stackable promotions then apply one after the other, in (priority, code) order, each on
       the postage left by the previous ones.
    3. Every discount is clipped to the postage left, so postage never goes below zero;
       promotions that would give nothing are left out.
    The caller filters eligibility and validity; this function only decides the arithmetic.
    """
    ordered = sorted(promotions, key=_precedence)
    applied: list[AppliedPromotion] = []
    remaining = postage_vnd
    best: AppliedPromotion | None = None
    for promotion in ordered:
        if promotion.stackable:
            continue
        discount = promotion.discount_vnd(postage_vnd, zone_code)
        # Strictly greater: on a tie the earlier (priority, code) keeps its place.
        if discount > 0 and (best is None or discount > best.discount_vnd):
            best = AppliedPromotion(promotion, postage_vnd, discount)
    if best is not None:
        applied.append(best)
        remaining = best.postage_after_vnd
    for promotion in ordered:
        if not promotion.stackable:
            continue
        discount = promotion.discount_vnd(remaining, zone_code)
        if discount > 0:
            applied.append(AppliedPromotion(promotion, remaining, discount))
            remaining -= discount
    return tuple(applied)


def _precedence(promotion: Promotion) -> tuple[int, str]:
    return promotion.priority, promotion.code


def _is_aware(moment: object) -> bool:
    return isinstance(moment, datetime) and moment.utcoffset() is not None
