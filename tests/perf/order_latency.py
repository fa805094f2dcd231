"""Bench part 4: end to end, from a webhook's 202 to its whole order in HubSpot.

    .venv/bin/python -m tests.perf.bench --only e2e

Signed Shopify webhooks, 100 orders of 3 lines, each of its own buyer, posted at 5 orders
a second to a real gunicorn (deploy/gunicorn.conf.py) on SQLite, with one `relay worker`
at the default linger (0.5 s) and the emulator at 100 requests / 10 s with 100 ms latency.

An order is complete when the emulator holds its 3 line items associated with its order
record and the order associated with its contact. The bench polls the emulator's
associations until every order is complete, each link checked by its ends' keys; the
moment an order became complete is read from the emulator's timeline: when the write
call that created the order's last association was answered (polling would only bound
it by the polling interval). Two latencies per order, from the moment its 202 arrived:
- every line item in HubSpot: the latest `createdAt` of its line items (what this part
  measured before the whole order, for one line item, against the linger plus 1 s);
- the whole order: its last association held.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from service.domain import RecordInput, RecordKind
from service.mapping import MappingSettings, to_records
from service.sources import shopify
from tests.perf import loadgen, pool
from tests.perf.harness import (
    EMULATOR_LATENCY,
    GUNICORN,
    LINGER,
    RATE_LIMIT,
    RATE_WINDOW,
    RELAY,
    SECRET,
    SERVICE_APP,
    emulator_get,
    iso_seconds,
    mark,
    migrated,
    say,
    send_raw,
    start_emulator,
    wait_for,
    wait_output,
    web_env,
    worker_env,
)
from tests.perf.rss import children
from tests.perf.whole_order import (
    Batch,
    Expected,
    Holdings,
    Link,
    batches,
    call_kind,
    link_of,
    wait_until_held,
)
from tests.processes import base_env, run_process, wait_http

ORDERS = 100
RATE = 5.0  # orders per second
LINES = 3
FIRST_ORDER_ID = 8_600_000_000_000
TARGETS = {"lines_p99_ms": (LINGER + 1.0) * 1000, "order_p99_ms": 2000.0}


def order_records(count: int, lines: int) -> list[list[RecordInput]]:
    """What each posted order maps to, as the web process maps it."""
    return [
        to_records(
            shopify.to_order(pool.order_payload(FIRST_ORDER_ID + n, lines), pool.SHOP),
            MappingSettings(),
        )
        for n in range(count)
    ]


def post_at_rate(port: int, requests: list[bytes], rate: float) -> dict[int, float]:
    """Post each request on schedule; when each 202 arrived, by the request's index."""
    answered: dict[int, float] = {}
    began = time.monotonic()
    for n, raw in enumerate(requests):
        time.sleep(max(0.0, began + n / rate - time.monotonic()))
        status, at = send_raw(port, raw)
        if status == 202:
            answered[n] = at
    return answered


