"""Run the subscription check for a store (service.shops.subscriptions), keep its result
for /readyz, `relay status` and /metrics, and reconcile at once after a WooCommerce
re-activation: the webhook keeps its failure count, so what it failed to deliver is read
back before anything else can go wrong."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from service.config import Config
from service.reconcile import PassResult, Reconciler
from service.shops.shopify import ShopifyApi
from service.shops.subscriptions import CheckResult, check
from service.shops.woocommerce import WooCommerceApi
from service.store import syncs
from service.store.reads import iso
from service.store.state import read_states, set_state
from service.store.syncs import SyncKey

log = logging.getLogger("service.shop_checks")
CHECK = "check"  # the job name of the check in shop_syncs: its lease and last start
CHECK_SECONDS = 3600.0  # how often the worker checks each store
RESULT = "shops_check:"  # + "source:store": the last check's result, JSON


def run_check(
    config: Config,
    engine: Engine,
    client: ShopifyApi | WooCommerceApi,
    reconciler: Reconciler,
    *,
    fix: bool,
    due_only: bool = False,
) -> tuple[CheckResult, PassResult | None] | None:
    """Check (and with `fix` mend) the store's subscriptions, keep the result; None when
    another worker is checking it, or, with `due_only`, it was checked within the hour."""
    now = reconciler.clock()
    key = SyncKey(client.source, client.store, CHECK)
    due = now - CHECK_SECONDS if due_only else None
    job = syncs.claim(
        engine, key, owner=reconciler.owner, now=now, lease_seconds=600.0, started_before=due
    )
    if job is None:
        return None
    syncs.start(engine, job, after=now, before=now, created=(None, None), now=now)
    result = check(config, client, fix=fix)
    name = f"{RESULT}{client.source}:{client.store}"
    kept = json.dumps({**result.to_json(), "checked_at": iso(now)})
    set_state(engine, name, kept, number=now, now=now)
    if result.healthy:
        syncs.finish(engine, job, checkpoint=now, swept=False, now=reconciler.clock())
    else:
        syncs.fail(engine, job, error=_summary(result), now=reconciler.clock())
    log.log(
        logging.INFO if result.healthy else logging.WARNING,
        "shops_check",
        extra={"event": "shops_check", **result.to_json()},
    )
    passed = reconciler.reconcile(client) if result.reactivated else None
    return result, passed


def _summary(result: CheckResult) -> str:
    parts = [f"missing {', '.join(result.missing)}"] if result.missing else []
    parts += [f"disabled {', '.join(result.disabled)}"] if result.disabled else []
    parts += [result.error] if result.error else []
    return "; ".join(parts)


def last_checks(conn: Connection) -> dict[str, dict[str, Any]]:
    """The last check's result of every store, by "source:store"."""
    found = {}
    for name, value in read_states(conn).items():
        if name.startswith(RESULT) and value:
            found[name.removeprefix(RESULT)] = json.loads(value)
    return found
