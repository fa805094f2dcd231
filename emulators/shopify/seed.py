"""A shop's seeded orders: `count` of them, fixed by the seed, created over the last 90
days (about one in seven more than 60 days ago, so `read_all_orders` matters), each
taken through a story of actions spread between its creation and now: left pending,
paid, fulfilled, delivered, partly refunded, cancelled before or after payment, closed
(each story at least once when there are as many orders as stories).
Some buyers order more than once; about one order in ten is a guest's.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from emulators.common.catalogue import Stories, people, stories
from emulators.common.formats import DAY, with_offset
from emulators.shopify.changes import apply_action
from emulators.shopify.orders import Ids, Shop, new_order

STORIES: Stories = (  # weight, actions
    (12, ()),
    (28, ("pay",)),
    (20, ("pay", "fulfill")),
    (10, ("pay", "fulfill", "deliver")),
    (10, ("pay", "fulfill", "refund")),
    (6, ("cancel",)),
    (7, ("pay", "cancel")),
    (7, ("pay", "fulfill", "deliver", "close")),
)
OLD_SHARE = 1 / 7  # orders created 61-90 days ago
GUEST_SHARE = 0.1


@dataclass(frozen=True)
class Seeded:
    body: dict[str, Any]
    created: float
    updated: float


def seed_orders(rng: random.Random, shop: Shop, ids: Ids, count: int, now: float) -> list[Seeded]:
    """The shop's orders, oldest first, numbered #1001 on in that order."""
    ages = sorted((_age(rng) for _ in range(count)), reverse=True)
    buyers = people(rng, max(3, count * 2 // 3))
    told = stories(rng, STORIES, count)
    seeded = []
    for number, age in enumerate(ages, start=1):
        created = now - age
        buyer = None if rng.random() < GUEST_SHARE else rng.choice(buyers)
        body = new_order(rng, shop, ids, number, buyer, created)
        story = told[number - 1]
        updated = created
        for action in story:
            if action == "refund" and sum(li["current_quantity"] for li in body["line_items"]) < 2:
                continue  # a partial refund needs two units; one alone would refund it all
            updated += rng.uniform(0.05, 0.6) * (now - updated) / len(story)
            body = copy.deepcopy(body)
            apply_action(body, action, ids, with_offset(updated, shop.offset))
        body["updated_at"] = with_offset(updated, shop.offset)
        seeded.append(Seeded(body, int(created), int(updated)))
    return seeded


def _age(rng: random.Random) -> float:
    if rng.random() < OLD_SHARE:
        return rng.uniform(61, 90) * DAY
    return rng.uniform(0.1, 45) * DAY
