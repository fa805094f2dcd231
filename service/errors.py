"""The service's exceptions and their one rendering: application/problem+json (RFC 9457).

    RelayError
    ├── ProblemError          an HTTP answer: status, title, detail, field errors
    │   ├── InvalidSignature  401: the body was not signed with a configured secret
    │   ├── NotConfigured     503: the receiver has no secret, so it refuses (fail closed)
    │   └── Unauthorized      401: no valid bearer key for /v1
    └── StoreUnavailable      503: the database could not be reached or the commit failed

Every error leaves through `problem_response`, including werkzeug's 404/405/413 and
unexpected exceptions (logged with the request id, never echoed to the caller).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("service.errors")


class RelayError(Exception):
    """Base of the service's own exceptions."""


class ProblemError(RelayError):
    """An error with an HTTP answer."""

    status = 400
    title = "Bad Request"
    type = "about:blank"

    def __init__(self, detail: str, *, errors: Any = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        if status is not None:
            self.status = status


class InvalidSignature(ProblemError):
    status = 401
    title = "Invalid webhook signature"
    type = "urn:line-item-relay:problem:invalid-signature"


class NotConfigured(ProblemError):
    status = 503
    title = "Receiver not configured"
    type = "urn:line-item-relay:problem:not-configured"


class Unauthorized(ProblemError):
    status = 401
    title = "Unauthorized"
    type = "urn:line-item-relay:problem:unauthorized"


class StoreUnavailable(RelayError):
    """The store could not take the write; the caller should retry."""


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _on_problem(exc: ProblemError) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, type_=exc.type, errors=exc.errors)


def _on_validation(exc: ValidationError) -> Response:
    return problem_response(
        422,
        "Invalid order",
        "The payload does not match the order schema; see errors.",
        type_="urn:line-item-relay:problem:invalid-order",
        errors=stringify_keys(exc.messages),
    )


def _on_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    allowed = getattr(exc, "valid_methods", None)
    headers = {"Allow": ", ".join(allowed)} if allowed else {}
    return problem_response(status, exc.name, exc.description, headers=headers)


def _on_store_down(exc: Exception) -> Response:
    # A StoreUnavailable carries a reason safe to log; a bare driver error's text may hold
    # the statement, so only its class is logged.
    reason = str(exc) if isinstance(exc, StoreUnavailable) else type(exc).__name__
    log.error("store_unavailable", extra={"event": "store_unavailable", "error": reason})
    return problem_response(
        503,
        "Store unavailable",
        "The order could not be stored; nothing was kept. Retry later.",
        type_="urn:line-item-relay:problem:store-unavailable",
        headers={"Retry-After": "5"},
    )


def _on_unexpected(exc: Exception) -> Response:
    log.exception("unhandled_error", extra={"event": "unhandled_error"})
    return problem_response(500, "Internal Server Error", "An unexpected error was logged.")


def stringify_keys(messages: Any) -> Any:
    """marshmallow keys list indexes as ints; JSON objects need string keys."""
    if isinstance(messages, dict):
        return {str(key): stringify_keys(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [stringify_keys(value) for value in messages]
    return messages


def init_app(app: Flask) -> None:
    """Register the handlers so every error leaves as problem+json."""
    app.register_error_handler(ProblemError, _on_problem)
    app.register_error_handler(ValidationError, _on_validation)
    app.register_error_handler(HTTPException, _on_http)
    app.register_error_handler(StoreUnavailable, _on_store_down)
    app.register_error_handler(OperationalError, _on_store_down)
    app.register_error_handler(DBAPIError, _on_store_down)
    app.register_error_handler(Exception, _on_unexpected)
