"""Bench part 3: a backlog of whole orders delivered by one relay worker, request by request.

    .venv/bin/python -m tests.perf.bench --only orders

250 Shopify orders of 3 lines, each of its own buyer, are loaded and mapped as a webhook
would (`shopify.to_order`, `to_records(order, MappingSettings())`) and stored one
transaction each (`record_order`); then one `relay worker` starts against the emulator
(100 requests / 10 s, 100 ms latency) and delivers them: the backlog of an outage, or of
a sale that came in faster than HubSpot takes it. They are stored before the worker
starts so that its batches depend on the worker alone: a partial batch is due once its
oldest record waited the linger, so while the bench is still storing, a slow moment of
the store (the machine is shared) would make a partial batch that is no fault of the
worker's.

The part ends when the emulator holds every record and every association, each checked
by its ends' keys, and compares the write requests of each kind with the fewest the
batch limits allow (`whole_order.minimum_requests`). The worker's start-up reads (the
order pipelines, the order property) are counted apart. Elapsed time is from the
worker's `worker_started` log line to the last write call answered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from service.domain import Order, RecordInput
from service.mapping import MappingSettings, to_records
from service.sources import shopify
from service.store.ingest import record_order
from tests.perf import pool
from tests.perf.harness import (
    EMULATOR_LATENCY,
    LINGER,
    RATE_LIMIT,
    RATE_WINDOW,
    RELAY,
    emulator_get,
    logged_at,
    mark,
    migrated,
    not_run,
    say,
    start_emulator,
    wait_output,
    worker_env,
)
from tests.perf.rss import Sampler
from tests.perf.whole_order import (
    Batch,
    Expected,
    batches,
    call_kind,
    kind_summary,
    wait_until_held,
)
from tests.processes import base_env, run_process, wait_http

ORDERS = 250
LINES = 3
FIRST_ORDER_ID = 9_100_000_000_000
TARGETS = {"requests_over_minimum": 1.1, "rate_limited": 0}


def whole_orders(count: int, lines: int) -> list[tuple[Order, list[RecordInput]]]:
    """`count` distinct orders, each of its own buyer, with the records a webhook stores."""
    out = []
    for n in range(count):
        order = shopify.to_order(pool.order_payload(FIRST_ORDER_ID + n, lines), pool.SHOP)
        out.append((order, to_records(order, MappingSettings())))
    return out


def store_all(engine: sa.Engine, orders: Sequence[tuple[Order, list[RecordInput]]]) -> None:
    for order, inputs in orders:
        record_order(engine, order, inputs, delivery_ids=[], now=time.time())


def run(
    label: str, url: str, folder: Path, *, orders: int = ORDERS, lines: int = LINES
) -> dict[str, Any]:
    """Deliver `orders` whole orders of `lines` lines through one worker; the row."""
    say(f"whole-order delivery: {label} ({orders} orders of {lines} lines, one relay worker)")
    engine = migrated(url)
    made = whole_orders(orders, lines)
    expected = Expected.of(inputs for _, inputs in made)
    began = time.time()
    store_all(engine, made)
    stored = time.time() - began
    engine.dispose()
    emulator_args, emulator_port = start_emulator()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    with run_process(emulator_args, base_env()) as emulator:
        wait_http(f"{emulator_url}/_emulator/stats", timeout=30, process=emulator)
        env = worker_env(url, emulator_url, folder / f"metrics-orders-{label}")
        with (
            run_process([RELAY, "worker"], env) as worker,
            Sampler({"worker": lambda: [worker.pid]}) as sampler,
        ):
            wait_output(worker, "worker_started", 30)
            holdings = wait_until_held(emulator_port, expected, worker, 60 + orders / 10)
            stats = emulator_get(emulator_port, "stats")
            timeline = batches(emulator_get(emulator_port, "timeline"))
        started = logged_at(worker, "worker_started")
    return {
        "row": label,
        "orders": orders,
        "lines": lines,
        "store_seconds": stored,
        "peak_rss_mb": sampler.peak_mb()["worker"],
        "worker_cpu_s": sampler.cpu_seconds()["worker"],
        "held": {call_kind(kind): n for kind, n in holdings.held(expected).items()},
        **accounting(expected, timeline, stats, started),
    }


def accounting(
    expected: Expected, timeline: list[Batch], stats: dict[str, Any], started: float
) -> dict[str, Any]:
    """Requests by kind against the minimum, the reads apart, 429s and elapsed time."""
    kinds = {
        call_kind(kind): kind_summary(
            kind, count, [b for b in timeline if b.kind == call_kind(kind)], started
        )
        for kind, count in expected.counts().items()
    }
    others = [b for b in timeline if b.kind not in kinds]
    writes = {b.kind for b in timeline}  # the timeline holds every write call, reads none
    reads = {k: n for k, n in stats["by_kind"].items() if k not in writes}
    answered = [b.finished_at for b in timeline if b.finished_at is not None]
    return {
        "kinds": kinds,
        "writes": sum(k["requests"] for k in kinds.values()),
        "minimum": sum(k["minimum"] for k in kinds.values()),
        "other_writes": len(others),
        "reads": reads,
        "rate_limited": stats["rate_limited"],
        "by_status": stats["by_status"],
        "seconds": max(answered) - started if answered else float("nan"),
    }


def checks(row: dict[str, Any]) -> dict[str, bool]:
    """The part's targets: requests within 1.1 x the minimum, full batches, no 429."""
    return {
        "requests": row["writes"] + row["other_writes"]
        <= TARGETS["requests_over_minimum"] * row["minimum"],
        "full": all(k["full"] for k in row["kinds"].values()),
        "no_429": row["rate_limited"] == TARGETS["rate_limited"],
    }


