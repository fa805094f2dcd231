"""The console's overview: what waits, what was delivered and what died, by kind; what
holds HubSpot back; readiness; and the last hour as charts."""

from __future__ import annotations

import time

from flask import render_template

from service import extensions
from service.console import bp, charts
from service.readiness import halts, readiness, sources_without_secret
from service.store import activity
from service.store.console_reads import record_counts, requests_in_window
from service.store.engine import reading
from service.store.reads import iso, queue_depth
from service.store.state import LAST_ERROR, PAUSED_UNTIL, read_number, read_states
from service.store.syncs import BACKFILL, RECONCILE

SHOWN_STATES = ("pending", "delivered", "dead")
SHOP_JOBS = (RECONCILE, BACKFILL)


@bp.get("/")
def overview() -> str:
    config, engine = extensions.config(), extensions.engine()
    now = time.time()
    with reading(engine) as conn:
        depth = queue_depth(conn, now)
        counts = record_counts(conn, depth)
        states = read_states(conn)
        paused_until = read_number(conn, PAUSED_UNTIL) or 0.0
        in_window = requests_in_window(conn, now=now, window=config.rate_window_seconds)
        hour = activity.last_hour(conn, now)
    ready, _blocking = readiness(config, engine)
    # Reconciliation and backfill passes come as {job: {"source:store": facts}}.
    shop_passes = [
        (job, store, facts)
        for job, stores in ready["checks"].items()
        if job in SHOP_JOBS
        for store, facts in stores.items()
    ]
    return render_template(
        "console/overview.html",
        counts=counts,
        totals={state: sum(k[state] for k in counts.values()) for state in SHOWN_STATES},
        oldest_age=depth["oldest_pending_age_seconds"],
        last_error=states.get(LAST_ERROR),
        halts=halts(states),
        paused=({"until": iso(paused_until), "reason": states.get(PAUSED_UNTIL)})
        if paused_until > now
        else None,
        budget={"used": in_window, "limit": config.hubspot_rate_limit},
        ready=ready,
        shop_passes=shop_passes,
        subscriptions=ready["checks"].get("subscriptions", {}),
        unconfigured=sources_without_secret(config),
        sandbox=config.sandbox,
        throughput=charts.throughput(hour),
        queue_chart=charts.depth(hour),
    )
