"""Scripted faults for the shop APIs: "the next N calls answer 500", per shop or site and
per kind of call ("orders" or "webhooks"; none: any). Each emulator says what a fault
looks like on its wire (`fault_reply`); this module only keeps the queue.

    500 502 503 504   that status, with the shop's error body
    429               the shop's rate-limit answer (Shopify: with Retry-After)
    drop              the connection is closed without an answer
    timeout           the answer (a 504) waits `stall` seconds first
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

FAULTS = frozenset({"500", "502", "503", "504", "429", "drop", "timeout"})
CALL_KINDS = frozenset({"orders", "webhooks"})


def check_faults(faults: Iterable[str], calls: str | None) -> None:
    unknown = sorted(set(faults) - FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {unknown}; known: {sorted(FAULTS)}")
    if calls is not None and calls not in CALL_KINDS:
        raise ValueError(f"calls must be one of {sorted(CALL_KINDS)} or absent, not {calls!r}")


@dataclass(frozen=True)
class _Scripted:
    fault: str
    calls: str | None  # None: any kind
    tenant: str | None  # None: any shop or site


class FaultScript:
    """A queue of faults; each is taken by the first API call it covers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[_Scripted] = deque()

    def add(
        self, faults: Iterable[str], calls: str | None = None, tenant: str | None = None
    ) -> None:
        faults = list(faults)
        check_faults(faults, calls)
        with self._lock:
            self._queue.extend(_Scripted(fault, calls, tenant) for fault in faults)

    def take(self, kind: str, tenant: str) -> str | None:
        """The fault the next call of this kind to this tenant answers, if one is queued."""
        with self._lock:
            for index, scripted in enumerate(self._queue):
                if scripted.calls in (None, kind) and scripted.tenant in (None, tenant):
                    del self._queue[index]
                    return scripted.fault
        return None

    def pending(self) -> list[dict[str, str | None]]:
        with self._lock:
            return [{"fault": s.fault, "calls": s.calls, "tenant": s.tenant} for s in self._queue]

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
