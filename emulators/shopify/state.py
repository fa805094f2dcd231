"""The Shopify emulator's shops: their orders, subscriptions and rate buckets, under one
lock. No HTTP here: `api` and `control` read and change the state through these methods.

A stored body is never changed in place (a change builds a new one), so a listing may
hold references to the bodies it pages over without copying them all.

An order's version starts at 1 and grows by one per change. A change moves `updated_at`
forward to now, or one second past the last one when two changes fall in one second
(Shopify's timestamps have whole seconds), unless the change sets `updated_at` itself.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.common.catalogue import person
from emulators.common.formats import DAY, parse_time, with_offset
from emulators.common.shop import OrderChange
from emulators.shopify.bucket import LeakyBucket
from emulators.shopify.changes import apply_action, apply_fields, topics
from emulators.shopify.config import READ_ALL_ORDERS, EmulatorConfig, ShopConfig
from emulators.shopify.orders import Ids, Shop, new_order
from emulators.shopify.seed import seed_orders
from emulators.shopify.subscriptions import Subscription

Body = dict[str, Any]
RECENT = 60 * DAY  # older orders need read_all_orders


@dataclass
class OrderRecord:
    body: Body
    created: float
    updated: float
    version: int = 1

    @property
    def key(self) -> tuple[float, int]:
        """The listing's order: updated_at, then id."""
        return (self.updated, int(self.body["id"]))


@dataclass
class ShopState:
    config: ShopConfig
    ids: Ids
    rng: random.Random
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    bucket: LeakyBucket = field(default_factory=LeakyBucket)

    @property
    def shop(self) -> Shop:
        return Shop(self.config.domain, self.config.currency, self.config.utc_offset_minutes)

    def sees_old_orders(self) -> bool:
        return READ_ALL_ORDERS in self.config.scopes


class ShopifyState:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.shops: dict[str, ShopState] = {}
        self.reset()

    def reset(self) -> None:
        """Seed every shop afresh; subscriptions and buckets start empty."""
        with self.lock:
            now = self.clock()
            self.shops = {}
            for index, shop_config in enumerate(self.config.shops):
                rng = random.Random(f"{self.config.seed}:{shop_config.domain}")
                state = ShopState(shop_config, Ids(rng, index), rng)
                for seeded in seed_orders(rng, state.shop, state.ids, shop_config.orders, now):
                    order = OrderRecord(seeded.body, seeded.created, seeded.updated)
                    state.orders[int(seeded.body["id"])] = order
                self.shops[shop_config.domain] = state

    def configured(self) -> None:
        """Point each shop at its config after a change (tokens, scopes, secrets)."""
        with self.lock:
            for shop_config in self.config.shops:
                self.shops[shop_config.domain].config = shop_config

    def shop(self, domain: str | None) -> ShopState:
        with self.lock:
            return self.shops[self.config.shop(domain).domain]

    def by_token(self, token: str | None) -> ShopState | None:
        with self.lock:
            return next((s for s in self.shops.values() if s.config.access_token == token), None)

    def visible(self, state: ShopState) -> list[OrderRecord]:
        """The shop's orders the app may see, in listing order."""
        with self.lock:
            horizon = self.clock() - RECENT
            old_too = state.sees_old_orders()
            found = [o for o in state.orders.values() if old_too or o.created >= horizon]
        return sorted(found, key=lambda o: o.key)

    def save_order(
        self, domain: str | None, fields: Mapping[str, Any], action: str | None = None
    ) -> OrderChange:
        """Create an order (no `id`, or one not yet known) or change one."""
        with self.lock:
            state = self.shop(domain)
            record = state.orders.get(_id_of(fields))
            before = None if record is None else record.body
            now = self.clock()
            at = with_offset(now, state.config.utc_offset_minutes)
            body = self._fresh(state, fields, now) if record is None else copy.deepcopy(before)
            assert body is not None
            if action is not None:
                apply_action(body, action, state.ids, at)
            apply_fields(body, fields, state.ids, state.rng)
            saved = self._stored(state, record, body, fields, now)
            return OrderChange(
                state.config.domain,
                copy.deepcopy(body),
                saved.version,
                record is None,
                topics(before, body),
            )

    def _fresh(self, state: ShopState, fields: Mapping[str, Any], now: float) -> Body:
        number = len(state.orders) + 1
        buyer = person(state.rng, number)
        body = new_order(state.rng, state.shop, state.ids, number, buyer, now)
        if "id" in fields:
            body["id"] = fields["id"]
            body["admin_graphql_api_id"] = f"gid://shopify/Order/{fields['id']}"
        return body

    def _stored(
        self,
        state: ShopState,
        record: OrderRecord | None,
        body: Body,
        fields: Mapping[str, Any],
        now: float,
    ) -> OrderRecord:
        offset = state.config.utc_offset_minutes
        if "created_at" in fields:
            created = _time(fields["created_at"], offset, now)
        else:
            created = record.created if record else float(int(now))
        if "updated_at" in fields:
            updated = _time(fields["updated_at"], offset, now)
        else:
            updated = max(int(now), int(record.updated) + 1) if record else int(now)
        if record is None or "created_at" in fields:
            body["created_at"] = body["processed_at"] = with_offset(created, offset)
        body["updated_at"] = with_offset(updated, offset)
        saved = OrderRecord(body, created, updated, record.version + 1 if record else 1)
        state.orders[int(body["id"])] = saved
        return saved


def _id_of(fields: Mapping[str, Any]) -> int:
    value = fields.get("id")
    if value is None:
        return -1
    if type(value) is not int or value <= 0:
        raise ValueError(f"an order id is a positive integer, not {value!r}")
    return value


def _time(value: Any, offset: int, default: float) -> float:
    if value is None:
        return float(int(default))
    parsed = parse_time(value, offset) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"expected an ISO 8601 time, not {value!r}")
    return float(int(parsed[0]))
