"""Imports every model so the metadata knows every table (Alembic, tests, create_app)."""
from postal_svc.access.login_failures import LoginFailure
from postal_svc.access.models import ApiClient, StaffUser
from postal_svc.billing.models import (
    BillingAuditEntry, BillingRevision, Payment, PromotionRecord, Quote, Refund, StripeEvent,
    TariffVersionRecord, TaxRateRecord)
from postal_svc.directory.couriers import Courier
from postal_svc.directory.geocache import GeocodeCacheEntry
from postal_svc.directory.models import Agency, PostOffice, ServedWard
from postal_svc.idempotency import IdempotencyRecord
from postal_svc.routing.models import RoutePlan
from postal_svc.shipments.models import Order, SerialCounter, TrackingEvent
from postal_svc.shipments.phone_checks import PhoneCheck
from postal_svc.shipments.tracking_numbers import TRACKING_SERIAL_SEQ
from postal_svc.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = ["ApiClient", "StaffUser", "LoginFailure", "BillingAuditEntry", "BillingRevision", "Payment", "PromotionRecord",
           "Quote", "Refund", "StripeEvent",
           "TariffVersionRecord", "TaxRateRecord", "GeocodeCacheEntry", "Agency", "PostOffice", "ServedWard", "IdempotencyRecord", "Order",
           "SerialCounter", "TrackingEvent", "PhoneCheck", "TRACKING_SERIAL_SEQ", "Courier", "RoutePlan",
           "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]
