"""Reading one webhook endpoint as a caller may see it (admins: any; others: their own)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from postal_svc.access.service import Caller
from postal_svc.webhooks.models import WebhookEndpoint
from postal_svc.webhooks.service import _owned


def get_endpoint(session: Session, public_id: str, *, caller: Caller) -> WebhookEndpoint:
    """The endpoint, under the same ownership rule as every other endpoint use case.

    Raises EndpointNotFound (also for another client's endpoint, unless the caller is admin).
    """
    return _owned(session, public_id, caller)
