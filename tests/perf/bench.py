"""`make bench`: ingest, delivery, the whole order's delivery and latency, memory, and
where an ingest request's CPU goes, in one run (~3 minutes).

    .venv/bin/python -m tests.perf.bench [--only ingest,delivery,orders,e2e,stages,backfill,console]
                                         [--seconds 20]

Prints a table with PASS/MISS beside each target (nothing is asserted) and writes
`bench-results.json`. Everything runs on this machine over 127.0.0.1: the load generator
(wrk when installed, else a Python one) shares the CPUs with the processes it measures.

1. Ingest (`ingest`): pre-signed Shopify orders (3 line items, every order distinct, each
   of its own buyer) against gunicorn with deploy/gunicorn.conf.py (2 gevent workers), on
   a SQLite file and on a fresh PostgreSQL database; each accepted webhook must store its
   whole order. The ceiling is a bare Flask app (tests/perf/bare_app.py) under the same
   gunicorn config that reads the body and answers 200. A last row runs the service on
   SQLite with `--worker-class sync`, the 2 sync workers it had before, for comparison.
2. Delivery (`delivery`): 20,000 pending line items drained by one `relay worker` into
   `relay hubspot emulator` (100 requests / 10 s, 100 ms latency). The shared budget
   starts full, as after any backlog longer than a window, so the figure is the steady
   rate (a cold start would burst 100 requests first and overstate it).
3. Delivery of the whole order (`orders`, tests/perf/order_delivery.py): a backlog of 250
   orders of 3 lines delivered by one worker; HubSpot requests by kind against the fewest
   the batch limits allow, until the emulator holds every record and association.
4. End to end (`e2e`, tests/perf/order_latency.py): 5 orders/s of 3 lines for 20 s through
   web, store, worker and emulator; from each 202 to its line items' createdAt in the
   emulator, and to the moment the emulator held its whole order associated.
5. Memory: peak RSS (VmHWM) of each gunicorn worker during 1 and of the worker during 2
   and 3.
6. Stages (`stages`): the CPU each step of an ingest request costs, timed in one process
   (see `tests/perf/stages.py`): where the gap between 1's service rows and its ceiling
   goes.
7. Backfill (`backfill`, tests/perf/backfill.py): `relay backfill` of 5,000 orders from
   the Shopify emulator with the Standard plan's limit; orders/s against it.
8. Console (`console`, tests/perf/console_pages.py): every console page rendered on a
   store of 100,000 line items (300,000 records) with 5,000 dead letters, on SQLite and
   PostgreSQL; target under 100 ms each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from service.domain import LineItem, Order, OrderObject, RecordState
from service.mapping import MappingSettings, to_records
from service.sources import shopify
from service.store.ingest import record_order
from service.store.rate_budget import WINDOW_MARGIN
from service.store.tables import hubspot_requests, records
from tests.perf import (
    backfill,
    console_pages,
    loadgen,
    order_delivery,
    order_latency,
    pg,
    pool,
    stages,
)
from tests.perf.harness import (
    BARE_APP,
    EMULATOR_LATENCY,
    GUNICORN,
    RATE_LIMIT,
    RATE_WINDOW,
    RELAY,
    SECRET,
    SERVICE_APP,
    emulator_get,
    guarded,
    iso_seconds,
    mark,
    migrated,
    not_run,
    say,
    send_raw,
    start_emulator,
    wait_for,
    wait_output,
    web_env,
    worker_env,
)
from tests.perf.rss import Sampler, children
from tests.processes import ROOT, base_env, run_process, wait_http

# The delivery part measures line items alone, as it did before the whole order.
LINE_ITEMS_ONLY = MappingSettings(OrderObject.NONE)

INGEST_SECONDS = 20.0
CONNECTIONS = 16
POOL_SIZE = 50_000
WARMUP = 60
DELIVERY_ITEMS = 20_000
BATCH = 100

TARGETS = {
    "ingest_ratio": 0.5,
    "ingest_ratio_bar": 0.24,  # the SQLite row's ratio before the whole order, with wrk
    "ingest_p99_ms": 50.0,
    "delivery_items_per_s": 0.95 * RATE_LIMIT * BATCH / RATE_WINDOW,
    "delivery_mean_batch": 98.0,
    "delivery_429s": 0,
    "rss_mb": 120.0,
}


# --- small helpers ------------------------------------------------------------------------


def cpu_busy(seconds: float = 1.0) -> float:
    """The fraction of all CPUs busy over `seconds` (other work competing with the bench)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values), idle

    total_a, idle_a = sample()
    time.sleep(seconds)
    total_b, idle_b = sample()
    return 1.0 - (idle_b - idle_a) / max(1, total_b - total_a)


