"""The payment provider behind a small Protocol, and its real adapter: Stripe's Python SDK.

Everything the rest of the service knows about Stripe passes through `PaymentGateway`: plain
snapshots in, plain snapshots out, errors named after conditions. The adapter talks to Stripe
or to anything speaking its API at `api_base` (localstripe in tests and the embedded demo).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Protocol

from postal_svc.billing.errors import BillingError
from postal_svc.errors import ExternalServiceError, NotFound, RuleViolation

if TYPE_CHECKING:
    from postal_svc.config import Settings

log = logging.getLogger("postal_svc.payments")

CURRENCY = "vnd"  # zero-decimal at Stripe: amount 20800 is 20,800 đ


class PaymentProviderUnavailable(BillingError, ExternalServiceError):
    """Stripe could not be reached or answered with an error of its own (5xx, timeouts)."""

    code = "payment_provider_unavailable"


class PaymentProviderRefused(BillingError, ExternalServiceError):
    """Stripe refused the request (4xx): the state there does not allow it."""

    code = "payment_provider_refused"


class ProviderObjectNotFound(BillingError, NotFound):
    code = "payment_provider_object_not_found"


class InvalidCardToken(BillingError, RuleViolation):
    code = "invalid_card_token"


class InvalidWebhookSignature(BillingError, RuleViolation):
    """A webhook whose Stripe-Signature does not verify, or is too old."""

    code = "invalid_signature"


@dataclass(frozen=True)
class RefundSnapshot:
    id: str
    status: str  # Stripe's: pending | requires_action | succeeded | failed | canceled
    amount_vnd: int
    payment_intent_id: str | None
    our_refund_id: str | None  # metadata.refund_id, set on every refund we create
    failure_reason: str | None = None


@dataclass(frozen=True)
class IntentSnapshot:
    """A PaymentIntent as read from Stripe."""

    id: str
    status: str  # Stripe's status
    amount_vnd: int
    currency: str
    captured_vnd: int
    client_secret: str | None
    last_error_code: str | None = None
    last_error_message: str | None = None
    # The intent's refunds, when they were read with it (None: not read).
    refunds: tuple[RefundSnapshot, ...] | None = None


class PaymentGateway(Protocol):
    """What the service asks of a payment provider."""

    def create_intent(self, *, amount_vnd: int, idempotency_key: str,
                      metadata: Mapping[str, str]) -> IntentSnapshot: ...

    def retrieve_intent(self, intent_id: str, *, with_refunds: bool = True) -> IntentSnapshot: ...

    def confirm_with_card_token(self, intent_id: str, card_token: str) -> IntentSnapshot: ...

    def cancel_intent(self, intent_id: str) -> IntentSnapshot: ...

    def create_refund(self, *, intent_id: str, amount_vnd: int, idempotency_key: str,
                      our_refund_id: str) -> RefundSnapshot: ...

    def list_refunds(self, intent_id: str) -> list[RefundSnapshot]: ...

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]: ...


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return default


def intent_snapshot(data: Mapping[str, Any],
                    refunds: tuple[RefundSnapshot, ...] | None = None) -> IntentSnapshot:
    """A PaymentIntent as Stripe serialises it (a dict) as a snapshot.

    What was captured: `amount_received` where Stripe sends it; otherwise (emulators) the
    latest charge's amount when it is captured, or the amount once the intent succeeded.
    """
    status = str(data.get("status") or "")
    amount = int(data.get("amount") or 0)
    received = data.get("amount_received")
    if received is None:
        charge = data.get("latest_charge")
        if isinstance(charge, Mapping) and charge.get("captured") \
                and charge.get("status") == "succeeded":
            received = charge.get("amount")
        else:
            received = amount if status == "succeeded" else 0
    error = data.get("last_payment_error")
    return IntentSnapshot(
        id=str(data["id"]), status=status, amount_vnd=amount,
        currency=str(data.get("currency") or ""), captured_vnd=int(received or 0),
        client_secret=data.get("client_secret"),
        last_error_code=_get(error, "decline_code") or _get(error, "code"),
        last_error_message=(str(_get(error, "message"))[:500] if _get(error, "message")
                            else None),
        refunds=refunds)


def refund_snapshot(data: Mapping[str, Any]) -> RefundSnapshot:
    intent = data.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    metadata = data.get("metadata") or {}
    return RefundSnapshot(
        id=str(data["id"]), status=str(data.get("status") or "pending"),
        amount_vnd=int(data.get("amount") or 0), payment_intent_id=intent,
        our_refund_id=metadata.get("refund_id") if isinstance(metadata, Mapping) else None,
        failure_reason=data.get("failure_reason"))


class StripeGateway:
    """`PaymentGateway` over the official SDK's `StripeClient`.

    Network errors are retried by the SDK (max_network_retries) with our idempotency keys, so
    a retried create never makes a second intent or refund at Stripe.
    """

    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str = "",
                 timeout_s: float = 20, max_network_retries: int = 2,
                 webhook_tolerance_s: int = 300) -> None:
        import stripe

        self._stripe = stripe
        base = {"api": api_base.rstrip("/")} if api_base else None
        self._client = stripe.StripeClient(
            secret_key, base_addresses=base,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_s))
        self._webhook_secret = webhook_secret
        self._tolerance_s = webhook_tolerance_s

    # -- errors ---------------------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        stripe = self._stripe
        try:
            return fn(*args, **kwargs)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise ProviderObjectNotFound(f"Stripe has no such object ({what}).") from None
            log.warning("stripe refused %s: %s", what, error.code or error.http_status)
            raise PaymentProviderRefused(
                "The payment provider refused the request.",
                details={"provider_code": error.code}) from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            log.warning("stripe unavailable for %s: %s", what, type(error).__name__)
            raise PaymentProviderUnavailable(
                "The payment provider cannot be reached; try again shortly.") from None
        except stripe.StripeError as error:
            log.warning("stripe error for %s: %s", what, type(error).__name__)
            raise PaymentProviderUnavailable(
                "The payment provider answered with an error; try again shortly.") from None

    # -- intents --------------------------------------------------------------------------------

    def create_intent(self, *, amount_vnd: int, idempotency_key: str,
                      metadata: Mapping[str, str]) -> IntentSnapshot:
        intent = self._call(
            "create intent", self._client.v1.payment_intents.create,
            params={"amount": amount_vnd, "currency": CURRENCY,
                    "payment_method_types": ["card"], "metadata": dict(metadata)},
            options={"idempotency_key": idempotency_key})
        return intent_snapshot(intent.to_dict())

    def retrieve_intent(self, intent_id: str, *, with_refunds: bool = True) -> IntentSnapshot:
        intent = self._call("read intent", self._client.v1.payment_intents.retrieve, intent_id,
                            params={"expand": ["latest_charge"]}).to_dict()
        refunds = None
        if with_refunds and intent.get("status") == "succeeded":
            refunds = tuple(self.list_refunds(intent_id))
        return intent_snapshot(intent, refunds)

    def confirm_with_card_token(self, intent_id: str, card_token: str) -> IntentSnapshot:
        """Attach the card the browser tokenised (Stripe.js createToken) and confirm.

        A declined card is not an error here: the intent goes back to requires_payment_method
        with `last_payment_error`, which the snapshot carries. 3-D Secure leaves it in
        requires_action for Stripe.js (confirmCardPayment) to finish in the browser.
        """
        stripe = self._stripe
        try:
            token = self._client.v1.tokens.retrieve(card_token).to_dict()
        except stripe.InvalidRequestError:
            raise InvalidCardToken("The card details expired; enter them again.",
                                   errors={"card_token": ["Unknown or used token."]}) from None
        card_id = _get(token.get("card"), "id")
        if not card_id:
            raise InvalidCardToken("That token holds no card.",
                                   errors={"card_token": ["Not a card token."]})
        self._call("attach card", self._client.v1.payment_intents.update, intent_id,
                   params={"payment_method": card_id})
        try:
            self._client.v1.payment_intents.confirm(intent_id)
        except stripe.CardError:
            pass  # declined: the intent says so (last_payment_error)
        except stripe.StripeError:
            # Whatever happened, the intent as Stripe has it now is the answer.
            log.warning("stripe confirm of an intent failed; reading it back")
        return self.retrieve_intent(intent_id)

    def cancel_intent(self, intent_id: str) -> IntentSnapshot:
        stripe = self._stripe
        try:
            self._client.v1.payment_intents.cancel(intent_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise ProviderObjectNotFound("Stripe has no such intent.") from None
            # Not cancellable any more (e.g. it succeeded meanwhile): read what it is.
        except stripe.StripeError:
            raise PaymentProviderUnavailable("The payment provider cannot be reached.") from None
        return self.retrieve_intent(intent_id)

    # -- refunds --------------------------------------------------------------------------------

    def create_refund(self, *, intent_id: str, amount_vnd: int, idempotency_key: str,
                      our_refund_id: str) -> RefundSnapshot:
        refund = self._call(
            "create refund", self._client.v1.refunds.create,
            params={"payment_intent": intent_id, "amount": amount_vnd,
                    "metadata": {"refund_id": our_refund_id}},
            options={"idempotency_key": idempotency_key})
        return refund_snapshot(refund.to_dict())

    def list_refunds(self, intent_id: str) -> list[RefundSnapshot]:
        page = self._call("list refunds", self._client.v1.refunds.list,
                          params={"payment_intent": intent_id, "limit": 100})
        return [refund_snapshot(r) for r in page.to_dict().get("data", [])]

    # -- webhooks -------------------------------------------------------------------------------

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event in a webhook body, once its signature (HMAC of the raw body with our
        endpoint secret, recent within the tolerance) checks out; else InvalidWebhookSignature."""
        stripe = self._stripe
        try:
            if signature_header is not None and not signature_header.isascii():
                raise stripe.SignatureVerificationError("not ASCII", signature_header)
            stripe.WebhookSignature.verify_header(payload, signature_header, self._webhook_secret,
                                                  self._tolerance_s)
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            raise InvalidWebhookSignature(
                "The Stripe-Signature header does not verify or is too old.") from None
        try:
            event = json.loads(payload)
        except ValueError:
            raise InvalidWebhookSignature("The signed body is not JSON.") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
                or not isinstance(event.get("type"), str):
            raise InvalidWebhookSignature("The signed body is not a Stripe event.")
        return event


def gateway_from_settings(settings: "Settings") -> StripeGateway | None:
    """The Stripe adapter the settings describe; None when no secret key is configured."""
    if not settings.stripe_secret_key:
        return None
    return StripeGateway(secret_key=settings.stripe_secret_key,
                         webhook_secret=settings.stripe_webhook_secret,
                         api_base=settings.stripe_api_base, timeout_s=settings.stripe_timeout_s)
