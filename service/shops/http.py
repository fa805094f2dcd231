"""One request to a shop's API, with what every call needs: a timeout, a few retries of
what a retry can fix (a dropped connection, a 5xx, a 429 after its Retry-After), and an
error that names the store and the shop's message but never a credential.

Shopify's REST limit is a leaky bucket per app and store (shop-apis.md §1: 40 requests,
draining 2 a second on the Standard plan, more on others; a full bucket answers 429).
Every answer says how full it is (`X-Shopify-Shop-Api-Call-Limit: used/size`), so
`CallLimit` waits before a request that would find it full, assuming the slowest
documented drain (2/s): a backfill runs flat out until the bucket is nearly full, then at
the drain rate, and meets a 429 only when something else filled the bucket first.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger("service.shops")

TIMEOUT = (5.0, 30.0)  # connect, read
ATTEMPTS = 4  # per request: the first and three retries
MAX_RETRY_AFTER = 60.0  # a shop asking for longer is treated as failing for now
STANDARD_LEAK_PER_SECOND = 2.0
_CALL_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


class ShopApiError(Exception):
    """A shop's API failed or refused: `status` None when no answer came."""

    def __init__(self, store: str, status: int | None, message: str) -> None:
        self.store, self.status, self.message = store, status, message
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{store}: {where}: {message}")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class CallLimit:
    """Shopify's bucket as last seen, to wait before a request that would overflow it."""

    def __init__(self, leak_per_second: float = STANDARD_LEAK_PER_SECOND) -> None:
        self.leak = leak_per_second
        self._used = 0.0
        self._size: int | None = None
        self._seen_at = 0.0

    def observe(self, header: str | None, now: float) -> None:
        match = _CALL_LIMIT.fullmatch(header or "")
        if match:
            self._used, self._size, self._seen_at = float(match[1]), int(match[2]), now

    def wait_before_next(self, now: float) -> float:
        """Seconds to wait so the next request finds room, one place kept spare."""
        if self._size is None:
            return 0.0
        used = max(0.0, self._used - (now - self._seen_at) * self.leak)
        over = used + 2 - self._size
        return over / self.leak if over > 0 else 0.0


class ShopHttp:
    """Requests to one store's API through an injected session; clock and sleep injected."""

    def __init__(
        self,
        store: str,
        session: requests.Session,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        call_limit: CallLimit | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._session = session
        self._headers = dict(headers or {})
        self._auth = auth
        self._limit = call_limit
        self._sleep = sleep
        self._clock = clock
        self.requests = 0  # sent, retries included
        self.rate_limited = 0  # 429s met

    def call(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Answer:
        """The 2xx answer to one call; raise ShopApiError when it never came."""
        failure = ShopApiError(self.store, None, "not tried")
        for attempt in range(ATTEMPTS):
            if self._limit is not None:
                self._pause(self._limit.wait_before_next(self._clock()))
            answer = self._send(method, url, params, body)
            if isinstance(answer, ShopApiError):
                failure = answer
                self._pause(min(2.0**attempt, 8.0))
                continue
            if answer.status < 300:
                return answer
            failure = ShopApiError(self.store, answer.status, _message(answer))
            if answer.status == 429:
                self.rate_limited += 1
                wait = _retry_after(answer.headers.get("Retry-After"))
                if wait is None:
                    break
                self._pause(wait)
            elif answer.status >= 500:
                self._pause(min(2.0**attempt, 8.0))
            else:
                break  # a refusal: asking again changes nothing
        raise failure

    def _send(
        self, method: str, url: str, params: Mapping[str, str] | None, body: Any
    ) -> Answer | ShopApiError:
        self.requests += 1
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers=self._headers,
                auth=self._auth,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # The exception's text holds the URL, which may hold a credential: not logged.
            where = urlsplit(url).path
            return ShopApiError(self.store, None, f"{type(exc).__name__} on {where}")
        if self._limit is not None:
            self._limit.observe(
                response.headers.get("X-Shopify-Shop-Api-Call-Limit"), self._clock()
            )
        return Answer(response.status_code, response.headers, response.text)

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header; None when missing, unreadable or too long."""
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_RETRY_AFTER:
        return None
    return seconds


def _message(answer: Answer) -> str:
    """The shop's own words about a failure: Shopify's `errors`, WordPress's `message`."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text.strip()[:200] or "no message"
    if isinstance(body, dict):
        said = body.get("errors", body.get("message"))
        if said is not None:
            return str(said)[:300]
    return str(body)[:200]
