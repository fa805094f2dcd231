"""Reconciliation: read what changed from a shop's API and feed each order through the
webhook's own path (`service.intake`: load, map, store or keep as rejected), so the
version rule makes a repeat harmless and an unfit order is kept like an unfit webhook.

A pass runs per store under a lease (`service.store.syncs`), so one worker at a time
reads a store whatever the number of workers. It reads the window from its checkpoint,
less `RELAY_RECONCILE_OVERLAP_SECONDS`, up to when it started (fixed, so a pass ends
however busy the shop), oldest change first, and moves the checkpoint after every page:
a pass killed midway resumes where its last page ended. Once a day a pass reaches a day
back instead (the trailing-day sweep): Shopify may deliver a webhook up to a day late,
and no shop documents how soon a change shows in a listing (shop-apis.md §4).

A backfill (`relay backfill`) is the same pass over orders created within a range, with
a checkpoint of its own, resumed when it is run again with the same range.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import intake
from service.config import Config
from service.domain import Source
from service.errors import StoreUnavailable
from service.intake import STORE_HEADERS, Delivery
from service.shops.access import ShopClient
from service.shops.http import ShopApiError
from service.shops.listing import Fetched, Page, Window
from service.store import syncs
from service.store.ingest import IngestResult, IngestStatus
from service.store.syncs import BACKFILL, RECONCILE, Claimed, SyncKey

log = logging.getLogger("service.reconcile")
DAY = 86_400.0
LEASE_SECONDS = 300.0  # renewed after every page; a page with its retries takes far less
# The webhook topic each order is taken as: the whole order, as orders/updated carries it.
TOPICS = {Source.SHOPIFY: "orders/updated", Source.WOOCOMMERCE: "order.updated"}


@dataclass
class PassResult:
    source: str
    store: str
    job: str
    ran: bool = True  # False: another worker holds the store's lease, or it is not due
    seen: int = 0
    changed: int = 0  # new or changed orders (stored as accepted)
    rejected: int = 0
    error: str | None = None
    status: int | None = None  # the HTTP status of the shop's refusal, when one ended it
    finished: bool = False
    window: Window | None = field(default=None)

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.seen, self.changed, self.rejected


def feed(
    engine: Engine, config: Config, source: Source, store: str, order: Fetched, *, now: float
) -> str:
    """One fetched order through the webhook path: "changed", "unchanged" or "rejected".
    Raise StoreUnavailable when the store cannot take it."""
    version = "?" if order.version is None else str(int(order.version))
    delivery = Delivery.of(
        source,
        TOPICS[source],
        {STORE_HEADERS[source]: store},
        order.body,
        reference=f"reconcile:{order.order_id}:{version}"[:255],
    )
    outcome = intake.take(engine, config, delivery, now=now)
    if not isinstance(outcome, IngestResult):
        return "rejected"
    return "changed" if outcome.status is IngestStatus.ACCEPTED else "unchanged"


class Reconciler:
    """Runs passes for the stores of one process (a worker, or a command)."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        owner: str,
        clock: Callable[[], float] = time.time,
        stopping: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.owner = owner[:64]
        self.clock = clock
        self.stopping = stopping or threading.Event()

    def reconcile(
        self, client: ShopClient, *, since: float | None = None, due_only: bool = False
    ) -> PassResult:
        """A pass over what changed since the checkpoint (or `since`); with `due_only`,
        only if the store's last pass started RELAY_RECONCILE_SECONDS ago or more."""
        now = self.clock()
        key = SyncKey(client.source, client.store, RECONCILE)
        due = now - self.config.reconcile_seconds if due_only else None
        job = syncs.claim(
            self.engine,
            key,
            owner=self.owner,
            now=now,
            lease_seconds=LEASE_SECONDS,
            started_before=due,
        )
        if job is None:
            return PassResult(key.source, key.store, key.job, ran=False)
        if since is not None:
            return self._run(
                client, job, Window(since, now), contiguous=_within(job, since), sweep=False
            )
        start = (
            now - DAY
            if job.checkpoint is None
            else job.checkpoint - self.config.reconcile_overlap_seconds
        )
        sweep = job.swept_at is None or job.swept_at <= now - DAY
        after = min(start, now - DAY) if sweep else start
        return self._run(client, job, Window(after, now), contiguous=True, sweep=sweep)

    def backfill(
        self,
        client: ShopClient,
        *,
        since: float,
        until: float | None,
        on_page: Callable[[PassResult], None] | None = None,
    ) -> PassResult:
        """Import the orders created from `since` (to `until`); resumes an unfinished
        backfill of the same range from its checkpoint."""
        now = self.clock()
        key = SyncKey(client.source, client.store, BACKFILL)
        job = syncs.claim(self.engine, key, owner=self.owner, now=now, lease_seconds=LEASE_SECONDS)
        if job is None:
            return PassResult(key.source, key.store, key.job, ran=False)
        same = (job.created_after, job.created_before) == (since, until)
        if job.unfinished and same and job.checkpoint is not None and job.window_before is not None:
            window = Window(job.checkpoint, job.window_before, since, until)
        else:
            window = Window(since, until if until is not None else now, since, until)
            job = _fresh(job)
        return self._run(client, job, window, contiguous=True, sweep=False, on_page=on_page)

    # -- one pass ------------------------------------------------------------------------

    def _run(
        self,
        client: ShopClient,
        job: Claimed,
        window: Window,
        *,
        contiguous: bool,
        sweep: bool,
        on_page: Callable[[PassResult], None] | None = None,
    ) -> PassResult:
        result = PassResult(job.key.source, job.key.store, job.key.job, window=window)
        created = (window.created_after, window.created_before)
        try:
            syncs.start(
                self.engine, job, after=window.after, before=window.before, created=created,
                now=self.clock(),
            )  # fmt: skip
            checkpoint = self._read(client, job, window, result, contiguous, on_page)
            if contiguous:
                checkpoint = max(checkpoint or -math.inf, window.before)
            assert checkpoint is not None  # not contiguous: the job had one
            syncs.finish(self.engine, job, checkpoint=checkpoint, swept=sweep, now=self.clock())
            result.finished = True
        except _Halted as halted:
            result.error = str(halted)
        except ShopApiError as exc:
            result.error, result.status = str(exc), exc.status
            syncs.fail(self.engine, job, error=result.error, now=self.clock())
        except (StoreUnavailable, SQLAlchemyError) as exc:
            # The store is away: the lease runs out by itself and the checkpoint holds.
            result.error = f"store unavailable: {type(exc).__name__}"
        return self._ended(result)

    def _read(
        self,
        client: ShopClient,
        job: Claimed,
        window: Window,
        result: PassResult,
        contiguous: bool,
        on_page: Callable[[PassResult], None] | None,
    ) -> float | None:
        """Feed the window's pages, moving the checkpoint after each (only when the
        window continues what it covers); the checkpoint reached. Raise _Halted when the
        lease was lost or the worker is stopping."""
        checkpoint = job.checkpoint
        for page in client.pages(window):
            self._take(client, page, result)
            if contiguous and page.newest is not None:
                checkpoint = max(checkpoint or -math.inf, page.newest)
            counts, now = result.counts, self.clock()
            if not syncs.progress(
                self.engine, job, checkpoint=checkpoint, counts=counts, now=now,
                lease_seconds=LEASE_SECONDS,
            ):  # fmt: skip
                raise _Halted("lost the store's lease to another worker")
            if on_page is not None:
                on_page(result)
            if self.stopping.is_set():
                syncs.release(self.engine, job, now=self.clock())
                raise _Halted("stopped before the end of its window")
        return checkpoint

    def _take(self, client: ShopClient, page: Page, result: PassResult) -> None:
        source = Source(client.source)
        for order in page.orders:
            outcome = feed(self.engine, self.config, source, client.store, order, now=self.clock())
            result.seen += 1
            result.changed += outcome == "changed"
            result.rejected += outcome == "rejected"

    def _ended(self, result: PassResult) -> PassResult:
        event = "reconcile_pass_failed" if result.error else "reconcile_pass_finished"
        log.log(
            logging.WARNING if result.error else logging.INFO,
            event,
            extra={
                "event": event,
                "source": result.source,
                "store": result.store,
                "job": result.job,
                "orders_seen": result.seen,
                "orders_changed": result.changed,
                "orders_rejected": result.rejected,
                "error": result.error,  # the shop's message and status, never a credential
            },
        )
        return result


class _Halted(Exception):
    """A pass stopped before the end of its window, its checkpoint kept."""


def _within(job: Claimed, since: float) -> bool:
    """Whether a pass from `since` continues what the checkpoint covers (no gap)."""
    return job.checkpoint is None or since <= job.checkpoint


def _fresh(job: Claimed) -> Claimed:
    """A new backfill range starts from nothing: its old checkpoint says nothing of it."""
    return Claimed(job.key, job.owner, None, None, None, None, None, None, None, None)
