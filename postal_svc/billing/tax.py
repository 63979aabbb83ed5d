"""Time-versioned VAT rates per tax category, decided on the Vietnam-local date of registration."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Final

from postal_svc.billing.errors import InvalidPricingFacts, InvalidTaxRate, NoTaxRateInForce
from postal_svc.clock import VIETNAM

# Business dates are Vietnam dates (UTC+7, no DST): 2022-01-31T17:30Z is already 1 February.
VIETNAM_TZ: Final = VIETNAM  # business days are Vietnam days (postal_svc.clock)


class TaxCategory(StrEnum):
    """How VAT treats a line: `standard` (the rate in force) or `not_subject` (no VAT at all)."""

    STANDARD = "standard"
    # Circular 219/2013/TT-BTC art. 4.10: public postal services under a Government programme.
    NOT_SUBJECT = "not_subject"


@dataclass(frozen=True, slots=True)
class VatRate:
    """One row of the VAT table: `rate` applies to `category` on [valid_from, valid_until).

    `rate` is a fraction (Decimal("0.08")); it is None exactly for `not_subject`. `valid_until`
    is exclusive and None means open-ended. Raises InvalidTaxRate on inconsistent data.
    """

    category: TaxCategory
    rate: Decimal | None
    valid_from: date
    valid_until: date | None
    legal_basis: str

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "category", TaxCategory(self.category))
        except ValueError:
            raise InvalidTaxRate(f"unknown tax category {self.category!r}",
                                 errors={"category": ["unknown tax category"]}) from None
        problems: dict[str, list[str]] = {}
        if self.category is TaxCategory.NOT_SUBJECT:
            if self.rate is not None:
                problems["rate"] = ["not_subject has no rate"]
        elif type(self.rate) is not Decimal or not (0 <= self.rate < 1):
            problems["rate"] = ["must be a Decimal fraction in [0, 1), e.g. Decimal('0.08')"]
        # datetime is a date subclass; a datetime here would silently compare wrongly.
        if type(self.valid_from) is not date:
            problems["valid_from"] = ["must be a date"]
        if self.valid_until is not None and type(self.valid_until) is not date:
            problems["valid_until"] = ["must be a date or None"]
        elif (self.valid_until is not None and type(self.valid_from) is date
              and self.valid_until <= self.valid_from):
            problems["valid_until"] = ["must be after valid_from (it is exclusive)"]
        if not self.legal_basis:
            problems["legal_basis"] = ["required"]
        if problems:
            raise InvalidTaxRate("invalid VAT rate row", errors=problems)

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


@dataclass(frozen=True, slots=True)
class VatTable:
    """The VAT rates of every tax category over time; periods of one category never overlap.

    Lookups bisect a per-category index built once, so a quote costs one bisection.
    Raises InvalidTaxRate when two rows of one category overlap.
    """

    rows: tuple[VatRate, ...]
    _starts: dict[TaxCategory, list[date]] = field(init=False, repr=False, compare=False)
    _rows_by_category: dict[TaxCategory, list[VatRate]] = field(init=False, repr=False,
                                                                compare=False)

    def __post_init__(self) -> None:
        rows = tuple(sorted(self.rows, key=lambda r: (r.category, r.valid_from)))
        by_category: dict[TaxCategory, list[VatRate]] = {}
        for row in rows:
            by_category.setdefault(row.category, []).append(row)
        for category, series in by_category.items():
            for earlier, later in pairwise(series):
                if earlier.valid_until is None or earlier.valid_until > later.valid_from:
                    raise InvalidTaxRate(
                        f"{category} VAT periods overlap: {earlier.valid_from} "
                        f"({earlier.legal_basis}) and {later.valid_from} ({later.legal_basis})",
                        errors={"valid_from": ["overlaps another period of the same category"]})
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "_rows_by_category", by_category)
        object.__setattr__(self, "_starts", {c: [r.valid_from for r in s]
                                             for c, s in by_category.items()})

    def rate_on(self, category: TaxCategory, day: date) -> VatRate:
        """The row in force for `category` on the Vietnam calendar day `day`.

        Raises NoTaxRateInForce when no row covers that day (a gap in the table is a data error
        an administrator must fix, not a silent 0%).
        """
        series = self._rows_by_category.get(category)
        if series:
            index = bisect_right(self._starts[category], day) - 1
            if index >= 0 and series[index].covers(day):
                return series[index]
        raise NoTaxRateInForce(f"no {category} VAT rate in force on {day.isoformat()}",
                               details={"category": str(category), "date": day.isoformat()})

    def rate_at(self, category: TaxCategory, instant: datetime) -> VatRate:
        """The row in force at an aware instant, judged on its Asia/Ho_Chi_Minh calendar date.

        Raises InvalidPricingFacts for a naive datetime and NoTaxRateInForce as `rate_on`.
        """
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise InvalidPricingFacts("registration time must carry a UTC offset",
                                      errors={"registered_at": ["naive datetime"]})
        return self.rate_on(category, vietnam_date(instant))


def vietnam_date(instant: datetime) -> date:
    """The Asia/Ho_Chi_Minh calendar date of an aware instant."""
    return instant.astimezone(VIETNAM_TZ).date()


def format_rate(rate: Decimal | None) -> str | None:
    """A VAT fraction as the API shows it: Decimal("0.08") -> "8%", None -> None."""
    if rate is None:
        return None
    return f"{(rate * 100).normalize():f}%"


# Reduced-rate periods as the decrees word them (inclusive last day). Between and around them the
# standard rate of the VAT law applies; `default_vat_rates` fills those gaps.
_REDUCED_RATE: Final = Decimal("0.08")
_STANDARD_RATE: Final = Decimal("0.10")
_REDUCED_PERIODS: Final = (
    (date(2022, 2, 1), date(2022, 12, 31), "Decree 15/2022/NĐ-CP"),
    (date(2023, 7, 1), date(2023, 12, 31), "Decree 44/2023/NĐ-CP"),
    (date(2024, 1, 1), date(2024, 6, 30), "Decree 94/2023/NĐ-CP"),
    (date(2024, 7, 1), date(2024, 12, 31), "Decree 72/2024/NĐ-CP"),
    (date(2025, 1, 1), date(2025, 6, 30), "Decree 180/2024/NĐ-CP"),
    (date(2025, 7, 1), date(2026, 12, 31), "Decree 174/2025/NĐ-CP"),
)
# The standard rate's legal basis changed with the new VAT law in force from 2025-07-01.
_VAT_LAW_2008: Final = "Law on VAT 13/2008/QH12, art. 8.3"
_VAT_LAW_2024: Final = "Law on VAT 48/2024/QH15, art. 9.3"
_VAT_LAW_2024_IN_FORCE: Final = date(2025, 7, 1)
_STANDARD_SINCE: Final = date(2009, 1, 1)  # Law 13/2008/QH12 in force
_NOT_SUBJECT_SINCE: Final = date(2014, 1, 1)  # Circular 219/2013/TT-BTC in force


def default_vat_rates() -> tuple[VatRate, ...]:
    """Seed rows for the VAT table: standard 10% with the 8% periods of Decrees 15/2022 through
    174/2025 (stored with exclusive ends), and `not_subject` (no rate) since 2014-01-01.

    This is data for seeding and demos; the table in production is edited by an administrator.
    """
    rows: list[VatRate] = []
    cursor = _STANDARD_SINCE
    periods: Iterable[tuple[date, date, str]] = _REDUCED_PERIODS
    for first_day, last_day, decree in periods:
        if cursor < first_day:
            rows.append(_standard_row(cursor, first_day))
        cursor = last_day + timedelta(days=1)
        rows.append(VatRate(TaxCategory.STANDARD, _REDUCED_RATE, first_day, cursor, decree))
    rows.append(_standard_row(cursor, None))
    rows.append(VatRate(TaxCategory.NOT_SUBJECT, None, _NOT_SUBJECT_SINCE, None,
                        "Circular 219/2013/TT-BTC, art. 4.10"))
    return tuple(rows)


def _standard_row(valid_from: date, valid_until: date | None) -> VatRate:
    law = _VAT_LAW_2024 if valid_from >= _VAT_LAW_2024_IN_FORCE else _VAT_LAW_2008
    return VatRate(TaxCategory.STANDARD, _STANDARD_RATE, valid_from, valid_until, law)


# Immutable, so one shared instance is safe; production builds its table from the database.
DEFAULT_VAT_TABLE: Final = VatTable(default_vat_rates())
