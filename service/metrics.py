"""Prometheus metrics. Counters and histograms live in each process; under gunicorn (and
for the worker) `PROMETHEUS_MULTIPROC_DIR` makes prometheus-client write them to files
that `/metrics` sums across processes. Queue gauges are read from the store at scrape time,
so every web process reports the same numbers."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

# prometheus-client reads PROMETHEUS_MULTIPROC_DIR itself, when the metrics below are
# created, and fails on a missing folder; the one read of the environment outside
# service.config, because it must happen before that import.
_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _MULTIPROC_DIR:
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)

from prometheus_client import Counter, Gauge, Histogram  # noqa: E402

from service.domain import RejectionReason, Source  # noqa: E402

if TYPE_CHECKING:
    from service.store.queue import Claimed

WEBHOOKS = Counter(
    "relay_webhooks", "Webhooks and order posts received", ["source", "topic", "outcome"]
)
REJECTED = Counter(
    "relay_webhooks_rejected",
    "Signed webhooks answered as rejected (kept for an operator), by reason",
    ["source", "reason"],
)
HUBSPOT_REQUESTS = Counter(
    "relay_hubspot_requests", "Batch requests sent to HubSpot", ["kind", "status"]
)
HUBSPOT_SECONDS = Histogram(
    "relay_hubspot_request_seconds",
    "Time for one batch upsert",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
)
BATCH_SIZE = Histogram(
    "relay_batch_size",
    "Inputs per batch request",
    ["kind"],
    buckets=(1, 5, 10, 25, 50, 75, 90, 99, 100, 500, 1000, 2000),
)
DELIVERED = Counter("relay_records_delivered", "Record versions HubSpot confirmed", ["kind"])
DEAD = Counter("relay_records_dead_lettered", "Records moved to dead letters", ["kind"])
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


def observe_rejected(source: str, reason: str) -> None:
    REJECTED.labels(source=source, reason=reason).inc()


def observe_hubspot_request(kind: str, status: int, size: int, seconds: float) -> None:
    HUBSPOT_REQUESTS.labels(kind=kind, status=str(status)).inc()
    BATCH_SIZE.labels(kind=kind).observe(size)
    HUBSPOT_SECONDS.observe(seconds)


def observe_delivered(kind: str, items: Sequence[Claimed], now: float) -> None:
    if not items:
        return
    DELIVERED.labels(kind=kind).inc(len(items))
    for item in items:
        if item.pending_since is not None:
            LATENCY.observe(max(0.0, now - item.pending_since))


def observe_dead(kind: str, count: int) -> None:
    if count:
        DEAD.labels(kind=kind).inc(count)


def set_rate_budget_left(left: int | None) -> None:
    if left is not None:
        RATE_LEFT.set(left)


def queue_samples(depth: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, float]]]:
    """(name, help, {kind: value}) for the queue gauges computed from the store at scrape
    time; the age gauge has one value, under the kind ""."""
    by_kind: Mapping[str, Mapping[str, int]] = depth["by_kind"]
    yield (
        "relay_records_pending",
        "Records waiting for delivery, by kind",
        {kind: float(counts["pending"]) for kind, counts in by_kind.items()},
    )
    yield (
        "relay_records_dead",
        "Records in dead letters, by kind",
        {kind: float(counts["dead"]) for kind, counts in by_kind.items()},
    )
    yield (
        "relay_oldest_pending_age_seconds",
        "Age of the oldest undelivered record version",
        {"": float(depth["oldest_pending_age_seconds"] or 0)},
    )


def rejected_samples(kept: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], float]:
    """The kept rejected webhooks by (source, reason), every pair present (0 if none), so
    a dashboard shows each series from the start."""
    pairs = {(s.value, r.value): 0.0 for s in Source for r in RejectionReason}
    return pairs | {pair: float(count) for pair, count in kept.items()}