def whole_order_records() -> dict[str, int]:
    """The records one pool order stores, by kind: what every accepted webhook must add
    with the whole order on (HUBSPOT_ORDER_OBJECT's default, which the bench leaves unset)."""
    order = shopify.to_order(pool.order_payload(1, 3), pool.SHOP)
    return dict(Counter(item.kind.value for item in to_records(order, MappingSettings())))


PER_ORDER = whole_order_records()


def rows_by_kind(engine: sa.Engine) -> dict[str, int]:
    stmt = sa.select(records.c.kind, sa.func.count()).group_by(records.c.kind)
    with engine.connect() as conn:
        return {kind: int(count) for kind, count in conn.execute(stmt).all()}


def count_rows(engine: sa.Engine, where: Any = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(records)
    if where is not None:
        stmt = stmt.where(where)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


LINE_ITEM_UPSERTS = "upsert:line_items"  # the emulator's stats also count other upserts


def line_item_inputs(stats: dict[str, Any]) -> int:
    return int(stats["inputs_by_kind"].get(LINE_ITEM_UPSERTS, 0))


# --- 1. ingest ---------------------------------------------------------------------------


# The worker model before slow clients were dealt with, as a row of its own.
SYNC_OPTIONS = ("--worker-class", "sync")
SYNC_ROW = "service on SQLite, sync"


def ingest_row(
    label: str,
    app: str,
    env: dict[str, str],
    load: list[bytes],
    warmup: list[bytes],
    options: tuple[str, ...] = (),
) -> dict[str, Any]:
    port = int(env["PORT"])
    url = f"http://127.0.0.1:{port}"
    say(f"ingest: {label} ({loadgen.tool()}, {INGEST_SECONDS:g} s, {CONNECTIONS} connections)")
    with run_process([*GUNICORN, *options, app], env) as web:
        wait_http(f"{url}/healthz", timeout=30, process=web)
        wait_for(lambda: len(children(web.pid)) >= 2, 30, "two gunicorn workers")
        for raw in warmup:  # imports, pools and caches warm in both workers
            send_raw(port, raw)
        with Sampler({"web": lambda: children(web.pid)}) as sampler:
            result = loadgen.run(url, load, seconds=INGEST_SECONDS, connections=CONNECTIONS)
        if not web.alive():
            raise RuntimeError(f"gunicorn died during the run:\n{web.describe()}")
    cpu = sampler.cpu_seconds()["web"]
    return {
        "row": label,
        **result.to_json(),
        "peak_rss_mb": sampler.peak_mb()["web"],
        "web_cpu_ms_per_request": cpu * 1000 / max(1, result.requests),
    }


def ingest(store_rows: dict[str, str], folder: Path, load: list[bytes]) -> list[dict[str, Any]]:
    warm_app = pool.build(WARMUP, SECRET, first_order_id=8_000_000_000_000)
    label = "ceiling: bare Flask app"
    env = web_env(f"sqlite:///{folder / 'unused.sqlite3'}", folder / "metrics-bare")
    rows = [guarded(label, lambda: ingest_row(label, BARE_APP, env, load, warm_app))]
    ceiling = rows[0].get("rps")
    if ceiling:
        rows[0]["ratio"] = 1.0
    for label, url in store_rows.items():

        def service_row(label: str = label, url: str = url) -> dict[str, Any]:
            engine = migrated(url)
            env = web_env(url, folder / f"metrics-{label.replace(' ', '-').replace(',', '')}")
            options = SYNC_OPTIONS if label == SYNC_ROW else ()
            row = ingest_row(label, SERVICE_APP, env, load, warm_app, options)
            row["stored"] = {
                kind: count - WARMUP * PER_ORDER.get(kind, 0)
                for kind, count in rows_by_kind(engine).items()
            }
            row["ratio"] = row["rps"] / ceiling if ceiling else float("nan")
            engine.dispose()
            return row

        rows.append(guarded(label, service_row))
    return rows


# --- 2. delivery -------------------------------------------------------------------------


def insert_pending(engine: sa.Engine, count: int, order_lines: int = BATCH) -> None:
    """`count` pending line items, in orders of `order_lines` (one transaction each)."""
    updated = datetime.now(UTC)
    for n in range(count // order_lines):
        order_id = 9_000_000_000 + n
        lines = tuple(
            LineItem(
                id=str(order_id * 1000 + k),
                name=f"Bench item {k}",
                quantity=1 + k % 3,
                unit_price=Decimal("9.50"),
                sku=f"B-{k}",
            )
            for k in range(order_lines)
        )
        order = Order(
            "shopify", "bench-delivery.myshopify.com", str(order_id), "USD", updated, lines
        )
        record_order(
            engine, order, to_records(order, LINE_ITEMS_ONLY), delivery_ids=[], now=time.time()
        )


def fill_budget(engine: sa.Engine, now: float) -> None:
    """The shared budget as a busy worker leaves it: RATE_LIMIT sends over the last window."""
    window = RATE_WINDOW + WINDOW_MARGIN
    step = window / RATE_LIMIT
    rows = [{"sent_at": now - window + (i + 1) * step} for i in range(RATE_LIMIT)]
    with engine.begin() as conn:
        conn.execute(sa.insert(hubspot_requests), rows)


def delivery_row(label: str, url: str, folder: Path) -> dict[str, Any]:
    say(f"delivery: {label} ({DELIVERY_ITEMS:,} line items, one relay worker)")
    engine = migrated(url)
    emulator_args, emulator_port = start_emulator()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    with run_process(emulator_args, base_env()) as emulator:
        wait_http(f"{emulator_url}/_emulator/stats", timeout=30, process=emulator)
        env = worker_env(url, emulator_url, folder / f"metrics-worker-{label}")
        with run_process([RELAY, "worker"], env) as worker:
            wait_output(worker, "worker_started", 30)
            with Sampler({"worker": lambda: [worker.pid]}) as sampler:
                started = time.time()
                fill_budget(engine, started)
                insert_pending(engine, DELIVERY_ITEMS)
                inserted = time.time() - started

                def delivered() -> bool:
                    if not worker.alive():
                        raise RuntimeError(f"worker died:\n{worker.describe()}")
                    return line_item_inputs(emulator_get(emulator_port, "stats")) >= DELIVERY_ITEMS

                wait_for(delivered, 120, "the emulator to receive every line item", 0.25)
                done = RecordState.DELIVERED.value
                wait_for(
                    lambda: count_rows(engine, records.c.state == done) >= DELIVERY_ITEMS,
                    30,
                    "the store to mark every line item delivered",
                )
            stats = emulator_get(emulator_port, "stats")
            held = emulator_get(emulator_port, "records")
    engine.dispose()
    last = max(iso_seconds(r["updatedAt"]) for r in held.values())
    seconds = last - started
    requests_sent = stats["by_kind"].get(LINE_ITEM_UPSERTS, 0)
    return {
        "row": label,
        "items": DELIVERY_ITEMS,
        "records": len(held),
        "seconds": seconds,
        "insert_seconds": inserted,
        "items_per_s": DELIVERY_ITEMS / seconds,
        "requests": requests_sent,
        "mean_batch": line_item_inputs(stats) / requests_sent if requests_sent else 0.0,
        "rate_limited": stats["rate_limited"],
        "by_status": stats["by_status"],
        "peak_rss_mb": sampler.peak_mb()["worker"],
        "worker_cpu_s": sampler.cpu_seconds()["worker"],
    }


# --- the report --------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    out = header(results)
    parts = (
        ("ingest", report_ingest),
        ("delivery", report_delivery),
        ("orders", order_delivery.report),
        ("e2e", order_latency.report),
        ("backfill", backfill.report),
        ("console", console_pages.report),
    )
    for part, lines in parts:
        if part in results:
            out += ["", *lines(results[part])]
    memory = report_memory(results)
    if memory:
        out += ["", *memory]
    return "\n".join(out)


def header(results: dict[str, Any]) -> list[str]:
    out = [
        "line-item-relay bench  "
        f"({results['machine']['cpus']} CPUs, {results['machine']['platform']}, "
        f"Python {results['machine']['python']}, load generator: {results['load_generator']})",
        "NOTE: the load generator, gunicorn, the worker, the emulator and PostgreSQL all share "
        "this one machine's CPUs;",
        "      figures are relative to it (the ceiling row measures the same machine "
        "under the same load).",
    ]
    if results["load_generator"].startswith("python"):
        out.append(
            "NOTE: the Python load generator (no wrk installed) tops out below the bare app, so "
            "the ceiling row and the ratios understate the server; install wrk for them."
        )
    if results["cpu_busy_before"] > 0.15:
        out.append(
            f"WARNING: {results['cpu_busy_before']:.0%} of the CPUs were busy with other work "
            "before the bench started; figures are pessimistic."
        )
    return out


def report_ingest(rows: list[dict[str, Any]]) -> list[str]:
    t = TARGETS
    out = [
        f"1. Ingest: signed Shopify orders (3 line items, all distinct), {CONNECTIONS} "
        f"connections, {INGEST_SECONDS:g} s, gunicorn -c deploy/gunicorn.conf.py (2 gevent; "
        f"the sync row: --worker-class sync, as before)",
        "   (ceiling: tests/perf/bare_app.py under the same gunicorn, reads the body and "
        "answers 200; cpu/req: CPU time of the gunicorn workers per request)",
        "   (bar: the ratio the service on SQLite had before the whole order, kept as the bar "
        "it must not fall below; notes: the records stored per accepted order, by kind)",
        f"   {'row':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'x ceil':>8}{'cpu/req':>9}"
        f"   {'>= 0.50 x ceiling':<19}{'bar >= 0.24':<13}{'p99 <= 50 ms':<14}notes",
    ]
    for row in rows:
        why = not_run(row)
        if why:
            out.append(f"   {row['row']:<26}{why}")
            continue
        is_ceiling = row["row"].startswith("ceiling")
        ratio_check = "(the ceiling)" if is_ceiling else mark(row["ratio"] >= t["ingest_ratio"])
        bar_check = "" if is_ceiling else mark(row["ratio"] >= t["ingest_ratio_bar"])
        p99_check = "" if is_ceiling else mark(row["p99_ms"] <= t["ingest_p99_ms"])
        out.append(
            f"   {row['row']:<26}{row['rps']:>9.1f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
            f"{row['ratio']:>8.2f}{row['web_cpu_ms_per_request']:>7.2f}ms"
            f"   {ratio_check:<19}{bar_check:<13}{p99_check:<14}"
            f"{'; '.join(ingest_notes(row, is_ceiling))}"
        )
    return out


def ingest_notes(row: dict[str, Any], is_ceiling: bool) -> list[str]:
    notes = []
    other = row["statuses"].get("other", 0) + row["errors"]
    if other:
        notes.append(f"{other} non-2xx/errors")
    if not is_ceiling and row["statuses"].get("200"):
        notes.append(f"{row['statuses']['200']} duplicates")
    if row.get("wrapped"):
        notes.append(
            "pool cycled (harmless here: the bare app stores nothing)"
            if is_ceiling
            else "pool exhausted: requests repeated"
        )
    if "stored" in row:
        notes.append(stored_note(row["stored"], row["statuses"].get("202", 0)))
    return notes


def stored_note(stored: dict[str, int], accepted: int) -> str:
    """Whether every accepted webhook stored its whole order, and nothing else."""
    orders = stored.get("order", 0)
    # Requests still in flight when the load generator stops are stored too.
    whole = stored == {kind: n * orders for kind, n in PER_ORDER.items()}
    if whole and 0 <= orders - accepted <= CONNECTIONS:
        return f"whole order stored: {orders:,} orders x {sum(PER_ORDER.values())} records"
    found = ", ".join(f"{n:,} {kind}" for kind, n in sorted(stored.items()))
    return f"NOT the whole order: stored {found} for {accepted:,} orders accepted"


def report_delivery(rows: list[dict[str, Any]]) -> list[str]:
    t = TARGETS
    ceiling = RATE_LIMIT * BATCH / RATE_WINDOW
    out = [
        f"2. Delivery: {DELIVERY_ITEMS:,} pending line items, one relay worker, emulator "
        f"{RATE_LIMIT} req/{RATE_WINDOW:g} s + {EMULATOR_LATENCY * 1000:g} ms; "
        f"ceiling {ceiling:,.0f} items/s ({RATE_LIMIT} x {BATCH} per {RATE_WINDOW:g} s)",
        f"   {'row':<26}{'items/s':>9}{'x ceil':>8}{'requests':>10}{'batch':>8}{'429s':>6}"
        f"{'drain s':>9}{'cpu s':>7}   {'>= 950/s':<10}{'batch >= 98':<13}{'no 429':<8}",
    ]
    for row in rows:
        why = not_run(row)
        if why:
            out.append(f"   {row['row']:<26}{why}")
            continue
        out.append(
            f"   {row['row']:<26}{row['items_per_s']:>9.1f}{row['items_per_s'] / ceiling:>8.2f}"
            f"{row['requests']:>10}{row['mean_batch']:>8.1f}{row['rate_limited']:>6}"
            f"{row['seconds']:>9.1f}{row['worker_cpu_s']:>7.1f}"
            f"   {mark(row['items_per_s'] >= t['delivery_items_per_s']):<10}"
            f"{mark(row['mean_batch'] >= t['delivery_mean_batch']):<13}"
            f"{mark(row['rate_limited'] == t['delivery_429s']):<8}"
        )
    out.append(
        f"   (the worker keeps a {WINDOW_MARGIN:g} s margin on the window, so its own "
        f"limit is {RATE_LIMIT * BATCH / (RATE_WINDOW + WINDOW_MARGIN):,.0f} items/s; the "
        "budget starts full, as in any backlog longer than a window)"
    )
    return out


def report_memory(results: dict[str, Any]) -> list[str]:
    memory = (
        [
            (
                f"gunicorn web worker, ingest {r['row'].removeprefix('service on ')}",
                r["peak_rss_mb"],
            )
            for r in results.get("ingest", [])
            if "peak_rss_mb" in r and not r["row"].startswith("ceiling")
        ]
        + [
            (f"relay worker, delivery {r['row']}", r["peak_rss_mb"])
            for r in results.get("delivery", [])
            if "peak_rss_mb" in r
        ]
        + [
            (f"relay worker, whole-order delivery {r['row']}", r["peak_rss_mb"])
            for r in results.get("orders", [])
            if "peak_rss_mb" in r
        ]
    )
    if not memory:
        return []
    out = ["5. Memory: peak RSS (VmHWM) per process"]
    for name, mb in memory:
        out.append(f"   {name:<44}{mb:>7.1f} MB   <= 120 MB: {mark(mb <= TARGETS['rss_mb'])}")
    return out


def on_each_store(
    run: Callable[[str, str], dict[str, Any]], folder: Path, pg_problem: str | None
) -> list[dict[str, Any]]:
    """A part's rows: run(label, database URL) on a SQLite file and on a fresh PostgreSQL
    database (skipped, saying why, when no server answers)."""
    sqlite_url = f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
    rows = [guarded("SQLite", lambda: run("SQLite", sqlite_url))]
    if pg_problem:
        rows.append({"row": "PostgreSQL", "skipped": pg_problem})
    else:
        with pg.fresh_database() as url:
            rows.append(guarded("PostgreSQL", lambda: run("PostgreSQL", url)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default="ingest,delivery,orders,e2e,stages,backfill,console",
        help="comma-separated parts",
    )
    parser.add_argument("--seconds", type=float, default=INGEST_SECONDS, help="ingest duration")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"))
    parser.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if any"
    )
    args = parser.parse_args()
    loadgen.CHOICE["tool"] = args.loadgen
    parts = set(args.only.split(","))
    globals()["INGEST_SECONDS"] = args.seconds
    began = time.monotonic()
    pg_problem = pg.unreachable()
    busy = cpu_busy()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(),
        },
        "load_generator": f"{loadgen.tool()} on the same machine",
        "cpu_busy_before": busy,
        "targets": {
            **TARGETS,
            "orders": order_delivery.TARGETS,
            "e2e": order_latency.TARGETS,
            "console": console_pages.TARGETS,
        },
    }
    print(
        f"bench: {results['load_generator']}; PostgreSQL: {pg_problem or 'available'}; "
        f"CPU busy before start: {busy:.0%}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp:
        folder = Path(tmp)
        if "ingest" in parts:
            say(f"signing {POOL_SIZE:,} distinct orders")
            load = pool.build(POOL_SIZE, SECRET, first_order_id=6_000_000_000_000)
            rows = {"service on SQLite": f"sqlite:///{folder / 'ingest.sqlite3'}"}
            sync_row = {SYNC_ROW: f"sqlite:///{folder / 'ingest-sync.sqlite3'}"}
            if pg_problem:
                results["ingest"] = ingest(rows | sync_row, folder, load)
                results["ingest"].insert(2, {"row": "service on PostgreSQL", "skipped": pg_problem})
            else:
                with pg.fresh_database() as url:
                    rows["service on PostgreSQL"] = url
                    results["ingest"] = ingest(rows | sync_row, folder, load)
            del load
        if "delivery" in parts:
            results["delivery"] = on_each_store(
                lambda label, url: delivery_row(label, url, folder), folder, pg_problem
            )
        if "orders" in parts:
            results["orders"] = on_each_store(
                lambda label, url: order_delivery.run(label, url, folder), folder, pg_problem
            )
        if "e2e" in parts:
            e2e_url = f"sqlite:///{folder / 'e2e.sqlite3'}"
            results["e2e"] = guarded("end to end", lambda: order_latency.run(e2e_url, folder))
        if "backfill" in parts:
            results["backfill"] = on_each_store(backfill.run, folder, pg_problem)
        if "console" in parts:
            results["console"] = console_pages.run_all(folder, pg_problem)
        if "stages" in parts:
            say(f"stages: {stages.ORDERS:,} orders through each step in one process")
            results["stages"] = stages.measure(stages.ORDERS, folder)
    results["seconds"] = time.monotonic() - began
    text = report(results)
    if "stages" in results:
        text += "\n\n" + stages.report(results["stages"], stages.ORDERS)
    print()
    print(text)
    print(f"\n(bench took {results['seconds']:.0f} s; results in {args.output})")
    results["table"] = text
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
