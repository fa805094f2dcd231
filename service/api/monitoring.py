"""GET /metrics in Prometheus text format, summed across processes in multiprocess mode."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine

from service import extensions, metrics, sync_report
from service.shop_checks import last_checks
from service.store import rejected, syncs
from service.store.engine import reading
from service.store.reads import queue_depth

bp = Blueprint("monitoring", __name__)


class QueueCollector:
    """Queue gauges, and the rejected webhooks kept, read from the store at scrape time
    (the same from every process)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        with reading(self._engine) as conn:
            depth = queue_depth(conn, time.time())
            kept = rejected.counts(conn)
            sync_rows = syncs.listed(conn)
            checked = last_checks(conn)
        yield from self._queue(depth)
        unhealthy = GaugeMetricFamily(
            "relay_webhook_subscriptions_unhealthy",
            "Wanted webhook topics the last check found missing or disabled, by store",
            labels=["source", "store"],
        )
        for (source, store), value in sorted(sync_report.check_samples(checked).items()):
            unhealthy.add_metric([source, store], value)
        yield unhealthy
        for name, help_text, values in sync_report.samples(sync_rows):
            gauge = GaugeMetricFamily(name, help_text, labels=["source", "store", "job"])
            for labels, value in sorted(values.items()):
                gauge.add_metric(list(labels), value)
            yield gauge
        family = GaugeMetricFamily(
            "relay_rejected_webhooks",
            "Rejected webhooks kept for an operator, by source and reason",
            labels=["source", "reason"],
        )
        for (source, reason), value in sorted(metrics.rejected_samples(kept).items()):
            family.add_metric([source, reason], value)
        yield family

    def _queue(self, depth: dict[str, Any]) -> Iterator[Metric]:
        for name, help_text, values in metrics.queue_samples(depth):
            if list(values) == [""]:
                yield GaugeMetricFamily(name, help_text, value=values[""])
                continue
            family = GaugeMetricFamily(name, help_text, labels=["kind"])
            for kind, value in sorted(values.items()):
                family.add_metric([kind], value)
            yield family


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus exposition of counters, histograms and queue gauges."""
    config = extensions.config()
    registry = REGISTRY
    if config.metrics_dir:
        # Each gunicorn worker writes its own files; this sums them for one answer.
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=config.metrics_dir)  # type: ignore[no-untyped-call]
    queue = CollectorRegistry()
    queue.register(QueueCollector(extensions.engine()))
    # Distinct metric families, so the two expositions concatenate into one valid page.
    return Response(
        generate_latest(registry) + generate_latest(queue), mimetype=CONTENT_TYPE_LATEST
    )
