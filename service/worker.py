"""The relay worker: find due records, claim a batch of one kind, deliver it.

`Worker.run_once()` handles one claim (tests call it directly); `run_forever()` keeps
`batches_in_flight` claims going in threads until SIGTERM, then finishes or releases
what it holds. Each round takes the first kind with a batch ready, in the order
contacts, order records, line items, associations (`kinds.PRIORITY`); a partial batch
waits `linger_seconds` to fill. Sending and applying outcomes is `service.delivery`'s.
Clock, sleep and jitter are injected.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from types import FrameType

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.config import Config
from service.delivery import Delivery
from service.domain import RecordKind
from service.halts import HALT_RECHECK_SECONDS, Halts
from service.hubspot import portal
from service.hubspot.client import HubSpotClient
from service.hubspot.kinds import active_kinds, batch_limit, order_kind
from service.hubspot.outcomes import Answer
from service.send_budget import SendBudget
from service.shop_jobs import ShopJobs
from service.store import activity, housekeeping, queue, rate_budget, rejected
from service.store.engine import reading
from service.store.reads import queue_depth
from service.store.state import (
    AUTH_ERROR,
    SIGNED_OUT,
    clear_state,
    halted,
    prune_expired,
    set_state,
)

log = logging.getLogger("service.worker")
IDLE_SLEEP_SECONDS = 0.1
HOUSEKEEPING_SECONDS = 600.0
DEPTH_SAMPLE_SECONDS = 60.0
ASSOCIATION_HOLD_SECONDS = 5.0
PORTAL_RETRY_SECONDS = 5.0  # after a 429, a 5xx or a timeout on a read of the portal


class Worker:
    def __init__(
        self,
        config: Config,
        engine: Engine,
        client: HubSpotClient,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.engine = engine
        self.client = client
        self.clock = clock
        self.stopping = threading.Event()
        self.budget = SendBudget(config, engine, clock=clock, sleep=sleep, stopping=self.stopping)
        self.halts = Halts()
        self.kinds = active_kinds(config)
        self.limits = {kind: batch_limit(config, kind) for kind in self.kinds}
        self.delivery = Delivery(
            config,
            engine,
            client,
            self.budget,
            clock=clock,
            jitter=jitter,
            halts=self.halts,
            portal=self.portal_facts,
        )
        self._claiming = {kind: threading.Lock() for kind in self.kinds}
        self._held_since: dict[RecordKind, float] = {}  # association kinds waiting on ends
        self._facts: portal.PortalFacts | None = None
        self._facts_lock = threading.Lock()
        # lease_owner holds 64 characters: a cloud host name alone can be longer.
        self._name = f"{socket.gethostname()[:24]}:{os.getpid()}"

    # -- one claim ---------------------------------------------------------------

    def run_once(self) -> int:
        """Claim and deliver one batch; the number of records handled (0: none due)."""
        if rate_budget.paused_until(self.engine) > self.clock():
            return 0  # claiming now would only hold records that cannot be sent
        passed: set[RecordKind] = set()
        while True:
            kinds = [kind for kind in self._ready(self.clock()) if kind not in passed]
            if not kinds:
                return 0
            kind = kinds[0]
            passed.add(kind)
            if kind is order_kind(self.config) and self.portal_facts(kind) is None:
                continue  # its stages are unknown; the other kinds go on
            handled = self._claim_and_deliver(kind)
            if handled:
                return handled
            # Another loop claimed this kind between the read and the claim: its rows are
            # in flight now, which may hold associations back, so look again rather than
            # go down a list read before.

    def _claim_and_deliver(self, kind: RecordKind) -> int:
        owner = f"{self._name}:{uuid.uuid4().hex[:12]}"
        # One claim of a kind at a time in this process: two at once would each skip the
        # rows the other is locking and send one batch's worth as two partial ones (seen
        # on PostgreSQL: 100 + 73 + 77 orders instead of 100 + 100 + 50).
        with self._claiming[kind]:
            batch = queue.claim(
                self.engine,
                kind,
                owner=owner,
                now=self.clock(),
                limit=self.limits[kind],
                lease_seconds=self.config.lease_seconds,
                linger_seconds=self.config.linger_seconds,
            )
        if batch:
            self.delivery.deliver(kind, owner, batch)
        return len(batch)

    def _ready(self, now: float) -> list[RecordKind]:
        """Kinds with a full batch due, or a partial one that lingered long enough.

        Associations also wait while either of their ends' kinds is in flight: the ends
        being delivered now would otherwise make a second, partial batch of associations
        right after this one. (Ends that are due go first anyway, by priority.) They wait
        at most ASSOCIATION_HOLD_SECONDS, so a steady stream of orders cannot hold them
        back for good."""
        open_kinds = {k: n for k, n in self.limits.items() if not self.halts.blocked(k, now)}
        work = queue.due_work(self.engine, now=now, limits=open_kinds)
        ready = {
            kind
            for kind, due in work.items()
            if due.oldest is not None
            and (due.count >= open_kinds[kind] or due.oldest <= now - self.config.linger_seconds)
        }
        busy = {kind for kind, due in work.items() if due.in_flight}
        held = {kind for kind in ready if kind.is_association and busy & set(kind.ends)}
        # The hold is timed from when it began, not from the associations' own age: rows
        # stored long before their ends were delivered (a backlog) would never be held.
        # (Several delivery loops run this at once: pop and setdefault are atomic.)
        for kind in set(self._held_since) - held:
            self._held_since.pop(kind, None)
        held = {
            kind
            for kind in held
            if now - self._held_since.setdefault(kind, now) < ASSOCIATION_HOLD_SECONDS
        }
        return [kind for kind in self.kinds if kind in ready - held]

    # -- the portal's stages ---------------------------------------------------------

    def portal_facts(self, kind: RecordKind) -> portal.PortalFacts | None:
        """The order record's stages, resolved once by label; None while unresolved:
        tried again in a few seconds after a failed read, after HALT_RECHECK_SECONDS when
        the portal lacks what the configuration names (`/readyz` says what)."""
        with self._facts_lock:
            if self._facts is None and not self.halts.blocked(kind, self.clock()):
                self._facts = self._resolve(kind)
            return self._facts

    def _resolve(self, kind: RecordKind) -> portal.PortalFacts | None:
        object_type = "orders" if kind is RecordKind.ORDER else "deals"
        pipelines = self._read(kind, lambda: self.client.get_pipelines(object_type))
        if pipelines is None:
            return None
        stages = portal.resolve_stages(
            pipelines, kind, self.config.hubspot_order_pipeline, self.config.order_stages
        )
        now = self.clock()
        if isinstance(stages, portal.Unresolved):
            log.error(
                "hubspot_stages_unresolved",
                extra={"event": "hubspot_stages_unresolved", "reason": stages.describe()},
            )
            set_state(self.engine, halted(kind), stages.describe(), now=now)
            self.halts.hold(kind, now + HALT_RECHECK_SECONDS)
            return None
        unique = False
        if kind is RecordKind.ORDER:
            answer = self._read(
                kind, lambda: self.client.get_property(portal.EXTERNAL_ORDER_ID, "orders")
            )
            if answer is None:
                return None  # not known yet: sending the bare id might collide across stores
            unique = portal.external_id_is_unique(answer)
        clear_state(self.engine, halted(kind))
        log.info(
            "hubspot_stages_resolved",
            extra={"event": "hubspot_stages_resolved", "pipeline": stages.pipeline_id},
        )
        return portal.PortalFacts(kind, stages, external_id_unique=unique)

    def _read(self, kind: RecordKind, call: Callable[[], Answer]) -> Answer | None:
        """A read of the portal through the shared budget; None, and `kind` held back for a
        few seconds, when no slot came in time or HubSpot failed to answer for now."""
        answer = self._budgeted(call)
        if answer is not None and not portal.is_transient(answer):
            return answer
        why = "no request slot" if answer is None else answer.describe()
        log.warning(
            "hubspot_portal_unread", extra={"event": "hubspot_portal_unread", "reason": why}
        )
        self.halts.hold(kind, self.clock() + PORTAL_RETRY_SECONDS)
        return None

    def _budgeted(self, call: Callable[[], Answer]) -> Answer | None:
        """One read through the shared budget; None when no slot came in time."""
        slot = self.budget.wait(give_up_at=self.clock() + self.config.lease_seconds / 2)
        if slot is None:
            return None
        try:
            answer = call()
        finally:
            self.budget.settle(slot, sent=True)
        self.budget.observe(answer)
        return answer

    # -- the loop ----------------------------------------------------------------

    def run_forever(self) -> None:
        """Run `batches_in_flight` delivery loops until stop() or SIGTERM; then return."""
        threads = [
            threading.Thread(target=self._loop, name=f"relay-batch-{i}", daemon=True)
            for i in range(max(1, self.config.batches_in_flight))
        ]
        jobs = ShopJobs(self.config, self.engine, owner=self._name, stopping=self.stopping)
        if jobs.enabled:
            threads.append(threading.Thread(target=jobs.loop, name="relay-shops", daemon=True))
        try:
            # A restart is how an operator says the credentials or the portal were fixed.
            clear_state(self.engine, AUTH_ERROR, *(halted(kind) for kind in RecordKind))
        except SQLAlchemyError as exc:
            # The store may be restarting too: start anyway, the loops wait for it, and the
            # first delivery clears the halt.
            log.warning(
                "store_unavailable",
                extra={"event": "store_unavailable", "error": type(exc).__name__},
            )
        for thread in threads:
            thread.start()
        log.info(
            "worker_started",
            extra={"event": "worker_started", "threads": len(threads), "kinds": list(self.kinds)},
        )
        next_housekeeping = next_sample = self.clock()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.5)
            if self.clock() >= next_sample and not self.stopping.is_set():
                self._sample_depth()
                next_sample = self.clock() + DEPTH_SAMPLE_SECONDS
            if self.clock() >= next_housekeeping and not self.stopping.is_set():
                self._housekeeping()
                next_housekeeping = self.clock() + HOUSEKEEPING_SECONDS
        log.info("worker_stopped", extra={"event": "worker_stopped"})

    def _sample_depth(self) -> None:
        """Keep the queue's depth for the console's chart, once a minute."""
        now = self.clock()
        try:
            with reading(self.engine) as conn:
                depth = queue_depth(conn, now)
            activity.sample_depth(self.engine, now, pending=depth["pending"], dead=depth["dead"])
        except SQLAlchemyError:
            return  # the store is away; the next minute tries again

    def _housekeeping(self) -> None:
        """Prune receipts past their use, and rejected webhooks past their retention
        (their raw bodies hold personal data)."""
        now = self.clock()
        keep_rejected = self.config.rejected_retention_days * 86400.0
        try:
            pruned = {
                "receipts_pruned": housekeeping.prune_receipts(self.engine, now=now),
                "rejected_webhooks_pruned": rejected.prune(
                    self.engine, now=now, keep_seconds=keep_rejected
                ),
                "activity_pruned": activity.prune(self.engine, now=now),
                "console_sign_outs_pruned": prune_expired(self.engine, SIGNED_OUT, now=now),
            }
        except SQLAlchemyError:
            return  # the store is away; the next round tries again
        for event, count in pruned.items():
            if count:
                log.info(event, extra={"event": event, "count": count})

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                handled = self.run_once()
            except Exception:
                # A store outage must not kill the loop: leases expire and work resumes.
                log.exception("worker_iteration_failed", extra={"event": "worker_iteration_failed"})
                handled = 0
                self.stopping.wait(1.0)
            if handled == 0:
                self.stopping.wait(IDLE_SLEEP_SECONDS)

    def stop(self) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("worker_stopping", extra={"event": "worker_stopping", "signal": signum})
            self.stop()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
