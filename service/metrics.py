"""Prometheus metrics. Counters and histograms live in each process; under gunicorn (and
for the worker) `PROMETHEUS_MULTIPROC_DIR` makes prometheus-client write them to files
that `/metrics` sums across processes. Queue gauges are read from the store at scrape time,
so every web process reports the same numbers."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

# prometheus-client reads PROMETHEUS_MULTIPROC_DIR itself, when the metrics below are
# created, and fails on a missing folder; the one read of the environment outside
# service.config, because it must happen before that import.
_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _MULTIPROC_DIR:
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)

from prometheus_client import Counter, Gauge, Histogram  # noqa: E402

if TYPE_CHECKING:
    from service.store.queue import Claimed

WEBHOOKS = Counter(
    "relay_webhooks", "Webhooks and order posts received", ["source", "topic", "outcome"]
)
HUBSPOT_REQUESTS = Counter("relay_hubspot_requests", "Batch upserts sent to HubSpot", ["status"])
HUBSPOT_SECONDS = Histogram(
    "relay_hubspot_request_seconds",
    "Time for one batch upsert",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
)
BATCH_SIZE = Histogram(
    "relay_batch_size", "Inputs per batch upsert", buckets=(1, 5, 10, 25, 50, 75, 90, 99, 100)
)
DELIVERED = Counter("relay_line_items_delivered", "Line item versions HubSpot confirmed")
DEAD = Counter("relay_line_items_dead_lettered", "Line items moved to dead letters")
LATENCY = Histogram(
    "relay_delivery_latency_seconds",
    "From the accepted webhook to HubSpot's confirmation",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
RATE_LEFT = Gauge(
    "relay_rate_budget_remaining",
    "X-HubSpot-RateLimit-Remaining on the latest answer",
    multiprocess_mode="mostrecent",
)


def observe_webhook(source: str, topic: str | None, outcome: str) -> None:
    WEBHOOKS.labels(source=source, topic=topic or "", outcome=outcome).inc()


def observe_hubspot_request(status: int, size: int, seconds: float) -> None:
    HUBSPOT_REQUESTS.labels(status=str(status)).inc()
    BATCH_SIZE.observe(size)
    HUBSPOT_SECONDS.observe(seconds)


def observe_delivered(items: Sequence[Claimed], now: float) -> None:
    DELIVERED.inc(len(items))
    for item in items:
        if item.pending_since is not None:
            LATENCY.observe(max(0.0, now - item.pending_since))


def observe_dead(count: int) -> None:
    if count:
        DEAD.inc(count)


def set_rate_budget_left(left: int | None) -> None:
    if left is not None:
        RATE_LEFT.set(left)


def queue_samples(depth: dict[str, float | int | None]) -> Iterator[tuple[str, str, float]]:
    """(name, help, value) for the queue gauges computed from the store at scrape time."""
    yield (
        "relay_line_items_pending",
        "Line items waiting for delivery",
        float(depth["pending"] or 0),
    )
    yield "relay_line_items_dead", "Line items in dead letters", float(depth["dead"] or 0)
    age = depth["oldest_pending_age_seconds"]
    yield (
        "relay_oldest_pending_age_seconds",
        "Age of the oldest undelivered line item version",
        float(age or 0),
    )
