"""WooCommerce webhooks over REST v3 (`/wc/v3/webhooks[/<id>]`), per site, as the v1
controller that v3 extends handles them (shared/reference/shop-apis.md §2, read in
`class-wc-rest-webhooks-v1-controller.php`):

- List with `status` all (default), active, paused or disabled, newest first, paged
  like orders (`X-WP-Total`, `X-WP-TotalPages`).
- Create needs a valid `topic` and a `delivery_url` starting with http:// or https://
  (else 400 `woocommerce_rest_shop_webhook_invalid_topic` / `..._invalid_delivery_url`);
  a new webhook is always `active`: the controller ignores a `status` given to create
  (it must still be a valid one). With no `secret`, one of 50 characters is made up. The
  answer is 201 in the `edit` context, so it shows the secret; a ping follows.
- Update (PUT or POST to `/webhooks/<id>`) sets name, topic, URL, secret and status, but
  never the failure count: a re-activated webhook keeps its failures.
- Delete needs `force=true` (else 501 `woocommerce_rest_trash_not_supported`) and
  answers the webhook as it was.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from emulators.common.formats import wall_clock
from emulators.common.http import Reply

STATUSES = ("active", "paused", "disabled")
RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")
HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post"],
    "order.restored": ["untrashed_post"],
}


@dataclass
class Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    created: float
    modified: float
    status: str = "active"
    failure_count: int = 0  # never in an answer, as in WooCommerce

    def resource(self, site_url: str, offset: int, edit: bool = False) -> dict[str, Any]:
        resource, _, event = self.topic.partition(".")
        api = f"{site_url}/wp-json/wc/v3/webhooks"
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": self.topic,
            "resource": resource,
            "event": event,
            "hooks": HOOKS.get(self.topic, []),
            "delivery_url": self.delivery_url,
            "date_created": wall_clock(self.created, offset),
            "date_created_gmt": wall_clock(self.created, 0),
            "date_modified": wall_clock(self.modified, offset),
            "date_modified_gmt": wall_clock(self.modified, 0),
        }
        if edit:
            out["secret"] = self.secret
        out["_links"] = {"self": [{"href": f"{api}/{self.id}"}], "collection": [{"href": api}]}
        return out


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message, "data": {"status": status}})


def valid_topic(topic: Any) -> bool:
    if not isinstance(topic, str):
        return False
    resource, _, event = topic.lower().partition(".")
    return (resource in RESOURCES and event in EVENTS) or (resource == "action" and bool(event))


def create(webhook_id: int, payload: Any, now: float) -> Webhook | Reply:
    given = payload if isinstance(payload, dict) else {}
    problem = _problem(given, creating=True)
    if problem is not None:
        return problem
    made_on = time.strftime("%b %d, %Y @ %I:%M %p", time.gmtime(now))
    name = given.get("name") or f"Webhook created on {made_on}"
    secret = given.get("secret") or _made_up_secret()
    return Webhook(
        webhook_id, str(name), given["topic"].lower(), given["delivery_url"], secret, now, now
    )


def update(webhook: Webhook, payload: Any, now: float) -> Reply | None:
    """Apply an update in place; the 400 to answer when the payload is not valid."""
    given = payload if isinstance(payload, dict) else {}
    problem = _problem(given, creating=False)
    if problem is not None:
        return problem
    webhook.topic = str(given.get("topic") or webhook.topic).lower()
    webhook.delivery_url = given.get("delivery_url") or webhook.delivery_url
    webhook.secret = given.get("secret") or webhook.secret
    webhook.status = str(given.get("status") or webhook.status).lower()
    webhook.name = str(given.get("name") or webhook.name)
    webhook.modified = now
    return None


def _problem(given: dict[str, Any], creating: bool) -> Reply | None:
    topic, url, status = given.get("topic"), given.get("delivery_url"), given.get("status")
    if (creating or topic) and not valid_topic(topic):
        message = (
            "Webhook topic is required and must be valid."
            if creating
            else "Webhook topic must be valid."
        )
        return error(400, "woocommerce_rest_shop_webhook_invalid_topic", message)
    if (creating or url) and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        message = "Webhook delivery URL must be a valid URL starting with http:// or https://."
        return error(400, "woocommerce_rest_shop_webhook_invalid_delivery_url", message)
    if status and str(status).lower() not in STATUSES:
        return error(
            400, "woocommerce_rest_shop_webhook_invalid_status", "Webhook status must be valid."
        )
    return None


def _made_up_secret() -> str:
    """As `wp_generate_password(50, true, true)`: letters, digits and specials."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
    return "".join(secrets.choice(alphabet) for _ in range(50))
