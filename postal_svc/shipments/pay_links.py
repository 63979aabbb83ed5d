"""The citizen's pay link: a signed, expiring token naming the order (no database row)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "postal-svc/pay-link/v1"


class PayLinkProblem(StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class PayLinkCheck:
    order_public_id: str | None
    problem: PayLinkProblem | None = None


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def pay_token(secret_key: str, order_public_id: str) -> str:
    """A token for /pay/<token>; it carries the order id and the time it was issued."""
    return _serializer(secret_key).dumps(order_public_id)


def read_pay_token(secret_key: str, token: str, *, max_age: timedelta) -> PayLinkCheck:
    """The order a token names, or why it cannot be used (forged or altered; too old)."""
    try:
        value = _serializer(secret_key).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        return PayLinkCheck(None, PayLinkProblem.EXPIRED)
    except BadSignature:
        return PayLinkCheck(None, PayLinkProblem.INVALID)
    if not isinstance(value, str):
        return PayLinkCheck(None, PayLinkProblem.INVALID)
    return PayLinkCheck(value)
