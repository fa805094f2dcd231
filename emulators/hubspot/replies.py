"""HubSpot's answer shapes for the emulator: the `Reply` value and HubSpot-style bodies.

Error bodies carry `category` and `correlationId` even where HubSpot's own (429, OAuth)
may not, so every one validates against the spec's `Error` schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

_UNAUTHENTICATED = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_MISSING_SCOPES = (
    "This app hasn't been granted all required scopes to make this call. Read more about "
    "required scopes here: https://developers.hubspot.com/scopes."
)


def iso(ts: float) -> str:
    """HubSpot's timestamp format: ISO 8601, milliseconds, UTC with Z."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Reply:
    """What to answer: a status and JSON body, or stall first, or drop the connection."""

    status: int
    body: dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0  # seconds to wait before answering (the "timeout" fault)
    drop: bool = False  # close the connection without answering
    trickle: float = 0.0  # seconds between the answer's bytes (the "trickle" fault)
    padding: int = 0  # bytes of filler added to the body (the "huge" fault)

    def with_headers(self, headers: Mapping[str, str]) -> Reply:
        return replace(self, headers={**headers, **self.headers})


def hubspot_error(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's generic error body (the spec's `Error`, plus its usual `status`)."""
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }


def error_reply(status: int, message: str, category: str, **extra: Any) -> Reply:
    return Reply(status, hubspot_error(message, category, **extra))


def rate_limit_reply(policy: str) -> Reply:
    """A 429 as HubSpot sends it; `category` added so it also fits the `Error` schema."""
    limit = "daily" if policy == "DAILY" else "ten_secondly_rolling"
    body = hubspot_error(f"You have reached your {limit} limit.", "RATE_LIMITS")
    body.update(errorType="RATE_LIMIT", policyName=policy, requestId=str(uuid.uuid4()))
    return Reply(429, body)


def unauthenticated_reply() -> Reply:
    return error_reply(401, _UNAUTHENTICATED, "INVALID_AUTHENTICATION")


def missing_scopes_reply() -> Reply:
    return error_reply(403, _MISSING_SCOPES, "MISSING_SCOPES")


def oauth_error(error: str, description: str, status: str) -> Reply:
    """RFC 6749 `error`/`error_description` next to HubSpot's older `status`/`message`."""
    body = hubspot_error(description, "VALIDATION_ERROR", status=status)
    body.update(error=error, error_description=description)
    return Reply(400, body)
