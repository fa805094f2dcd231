"""`GET orders.json`: filters, keyset paging by `page_info`, and the `Link` header.

- `status`: open (the default, per a 2nd-hand quote of the docs), closed (`closed_at`
  set), cancelled (`cancelled_at` set) or any. Open is neither closed nor cancelled
  (this emulator's reading of the docs' one-line descriptions: UNCONFIRMED).
- `updated_at_min`/`_max`, `created_at_min`/`_max`: inclusive ("at or after", "at or
  before"), ISO 8601; a time without an offset is read in the shop's zone (UNCONFIRMED).
- `limit`: 1-250, default 50; more than 250 is served as 250 (UNCONFIRMED: Shopify may
  refuse it instead). `fields`: the top-level keys to keep, comma-separated.
- Order: `updated_at`, then `id`, ascending. Shopify's default order for REST orders is
  UNCONFIRMED (Airbyte asks for `order=updated_at asc`, shop-apis.md §1); this one lets
  a reconciler page over a set that changes meanwhile: an order updated mid-scan moves
  behind the cursor and is met again later, never skipped.
- A `Link` header carries rel `next` and `previous` URLs with an opaque `page_info`,
  `limit` and `fields` (shopify.dev pagination). With `page_info`, any other parameter
  is a 400 ("created_at_min cannot be passed when page_info is present", shop-apis.md §1;
  the body's shape is UNCONFIRMED). The URLs use the host the request came to.

Errors answer 400 `{"errors": "<message>"}` (shape and wording UNCONFIRMED for these,
a bad `page_info`'s "page_info - Invalid value" too).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from emulators.common.formats import DAY, parse_time
from emulators.common.http import Reply
from emulators.shopify.state import OrderRecord

STATUSES = ("open", "closed", "cancelled", "any")
DEFAULT_LIMIT, MAX_LIMIT = 50, 250
PAGING_PARAMS = frozenset({"page_info", "limit", "fields"})
_TIMES = ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max")


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    updated_at_min: float | None = None
    updated_at_max: float | None = None
    created_at_min: float | None = None
    created_at_max: float | None = None

    def admits(self, order: OrderRecord) -> bool:
        body = order.body
        if self.status == "open" and (body["closed_at"] or body["cancelled_at"]):
            return False
        if self.status == "closed" and not body["closed_at"]:
            return False
        if self.status == "cancelled" and not body["cancelled_at"]:
            return False
        return _within(order.updated, self.updated_at_min, self.updated_at_max) and _within(
            order.created, self.created_at_min, self.created_at_max
        )


@dataclass(frozen=True)
class Listing:
    """A listing request understood: what to show and where the page starts."""

    filters: Filters
    limit: int
    fields: tuple[str, ...] | None
    direction: str | None = None  # "next" or "previous" from a page_info
    key: tuple[float, int] | None = None


def bad(message: str) -> Reply:
    return Reply(400, {"errors": message})


def parse(query: dict[str, str], shop: str, offset: int) -> Listing | Reply:
    """The listing request, or the 400 a bad parameter answers."""
    limit = _limit(query.get("limit"))
    if isinstance(limit, Reply):
        return limit
    fields = tuple(f for f in query["fields"].split(",") if f) if query.get("fields") else None
    if "page_info" in query:
        extra = sorted(set(query) - PAGING_PARAMS)
        if extra:
            return bad(f"{extra[0]} cannot be passed when page_info is present")
        token = _decode(query["page_info"], shop)
        if token is None:
            return bad("page_info - Invalid value")
        filters, direction, key = token
        return Listing(filters, limit, fields, direction, key)
    status = query.get("status", "open")
    if status not in STATUSES:
        return bad(f"status must be one of {', '.join(STATUSES)}")
    times: dict[str, float] = {}
    for name in _TIMES:
        if name in query:
            parsed = parse_time(query[name], offset)
            if parsed is None:
                return bad(f"{name} is not an ISO 8601 time: {query[name]!r}")
            times[name] = parsed[0]
    return Listing(Filters(status, **times), limit, fields)


def needs_all_orders(request: Listing, now: float) -> bool:
    """Whether the request reaches past the 60 days an app sees without read_all_orders."""
    floor = request.filters.created_at_min
    return request.direction is None and floor is not None and floor < now - 60 * DAY


def answer(records: Sequence[OrderRecord], request: Listing, base: str, shop: str) -> Reply:
    """One page of the (visible, sorted) records, with its Link header."""
    matching = [r for r in records if request.filters.admits(r)]
    key, limit = request.key, request.limit
    if request.direction == "previous" and key is not None:
        before = [r for r in matching if r.key < key]
        page = before[-limit:]
        more_before, more_after = len(before) > limit, any(r.key >= key for r in matching)
    else:
        after = [r for r in matching if key is None or r.key > key]
        page = after[:limit]
        more_before = key is not None and any(r.key <= key for r in matching)
        more_after = len(after) > limit
    links = []
    if page and more_before:
        links.append(_link(base, request, shop, "previous", page[0].key))
    if page and more_after:
        links.append(_link(base, request, shop, "next", page[-1].key))
    headers = {"Link": ", ".join(links)} if links else {}
    return Reply(200, {"orders": [shown(r.body, request.fields) for r in page]}, headers)


def shown(body: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    return body if fields is None else {name: body[name] for name in fields if name in body}


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _limit(text: str | None) -> int | Reply:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or int(text) < 1:
        return bad(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return min(int(text), MAX_LIMIT)


def _link(base: str, request: Listing, shop: str, rel: str, key: tuple[float, int]) -> str:
    filters = {name: v for name, v in asdict(request.filters).items() if v is not None}
    token: dict[str, Any] = {"shop": shop, "filters": filters}
    token.update(direction=rel, last_value=key[0], last_id=key[1])
    raw = base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode())
    params = {"limit": str(request.limit), "page_info": raw.decode().rstrip("=")}
    if request.fields is not None:
        params["fields"] = ",".join(request.fields)
    return f'<{base}?{urlencode(params, safe=",")}>; rel="{rel}"'


def _decode(text: str, shop: str) -> tuple[Filters, str, tuple[float, int]] | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        token = json.loads(raw)
        filters = Filters(**token["filters"])
        key = (float(token["last_value"]), int(token["last_id"]))
        direction = token["direction"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    if token.get("shop") != shop or direction not in ("next", "previous"):
        return None  # another shop's cursor is no cursor here
    return filters, direction, key
