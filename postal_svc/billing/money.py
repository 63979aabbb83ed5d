"""Integer VND and the single place where a Decimal amount becomes whole dong."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def round_vnd(amount: Decimal) -> int:
    """Round a Decimal amount of dong half-up (away from zero on .5) to an integer VND.

    VND has no minor unit, so every percentage, VAT split or pro-rata goes through here exactly
    once per line. Raises TypeError for anything but a Decimal (a float would already have lost
    the exact value) and ValueError for NaN or infinity.
    """
    if type(amount) is not Decimal:
        raise TypeError(f"round_vnd takes a Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"cannot round {amount} to VND")
    return int(amount.quantize(_ONE, rounding=ROUND_HALF_UP))


def percent_of(amount_vnd: int, percent: Decimal) -> int:
    """`percent` % of an integer VND amount, rounded once with `round_vnd` (20 -> 20%)."""
    _require_vnd(amount_vnd, "amount_vnd")
    return round_vnd(Decimal(amount_vnd) * percent / _HUNDRED)


def split_vat(gross_vnd: int, rate: Decimal) -> tuple[int, int]:
    """Split a VAT-inclusive amount into (net, vat) at `rate` (a fraction: Decimal("0.08")).

    Guarantees `net + vat == gross_vnd` and that VAT is rounded once, half-up, so the invoice line
    and the published retail price agree to the dong (20,800 at 8% -> 19,259 + 1,541). Negative
    amounts (discount lines) split symmetrically. Raises TypeError for a non-int amount or a
    non-Decimal rate and ValueError for a rate outside [0, 1).
    """
    _require_vnd(gross_vnd, "gross_vnd")
    if type(rate) is not Decimal:
        raise TypeError(f"VAT rate must be a Decimal, got {type(rate).__name__}")
    if not (0 <= rate < 1):
        raise ValueError(f"VAT rate {rate} is not a fraction in [0, 1)")
    vat = round_vnd(Decimal(gross_vnd) * rate / (_ONE + rate))
    return gross_vnd - vat, vat


def _require_vnd(value: object, name: str) -> None:
    # bool is an int subclass; True đ is a bug, not a price.
    if type(value) is not int:
        raise TypeError(f"{name} must be an int number of VND, got {type(value).__name__}")
