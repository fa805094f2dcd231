"""The WooCommerce REST API v3 as the emulator answers it:

    GET /wp-json/wc/v3/orders, /orders/<id>                           `listing`
    GET|POST /wp-json/wc/v3/webhooks, GET|PUT|POST|DELETE /webhooks/<id>  `webhooks`

The site is the one whose consumer key the request carries (`auth`). Writing orders is
not emulated: the relay only reads them. A path outside these answers WordPress's 404
`rest_no_route`. Errors have WordPress's shape, `{"code", "message", "data": {"status"}}`.

WooCommerce itself has no rate limit on this API (shop-apis.md §2); hosts may send 429.
`rate_limit` requests per `rate_window` per site play such a host (its 429 body and
`Retry-After` are UNCONFIRMED: each host has its own). The limit and scripted faults
apply to calls that authenticated, since they are told apart by site; a real host would
refuse before WordPress looks at the key.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from emulators.common.http import Reply, Request
from emulators.woocommerce import listing, webhooks
from emulators.woocommerce.auth import authenticate, refusal_for
from emulators.woocommerce.state import SiteState, WooState
from emulators.woocommerce.webhooks import Webhook, error

_PATH = re.compile(r"/wp-json/wc/v3/(?P<resource>orders|webhooks)(?:/(?P<id>\d+))?/?")
NO_ROUTE = error(404, "rest_no_route", "No route was found matching the URL and request method.")
_ROUTES = {
    ("orders", "list"): {"GET"},
    ("orders", "item"): {"GET"},
    ("webhooks", "list"): {"GET", "POST"},
    ("webhooks", "item"): {"GET", "PUT", "PATCH", "POST", "DELETE"},
}


def fault_reply(fault: str, retry_after: int, stall: float) -> Reply:
    if fault == "429":
        body = {
            "code": "too_many_requests",
            "message": "Too Many Requests",
            "data": {"status": 429},
        }
        return Reply(429, body, {"Retry-After": str(retry_after)})
    if fault == "drop":
        return Reply(0, drop=True)
    if fault == "timeout":
        return Reply(504, error(504, "gateway_timeout", "Gateway Timeout").body, stall=stall)
    message = "There has been a critical error on this website."
    return error(int(fault), "internal_server_error", message)


class WooApi:
    def __init__(
        self,
        state: WooState,
        fault: Callable[[str, str], str | None],
        created: Callable[[SiteState, Webhook], None],  # sends the ping
    ) -> None:
        self._state = state
        self._fault = fault
        self._created = created
        self._log_lock = threading.Lock()
        self.log: list[dict[str, Any]] = []

    def answer(self, request: Request) -> Reply:
        match = _PATH.fullmatch(request.path)
        kind = "item" if match and match.group("id") else "list"
        if match is None or request.method not in _ROUTES[(match.group("resource"), kind)]:
            return self._logged(request, None, NO_ROUTE)
        caller = authenticate(self._state, request)
        if caller.site is None:
            return self._logged(request, None, caller.refusal or refusal_for(kind, request.method))
        site, resource = caller.site, match.group("resource")
        fault = "429" if self._over_limit(site) else self._fault(resource, site.config.name)
        if fault is not None:
            cfg = self._state.config
            return self._logged(
                request, site, fault_reply(fault, cfg.retry_after, cfg.stall_seconds)
            )
        base = f"http://{request.header('host') or '127.0.0.1'}/wp-json/wc/v3/{resource}"
        item = int(match.group("id")) if match.group("id") else None
        try:
            if resource == "orders":
                reply = self._orders(site, request, item, base)
            else:
                reply = self._webhooks(site, request, item, base)
        except listing.Invalid as invalid:
            reply = invalid.reply()
        return self._logged(request, site, reply)

    def _orders(self, site: SiteState, request: Request, item: int | None, base: str) -> Reply:
        records = self._state.records(site)
        if item is not None:
            found = next((r for r in records if r.body["id"] == item), None)
            if found is None:
                return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return Reply(200, found.body)
        query = listing.order_query(request.query, site.config.utc_offset_minutes)
        chosen = listing.select(records, query)
        page, headers = listing.page_of(chosen, query.paging, base, request.query)
        return Reply(200, [r.body for r in page], headers)

    def _webhooks(self, site: SiteState, request: Request, item: int | None, base: str) -> Reply:
        url, offset, now = site.site.url, site.config.utc_offset_minutes, self._state.clock()
        method, hooks = request.method, site.webhooks
        if item is None and method == "GET":
            return self._webhook_list(site, request.query, base)
        payload = _json(request)
        if isinstance(payload, Reply):
            return payload
        with self._state.lock:
            if item is None:
                made = webhooks.create(site.ids.take("webhook"), payload, now)
                if isinstance(made, Reply):
                    return made
                hooks[made.id] = made
                self._created(site, made)
                location = {"Location": f"{url}/wp-json/wc/v3/webhooks/{made.id}"}
                return Reply(201, made.resource(url, offset, edit=True), location)
            hook = hooks.get(item)
            if method == "DELETE":
                force = str(request.query.get("force", (payload or {}).get("force", ""))).lower()
                if force not in ("true", "1"):
                    return error(
                        501,
                        "woocommerce_rest_trash_not_supported",
                        "Webhooks do not support trashing.",
                    )
                if hook is None:
                    return error(404, "woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.")
                del hooks[item]
                return Reply(200, hook.resource(url, offset, edit=True))
            if hook is None:
                return error(400, "woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.")
            if method == "GET":
                return Reply(200, hook.resource(url, offset))
            problem = webhooks.update(hook, payload, now)
            return problem or Reply(200, hook.resource(url, offset, edit=True))

    def _webhook_list(self, site: SiteState, query: dict[str, str], base: str) -> Reply:
        pages, orderby = listing.paging(query, ("date", "id", "title"))
        status = query.get("status", "all")
        if status not in ("all", *webhooks.STATUSES):
            problem = ("rest_not_in_enum", "status is not one of all, active, paused, disabled.")
            raise listing.Invalid({"status": problem})
        with self._state.lock:
            hooks = [h for h in site.webhooks.values() if status in ("all", h.status)]
        descending = pages.order == "desc"
        if orderby == "title":
            hooks.sort(key=lambda h: (h.name, h.id), reverse=descending)
        else:
            hooks.sort(
                key=lambda h: (h.created if orderby == "date" else 0, h.id), reverse=descending
            )
        page, headers = listing.page_of(hooks, pages, base, query)
        url, offset = site.site.url, site.config.utc_offset_minutes
        return Reply(200, [h.resource(url, offset) for h in page], headers)

    def _over_limit(self, site: SiteState) -> bool:
        cfg, now = self._state.config, self._state.clock()
        if not cfg.rate_limit:
            return False
        with self._state.lock:
            while site.calls and site.calls[0] <= now - cfg.rate_window:
                site.calls.popleft()
            if len(site.calls) >= cfg.rate_limit:
                return True
            site.calls.append(now)
            return False

    def _logged(self, request: Request, site: SiteState | None, reply: Reply) -> Reply:
        entry: dict[str, Any] = {"method": request.method, "path": request.path}
        entry.update(query=dict(request.query), site=site and site.config.name, status=reply.status)
        entry["at"] = self._state.clock()
        with self._log_lock:
            self.log.append(entry)
        return reply


def _json(request: Request) -> dict[str, Any] | Reply | None:
    if not request.body:
        return None
    try:
        payload = json.loads(request.body)
    except ValueError:
        return error(400, "rest_invalid_json", "Invalid JSON body passed.")
    return payload if isinstance(payload, dict) else None
