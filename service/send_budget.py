"""The worker's side of the HubSpot request budget that every worker shares through the
store (`service.store.rate_budget`): wait for a slot before a send, settle it once the
answer is in, and learn the limit and what is left from HubSpot's headers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import metrics
from service.config import Config
from service.hubspot import outcomes as oc
from service.store import rate_budget
from service.store.rate_budget import Slot

log = logging.getLogger("service.worker")
POLL_SECONDS = 0.25  # the longest nap between two tries for a slot


class SendBudget:
    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        stopping: threading.Event,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.sleep = sleep
        self.stopping = stopping
        self.limit = config.hubspot_rate_limit  # lowered by X-HubSpot-RateLimit-Max

    def wait(self, *, give_up_at: float) -> Slot | None:
        """Block until a request slot is ours; None when asked to stop meanwhile or when
        `give_up_at` comes first."""
        while not self.stopping.is_set() and self.clock() < give_up_at:
            grant = rate_budget.try_acquire(
                self.engine,
                limit=self.limit,
                window=self.config.rate_window_seconds,
                now=self.clock(),
                # Until settled, the slot counts as late as the request could still arrive:
                # a send, a 401, an OAuth refresh and a second send.
                hold=2 * (self.config.request_timeout_seconds + 5.0),
            )
            if grant.slot is not None:
                return grant.slot
            self.sleep(min(grant.wait, POLL_SECONDS))
        return None

    def settle(self, slot: Slot, *, sent: bool) -> None:
        """Date the slot by the answer's arrival, or give it back when nothing was sent."""
        try:
            if sent:
                rate_budget.settle(self.engine, slot, at=self.clock())
            else:
                rate_budget.cancel(self.engine, slot)
        except SQLAlchemyError:
            # Unsettled, the slot just counts until its hold runs out: the budget stays safe,
            # and the answer in hand must still be applied.
            log.warning("rate_slot_unsettled", extra={"event": "rate_slot_unsettled"})

    def observe(self, answer: oc.Answer) -> None:
        """Follow HubSpot's rate-limit headers: its limit if lower, a pause at none left."""
        if not answer.headers:
            return
        self.limit = rate_budget.effective_limit(self.config.hubspot_rate_limit, answer.headers)
        left = rate_budget.remaining(answer.headers)
        metrics.set_rate_budget_left(left)
        if left is not None and left <= 0 and answer.status != 429:
            # Someone else spends this app's budget too; let the window move on.
            now = self.clock()
            rate_budget.pause(
                self.engine, until=now + 1.0, reason="rate limit remaining 0", now=now
            )
