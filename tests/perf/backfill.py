"""Bench part 7: `relay backfill` of a Shopify shop's history, against the shop's
documented request limit.

    .venv/bin/python -m tests.perf.bench --only backfill

The Shopify emulator (in this process, a real HTTP server) holds one shop of 5,000
orders, with the Standard plan's bucket: 40 requests, draining 2 a second
(shared/reference/shop-apis.md §1). `relay backfill` runs as its own process on a fresh
store and reads them all, 250 to a page, feeding each through the webhook's path. The
ceiling is what the limit allows once the bucket is empty: 2 requests/s x 250 orders =
500 orders/s (the first 40 requests may come faster; 5,000 orders take 21). Figures:
orders/s from the process start to its exit, its calls and any 429 among them.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from emulators.shopify import Emulator, EmulatorConfig, ShopConfig
from service.store.tables import orders
from tests.perf.harness import RELAY, mark, migrated, not_run, say
from tests.processes import base_env, run_process

ORDERS = 5_000
SHOP, TOKEN = "bench-shop.myshopify.com", "shpat_bench_0001"
LEAK_PER_SECOND, PAGE = 2.0, 250
CEILING = LEAK_PER_SECOND * PAGE  # orders/s the Standard plan's limit allows, sustained
TARGETS = {"no_429": True}


def run(label: str, database_url: str) -> dict[str, Any]:
    shop = ShopConfig(SHOP, TOKEN, "bench-secret", "bench-notify", orders=ORDERS)
    shop.scopes = {"read_orders", "read_all_orders"}
    config = EmulatorConfig(shops=[shop], bucket_size=40, leak_rate=LEAK_PER_SECOND)
    say(f"backfill: seeding {ORDERS:,} Shopify orders ({label})")
    engine = migrated(database_url)
    with Emulator(config) as shopify:
        env = base_env(
            DATABASE_URL=database_url,
            SHOPIFY_ADMIN_TOKENS=f"{SHOP}={TOKEN}",
            SHOPIFY_API_BASE_URL=shopify.url,
            RELAY_LOG_JSON="true",
        )
        command = [RELAY, "backfill", "--store", SHOP, "--since", "2000-01-01"]
        began = time.monotonic()
        with run_process(command, env) as process:
            code = process.wait(timeout=600)
        seconds = time.monotonic() - began
        calls = shopify.requests_log()
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(orders)).scalar_one()
    engine.dispose()
    if code != 0:
        raise RuntimeError(f"relay backfill exited {code}: {process.output()[-300:]}")
    return {
        "row": label,
        "orders": stored,
        "seconds": seconds,
        "orders_per_s": stored / seconds,
        "requests": len(calls),
        "rate_limited": sum(1 for c in calls if c["status"] == 429),
    }


def report(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        f"7. Backfill: relay backfill of {ORDERS:,} Shopify orders, 250 a page, against the "
        f"Standard plan's limit (bucket 40, 2 req/s: ceiling {CEILING:.0f} orders/s sustained)",
        f"   {'row':<14}{'orders':>8}{'seconds':>9}{'orders/s':>10}{'x ceil':>8}{'requests':>10}"
        f"{'429s':>6}   no 429",
    ]
    for row in rows:
        why = not_run(row)
        if why:
            out.append(f"   {row['row']:<14}{why}")
            continue
        out.append(
            f"   {row['row']:<14}{row['orders']:>8,}{row['seconds']:>9.1f}"
            f"{row['orders_per_s']:>10.0f}{row['orders_per_s'] / CEILING:>8.2f}"
            f"{row['requests']:>10}{row['rate_limited']:>6}   {mark(row['rate_limited'] == 0)}"
        )
    return out
