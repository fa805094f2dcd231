"""The HubSpot emulator's fault vocabulary, what each fault answers, and which calls a
fault may hit.

Every API call has a kind: `upsert:<type>`, `read:<type>`, `associations:<from>/<to>`
(association writes), `associations-read`, `pipelines:<type>`, `properties:<type>`.
A pattern names a kind or a prefix of one at a `:` or `/` boundary: `upsert` hits every
upsert, `associations` every association write (not `associations-read`),
`associations:line_items` the line-item associations. No pattern means any write call
(upserts and association writes), the default of scripts and of `fault_calls`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from emulators.hubspot.replies import (
    Reply,
    error_reply,
    hubspot_error,
    missing_scopes_reply,
    rate_limit_reply,
    unauthenticated_reply,
)

# "daily" is the DAILY 429; "400-unattributed" a whole-batch 400 naming no input.
# Broken answers, as a proxy or a bad day at HubSpot could give them: "retry-after-inf" a
# 429 with `Retry-After: inf`; "results-oops" a 200 whose results are not a list;
# "result-without-id" a 200 whose results carry no id (neither writes anything);
# "ratelimit-max-0", "trickle" and "huge" write as usual but answer with
# `X-HubSpot-RateLimit-Max: 0`, one byte every `trickle_seconds`, or padded to
# `huge_bytes` (ANSWER_FAULTS).
FAULTS = frozenset(
    {"500", "502", "503", "504", "423", "429", "daily", "477", "timeout", "drop", "401", "403"}
    | {"400-unattributed", "retry-after-inf", "results-oops", "result-without-id"}
    | {"ratelimit-max-0", "trickle", "huge"}
)
RATE_FAULTS = frozenset({"429", "daily", "retry-after-inf"})
ANSWER_FAULTS = frozenset({"ratelimit-max-0", "trickle", "huge"})
WRITE_CALLS = ("upsert", "associations")  # what no pattern stands for


def check_fault_names(names: Mapping[str, Any] | Iterable[str]) -> None:
    unknown = sorted(set(names) - FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {unknown}; known: {sorted(FAULTS)}")


def matches(pattern: str, kind: str) -> bool:
    """Whether a kind is the pattern or lies under it (`upsert` covers `upsert:orders`)."""
    return kind == pattern or kind.startswith((pattern + ":", pattern + "/"))


def hits(patterns: Iterable[str] | None, kind: str) -> bool:
    """Whether any pattern covers the kind; None stands for every write call."""
    return any(matches(p, kind) for p in (WRITE_CALLS if patterns is None else patterns))


def broken_answer(fault: str, reply: Reply, trickle_seconds: float, huge_bytes: int) -> Reply:
    """The real answer, spoilt as an ANSWER_FAULT says."""
    if fault == "ratelimit-max-0":
        headers = {"X-HubSpot-RateLimit-Max": "0", "X-HubSpot-RateLimit-Remaining": "0"}
        return replace(reply, headers={**reply.headers, **headers})
    if fault == "trickle":
        return replace(reply, trickle=trickle_seconds)
    return replace(reply, padding=huge_bytes)


def fault_reply(fault: str, timeout_seconds: float, retry_after: int) -> Reply:
    """The answer a fault stands for; faults never touch records."""
    if fault == "retry-after-inf":
        return rate_limit_reply("TEN_SECONDLY_ROLLING").with_headers({"Retry-After": "inf"})
    if fault in ("results-oops", "result-without-id"):
        results: Any = "oops" if fault == "results-oops" else [{"properties": {}, "new": True}]
        return Reply(200, {"status": "COMPLETE", "results": results})
    if fault in RATE_FAULTS:
        return rate_limit_reply("DAILY" if fault == "daily" else "TEN_SECONDLY_ROLLING")
    if fault == "drop":
        return Reply(0, drop=True)
    if fault == "timeout":
        reply = error_reply(504, "The request timed out at the gateway.", "GATEWAY_TIMEOUT")
        return Reply(504, reply.body, stall=timeout_seconds)
    if fault == "401":
        return unauthenticated_reply()
    if fault == "403":
        return missing_scopes_reply()
    if fault == "423":
        message = "Lock could not be acquired for this record. Retry after at least 2 seconds."
        return error_reply(423, message, "LOCKED")
    if fault == "477":
        body = hubspot_error("Migration in progress, retry later.", "MIGRATION_IN_PROGRESS")
        return Reply(477, body, {"Retry-After": str(retry_after)})
    if fault == "400-unattributed":
        message = 'Property values were not valid: [{"isValid":false,"message":"invalid value"}]'
        return error_reply(400, message, "VALIDATION_ERROR")
    return error_reply(int(fault), f"HubSpot answered {fault} (emulated fault).", "INTERNAL_ERROR")
