"""Shopify webhook subscriptions over REST (`webhooks.json`, `webhooks/{id}.json`), per
shop: list with `topic`/`address` filters, create, read, update, delete.

Only subscriptions the app made through the API are listed or reachable by id: those a
merchant made in the admin (Settings > Notifications) "won't be returned in API calls"
(shared/reference/shop-apis.md §1). The control API can add such a subscription, which
still gets deliveries, signed with the shop's notification key (webhooks.md §1).

Validation answers 422 with Shopify's `{"errors": {field: [message]}}`; the messages
are those Shopify is known to send, but their exact wording is UNCONFIRMED. A
subscription with the same topic and address as an existing one is refused, so "create
only the ones you need" (best practices) is something a client must do itself. An
`http://` address is accepted so that tests can receive on 127.0.0.1; Shopify wants
HTTPS. Only the JSON format is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulators.common.formats import with_offset
from emulators.common.http import Reply

TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/edited",
        "orders/delete",
        "refunds/create",
        "app/uninstalled",
        "customers/create",
        "customers/update",
        "products/update",
    }
)
NOT_FOUND = Reply(404, {"errors": "Not Found"})
ADMIN_API_VERSION = "2026-07"  # what an admin-made subscription is sent as


@dataclass
class Subscription:
    id: int
    topic: str
    address: str
    api_version: str
    created: float
    updated: float
    fields: list[str] = field(default_factory=list)
    admin: bool = False  # made in the shop's admin: unseen by the API, never removed

    def resource(self, offset: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "address": self.address,
            "topic": self.topic,
            "created_at": with_offset(self.created, offset),
            "updated_at": with_offset(self.updated, offset),
            "format": "json",
            "fields": list(self.fields),
            "metafield_namespaces": [],
            "api_version": self.api_version,
            "private_metafield_namespaces": [],
        }


def listing(subs: dict[int, Subscription], query: dict[str, str], offset: int) -> Reply:
    found = [
        sub.resource(offset)
        for sub in sorted(subs.values(), key=lambda s: s.id)
        if not sub.admin
        and query.get("topic", sub.topic) == sub.topic
        and query.get("address", sub.address) == sub.address
    ]
    return Reply(200, {"webhooks": found})


def read(subs: dict[int, Subscription], sub_id: int, offset: int) -> Reply:
    sub = subs.get(sub_id)
    if sub is None or sub.admin:
        return NOT_FOUND
    return Reply(200, {"webhook": sub.resource(offset)})


def create(
    subs: dict[int, Subscription], payload: Any, sub_id: int, version: str, now: float, offset: int
) -> Reply:
    given = _webhook_of(payload)
    if isinstance(given, Reply):
        return given
    errors = _problems(subs, given, None, require=True)
    if errors:
        return Reply(422, {"errors": errors})
    sub = Subscription(
        sub_id,
        given["topic"],
        given["address"],
        str(given.get("api_version") or version),
        now,
        now,
        list(given.get("fields") or []),
    )
    subs[sub.id] = sub
    return Reply(201, {"webhook": sub.resource(offset)})


def update(
    subs: dict[int, Subscription], sub_id: int, payload: Any, now: float, offset: int
) -> Reply:
    sub = subs.get(sub_id)
    if sub is None or sub.admin:
        return NOT_FOUND
    given = _webhook_of(payload)
    if isinstance(given, Reply):
        return given
    errors = _problems(subs, given, sub, require=False)
    if errors:
        return Reply(422, {"errors": errors})
    sub.topic = given.get("topic", sub.topic)
    sub.address = given.get("address", sub.address)
    sub.api_version = str(given.get("api_version") or sub.api_version)
    sub.fields = list(given.get("fields", sub.fields) or [])
    sub.updated = now
    return Reply(200, {"webhook": sub.resource(offset)})


def delete(subs: dict[int, Subscription], sub_id: int) -> Reply:
    sub = subs.get(sub_id)
    if sub is None or sub.admin:
        return NOT_FOUND
    del subs[sub_id]
    return Reply(200, {})


def _webhook_of(payload: Any) -> dict[str, Any] | Reply:
    given = payload.get("webhook") if isinstance(payload, dict) else None
    if not isinstance(given, dict):
        return Reply(400, {"errors": {"webhook": "Required parameter missing or invalid"}})
    return given


def _problems(
    subs: dict[int, Subscription],
    given: dict[str, Any],
    current: Subscription | None,
    require: bool,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    topic = given.get("topic", None if require else (current and current.topic))
    address = given.get("address", None if require else (current and current.address))
    if not isinstance(topic, str) or not topic:
        errors["topic"] = ["can't be blank"]
    elif topic not in TOPICS:
        errors["topic"] = [f"Invalid topic specified: {topic}. Topics allowed: {sorted(TOPICS)}"]
    if not isinstance(address, str) or not address:
        errors["address"] = ["can't be blank"]
    elif not address.startswith(("https://", "http://")):
        errors["address"] = ["is invalid"]
    elif any(
        s.topic == topic and s.address == address and s is not current and not s.admin
        for s in subs.values()
    ):
        errors["address"] = ["for this topic has already been taken"]
    if given.get("format", "json") != "json":
        errors["format"] = ["is not included in the list"]  # this emulator speaks JSON only
    return errors
