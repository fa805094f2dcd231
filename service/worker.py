"""The relay worker: claim due line items, send one batch upsert, apply the outcome.

`Worker.run_once()` handles one claim (tests call it directly); `run_forever()` keeps
`batches_in_flight` claims going in threads until SIGTERM, then finishes or releases
what it holds. Each send waits for a slot of the shared HubSpot budget (`send_budget`).
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
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import metrics, retry
from service.config import Config
from service.hubspot import outcomes as oc
from service.hubspot.client import HubSpotClient
from service.send_budget import SendBudget
from service.store import housekeeping, queue, rate_budget
from service.store.queue import Claimed, DeadItem, DeliveredItem, RetryItem
from service.store.state import AUTH_ERROR, CONFIG_ERROR, LAST_ERROR, clear_state, set_state

log = logging.getLogger("service.worker")
AUTH_RECHECK_SECONDS = 60.0
IDLE_SLEEP_SECONDS = 0.1
MIGRATION_PAUSE_SECONDS = 600.0  # a 477 without Retry-After
HOUSEKEEPING_SECONDS = 600.0


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
        self.sleep = sleep
        self.jitter = jitter
        self.stopping = threading.Event()
        self.budget = SendBudget(config, engine, clock=clock, sleep=sleep, stopping=self.stopping)
        self.auth_blocked_until = 0.0
        # lease_owner holds 64 characters: a cloud host name alone can be longer.
        self._name = f"{socket.gethostname()[:24]}:{os.getpid()}"

    # -- one claim ---------------------------------------------------------------

    def run_once(self) -> int:
        """Claim and deliver one batch; the number of line items handled (0: none due)."""
        now = self.clock()
        if now < self.auth_blocked_until or rate_budget.paused_until(self.engine) > now:
            return 0  # claiming now would only hold line items that cannot be sent
        owner = f"{self._name}:{uuid.uuid4().hex[:12]}"
        batch = queue.claim(
            self.engine,
            owner=owner,
            now=now,
            limit=self.config.batch_size,
            lease_seconds=self.config.lease_seconds,
            linger_seconds=self.config.linger_seconds,
        )
        if batch:
            self._deliver(owner, batch)
        return len(batch)

    def _deliver(self, owner: str, batch: list[Claimed]) -> None:
        pending = [batch]
        while pending:
            chunk = pending.pop()
            # Waiting longer than half the lease would let another worker take the claim.
            slot = self.budget.wait(give_up_at=self.clock() + self.config.lease_seconds / 2)
            if slot is None:
                self._release(owner, [c for part in [chunk, *pending] for c in part])
                return
            attempted = False
            try:
                chunk = self._still_ours(owner, chunk)
                if not chunk:
                    continue
                attempted = True
                outcome = self._send(chunk)
            finally:
                self.budget.settle(slot, sent=attempted)
            if isinstance(outcome, oc.Split):
                middle = len(chunk) // 2
                pending.extend([chunk[middle:], chunk[:middle]])
                log.info("batch_split", extra={"event": "batch_split", "size": len(chunk)})
            elif isinstance(outcome, oc.AuthFailed | oc.Misconfigured):
                self._halt(owner, outcome, [c for part in [chunk, *pending] for c in part])
                return
            else:
                self._apply(owner, chunk, outcome)

    def _still_ours(self, owner: str, chunk: list[Claimed]) -> list[Claimed]:
        """Renew the lease right before sending, keeping only what no one else took."""
        kept = queue.renew(
            self.engine,
            owner=owner,
            keys=[c.key for c in chunk],
            now=self.clock(),
            lease_seconds=self.config.lease_seconds,
        )
        return [c for c in chunk if c.key in kept]

    def _send(self, chunk: Sequence[Claimed]) -> oc.Outcome:
        sent: dict[str, str] = {}
        inputs: list[dict[str, Any]] = []
        for item in chunk:
            trace = uuid.uuid4().hex[:20]
            sent[trace] = item.key
            inputs.append(
                {
                    "idProperty": self.config.hubspot_id_property,
                    "id": item.key,
                    "properties": item.properties,
                    "objectWriteTraceId": trace,
                }
            )
        started = self.clock()
        answer = self.client.batch_upsert(inputs)
        metrics.observe_hubspot_request(answer.status, len(inputs), self.clock() - started)
        self.budget.observe(answer)
        outcome = oc.classify(answer, sent, self.config.hubspot_id_property)
        if isinstance(outcome, oc.PerInput):
            # Re-key from trace ids to line item keys for the store.
            return oc.PerInput({sent[t]: result for t, result in outcome.outcomes.items()})
        log.warning(
            "hubspot_batch_failed",
            extra={
                "event": "hubspot_batch_failed",
                "status": answer.status,
                "size": len(inputs),
                "outcome": type(outcome).__name__,
                "correlation_id": answer.correlation_id,
            },
        )
        set_state(self.engine, LAST_ERROR, answer.describe(), now=self.clock())
        return outcome

    # -- applying outcomes -------------------------------------------------------

    def _apply(self, owner: str, chunk: Sequence[Claimed], outcome: oc.Outcome) -> None:
        now = self.clock()
        if isinstance(outcome, oc.PerInput):
            self._apply_per_input(owner, chunk, outcome, now)
        elif isinstance(outcome, oc.Rejected):
            dead = [DeadItem(c.key, c.version, outcome.reason) for c in chunk]
            queue.mark_dead(self.engine, owner=owner, items=dead, now=now)
            metrics.observe_dead(len(dead))
        elif isinstance(outcome, oc.Backoff):
            self._apply_backoff(owner, chunk, outcome, now)

    def _apply_per_input(
        self, owner: str, chunk: Sequence[Claimed], outcome: oc.PerInput, now: float
    ) -> None:
        delivered: list[DeliveredItem] = []
        confirmed: list[Claimed] = []
        failed: list[tuple[Claimed, str, bool]] = []
        for item in chunk:
            result = outcome.outcomes[item.key]
            if isinstance(result, oc.Success):
                delivered.append(
                    DeliveredItem(item.key, item.version, result.hubspot_id, result.new)
                )
                confirmed.append(item)
            else:
                failed.append((item, result.reason, result.permanent))
        queue.mark_delivered(self.engine, owner=owner, items=delivered, now=now)
        metrics.observe_delivered(confirmed, now)
        if delivered:
            self._clear_halt()
        dead = [DeadItem(c.key, c.version, why) for c, why, permanent in failed if permanent]
        self._retry_or_bury(
            owner, [(c, why) for c, why, permanent in failed if not permanent], now, dead
        )

    def _apply_backoff(
        self, owner: str, chunk: Sequence[Claimed], outcome: oc.Backoff, now: float
    ) -> None:
        if outcome.wait in (oc.Wait.RATE, oc.Wait.DAILY, oc.Wait.MIGRATION):
            # The batch itself is fine; HubSpot is not taking it now. Give it back, pause all.
            if outcome.wait is oc.Wait.DAILY:
                until = retry.next_daily_reset(now)
            elif outcome.wait is oc.Wait.MIGRATION:
                until = now + (outcome.retry_after or MIGRATION_PAUSE_SECONDS)
            else:
                until = now + (outcome.retry_after or self.config.rate_window_seconds)
            rate_budget.pause(self.engine, until=until, reason=outcome.reason, now=now)
            self._release(owner, list(chunk))
            return
        if outcome.wait is oc.Wait.LOCKED:
            at = now + retry.LOCKED_SECONDS + self.jitter()
            items = [RetryItem(c.key, at, outcome.reason) for c in chunk]
            queue.mark_retry(self.engine, owner=owner, items=items, now=now)
            return
        self._retry_or_bury(owner, [(c, outcome.reason) for c in chunk], now, [])

    def _retry_or_bury(
        self, owner: str, failed: Sequence[tuple[Claimed, str]], now: float, dead: list[DeadItem]
    ) -> None:
        retries: list[RetryItem] = []
        for item, why in failed:
            at = retry.next_attempt(
                item.attempts,
                now,
                item.pending_since,
                self.config.max_retry_age_seconds,
                self.jitter,
            )
            if at is None:
                dead.append(
                    DeadItem(
                        item.key, item.version, f"gave up after {item.attempts + 1} attempts: {why}"
                    )
                )
            else:
                retries.append(RetryItem(item.key, at, why))
        queue.mark_retry(self.engine, owner=owner, items=retries, now=now)
        queue.mark_dead(self.engine, owner=owner, items=dead, now=now)
        metrics.observe_dead(len(dead))

    def _halt(
        self, owner: str, outcome: oc.AuthFailed | oc.Misconfigured, items: list[Claimed]
    ) -> None:
        """Stop delivering for a while, everything kept pending: no batch can succeed."""
        now = self.clock()
        event = (
            "hubspot_auth_failed" if isinstance(outcome, oc.AuthFailed) else "hubspot_setup_wrong"
        )
        log.error(event, extra={"event": event, "reason": outcome.reason})
        name = AUTH_ERROR if isinstance(outcome, oc.AuthFailed) else CONFIG_ERROR
        set_state(self.engine, name, outcome.reason, now=now)
        self._release(owner, items)
        self.auth_blocked_until = now + AUTH_RECHECK_SECONDS

    def _clear_halt(self) -> None:
        clear_state(self.engine, AUTH_ERROR)
        clear_state(self.engine, CONFIG_ERROR)

    def _release(self, owner: str, items: Sequence[Claimed]) -> None:
        queue.release(self.engine, owner=owner, keys=[c.key for c in items], now=self.clock())

    # -- the loop ----------------------------------------------------------------

    def run_forever(self) -> None:
        """Run `batches_in_flight` delivery loops until stop() or SIGTERM; then return."""
        threads = [
            threading.Thread(target=self._loop, name=f"relay-batch-{i}", daemon=True)
            for i in range(max(1, self.config.batches_in_flight))
        ]
        try:
            self._clear_halt()  # a restart is how an operator says the credentials were fixed
        except SQLAlchemyError as exc:
            # The store may be restarting too: start anyway, the loops wait for it, and the
            # first delivery clears the halt.
            log.warning(
                "store_unavailable",
                extra={"event": "store_unavailable", "error": type(exc).__name__},
            )
        for thread in threads:
            thread.start()
        log.info("worker_started", extra={"event": "worker_started", "threads": len(threads)})
        next_housekeeping = self.clock()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.5)
            if self.clock() >= next_housekeeping and not self.stopping.is_set():
                self._housekeeping()
                next_housekeeping = self.clock() + HOUSEKEEPING_SECONDS
        log.info("worker_stopped", extra={"event": "worker_stopped"})

    def _housekeeping(self) -> None:
        try:
            pruned = housekeeping.prune_receipts(self.engine, now=self.clock())
        except SQLAlchemyError:
            return  # the store is away; the next round tries again
        if pruned:
            log.info("receipts_pruned", extra={"event": "receipts_pruned", "count": pruned})

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
