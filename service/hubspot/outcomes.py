"""What a HubSpot batch answer means, as values the worker applies.

`classify(answer, sent, id_property)` (an object batch upsert) and
`classify_associations(answer, sent)` (an association batch create) are pure functions
of the HTTP answer and the inputs that were sent. Each returns one of:

- `PerInput`: each record delivered or failed (200, 201, 207), by record key; failures
  say if a retry can help;
- `Split`: a 400 that names no input; halve the batch to isolate the bad input(s);
- `Rejected`: one input that HubSpot refuses on its own (a 400 for a batch of one);
- `AuthFailed`: 401; the credentials are refused: stop delivering everything;
- `ScopeMissing`: 403; the token lacks this kind's scope: stop this kind only;
- `Misconfigured`: HubSpot refuses the idProperty itself; stop this kind as for 403;
- `Backoff`: the whole batch waits (423, 429, 477, 5xx, timeouts, dropped connections).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PERMANENT_CATEGORIES = frozenset({"VALIDATION_ERROR", "PROPERTY_DOESNT_EXIST", "INVALID_OPTION"})
# An association whose end HubSpot does not have (deleted there since) cannot succeed as
# it is either.
PERMANENT_ASSOCIATION_CATEGORIES = PERMANENT_CATEGORIES | {"OBJECT_NOT_FOUND"}


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
    outcomes: dict[str, Success | Failure]  # by record key


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
class ScopeMissing:
    reason: str


@dataclass(frozen=True)
class Misconfigured:
    reason: str


@dataclass(frozen=True)
class Backoff:
    wait: Wait
    reason: str
    retry_after: float | None = None


Outcome = PerInput | Split | Rejected | AuthFailed | ScopeMissing | Misconfigured | Backoff
Halt = AuthFailed | ScopeMissing | Misconfigured


def classify(answer: Answer, sent: Mapping[str, str], id_property: str) -> Outcome:
    """An object batch upsert's outcome for the inputs sent (`sent`: trace id -> key)."""
    if answer.status in (200, 201, 207) and isinstance(answer.body, dict):
        return _readable(answer, _per_input(answer, sent, id_property))
    return _whole_batch(answer, len(sent), id_property)


def classify_associations(answer: Answer, sent: Mapping[tuple[str, str], str]) -> Outcome:
    """An association batch create's outcome (`sent`: (from id, to id) -> key).

    HubSpot answers 201 (and has been seen to answer 200: hubspot-api-php #506) with the
    pairs it holds in `results`; a 207's `errors` name failed pairs by `context`
    `fromObjectId` / `toObjectId` (that attribution is UNCONFIRMED, as the emulator's).
    A pair neither confirmed nor named is retried."""
    if answer.status in (200, 201, 207) and isinstance(answer.body, dict):
        return _readable(answer, _per_pair(answer, sent))
    return _whole_batch(answer, len(sent), None)


def _readable(answer: Answer, outcome: PerInput) -> Outcome:
    """A success answer that names none of the inputs (results not a list, results without
    ids) is a failed request, not a batch of unmentioned inputs: it is reported as one and
    counts an attempt like any transient failure."""
    unmentioned = f"{answer.status} answer did not mention it"
    if all(isinstance(o, Failure) and o.reason == unmentioned for o in outcome.outcomes.values()):
        return Backoff(Wait.TRANSIENT, f"{answer.status} answer could not be read")
    return outcome


def _whole_batch(answer: Answer, size: int, id_property: str | None) -> Outcome:
    """An answer that is about the whole request, not about each input."""
    status = answer.status
    if status == 401:
        return AuthFailed(answer.describe())
    if status == 403:
        return ScopeMissing(answer.describe())
    if status == 423:
        return Backoff(Wait.LOCKED, answer.describe())
    if status == 429:
        policy = answer.body.get("policyName") if isinstance(answer.body, dict) else None
        wait = Wait.DAILY if policy == "DAILY" else Wait.RATE
        return Backoff(wait, answer.describe(), _retry_after(answer))
    if status == 477:
        return Backoff(Wait.MIGRATION, answer.describe(), _retry_after(answer))
    if status == 400 and id_property and _refuses_id_property(answer, id_property):
        return Misconfigured(answer.describe())
    if status in (400, 409, 413, 414, 422):
        return Rejected(answer.describe()) if size == 1 else Split(answer.describe())
    return Backoff(Wait.TRANSIENT, answer.describe(), _retry_after(answer))


