"""Account-level state of the HubSpot emulator: tokens, rate windows, faults, the log.

No HTTP here: `EmulatorState` answers "is this caller authenticated?", "may this request
run, and does it fault?" and "what does a token refresh return?" with `Reply` values that
`emulators.hubspot.app` writes to the socket. Records live in `crm`, properties in
`properties`, answer shapes in `replies`, the fault vocabulary and call kinds in `faults`.

Choices where HubSpot's behaviour is not documented (see shared/reference/hubspot.md):
- One rate bucket for the whole emulated account, shared by every token: HubSpot counts
  per app/account, and a rotated OAuth token must not get a fresh budget.
- Every API call, whatever its kind, shares the one rolling window and daily count.
- A request answered 429 (real or faulted) takes no slot in the rolling window and does
  not count toward the daily limit; `max_in_window` still counts it, so a benchmark sees
  how far a client overshot. Its X-HubSpot-RateLimit-* headers say Remaining 0 (and
  Daily-Remaining 0 for a DAILY one), with the same Max and Interval as other answers.
- A scripted fault waits for the first call its pattern covers (see `faults`); calls of
  other kinds pass it by.
- Refresh tokens rotate on every refresh; a used refresh token keeps working for
  `refresh_token_reuse` more refreshes (default 1: a client whose refresh answer was lost
  on the network can retry once), then answers BAD_REFRESH_TOKEN.
"""

from __future__ import annotations

import copy
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.faults import RATE_FAULTS, check_fault_names, hits
from emulators.hubspot.replies import (
    Reply,
    error_reply,
    oauth_error,
    rate_limit_reply,
    unauthenticated_reply,
)


@dataclass(frozen=True)
class Admission:
    """The outcome of `EmulatorState.admit`: a refusal, or a go-ahead possibly faulted."""

    reply: Reply | None = None
    fault: str | None = None


