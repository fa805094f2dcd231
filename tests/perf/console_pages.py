"""The console's pages on a big store: 100,000 line items (33,334 orders of 3 lines, each
with its order record, buyer and associations: 300,006 records) of which 5,000 are dead
letters, 200 rejected webhooks and an hour of activity; every page rendered in process
(Flask's test client, signed in), 20 times after a warm-up. Target: each under 100 ms.

    .venv/bin/python -m tests.perf.bench --only console
"""

from __future__ import annotations

import json
import re
import statistics
import time
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from service import samples
from service.app import create_app
from service.config import Config
from service.mapping import MappingSettings, to_records
from service.sources import parse_json, shopify
from service.store import activity
from service.store.tables import orders, records, rejected_webhooks
from tests.perf import pg
from tests.perf.harness import migrated, not_run, say

ORDERS = 33_334  # x 3 lines = 100,002 line items
DEAD = 5_000
REJECTED = 200
RUNS = 20
TARGET_MS = 100.0
STORES = ("north.myshopify.com", "south.myshopify.com", "east.myshopify.com")
KEY = "bench-console-key-0123456789"
FIRST_ID = 7_100_000_000_000
TARGETS = {"page_ms": TARGET_MS}


@cache
def _order_properties() -> dict[str, str]:
    """An order record's properties as the mapping writes them for a sample order (about
    900 bytes: totals, stage, billing and shipping addresses), for every bench order."""
    order = shopify.to_order(parse_json(json.dumps(samples.shopify_order()).encode()), STORES[0])
    parent = next(r for r in to_records(order, MappingSettings()) if r.kind == "order")
    return dict(parent.properties)