def _entries(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """`results` or `errors` of a batch answer, keeping only entries that are objects."""
    value = body.get(name)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _failure(error: dict[str, Any], permanent_categories: frozenset[str]) -> Failure:
    category = str(error.get("category", ""))
    reason = f"{category} {error.get('message', '')}".strip()[:1000]
    return Failure(reason, category in permanent_categories)


def _unmentioned(answer: Answer) -> Failure:
    # An input HubSpot neither confirmed nor rejected is not known to be written: retry it.
    return Failure(f"{answer.status} answer did not mention it", False)


def _per_input(answer: Answer, sent: Mapping[str, str], id_property: str) -> PerInput:
    by_value = {key.lower(): trace for trace, key in sent.items()}
    by_trace: dict[str, Success | Failure] = {}
    for result in _entries(answer.body, "results"):
        trace = result.get("objectWriteTraceId")
        if trace not in sent:
            # Match by the idProperty value when HubSpot leaves the trace id out (HubSpot
            # returns emails lower-cased, as the relay keys contacts).
            value = str((result.get("properties") or {}).get(id_property, "")).lower()
            trace = by_value.get(value)
        if trace is not None and result.get("id") is not None:
            by_trace[trace] = Success(str(result["id"]), bool(result.get("new", False)))
    for error in _entries(answer.body, "errors"):
        for trace in (error.get("context") or {}).get("objectWriteTraceId") or []:
            if trace in sent:
                by_trace[trace] = _failure(error, PERMANENT_CATEGORIES)
    return PerInput(
        {key: by_trace.get(trace) or _unmentioned(answer) for trace, key in sent.items()}
    )


def _per_pair(answer: Answer, sent: Mapping[tuple[str, str], str]) -> PerInput:
    outcomes: dict[str, Success | Failure] = {}
    for result in _entries(answer.body, "results"):
        pair = (str(result.get("fromObjectId")), str(result.get("toObjectId")))
        if pair in sent:
            outcomes[sent[pair]] = Success(f"{pair[0]}>{pair[1]}", True)
    for error in _entries(answer.body, "errors"):
        context = error.get("context") or {}
        starts = {str(i) for i in context.get("fromObjectId") or []}
        ends = {str(i) for i in context.get("toObjectId") or []}
        for (start, end), key in sent.items():
            if start in starts and (not ends or end in ends):
                outcomes[key] = _failure(error, PERMANENT_ASSOCIATION_CATEGORIES)
    return PerInput({key: outcomes.get(key) or _unmentioned(answer) for key in sent.values()})


def _refuses_id_property(answer: Answer, id_property: str) -> bool:
    """HubSpot's answer when the idProperty is not a unique property (or not one at all):
    "Unable to perform update/upsert by non-unique 0-8 property <name>". Every batch would
    meet it, so it is the portal's setup at fault, not the inputs."""
    message = str(answer.body.get("message", "")) if isinstance(answer.body, dict) else ""
    return id_property in message and ("non-unique" in message or "does not exist" in message)


MAX_RETRY_AFTER = 24 * 3600.0  # HubSpot's 477s say "often up to 24 h"; more is not believed


def _retry_after(answer: Answer) -> float | None:
    """Retry-After in seconds: finite, not negative, at most MAX_RETRY_AFTER; None when
    absent or not a number (an "inf" once paused every worker forever)."""
    value = {k.lower(): v for k, v in answer.headers.items()}.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)
