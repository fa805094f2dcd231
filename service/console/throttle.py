"""Failed console sign-ins, slowed per client: after each failure a client must wait
twice as long as after the one before (1 s, 2 s, 4 s ... at most a minute) before its
next try counts. A success, or a quarter of an hour without a failure, forgets it.

Held in the web process's memory: each gunicorn worker keeps its own, so a client
guessing keys against two workers gets twice the tries, still at most one a minute per
worker once slowed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int
    until: float  # no try counts before this moment
    last: float


class SignInThrottle:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        base: float = 1.0,
        cap: float = 60.0,
        forget_after: float = 900.0,
        capacity: int = 10_000,
    ) -> None:
        self.clock = clock
        self._base, self._cap, self._forget, self._capacity = base, cap, forget_after, capacity
        self._clients: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds `client` must still wait before a sign-in is tried (0: go ahead)."""
        now = self.clock()
        with self._lock:
            failures = self._current(client, now)
            return max(0.0, failures.until - now) if failures else 0.0

    def failed(self, client: str) -> float:
        """Count a failed sign-in; the seconds the client must now wait."""
        now = self.clock()
        with self._lock:
            previous = self._current(client, now)
            count = previous.count + 1 if previous else 1
            delay = min(self._cap, self._base * 2.0 ** (count - 1))
            self._clients[client] = _Failures(count, now + delay, now)
            self._clients.move_to_end(client)
            while len(self._clients) > self._capacity:  # a flood of addresses: oldest go
                self._clients.popitem(last=False)
            return delay

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def _current(self, client: str, now: float) -> _Failures | None:
        failures = self._clients.get(client)
        if failures is not None and now - failures.last > self._forget:
            del self._clients[client]
            return None
        return failures