def run(
    url: str, folder: Path, *, orders: int = ORDERS, rate: float = RATE, lines: int = LINES
) -> dict[str, Any]:
    say(f"end to end: {orders} whole orders ({lines} lines) at {rate:g}/s, linger default")
    migrated(url).dispose()
    signed = [
        pool.signed_request(FIRST_ORDER_ID + n, SECRET, lines=lines, host="127.0.0.1")
        for n in range(orders)
    ]
    wanted = order_records(orders, lines)
    expected = Expected.of(wanted)
    emulator_args, emulator_port = start_emulator()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    metrics = folder / "metrics-e2e"
    env = web_env(url, metrics, HUBSPOT_BASE_URL=emulator_url, RELAY_SANDBOX="true")
    port = int(env["PORT"])
    with (
        run_process(emulator_args, base_env()) as emulator,
        run_process([*GUNICORN, SERVICE_APP], env) as web,
        run_process([RELAY, "worker"], worker_env(url, emulator_url, metrics)) as worker,
    ):
        wait_http(f"{emulator_url}/_emulator/stats", timeout=30, process=emulator)
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=30, process=web)
        wait_for(lambda: len(children(web.pid)) >= 2, 30, "two gunicorn workers")
        wait_output(worker, "worker_started", 30)
        answered = post_at_rate(port, signed, rate)
        # Only accepted orders can complete: wait for theirs.
        accepted = Expected.of(wanted[n] for n in answered)
        holdings = wait_until_held(emulator_port, accepted, worker, timeout=30)
        timeline = batches(emulator_get(emulator_port, "timeline"))
        stats = emulator_get(emulator_port, "stats")
    held_at = link_moments(holdings, timeline, expected)
    lines_ms, order_ms = [], []
    for n, at in answered.items():
        lines_at, order_at = completion(wanted[n], holdings, held_at)
        lines_ms.append((lines_at - at) * 1000)
        order_ms.append((order_at - at) * 1000)
    return {
        "orders": orders,
        "lines": lines,
        "rate": rate,
        "accepted": len(answered),
        "linger_s": LINGER,
        "requests": stats["requests"],
        "rate_limited": stats["rate_limited"],
        "lines_ms": summary(lines_ms),
        "order_ms": summary(order_ms),
        "per_order_ms": [
            [round(a, 1), round(b, 1)] for a, b in zip(lines_ms, order_ms, strict=True)
        ],
    }


def link_moments(
    holdings: Holdings, timeline: list[Batch], expected: Expected
) -> dict[Link, float]:
    """When each association was first answered as created (a 2xx write call naming it)."""
    kinds = {call_kind(kind): kind for kind in expected.links}
    moments: dict[Link, float] = {}
    for call in timeline:
        kind = kinds.get(call.kind)
        if kind is None or call.finished_at is None or not 200 <= (call.status or 0) < 300:
            continue
        for pair in call.ids:
            link = holdings.key_pair(pair, kind)
            if link is not None and link not in moments:
                moments[link] = call.finished_at
    return moments


def completion(
    inputs: list[RecordInput], holdings: Holdings, held_at: dict[Link, float]
) -> tuple[float, float]:
    """When an order's last line item was created, and when its last association was held."""
    lines = holdings.records["line_items"]
    lines_at = max(
        iso_seconds(lines[item.key]["createdAt"])
        for item in inputs
        if item.kind is RecordKind.LINE_ITEM
    )
    order_at = max(held_at[link_of(item)] for item in inputs if item.kind.is_association)
    return lines_at, order_at


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = loadgen._percentile
    return {"p50": pick(ordered, 50), "p99": pick(ordered, 99), "max": ordered[-1]}


def report(row: dict[str, Any]) -> list[str]:
    head = (
        f"4. End to end: {ORDERS} orders at {RATE:g}/s ({LINES} line items, a buyer each), "
        f"SQLite, linger {LINGER:g} s, emulator {RATE_LIMIT} req/{RATE_WINDOW:g} s + "
        f"{EMULATOR_LATENCY * 1000:g} ms: webhook 202 -> ..."
    )
    if "failed" in row:
        return [head, f"   FAILED: {row['failed']}"]
    out = [
        head,
        f"   {'... in the emulator':<44}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}   target",
    ]
    for label, key, target in (
        ("every line item of the order (createdAt)", "lines_ms", "lines_p99_ms"),
        ("the whole order: lines -> order -> contact", "order_ms", "order_p99_ms"),
    ):
        ms = row[key]
        out.append(
            f"   {label:<44}{ms['p50']:>8.0f}{ms['p99']:>8.0f}{ms['max']:>8.0f}   "
            f"p99 <= {TARGETS[target]:.0f} ms: {mark(ms['p99'] <= TARGETS[target])}"
        )
    out.append(
        f"   accepted {row['accepted']}/{row['orders']}; {row['requests']} HubSpot requests "
        f"({row['requests'] / max(1, row['accepted']):.2f} an order), "
        f"{row['rate_limited']} answered 429"
    )
    return out
