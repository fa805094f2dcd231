"""The WooCommerce emulator's sites: their orders and webhooks, under one lock. No HTTP
here: `api` and `control` read and change the state through these methods.

A stored body is never changed in place (a change builds a new one), so a listing may
hold references to the bodies it pages over. An order's version starts at 1 and grows by
one per change; a change moves `date_modified` forward to now (one second past the last
change when two fall in one second), unless it sets `date_modified_gmt` itself.
"""

from __future__ import annotations

import copy
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.common.catalogue import person
from emulators.common.formats import parse_time
from emulators.common.shop import OrderChange
from emulators.woocommerce.changes import apply_action, apply_fields, topics
from emulators.woocommerce.config import EmulatorConfig, SiteConfig
from emulators.woocommerce.orders import Ids, Site, new_order, stamp
from emulators.woocommerce.seed import seed_orders
from emulators.woocommerce.webhooks import Webhook

Body = dict[str, Any]


@dataclass
class OrderRecord:
    body: Body
    created: float
    modified: float
    version: int = 1


@dataclass
class SiteState:
    config: SiteConfig
    ids: Ids
    rng: random.Random
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    calls: deque[float] = field(default_factory=deque)  # for a host's rate limit

    @property
    def site(self) -> Site:
        cfg = self.config
        return Site(cfg.url.rstrip("/"), cfg.currency, cfg.utc_offset_minutes, cfg.tax_percent)


class WooState:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.sites: dict[str, SiteState] = {}
        self.reset()

    def reset(self) -> None:
        """Seed every site afresh; webhooks start empty."""
        with self.lock:
            now, self.sites = self.clock(), {}
            for site_config in self.config.sites:
                rng = random.Random(f"{self.config.seed}:{site_config.name}")
                state = SiteState(site_config, Ids(rng), rng)
                for seeded in seed_orders(rng, state.site, state.ids, site_config.orders, now):
                    order = OrderRecord(seeded.body, seeded.created, seeded.modified)
                    state.orders[int(seeded.body["id"])] = order
                self.sites[site_config.name] = state

    def configured(self) -> None:
        with self.lock:
            for site_config in self.config.sites:
                self.sites[site_config.name].config = site_config

    def site(self, name: str | None) -> SiteState:
        with self.lock:
            return self.sites[self.config.site(name).name]

    def by_key(self, key: str | None) -> SiteState | None:
        with self.lock:
            return next((s for s in self.sites.values() if s.config.consumer_key == key), None)

    def records(self, state: SiteState) -> list[OrderRecord]:
        with self.lock:
            return list(state.orders.values())

    def save_order(
        self, name: str | None, fields: Mapping[str, Any], action: str | None = None
    ) -> OrderChange:
        """Create an order (no `id`, or one not yet known) or change one."""
        with self.lock:
            state = self.site(name)
            record = state.orders.get(_id_of(fields))
            now, offset = self.clock(), state.config.utc_offset_minutes
            if record is None:
                buyer = person(state.rng, len(state.orders) + 1)
                body = new_order(state.rng, state.site, state.ids, buyer, now)
                if "id" in fields:
                    body["id"], body["number"] = fields["id"], str(fields["id"])
            else:
                body = copy.deepcopy(record.body)
            if action is not None:
                apply_action(body, action, state.ids, now, offset)
            apply_fields(body, fields, state.ids, state.rng, state.config.tax_percent)
            if record is None or "date_created_gmt" in fields:
                created = _time(fields.get("date_created_gmt"), now)
                stamp(body, "date_created", created, offset)
            else:
                created = record.created
            if "date_modified_gmt" in fields:
                modified = _time(fields["date_modified_gmt"], now)
            else:
                modified = max(int(now), int(record.modified) + 1) if record else int(now)
            stamp(body, "date_modified", modified, offset)
            version = record.version + 1 if record else 1
            state.orders[int(body["id"])] = OrderRecord(body, created, modified, version)
            fired = topics(record is None, self.config.updated_on_create)
            return OrderChange(
                state.config.name, copy.deepcopy(body), version, record is None, fired
            )


def _id_of(fields: Mapping[str, Any]) -> int:
    value = fields.get("id")
    if value is None:
        return -1
    if type(value) is not int or value <= 0:
        raise ValueError(f"an order id is a positive integer, not {value!r}")
    return value


def _time(value: Any, default: float) -> float:
    """A `_gmt` date given to the control API (UTC when it has no offset)."""
    if value is None:
        return float(int(default))
    parsed = parse_time(value, 0) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"expected an ISO 8601 time, not {value!r}")
    return float(int(parsed[0]))