class EmulatorState:
    """Tokens, rate windows, scripted faults, counters and the request log, under one lock."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(self.config.seed)
            self._script: deque[tuple[str, tuple[str, ...] | None]] = deque()
            self._window: deque[float] = deque()  # admitted requests
            self._seen: deque[float] = deque()  # every rate-limited API request
            self._max_seen = 0
            self._daily_used = 0
            self._counts: Counter[str] = Counter()
            self._by_kind: Counter[str] = Counter()
            self._inputs_by_kind: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()
            self._log: list[dict[str, Any]] = []
            self._timeline: list[dict[str, Any]] = []  # one entry per write call, as `_log`
            self._access: dict[str, float] = {}  # issued OAuth access token -> expiry
            self._refresh_uses: Counter[str] = Counter()
            self._refresh_issued: set[str] = set()

    def configure(self, changes: Mapping[str, Any]) -> None:
        with self._lock:
            self.config.update(changes)
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)

    # --- accounting -------------------------------------------------------------------

    def note_request(
        self, kind: str, path: str, write: dict[str, Any] | None, ids: list[str]
    ) -> dict[str, Any] | None:
        """Count an API call of a kind; a write call's parsed body goes to the request log.

        For a write call, returns its timeline entry (arrival time, kind, path, ids),
        which `note_finished` completes once the answer is written.
        """
        with self._lock:
            self._counts["requests"] += 1
            self._by_kind[kind] += 1
            if write is None:
                return None
            self._log.append({**write, "kind": kind, "path": path})
            if kind.startswith("upsert:"):
                inputs = write.get("inputs")
                count = len(inputs) if isinstance(inputs, list) else 0
                self._counts["upsert_requests"] += 1
                self._counts["inputs"] += count
                self._inputs_by_kind[kind] += count
            entry: dict[str, Any] = {"received_at": self._clock(), "finished_at": None}
            entry.update(status=None, ids=ids, kind=kind, path=path)
            self._timeline.append(entry)
            return entry

    def note_finished(self, entry: dict[str, Any], status: int) -> None:
        """The answer to a timeline entry's upsert is written (status 0: dropped)."""
        with self._lock:
            entry.update(finished_at=self._clock(), status=status)

    def note_reply(self, reply: Reply) -> None:
        with self._lock:
            if reply.drop:
                self._counts["dropped"] += 1
                return
            self._by_status[str(reply.status)] += 1
            if reply.status == 429:
                self._counts["rate_limited"] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            counts = {k: self._counts[k] for k in ("requests", "upsert_requests", "inputs")}
            return {
                **counts,
                "by_status": dict(self._by_status),
                "rate_limited": self._counts["rate_limited"],
                "dropped": self._counts["dropped"],
                "max_in_window": self._max_seen,
                "daily_used": self._daily_used,
                "by_kind": dict(self._by_kind),
                "inputs_by_kind": dict(self._inputs_by_kind),
            }

    def requests_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._log)

    def timeline(self) -> list[dict[str, Any]]:
        """Per write call, in arrival order: `received_at` (body read), `finished_at`
        (answer written; None while in flight), `status`, `kind`, `path` and `ids` (an
        upsert's input ids; "fromId>toId" for associations)."""
        with self._lock:
            return copy.deepcopy(self._timeline)

    # --- auth -------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str | Reply:
        """The kind of a good bearer token ("static" or "oauth"), else the 401 to answer."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return unauthenticated_reply()
        with self._lock:
            if token in self.config.access_tokens:
                return "static"
            expires_at = self._access.get(token)
        if expires_at is None:
            return unauthenticated_reply()
        ago = self._clock() - expires_at
        if ago >= 0:
            message = f"The OAuth token used to make this call expired {int(ago)} second(s) ago."
            return error_reply(401, message, "EXPIRED_AUTHENTICATION")
        return "oauth"

    def expire_tokens(self) -> None:
        """Make every issued OAuth access token expired as of now."""
        now = self._clock()
        with self._lock:
            self._access = {t: min(exp, now) for t, exp in self._access.items()}

    def refresh(self, form: Mapping[str, str]) -> Reply:
        """The OAuth token endpoint for grant_type=refresh_token."""
        cfg = self.config
        if form.get("grant_type") != "refresh_token":
            return oauth_error(
                "unsupported_grant_type", "grant_type is not supported", "BAD_GRANT_TYPE"
            )
        client = (form.get("client_id"), form.get("client_secret"))
        if cfg.oauth_client_id is None or client != (cfg.oauth_client_id, cfg.oauth_client_secret):
            return oauth_error("invalid_client", "client id or secret is invalid", "BAD_CLIENT_ID")
        presented = form.get("refresh_token", "")
        with self._lock:
            if not self._refresh_usable(presented):
                description = "refresh token is invalid, expired or revoked"
                return oauth_error("invalid_grant", description, "BAD_REFRESH_TOKEN")
            self._refresh_uses[presented] += 1
            access = f"emu-at-{secrets.token_urlsafe(24)}"
            refresh = f"emu-rt-{secrets.token_urlsafe(24)}"
            self._access[access] = self._clock() + cfg.oauth_expires_in
            self._refresh_issued.add(refresh)
        scopes = sorted(cfg.granted_scopes())
        return Reply(200, _token_body(access, refresh, cfg.oauth_expires_in, scopes))

    def _refresh_usable(self, token: str) -> bool:
        known = token in self._refresh_issued or (
            bool(token) and token == self.config.oauth_refresh_token
        )
        return known and self._refresh_uses[token] <= self.config.refresh_token_reuse

    # --- rate limits and faults -------------------------------------------------------

    def admit(self, kind: str, may_fault: bool = True) -> Admission:
        """Take a slot in the rolling window, or refuse with 429; pick the call's fault."""
        cfg, now = self.config, self._clock()
        with self._lock:
            self._prune(now)
            self._seen.append(now)
            self._max_seen = max(self._max_seen, len(self._seen))
            if self._daily_used >= cfg.daily_limit:
                return Admission(reply=rate_limit_reply("DAILY"))
            if len(self._window) >= cfg.rate_limit:
                return Admission(reply=rate_limit_reply("TEN_SECONDLY_ROLLING"))
            fault = self._next_fault(kind) if may_fault else None
            if fault not in RATE_FAULTS:
                self._window.append(now)
                self._daily_used += 1
            return Admission(fault=fault)

    def rate_headers(self, kind: str, reply: Reply) -> dict[str, str]:
        """X-HubSpot-RateLimit-* headers; the daily pair only for static tokens, as HubSpot.
        A 429 says Remaining 0 for the limit it names, real or scripted alike."""
        cfg = self.config
        policy = reply.body.get("policyName") if isinstance(reply.body, dict) else None
        limited = reply.status == 429
        with self._lock:
            self._prune(self._clock())
            remaining = max(0, cfg.rate_limit - len(self._window))
            headers = {
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(cfg.rate_window * 1000)),
                "X-HubSpot-RateLimit-Max": str(cfg.rate_limit),
                "X-HubSpot-RateLimit-Remaining": "0" if limited else str(remaining),
            }
            if kind == "static":
                daily = max(0, cfg.daily_limit - self._daily_used)
                headers["X-HubSpot-RateLimit-Daily"] = str(cfg.daily_limit)
                out = limited and policy == "DAILY"
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0" if out else str(daily)
        return headers

    def script(self, faults: tuple[str, ...], calls: str | None = None) -> None:
        """Queue faults for the next calls `calls` covers (None: any write call)."""
        check_fault_names(faults)
        patterns = None if calls is None else (calls,)
        with self._lock:
            self._script.extend((fault, patterns) for fault in faults)

    def _prune(self, now: float) -> None:
        horizon = now - self.config.rate_window
        for window in (self._window, self._seen):
            while window and window[0] <= horizon:
                window.popleft()

    def _next_fault(self, kind: str) -> str | None:
        for index, (fault, patterns) in enumerate(self._script):
            if hits(patterns, kind):
                del self._script[index]
                return fault
        if not hits(self.config.fault_calls, kind):
            return None
        draw, total = self._rng.random(), 0.0
        for fault, rate in sorted(self.config.fault_rates.items()):
            total += rate
            if draw < total:
                return fault
        return None


def _token_body(access: str, refresh: str, expires_in: int, scopes: list[str]) -> dict[str, Any]:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": expires_in,
        "token_type": "bearer",
        "token_use": "access_token",
        "hub_id": 12345678,
        "scopes": scopes,
    }
