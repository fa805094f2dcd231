"""WooCommerce's webhook deliveries, as `WC_Webhook` makes them (class-wc-webhook.php,
shared/reference/webhooks.md §2):

- Each active webhook of the change's topic gets the order: the body is
  `trim(wp_json_encode($payload))`, i.e. compact JSON with `/` escaped as `\\/` and
  non-ASCII as `\\uXXXX`; the signature is base64 HMAC-SHA256 of those bytes keyed with
  `wp_specialchars_decode(secret, ENT_QUOTES)`.
- Headers: X-WC-Webhook-Source (the site URL with a trailing slash), -Topic, -Resource,
  -Event, -Signature, -ID (the webhook's), -Delivery-ID (a hash of the webhook id and
  the time, as `wp_hash`: not a stable event id); User-Agent `WooCommerce/<v> Hookshot
  (WordPress/<v>)`.
- Success is an answer from 200 to 302 (no redirect followed); it resets the failure
  count. A failure adds one, and the failure that finds the count at
  `failures_to_disable - 1` disables the webhook instead, the count unchanged
  (see `config` for 5 against the code's 7). WooCommerce never retries.
- Creating a webhook sends a ping: `webhook_id=<id>` as a form body, unsigned, without
  X-WC headers (its Content-Type is UNCONFIRMED; WP's HTTP API sends form bodies so).
  Only a 200 counts as a good ping, and a failed one changes nothing.

Not emulated: WooCommerce queues deliveries through Action Scheduler, keeps one pending
per webhook and order, and builds the payload when it sends; this emulator builds it at
the change and sends at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.common.outbox import Outbox, Outcome, Post

USER_AGENT = "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"
# wp_specialchars_decode(..., ENT_QUOTES): named and numeric forms of & < > " '
_ENTITIES = {
    "&lt;": "<", "&#060;": "<", "&#60;": "<", "&gt;": ">", "&#062;": ">", "&#62;": ">",
    "&quot;": '"', "&#034;": '"', "&#34;": '"', "&#x22;": '"',
    "&#039;": "'", "&#39;": "'", "&#x27;": "'",
    "&amp;": "&", "&#038;": "&", "&#38;": "&", "&#x26;": "&",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """An active webhook as it stood when its topic fired."""

    site: str
    source: str  # the site URL with a trailing slash
    webhook_id: int
    topic: str
    delivery_url: str
    secret: str


def wp_json(body: Any) -> bytes:
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")  # only strings hold a slash


def specialchars_decode(secret: str) -> str:
    for entity, char in _ENTITIES.items():
        secret = secret.replace(entity, char)
    return secret


def sign(secret: str, body: bytes) -> str:
    key = specialchars_decode(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


class Deliveries:
    """Sends a change's topics and pings, and applies WooCommerce's failure rule."""

    def __init__(
        self,
        outbox: Outbox,
        timeout: Callable[[], float],
        failed: Callable[[str, int, bool], dict[str, Any]],  # site, webhook id, ok -> log
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._timeout = timeout
        self._failed = failed
        self._clock = clock

    def send(self, body: dict[str, Any], topics: list[str], targets: list[Target]) -> int:
        queued = 0
        payload = wp_json(body)
        for topic in topics:
            for target in (t for t in targets if t.topic == topic):
                resource, _, event = topic.partition(".")
                stamp = f"{target.webhook_id}{int(self._clock())}"
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "X-WC-Webhook-Source": target.source,
                    "X-WC-Webhook-Topic": topic,
                    "X-WC-Webhook-Resource": resource,
                    "X-WC-Webhook-Event": event,
                    "X-WC-Webhook-Signature": sign(target.secret, payload),
                    "X-WC-Webhook-ID": str(target.webhook_id),
                    "X-WC-Webhook-Delivery-ID": hmac.new(
                        b"emulator-salt", stamp.encode(), "md5"
                    ).hexdigest(),
                }
                meta = {"site": target.site, "webhook_id": target.webhook_id, "topic": topic}
                meta["order_id"] = body["id"]
                post = Post(target.delivery_url, payload, headers, self._timeout(), meta)
                self._outbox.send(post, 0.0, self._done)
                queued += 1
        return queued

    def ping(self, site: str, webhook_id: int, delivery_url: str) -> None:
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"}
        meta = {"site": site, "webhook_id": webhook_id, "topic": "ping", "order_id": None}
        body = f"webhook_id={webhook_id}".encode()
        self._outbox.send(Post(delivery_url, body, headers, self._timeout(), meta), 0.0, _pinged)

    def _done(self, post: Post, outcome: Outcome) -> dict[str, Any]:
        ok = outcome.status is not None and 200 <= outcome.status < 303
        return {"ok": ok, **self._failed(post.meta["site"], post.meta["webhook_id"], ok)}


def _pinged(post: Post, outcome: Outcome) -> dict[str, Any]:
    return {"ok": outcome.status == 200}
