"""The domain error hierarchy; `routes/` maps each class to an HTTP status."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A condition the caller can act on; `code` is the machine code of the API error shape."""

    code = "domain_error"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class RuleViolation(DomainError):
    """Input that is well-formed but breaks a business rule (422)."""

    code = "rule_violation"


class ExternalServiceError(DomainError):
    code = "external_service_error"


class Forbidden(DomainError):
    """The caller's role may not do this (403)."""

    code = "forbidden"


class ServiceUnavailable(DomainError):
    """Something the request needs is not available here now (503), e.g. not configured."""

    code = "service_unavailable"
