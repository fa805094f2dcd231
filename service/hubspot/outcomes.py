"""What a batch-upsert answer means, as values the worker applies.

`classify(answer, sent, id_property)` is a pure function of the HTTP answer and the inputs that
were sent. It returns one of:

- `PerInput`: each input delivered or failed (200, 207); failures say if a retry can help;
- `Split`: a 400 that names no input; halve the batch to isolate the bad input(s);
- `Rejected`: one input that HubSpot refuses on its own (a 400 for a batch of one);
- `AuthFailed`: 401/403; stop delivering, keep everything pending;
- `Misconfigured`: HubSpot refuses the idProperty itself; stop delivering as for 401;
- `Backoff`: the whole batch waits (423, 429, 477, 5xx, timeouts, dropped connections).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PERMANENT_CATEGORIES = frozenset({"VALIDATION_ERROR", "PROPERTY_DOESNT_EXIST", "INVALID_OPTION"})


class Wait(enum.StrEnum):
    LOCKED = "locked"  # 423: wait >= 2 s
    RATE = "rate"  # 429 TEN_SECONDLY_ROLLING / SECONDLY: wait for the window
    DAILY = "daily"  # 429 DAILY: pause until the reset
    MIGRATION = "migration"  # 477: pause for Retry-After (often hours); nothing is wrong
    TRANSIENT = "transient"  # 477, 5xx, timeouts, connection errors: backoff


@dataclass(frozen=True)
class Answer:
    """An HTTP answer from HubSpot (status 0: no answer, with `error` saying why)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def correlation_id(self) -> str | None:
        if isinstance(self.body, dict):
            value = self.body.get("correlationId")
            return str(value) if value else None
        return None

    def describe(self) -> str:
        """A short reason for logs and last_error: status, category, message, correlation id."""
        if self.status == 0:
            return f"no answer: {self.error}"
        parts = [str(self.status)]
        if isinstance(self.body, dict):
            for key in ("category", "policyName", "message"):
                if self.body.get(key):
                    parts.append(str(self.body[key])[:500])
        if self.correlation_id:
            parts.append(f"correlationId={self.correlation_id}")
        return " ".join(parts)


@dataclass(frozen=True)
class Success:
    hubspot_id: str
    new: bool


@dataclass(frozen=True)
class Failure:
    reason: str
    permanent: bool


@dataclass(frozen=True)
class PerInput:
    outcomes: dict[str, Success | Failure]  # by trace id


@dataclass(frozen=True)
class Split:
    reason: str


@dataclass(frozen=True)
class Rejected:
    reason: str


@dataclass(frozen=True)
class AuthFailed:
    reason: str


@dataclass(frozen=True)
class Misconfigured:
    reason: str


@dataclass(frozen=True)
class Backoff:
    wait: Wait
    reason: str
    retry_after: float | None = None


Outcome = PerInput | Split | Rejected | AuthFailed | Misconfigured | Backoff


def classify(answer: Answer, sent: Mapping[str, str], id_property: str) -> Outcome:
    """Map an answer to the outcome for the inputs sent (`sent`: trace id -> key)."""
    trace_ids = list(sent)
    status = answer.status
    if status in (200, 201, 207) and isinstance(answer.body, dict):
        return _per_input(answer, sent, id_property)
    if status in (401, 403):
        return AuthFailed(answer.describe())
    if status == 423:
        return Backoff(Wait.LOCKED, answer.describe())
    if status == 429:
        policy = answer.body.get("policyName") if isinstance(answer.body, dict) else None
        wait = Wait.DAILY if policy == "DAILY" else Wait.RATE
        return Backoff(wait, answer.describe(), _retry_after(answer))
    if status == 477:
        return Backoff(Wait.MIGRATION, answer.describe(), _retry_after(answer))
    if status == 400 and _refuses_id_property(answer, id_property):
        return Misconfigured(answer.describe())
    if status in (400, 409, 413, 414, 422):
        return Rejected(answer.describe()) if len(trace_ids) == 1 else Split(answer.describe())
    return Backoff(Wait.TRANSIENT, answer.describe(), _retry_after(answer))


def _per_input(answer: Answer, sent: Mapping[str, str], id_property: str) -> PerInput:
    trace_ids = list(sent)
    by_key = {key: trace for trace, key in sent.items()}
    outcomes: dict[str, Success | Failure] = {}
    for result in answer.body.get("results") or []:
        trace = result.get("objectWriteTraceId")
        if trace not in sent:
            # Match by the idProperty value when HubSpot leaves the trace id out.
            trace = by_key.get(str((result.get("properties") or {}).get(id_property)))
        if trace is not None:
            outcomes[trace] = Success(str(result["id"]), bool(result.get("new", False)))
    for error in answer.body.get("errors") or []:
        context = error.get("context") or {}
        category = str(error.get("category", ""))
        reason = f"{category} {error.get('message', '')}".strip()[:1000]
        permanent = category in PERMANENT_CATEGORIES
        for trace in context.get("objectWriteTraceId") or []:
            if trace in trace_ids:
                outcomes[trace] = Failure(reason, permanent)
    # An input HubSpot neither confirmed nor rejected is not known to be written: retry it.
    for trace in trace_ids:
        outcomes.setdefault(trace, Failure(f"{answer.status} answer did not mention it", False))
    return PerInput(outcomes)


def _refuses_id_property(answer: Answer, id_property: str) -> bool:
    """HubSpot's answer when the idProperty is not a unique property (or not one at all):
    "Unable to perform update/upsert by non-unique 0-8 property <name>". Every batch would
    meet it, so it is the portal's setup at fault, not the inputs."""
    message = str(answer.body.get("message", "")) if isinstance(answer.body, dict) else ""
    return id_property in message and ("non-unique" in message or "does not exist" in message)


def _retry_after(answer: Answer) -> float | None:
    value = {k.lower(): v for k, v in answer.headers.items()}.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
