"""Where an ingest request's CPU goes: each stage of the Shopify path timed on its own.

    .venv/bin/python -m tests.perf.stages [--orders 2000]

In one process, with no HTTP server and no load generator, for the bench's orders (3 line
items, every order distinct): the signature check, JSON parsing, the marshmallow load, the
mapping, the store write on SQLite and on PostgreSQL, and then the whole request through
the service's WSGI app beside the bare app's (`tests/perf/bare_app.py`). The sum of the
stages against the whole request shows what Flask, logging and metrics add; the bare app's
figure is the part gunicorn's ceiling row pays too.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import Any

from flask import Flask

from service import logs, samples, signatures
from service.app import create_app
from service.config import Config
from service.domain import Order
from service.mapping import MappingSettings, to_records
from service.sources import parse_json, shopify
from service.store import migrate
from service.store.engine import make_engine
from service.store.ingest import record_order
from tests.perf import bare_app, pg, pool

SECRET = "stages-secret"
WHOLE_ORDER = MappingSettings()  # orders, contacts, associations: what a webhook stores
ORDERS = 2000
WARMUP = 200


def _per_order_us(run: Callable[[int], object], count: int) -> float:
    """CPU microseconds per call of run(n) for n in range(count), after a warm-up on
    n in range(count, count + WARMUP): no measured call repeats an order already stored."""
    for n in range(count, count + WARMUP):
        run(n)
    started = time.process_time_ns()
    for n in range(count):
        run(n)
    return (time.process_time_ns() - started) / count / 1000


def _environ(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A WSGI environ as gunicorn builds it for the request."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": pool.PATH,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def _call(app: Flask, environ: dict[str, Any], expect: str) -> None:
    seen: list[str] = []
    environ["wsgi.input"].seek(0)
    b"".join(app(environ, lambda status, headers, exc=None: seen.append(status)))
    if not seen[0].startswith(expect):
        raise RuntimeError(f"expected {expect}, got {seen[0]}")


@contextmanager
def _service_app(url: str) -> Iterator[Flask]:
    """The service app with its production logging (JSON at INFO), written to /dev/null."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    config = Config(database_url=url, shopify_webhook_secrets=(SECRET,))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with open(os.devnull, "w") as sink, redirect_stderr(sink):
            logs.configure("INFO", as_json=True)
            yield create_app(config, engine=engine)
    finally:
        root.handlers[:] = handlers  # leave logging as the caller had it
        root.setLevel(level)
        engine.dispose()


def _requests(first: int, count: int) -> list[tuple[bytes, dict[str, str]]]:
    return [
        samples.shopify_request(pool.order_payload(first + n, 3), SECRET, shop=pool.SHOP)
        for n in range(count)
    ]


def measure(count: int, folder: Path) -> list[tuple[str, float | str]]:
    """(stage, CPU µs per order) rows; a PostgreSQL row says why when it cannot run."""
    signed = _requests(7_000_000_000_000, count + WARMUP)
    bodies = [body for body, _ in signed]
    signatures_ = [headers["X-Shopify-Hmac-Sha256"] for _, headers in signed]
    payloads = [parse_json(body) for body in bodies]
    orders: Sequence[Order] = [shopify.to_order(p, pool.SHOP) for p in payloads]
    inputs = [to_records(order, WHOLE_ORDER) for order in orders]
    rows: list[tuple[str, float | str]] = [
        (
            "signature (HMAC-SHA256, base64)",
            _per_order_us(
                lambda n: signatures.is_valid(bodies[n], signatures_[n], [SECRET]), count
            ),
        ),
        ("JSON parse, exact numbers", _per_order_us(lambda n: parse_json(bodies[n]), count)),
        (
            "marshmallow load -> Order",
            _per_order_us(lambda n: shopify.to_order(payloads[n], pool.SHOP), count),
        ),
        (
            "mapping -> the whole order's records",
            _per_order_us(lambda n: to_records(orders[n], WHOLE_ORDER), count),
        ),
    ]

    def store_row(label: str, url: str) -> tuple[str, float]:
        engine = make_engine(url)
        migrate.upgrade(engine)
        try:
            return label, _per_order_us(
                lambda n: record_order(
                    engine, orders[n], inputs[n], delivery_ids=[f"webhook:{n}"], now=time.time()
                ),
                count,
            )
        finally:
            engine.dispose()

    rows.append(store_row("store write, SQLite (one transaction)", f"sqlite:///{folder / 's.db'}"))
    problem = pg.unreachable()
    if problem:
        rows.append(("store write, PostgreSQL", f"skipped: {problem}"))
    else:
        with pg.fresh_database() as url:
            rows.append(store_row("store write, PostgreSQL (client CPU only)", url))

    fresh = [
        _environ(body, headers) for body, headers in _requests(8_000_000_000_000, count + WARMUP)
    ]
    with _service_app(f"sqlite:///{folder / 'app.db'}") as app:
        whole = _per_order_us(lambda n: _call(app, fresh[n], "202"), count)
    rows.append(("whole request, service app on SQLite", whole))
    bare = bare_app.create_app()
    rows.append(
        ("whole request, bare app", _per_order_us(lambda n: _call(bare, fresh[n], "200"), count))
    )
    return rows


def report(rows: list[tuple[str, float | str]], count: int) -> str:
    out = [
        f"6. Where an ingest request's CPU goes: {count:,} distinct Shopify orders (3 line "
        "items), in one process, no HTTP server (python -m tests.perf.stages)",
        f"   {'stage':<44}{'us/order':>10}",
    ]
    for stage, value in rows:
        shown = f"{value:>10.0f}" if isinstance(value, float) else f"  {value}"
        out.append(f"   {stage:<44}{shown}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=ORDERS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relay-stages-") as tmp:
        print(report(measure(args.orders, Path(tmp)), args.orders))


if __name__ == "__main__":
    main()
