"""What a worker runs beside delivery, in a thread of its own: a reconciliation pass per
store every RELAY_RECONCILE_SECONDS (0: none), and every hour the subscription check
(service.shop_checks), which mends what it can when RELAY_PUBLIC_URL is set. Each
store's leases and last starts, kept in the store, decide which worker runs a pass or a
check when several are looking."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from service.config import Config
from service.reconcile import Reconciler
from service.shop_checks import run_check
from service.shops import access

log = logging.getLogger("service.shop_jobs")
POLL_SECONDS = 5.0  # how often a worker looks for a store whose pass is due


class ShopJobs:
    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        owner: str,
        stopping: threading.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.engine = engine
        self.stopping = stopping
        # A wait on `stopping`, not a sleep: a Retry-After never holds up a shutdown.
        self.clients = access.clients(config, sleep=stopping.wait)
        self.reconciler = Reconciler(config, engine, owner=owner, clock=clock, stopping=stopping)

    @property
    def enabled(self) -> bool:
        return self.config.reconcile_seconds > 0 and bool(self.clients)

    def run_due(self) -> int:
        """Run every store's check and pass that is due; the number run by this worker."""
        ran = 0
        fix = bool(self.config.public_url)
        for client in self.clients:
            if self.stopping.is_set():
                break
            try:
                checked = run_check(
                    self.config, self.engine, client, self.reconciler, fix=fix, due_only=True
                )
                ran += checked is not None
                ran += self.reconciler.reconcile(client, due_only=True).ran
            except Exception:
                # One store's trouble (its pass logs why) must not stop the others'.
                log.exception(
                    "reconcile_pass_crashed",
                    extra={"event": "reconcile_pass_crashed", "store": client.store},
                )
        return ran

    def loop(self) -> None:
        while not self.stopping.is_set():
            self.run_due()
            self.stopping.wait(POLL_SECONDS)
