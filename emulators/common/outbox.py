"""The webhook sender: POSTs queued with a delay go out in background threads when due,
each attempt is logged, and the caller's `done` decides what an outcome means (a retry
queued, a subscription deleted or disabled) before the attempt counts as finished.

`idle()` waits until nothing is queued or in flight, which lets a test wait for a whole
retry schedule without sleeping; `clear()` forgets the queue and the log, and the
outcomes of attempts in flight at that moment are dropped.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass(frozen=True)
class Post:
    """One delivery attempt to make; `meta` goes into its log entry as is."""

    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The receiver's status, or None and the error when there was no answer."""

    status: int | None
    error: str | None = None


Done = Callable[[Post, Outcome], dict[str, Any]]  # returns more fields for the log entry
Sender = Callable[[Post], Outcome]


def post_over_http(post: Post) -> Outcome:
    """Send as shops do: no redirects followed (WooCommerce sets `redirection` 0, Shopify
    counts a redirect as a failure), the answer's body ignored."""
    try:
        response = requests.post(
            post.url,
            data=post.body,
            headers=post.headers,
            timeout=post.timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}")
    response.close()
    return Outcome(response.status_code)


class Outbox:
    """Delayed POSTs, sent in daemon threads; the attempts log is kept in order of finish."""

    def __init__(
        self,
        name: str,
        wall: Callable[[], float] = time.time,
        send: Sender = post_over_http,
    ) -> None:
        self._name = name
        self._wall = wall
        self._send = send
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Post, Done, int]] = []
        self._order = itertools.count()
        self._generation = 0
        self._in_flight = 0
        self._log: list[dict[str, Any]] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name=f"{self._name}-outbox", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None:
            thread.join()

    def send(self, post: Post, delay: float, done: Done) -> None:
        """Queue `post` to go out `delay` seconds from now."""
        with self._cond:
            due = time.monotonic() + max(0.0, delay)
            entry = (due, next(self._order), post, done, self._generation)
            heapq.heappush(self._queue, entry)
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self._log.clear()
            self._generation += 1
            self._in_flight = 0
            self._cond.notify_all()

    def attempts(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(entry) for entry in self._log]

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight; False if that took too long."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._in_flight, timeout)

    def wait_for_attempts(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """The log once it holds `count` attempts (or what it holds when time is up)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._log) >= count, timeout)
            return [dict(entry) for entry in self._log]

    def _run(self) -> None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._queue and self._queue[0][0] <= now:
                    _, _, post, done, generation = heapq.heappop(self._queue)
                    self._in_flight += 1
                    threading.Thread(
                        target=self._attempt,
                        args=(post, done, generation),
                        name=f"{self._name}-delivery",
                        daemon=True,
                    ).start()
                    continue
                self._cond.wait(self._queue[0][0] - now if self._queue else None)

    def _attempt(self, post: Post, done: Done, generation: int) -> None:
        sent_at = self._wall()
        outcome = self._send(post)
        current = generation == self._generation
        extra = done(post, outcome) if current else {}  # may queue a retry: not idle yet
        with self._cond:
            if generation != self._generation:
                return  # cleared while in flight
            self._log.append(
                {
                    **post.meta,
                    "url": post.url,
                    "sent_at": sent_at,
                    "status": outcome.status,
                    "error": outcome.error,
                    "headers": dict(post.headers),
                    "body": post.body.decode("utf-8", "replace"),
                    **extra,
                }
            )
            self._in_flight -= 1
            self._cond.notify_all()