def report(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        f"3. Delivery of the whole order: a backlog of {ORDERS} orders of {LINES} lines, "
        f"distinct buyers, then one relay worker; emulator {RATE_LIMIT} req/{RATE_WINDOW:g} s"
        f" + {EMULATOR_LATENCY * 1000:g} ms, linger {LINGER:g} s",
        "   (minimum: the fewest write requests the batch limits allow, 100 inputs per object "
        "upsert, 2,000 per association create; full: every batch of a kind full but one; "
        "elapsed: worker started -> last write answered; store: storing the backlog)",
        f"   {'row':<26}{'writes':>7}{'minimum':>9}{'429s':>6}{'elapsed s':>11}{'store s':>9}"
        f"   {'writes <= 1.1 x min':<21}{'full batches':<14}{'no 429':<8}start-up reads",
    ]
    for row in rows:
        why = not_run(row)
        if why:
            out.append(f"   {row['row']:<26}{why}")
            continue
        ok = checks(row)
        reads = ", ".join(f"{kind} {n}" for kind, n in sorted(row["reads"].items())) or "none"
        writes = row["writes"] + row["other_writes"]
        out.append(
            f"   {row['row']:<26}{writes:>7}{row['minimum']:>9}{row['rate_limited']:>6}"
            f"{row['seconds']:>11.1f}{row['store_seconds']:>9.1f}"
            f"   {mark(ok['requests']):<21}{mark(ok['full']):<14}{mark(ok['no_429']):<8}{reads}"
        )
        out += kind_lines(row)
    return out


def kind_lines(row: dict[str, Any]) -> list[str]:
    out = [
        f"     {'kind':<34}{'records':>8}{'minimum':>9}{'requests':>10}{'mean batch':>12}"
        "   batches: inputs (+s since the worker started), in arrival order"
    ]
    for name, k in row["kinds"].items():
        shown = ", ".join(f"{size} (+{at:.1f})" for size, at in k["batches"])
        failed = {s: n for s, n in k["statuses"].items() if not s.startswith("2")}
        if failed:
            shown += f"   answers {k['statuses']}"
        if k["overlapping_partials"]:
            shown += f"   ({k['overlapping_partials']} partial batches in flight at once)"
        out.append(
            f"     {name:<34}{k['records']:>8}{k['minimum']:>9}{k['requests']:>10}"
            f"{k['mean_batch']:>12.1f}   {shown}"
        )
    if row["other_writes"]:
        out.append(f"     {row['other_writes']} write calls of other kinds")
    return out
