"""A site's seeded orders: `count` of them, fixed by the seed, created over the last 60
days, each taken through a story spread between its creation and now: left pending, on
hold, failed, paid, completed, partly or wholly refunded, cancelled (each story at least
once when there are as many orders as stories). Some buyers order more than once; about
one order in ten is a guest's (`customer_id` 0).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from emulators.common.catalogue import Stories, people, stories
from emulators.common.formats import DAY
from emulators.woocommerce.changes import apply_action
from emulators.woocommerce.orders import Ids, Site, new_order, stamp

STORIES: Stories = (  # weight, actions
    (12, ()),
    (6, ("hold",)),
    (5, ("fail",)),
    (25, ("pay",)),
    (27, ("pay", "complete")),
    (10, ("pay", "complete", "refund")),
    (5, ("pay", "refund", "refund", "refund", "refund", "refund", "refund", "refund")),
    (10, ("cancel",)),
)
GUEST_SHARE = 0.1


@dataclass(frozen=True)
class Seeded:
    body: dict[str, Any]
    created: float
    modified: float


def seed_orders(rng: random.Random, site: Site, ids: Ids, count: int, now: float) -> list[Seeded]:
    """The site's orders, oldest first."""
    ages = sorted((rng.uniform(0.1, 60) * DAY for _ in range(count)), reverse=True)
    buyers = people(rng, max(3, count * 2 // 3))
    told = stories(rng, STORIES, count)
    seeded = []
    for age, story in zip(ages, told, strict=True):
        created = int(now - age)
        buyer = None if rng.random() < GUEST_SHARE else rng.choice(buyers)
        body = new_order(rng, site, ids, buyer, created)
        modified: float = created
        for action in story:
            if body["status"] == "refunded":
                break
            modified = int(modified + rng.uniform(0.05, 0.6) * (now - modified) / len(story))
            body = copy.deepcopy(body)
            apply_action(body, action, ids, modified, site.offset)
        stamp(body, "date_modified", modified, site.offset)
        seeded.append(Seeded(body, created, modified))
    return seeded
