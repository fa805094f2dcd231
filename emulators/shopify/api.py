"""The Shopify Admin REST API as the emulator answers it, under
`/admin/api/{version}/` (any `YYYY-MM` or `unstable`, echoed in X-Shopify-API-Version):

    GET orders.json, orders/count.json, orders/{id}.json       `listing`
    GET|POST webhooks.json, GET webhooks/count.json,
    GET|PUT|DELETE webhooks/{id}.json                          `subscriptions`

The shop is the one whose token `X-Shopify-Access-Token` carries; a request may also
name it by its Host header (`emu-one.myshopify.com`) or a `/shops/{domain}` path prefix,
and then the token must be that shop's. A bad or missing token answers 401 with
Shopify's message; a token without `read_orders` answers 403 on orders (and on
subscribing to an orders topic, UNCONFIRMED), with the message Shopify was seen sending
for a missing scope. Orders created more than 60 days ago are left out without
`read_all_orders`, and asking for them (`created_at_min` before then) answers 403
naming that scope (its wording is UNCONFIRMED).

Every answer to a known shop carries `X-Shopify-Shop-Api-Call-Limit: used/size`; a
request that finds the shop's bucket full answers 429 with `Retry-After` and costs
nothing. The 429's `Retry-After` is `retry_after` (2.0, as Shopify CLI and users have
seen it; whether Shopify ever sends another value is UNCONFIRMED) and its body the
"Exceeded 2 calls per second for api client" message users report (wording
UNCONFIRMED). Scripted faults (`emulators.common.faults`) come after the bucket.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from emulators.common.http import Reply, Request
from emulators.shopify import listing, subscriptions
from emulators.shopify.config import READ_ALL_ORDERS, READ_ORDERS, EmulatorConfig
from emulators.shopify.state import ShopifyState, ShopState

_PATH = re.compile(
    r"(?P<prefix>/shops/(?P<shop>[^/]+))?/admin/api/(?P<version>\d{4}-\d{2}|unstable)/(?P<rest>.+)"
)
_ONE = re.compile(r"(orders|webhooks)/(\d+)\.json")
INVALID_TOKEN = Reply(
    401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
)
RATE_LIMITED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."  # noqa: E501


def missing_scope(scope: str) -> Reply:
    return Reply(
        403, {"errors": f"[API] This action requires merchant approval for {scope} scope."}
    )


def fault_reply(fault: str, retry_after: float, stall: float) -> Reply:
    if fault == "429":
        return Reply(429, {"errors": RATE_LIMITED}, {"Retry-After": f"{retry_after:.1f}"})
    if fault == "drop":
        return Reply(0, drop=True)
    if fault == "timeout":
        return Reply(504, {"errors": "Gateway Timeout"}, stall=stall)
    return Reply(int(fault), {"errors": "Internal Server Error"})


class ShopifyApi:
    def __init__(self, state: ShopifyState, fault: Callable[[str, str], str | None]) -> None:
        self._state = state
        self._fault = fault
        self._log_lock = threading.Lock()
        self.log: list[dict[str, Any]] = []

    @property
    def config(self) -> EmulatorConfig:
        return self._state.config

    def answer(self, request: Request) -> Reply:
        match = _PATH.fullmatch(request.path)
        if match is None:
            return subscriptions.NOT_FOUND
        shop = self._shop_of(request, match.group("shop"))
        if shop is None:
            return self._logged(request, None, INVALID_TOKEN)
        reply = self._admitted(shop, request, match)
        return self._logged(request, shop.config.domain, reply)

    def _admitted(self, shop: ShopState, request: Request, match: re.Match[str]) -> Reply:
        cfg, now, rest = self.config, self._state.clock(), match.group("rest")
        with self._state.lock:
            admitted = shop.bucket.pour(now, cfg.bucket_size, cfg.leak_rate)
            used = shop.bucket.used(now, cfg.leak_rate)
        headers = {
            "X-Shopify-Shop-Api-Call-Limit": f"{used}/{cfg.bucket_size}",
            "X-Shopify-API-Version": match.group("version"),
            "X-Request-Id": str(uuid.uuid4()),
        }
        fault = self._fault(
            "webhooks" if rest.startswith("webhooks") else "orders", shop.config.domain
        )
        if not admitted:
            fault = "429"
        if fault is not None:
            reply = fault_reply(fault, cfg.retry_after, cfg.stall_seconds)
        else:
            host = request.header("host") or "127.0.0.1"
            base = f"http://{host}{match.group('prefix') or ''}/admin/api/{match.group('version')}"
            reply = self._route(shop, request, rest, base, match.group("version"))
        return reply.with_headers(headers)

    def _shop_of(self, request: Request, named: str | None) -> ShopState | None:
        token = request.header("x-shopify-access-token")
        host = (request.header("host") or "").split(":")[0]
        by_token = self._state.by_token(token) if token else None
        wanted = named or (host if host in self._state.shops else None)
        if wanted is not None and (by_token is None or by_token.config.domain != wanted):
            return None  # another shop's token, or none
        return by_token

    def _route(
        self, shop: ShopState, request: Request, rest: str, base: str, version: str
    ) -> Reply:
        method, one = request.method, _ONE.fullmatch(rest)
        if rest in ("orders.json", "orders/count.json") and method == "GET":
            return self._orders(shop, request.query, base + "/orders.json", rest != "orders.json")
        if one and one.group(1) == "orders" and method == "GET":
            return self._order(shop, int(one.group(2)), request.query)
        if rest.startswith("webhooks"):
            return self._webhooks(shop, request, rest, one, version)
        return subscriptions.NOT_FOUND

    def _orders(self, shop: ShopState, query: dict[str, str], base: str, count: bool) -> Reply:
        if READ_ORDERS not in shop.config.scopes:
            return missing_scope(READ_ORDERS)
        parsed = listing.parse(query, shop.config.domain, shop.config.utc_offset_minutes)
        if isinstance(parsed, Reply):
            return parsed
        if not shop.sees_old_orders() and listing.needs_all_orders(parsed, self._state.clock()):
            return missing_scope(READ_ALL_ORDERS)
        records = self._state.visible(shop)
        if count:
            return Reply(200, {"count": sum(1 for r in records if parsed.filters.admits(r))})
        return listing.answer(records, parsed, base, shop.config.domain)

    def _order(self, shop: ShopState, order_id: int, query: dict[str, str]) -> Reply:
        if READ_ORDERS not in shop.config.scopes:
            return missing_scope(READ_ORDERS)
        found = next((r for r in self._state.visible(shop) if r.body["id"] == order_id), None)
        if found is None:
            return subscriptions.NOT_FOUND
        fields = tuple(query["fields"].split(",")) if query.get("fields") else None
        return Reply(200, {"order": listing.shown(found.body, fields)})

    def _webhooks(
        self, shop: ShopState, request: Request, rest: str, one: re.Match[str] | None, version: str
    ) -> Reply:
        subs, offset, now = shop.subscriptions, shop.config.utc_offset_minutes, self._state.clock()
        method = request.method
        with self._state.lock:
            if rest == "webhooks.json" and method == "GET":
                return subscriptions.listing(subs, request.query, offset)
            if rest == "webhooks/count.json" and method == "GET":
                return Reply(200, {"count": sum(1 for s in subs.values() if not s.admin)})
            if rest == "webhooks.json" and method == "POST":
                payload = _json(request)
                topic = (
                    payload.get("webhook", {}).get("topic") if isinstance(payload, dict) else None
                )
                if str(topic).startswith("orders/") and READ_ORDERS not in shop.config.scopes:
                    return missing_scope(READ_ORDERS)
                sub_id = shop.ids.take("webhook")
                return subscriptions.create(subs, payload, sub_id, version, now, offset)
            if one is None or one.group(1) != "webhooks":
                return subscriptions.NOT_FOUND
            sub_id = int(one.group(2))
            if method == "GET":
                return subscriptions.read(subs, sub_id, offset)
            if method == "PUT":
                return subscriptions.update(subs, sub_id, _json(request), now, offset)
            if method == "DELETE":
                return subscriptions.delete(subs, sub_id)
        return subscriptions.NOT_FOUND

    def _logged(self, request: Request, shop: str | None, reply: Reply) -> Reply:
        entry: dict[str, Any] = {"method": request.method, "path": request.path}
        entry.update(query=dict(request.query), shop=shop, status=reply.status)
        entry["at"] = self._state.clock()
        with self._log_lock:
            self.log.append(entry)
        return reply


def _json(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None
