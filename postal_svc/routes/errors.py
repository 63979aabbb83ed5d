"""One table from errors to HTTP answers, all in the API error shape."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Response, g, jsonify
from werkzeug.exceptions import HTTPException

from postal_svc.errors import (
    Conflict, DomainError, ExternalServiceError, Forbidden, NotFound, RuleViolation,
    ServiceUnavailable)

log = logging.getLogger("postal_svc.errors")

STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (RuleViolation, 422),
    (Forbidden, 403),
    (ExternalServiceError, 502),
    (ServiceUnavailable, 503),
]

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    410: "gone", 413: "request_too_large", 415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
}


def error_response(status: int, code: str, message: str,
                   errors: Mapping[str, list[str]] | None = None,
                   **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "status": status, "message": message,
                            "errors": dict(errors or {})}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def status_of(error: DomainError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 422


def domain_error_body(error: DomainError) -> dict[str, Any]:
    """The error shape of a domain error, also used per item in batch answers."""
    # Details add fields; they never replace the four fields of the error shape.
    body: dict[str, Any] = dict(error.details)
    body.update({"code": error.code, "status": status_of(error), "message": error.message,
                 "errors": dict(error.errors)})
    return body


def handle_domain_error(error: DomainError) -> Response:
    response = jsonify(domain_error_body(error))
    response.status_code = status_of(error)
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as `{"citizen.phone": ["..."]}`."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "_schema"
            for sub, msgs in flatten_messages(value, path).items():
                flat.setdefault(sub, []).extend(msgs)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            flat[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for sub, msgs in flatten_messages(item, prefix).items():
                    flat.setdefault(sub, []).extend(msgs)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, Mapping) else None
    if status == 400 and ((messages and _is_invalid_json(messages.get("json")))
                          or "JSON" in (error.description or "")):
        response = error_response(400, "malformed_json", "The request body is not valid JSON.")
    elif status == 413:
        response = error_response(413, "request_too_large", "The request body is too large.")
    elif status == 422 and messages:
        # webargs puts messages under the location ("json", "query", "headers"); for the
        # body we report field paths as the API names them.
        errors: dict[str, list[str]] = {}
        for location, msgs in messages.items():
            errors.update(flatten_messages(msgs, "" if location == "json" else location))
        response = error_response(422, "validation_error", "The request is not valid.", errors)
    else:
        message = data.get("message") if isinstance(data, Mapping) and data.get("message") \
            else (error.description or error.name)
        response = error_response(status, HTTP_CODES.get(status, "http_error"), str(message))
    for name, value in (error.get_response().headers.items() if status in (405, 401, 429) else []):
        if name.lower() in ("allow", "www-authenticate", "retry-after"):
            response.headers[name] = value
    return response


def _is_invalid_json(messages: Any) -> bool:
    return isinstance(messages, list) and any("Invalid JSON" in str(m) for m in messages)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", extra={"request_id": getattr(g, "request_id", None)})
    return error_response(500, "internal_error",
                          "Something went wrong on our side; the request id identifies it.")


def handle_integrity_error(error: Exception) -> Response:
    """A unique key or reference broken by a concurrent request: the caller's 409, not a 500.

    Use cases check before they write; this catches only what raced in between. The
    statement's parameters (personal data) are never part of the answer or the log line.
    """
    log.warning("integrity error answered as 409", extra={"request_id": getattr(g, "request_id", None)})
    return error_response(409, "conflict",
                          "The request conflicts with a change made at the same moment; retry.")
