"""Shopify's webhook deliveries: each change's topics go to every subscription of the
shop for that topic, signed, and are retried on failure until the subscription is
removed (shared/reference/webhooks.md §1, shop-apis.md §1).

- Body: the order as JSON, compact, with `/`, `&`, `<` and `>` escaped (`\\/`,
  `\\u0026`, ...) and other text as UTF-8, as Shopify's bodies were seen escaped in
  issue reports (webhooks.md §5; the exact set of escapes is UNCONFIRMED): a receiver
  that re-serialises before checking the HMAC fails.
  A subscription's `fields` trims the body to those keys.
- Signature: base64 HMAC-SHA256 of those bytes, keyed with the app's client secret for
  API-made subscriptions and the shop's notification key for admin-made ones.
- Headers: X-Shopify-Topic, -Hmac-Sha256, -Shop-Domain, -API-Version (the
  subscription's), -Webhook-Id, -Event-Id, -Triggered-At; User-Agent Shopify-Captain-Hook
  (UNCONFIRMED). Event-Id is one per topic of a change, shared by every subscription;
  Webhook-Id is one per subscription and stays the same over its retries (whether
  Shopify keeps it over retries is UNCONFIRMED); Triggered-At is the change's time, in
  UTC with milliseconds (its exact format is UNCONFIRMED).
- Success is a 2xx answer within `delivery_timeout` (Shopify: 5 s, 2nd hand); anything else,
  redirects included, fails. A failure is retried 8 times over 4 hours, each wait twice
  the one before (documented: "8 times over 4 hours using an exponential backoff
  schedule"; the waits themselves are UNCONFIRMED), scaled by `retry_time_factor`. Each
  retry carries the original payload to the original address.
- After the last retry fails, an API-made subscription is deleted (webhooks.md §1, 2nd
  hand: "after 8 consecutive failures"; that the count is per event, not across events,
  is this emulator's reading, UNCONFIRMED). Admin-made ones stay.
- A change's topics are queued at once and sent in parallel, so they may arrive in any
  order, as Shopify's may (webhooks.md §1, "Ordering").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from emulators.common.formats import utc_z
from emulators.common.outbox import Outbox, Outcome, Post
from emulators.shopify.listing import shown

RETRIES = 8
RETRY_DELAYS = tuple(4 * 3600 * 2**k / (2**RETRIES - 1) for k in range(RETRIES))  # 4 h in all
_ESCAPES = (("/", "\\/"), ("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"))


@dataclass(frozen=True)
class Target:
    """A subscription as it stood when its topic fired."""

    shop: str
    subscription_id: int
    topic: str
    address: str
    api_version: str
    fields: tuple[str, ...] | None
    secret: str
    admin: bool


def shopify_json(body: Any) -> bytes:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _ESCAPES:
        text = text.replace(char, escaped)  # only strings hold these characters
    return text.encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Deliveries:
    """Sends a change's topics and applies Shopify's retry and removal rules."""

    def __init__(
        self,
        outbox: Outbox,
        settings: Callable[[], tuple[float, float]],  # (delivery_timeout, retry_time_factor)
        remove: Callable[[str, int], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._settings = settings
        self._remove = remove
        self._clock = clock

    def send(self, body: dict[str, Any], topics: list[str], targets: list[Target]) -> int:
        """Queue the body for every target of each topic; the number of deliveries queued."""
        triggered_at, queued = utc_z(self._clock()), 0
        timeout, _ = self._settings()
        for topic in topics:
            event_id = str(uuid.uuid4())
            for target in (t for t in targets if t.topic == topic):
                payload = shopify_json(shown(body, target.fields))
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "Shopify-Captain-Hook",
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Hmac-Sha256": sign(target.secret, payload),
                    "X-Shopify-Shop-Domain": target.shop,
                    "X-Shopify-API-Version": target.api_version,
                    "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                    "X-Shopify-Event-Id": event_id,
                    "X-Shopify-Triggered-At": triggered_at,
                }
                meta = {
                    "shop": target.shop,
                    "subscription_id": target.subscription_id,
                    "topic": topic,
                    "order_id": body["id"],
                    "attempt": 0,
                    "admin": target.admin,
                }
                post = Post(target.address, payload, headers, timeout, meta)
                self._outbox.send(post, 0.0, self._done)
                queued += 1
        return queued

    def _done(self, post: Post, outcome: Outcome) -> dict[str, Any]:
        if outcome.status is not None and 200 <= outcome.status < 300:
            return {"ok": True, "retry_in": None, "removed_subscription": False}
        attempt: int = post.meta["attempt"]
        if attempt < RETRIES:
            delay = RETRY_DELAYS[attempt] * self._settings()[1]
            again = replace(post, meta={**post.meta, "attempt": attempt + 1})
            self._outbox.send(again, delay, self._done)
            return {"ok": False, "retry_in": delay, "removed_subscription": False}
        removed = not post.meta["admin"] and self._remove(
            post.meta["shop"], post.meta["subscription_id"]
        )
        return {"ok": False, "retry_in": None, "removed_subscription": removed}