def _order_rows(n: int, now: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    store, order_id = STORES[n % 3], str(FIRST_ID + n)
    prefix, email = f"shopify:{store}:", f"buyer{n}@example.com"
    parent = f"{prefix}{order_id}"
    base = {
        "source": "shopify",
        "store": store,
        "order_id": order_id,
        "source_version": 1,
        "version": 1,
        "delivered_version": 1,
        "state": "delivered",
        "attempts": 0,
        "next_attempt_at": now - n,  # each order's own moment, as a live store has
        "updated_at": now - n,
        "delivered_at": now - (n % 3600),
        "from_key": None,
        "to_key": None,
        "last_error": None,
        "dead_at": None,
    }
    number = json.dumps(
        {
            **_order_properties(),
            "hs_order_name": f"#{order_id[-5:]}",
            "hs_external_order_id": order_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    rows = [
        {
            **base,
            "key": parent,
            "kind": "order",
            "position": 0,
            "properties": number,
            "hubspot_id": str(900_000 + n),
        },
        {
            **base,
            "key": email,
            "kind": "contact",
            "position": 0,
            "properties": json.dumps({"email": email}),
            "hubspot_id": str(500_000 + n),
        },
    ]
    for line in range(3):
        key = f"{prefix}{order_id}{line}"
        rows.append(
            {
                **base,
                "key": key,
                "kind": "line_item",
                "position": line,
                "properties": json.dumps({"name": f"Line {line}", "quantity": "1"}),
                "hubspot_id": str(3 * n + line),
            }
        )
        rows.append(
            {
                **base,
                "key": f"{key}>{parent}",
                "kind": "line_item>order",
                "position": line,
                "properties": "{}",
                "from_key": key,
                "to_key": parent,
                "hubspot_id": f"{3 * n + line}>{900_000 + n}",
            }
        )
    rows.append(
        {
            **base,
            "key": f"{parent}>{email}",
            "kind": "order>contact",
            "position": 0,
            "properties": "{}",
            "from_key": parent,
            "to_key": email,
            "hubspot_id": f"{900_000 + n}>{500_000 + n}",
        }
    )
    order = {
        "source": "shopify",
        "store": store,
        "order_id": order_id,
        "currency": "USD",
        "source_version": 1,
        "received_at": now - n,
        "first_received_at": now - n,
    }
    return order, rows


def build(engine: sa.Engine, now: float) -> None:
    """Fill the store; the first DEAD line items (one per order) are dead letters."""
    chunk_orders, chunk_records = [], []
    for n in range(ORDERS):
        order, rows = _order_rows(n, now)
        if n < DEAD:
            line = rows[2]
            reason = "VALIDATION_ERROR: price" if n % 2 else "retried for 24 h: 503"
            line.update(state="dead", dead_at=now - n, last_error=reason, attempts=5)
        chunk_orders.append(order)
        chunk_records += rows
        if len(chunk_records) >= 20_000 or n == ORDERS - 1:
            with engine.begin() as conn:
                conn.execute(sa.insert(orders), chunk_orders)
                conn.execute(sa.insert(records), chunk_records)
            chunk_orders, chunk_records = [], []
    kept = [
        {
            "source": "shopify",
            "store": STORES[i % 3],
            "topic": "orders/updated",
            "delivery_id": f"d{i}",
            "headers": "{}",
            "received_at": now - i,
            "reason": "invalid_order",
            "errors": '{"line_items":{"0":{"quantity":["Not a valid integer."]}}}',
            "body": b"{}" * 100,
            "attempts": 1,
        }
        for i in range(REJECTED)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(rejected_webhooks), kept)
        for back in range(60):
            activity.count(conn, now - back * 60, delivered=80, failed=2)
    for back in range(60):
        activity.sample_depth(engine, now - back * 60, pending=100 + back, dead=DEAD)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # What autovacuum does to a live table: statistics, and the visibility map an
            # index-only count needs.
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def pages(client: Any) -> dict[str, tuple[str, str, dict[str, str]]]:
    """name -> (method, URL, form) of every page worth timing."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/").text)
    assert token, "not signed in"
    first_dead = client.get("/console/dead-letters").text
    cursor = re.search(r'href="(/console/dead-letters\?cursor=[^"]+)"', first_dead)
    assert cursor, "no second page of dead letters"
    n = ORDERS // 2
    return {
        "overview": ("GET", "/console/", {}),
        "orders: latest": ("GET", "/console/orders", {}),
        "orders: by id": ("GET", f"/console/orders?q={FIRST_ID + n}", {}),
        "orders: by number": ("GET", f"/console/orders?q=%23{str(FIRST_ID + n)[-5:]}", {}),
        "orders: by email": ("GET", f"/console/orders?q=buyer{n}%40example.com", {}),
        "orders: by store": ("GET", f"/console/orders?q={STORES[0]}", {}),
        "an order": ("GET", f"/console/orders/shopify/{STORES[n % 3]}/{FIRST_ID + n}", {}),
        "dead letters": ("GET", "/console/dead-letters", {}),
        "dead letters: page 2": ("GET", cursor.group(1).replace("&amp;", "&"), {}),
        "dead letters: by reason": ("GET", "/console/dead-letters?reason=503&kind=line_item", {}),
        "replay all dead: confirm": (
            "POST",
            "/console/dead-letters/confirm",
            {"csrf_token": token.group(1), "mode": "all"},
        ),
        "rejected webhooks": ("GET", "/console/rejected", {}),
    }


def time_pages(url: str) -> list[dict[str, Any]]:
    config = Config(
        database_url=url,
        console_keys=(KEY,),
        secret_key="s" * 40,
        log_json=True,
        log_level="WARNING",
    )
    app = create_app(config)
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/sign-in").text)
    assert token
    client.post("/console/sign-in", data={"csrf_token": token.group(1), "key": KEY})
    rows = []
    for name, (method, path, form) in pages(client).items():
        timings = []
        for run in range(RUNS + 2):
            began = time.perf_counter()
            answer = client.open(path, method=method, data=form)
            took = (time.perf_counter() - began) * 1000
            assert answer.status_code == 200, (name, answer.status_code)
            if run >= 2:  # the first two warm the caches
                timings.append(took)
        timings.sort()
        rows.append(
            {
                "page": name,
                "median_ms": statistics.median(timings),
                "p95_ms": timings[int(len(timings) * 0.95) - 1],
                "max_ms": timings[-1],
                "bytes": len(answer.data),
            }
        )
    return rows


def run(label: str, url: str) -> dict[str, Any]:
    say(f"console on {label}: building {ORDERS * 9:,} records ({ORDERS * 3:,} line items)")
    engine = migrated(url)
    began = time.monotonic()
    build(engine, time.time())
    built = time.monotonic() - began
    engine.dispose()
    say(f"console on {label}: built in {built:.0f} s; timing {RUNS} renders of each page")
    return {"row": label, "build_seconds": built, "pages": time_pages(url)}


def run_all(folder: Path, pg_problem: str | None) -> list[dict[str, Any]]:
    rows = [run("SQLite", f"sqlite:///{folder / 'console.sqlite3'}")]
    if pg_problem:
        rows.append({"row": "PostgreSQL", "skipped": pg_problem})
    else:
        with pg.fresh_database() as url:
            rows.append(run("PostgreSQL", url))
    return rows


def report(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        f"8. Console pages: {ORDERS * 3:,} line items ({ORDERS * 9:,} records), {DEAD:,} dead "
        f"letters, {REJECTED} rejected; in process, {RUNS} renders each after a warm-up",
    ]
    for row in rows:
        problem = not_run(row)
        if problem:
            out.append(f"   {row['row']}: {problem}")
            continue
        out.append(
            f"   {row['row']}                       median ms   p95 ms   max ms   "
            f"< {TARGET_MS:.0f} ms"
        )
        for page in row["pages"]:
            verdict = "PASS" if page["p95_ms"] < TARGET_MS else "MISS"
            out.append(
                f"   {page['page']:<30} {page['median_ms']:9.1f} {page['p95_ms']:8.1f} "
                f"{page['max_ms']:8.1f}   {verdict}"
            )
    return out
