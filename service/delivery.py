"""One claimed batch of one kind of record: send it to HubSpot within the shared budget,
then apply what HubSpot answered, input by input.

Objects (contacts, order records, line items) go to their type's batch upsert keyed by
their idProperty; associations go to the v4 batch create with their HubSpot-defined
type, their ends named by the HubSpot ids the claim read. Every kind follows the same
outcome rules (README, "What the worker does with each HubSpot answer"), and a halt
(401, a missing scope, a refused idProperty) stops only what it must: a 401 stops every
kind, a 403 or a refused idProperty stops the kind it was met on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine

from service import metrics, retry
from service.config import Config
from service.domain import RecordKind
from service.halts import HALT_RECHECK_SECONDS, Halts
from service.hubspot import outcomes as oc
from service.hubspot.client import HubSpotClient
from service.hubspot.kinds import ASSOCIATION_TYPE_IDS, OBJECT_TYPES, id_property, object_type
from service.hubspot.portal import PortalFacts
from service.send_budget import SendBudget
from service.store import marks, queue, rate_budget
from service.store.marks import DeadItem, DeliveredItem, RetryItem
from service.store.queue import Claimed
from service.store.state import AUTH_ERROR, LAST_ERROR, clear_state, halted, set_state

log = logging.getLogger("service.worker")
MIGRATION_PAUSE_SECONDS = 600.0  # a 477 without Retry-After
MAX_RATE_PAUSE_SECONDS = 60.0  # a 429 is about a 10 s window: a longer Retry-After is not


class Delivery:
    def __init__(
        self,
        config: Config,
        engine: Engine,
        client: HubSpotClient,
        budget: SendBudget,
        *,
        clock: Callable[[], float],
        jitter: Callable[[], float],
        halts: Halts,
        portal: Callable[[RecordKind], PortalFacts | None],
    ) -> None:
        self.config = config
        self.engine = engine
        self.client = client
        self.budget = budget
        self.clock = clock
        self.jitter = jitter
        self.halts = halts
        self.portal = portal

    def deliver(self, kind: RecordKind, owner: str, batch: list[Claimed]) -> None:
        if kind in (RecordKind.ORDER, RecordKind.DEAL) and self.portal(kind) is None:
            # Its stages are unknown: sent as stored, the status would reach HubSpot as a
            # property it does not have. (The worker checks before claiming; this is the
            # last guard.)
            self._release(kind, owner, batch)
            return
        pending = [batch]
        while pending:
            chunk = pending.pop()
            # Waiting longer than half the lease would let another worker take the claim.
            slot = self.budget.wait(give_up_at=self.clock() + self.config.lease_seconds / 2)
            if slot is None:
                self._release(kind, owner, [c for part in [chunk, *pending] for c in part])
                return
            attempted = False
            try:
                chunk = self._still_ours(kind, owner, chunk)
                if not chunk:
                    continue
                attempted = True
                outcome = self._send(kind, chunk)
            finally:
                self.budget.settle(slot, sent=attempted)
            if isinstance(outcome, oc.Split):
                middle = len(chunk) // 2
                pending.extend([chunk[middle:], chunk[:middle]])
                log.info(
                    "batch_split", extra={"event": "batch_split", "kind": kind, "size": len(chunk)}
                )
            elif isinstance(outcome, oc.AuthFailed | oc.ScopeMissing | oc.Misconfigured):
                self._halt(kind, owner, outcome, [c for part in [chunk, *pending] for c in part])
                return
            else:
                self._apply(kind, owner, chunk, outcome)

    def _still_ours(self, kind: RecordKind, owner: str, chunk: list[Claimed]) -> list[Claimed]:
        """Renew the lease right before sending, keeping only what no one else took."""
        kept = queue.renew(
            self.engine,
            kind,
            owner=owner,
            keys=[c.key for c in chunk],
            now=self.clock(),
            lease_seconds=self.config.lease_seconds,
        )
        return [c for c in chunk if c.key in kept]

    # -- sending -------------------------------------------------------------------------

    def _send(self, kind: RecordKind, chunk: Sequence[Claimed]) -> oc.Outcome:
        started = self.clock()
        if kind.is_association:
            answer, outcome = self._send_associations(kind, chunk)
        else:
            answer, outcome = self._send_objects(kind, chunk)
        metrics.observe_hubspot_request(kind, answer.status, len(chunk), self.clock() - started)
        self.budget.observe(answer)
        if not isinstance(outcome, oc.PerInput):
            log.warning(
                "hubspot_batch_failed",
                extra={
                    "event": "hubspot_batch_failed",
                    "kind": kind,
                    "status": answer.status,
                    "size": len(chunk),
                    "outcome": type(outcome).__name__,
                    "correlation_id": answer.correlation_id,
                },
            )
            set_state(self.engine, LAST_ERROR, f"{kind}: {answer.describe()}", now=self.clock())
        return outcome

    def _send_objects(
        self, kind: RecordKind, chunk: Sequence[Claimed]
    ) -> tuple[oc.Answer, oc.Outcome]:
        facts = self.portal(kind) if kind in (RecordKind.ORDER, RecordKind.DEAL) else None
        key_property = id_property(self.config, kind)
        sent: dict[str, str] = {}
        inputs: list[dict[str, Any]] = []
        for item in chunk:
            trace = uuid.uuid4().hex[:20]
            sent[trace] = item.key
            properties = facts.prepare(item.key, item.properties) if facts else item.properties
            inputs.append(
                {
                    "idProperty": key_property,
                    "id": item.key,
                    "properties": properties,
                    "objectWriteTraceId": trace,
                }
            )
        answer = self.client.batch_upsert(inputs, OBJECT_TYPES[kind])
        return answer, oc.classify(answer, sent, key_property)

    def _send_associations(
        self, kind: RecordKind, chunk: Sequence[Claimed]
    ) -> tuple[oc.Answer, oc.Outcome]:
        type_id = ASSOCIATION_TYPE_IDS[kind]
        types = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]
        pair_of: dict[str, tuple[str, str]] = {}
        sent: dict[tuple[str, str], str] = {}  # each pair once per request, as HubSpot wants
        for item in chunk:
            # The claim only takes associations whose ends both have HubSpot ids.
            assert item.from_id is not None and item.to_id is not None
            pair_of[item.key] = (item.from_id, item.to_id)
            sent.setdefault(pair_of[item.key], item.key)
        inputs = [{"from": {"id": start}, "to": {"id": end}, "types": types} for start, end in sent]
        answer = self.client.create_associations(
            object_type(kind), OBJECT_TYPES[kind.ends[1]], inputs
        )
        outcome = oc.classify_associations(answer, sent)
        if isinstance(outcome, oc.PerInput):
            # A second record naming the same pair shares the first one's outcome.
            outcome = oc.PerInput(
                {key: outcome.outcomes[sent[pair]] for key, pair in pair_of.items()}
            )
        return answer, outcome

    # -- applying outcomes ---------------------------------------------------------------

    def _apply(
        self, kind: RecordKind, owner: str, chunk: Sequence[Claimed], outcome: oc.Outcome
    ) -> None:
        now = self.clock()
        if isinstance(outcome, oc.PerInput):
            self._apply_per_input(kind, owner, chunk, outcome, now)
        elif isinstance(outcome, oc.Rejected):
            dead = [DeadItem(c.key, c.version, outcome.reason, c.order) for c in chunk]
            marks.mark_dead(self.engine, kind, owner=owner, items=dead, now=now)
            metrics.observe_dead(kind, len(dead))
        elif isinstance(outcome, oc.Backoff):
            self._apply_backoff(kind, owner, chunk, outcome, now)

    def _apply_per_input(
        self,
        kind: RecordKind,
        owner: str,
        chunk: Sequence[Claimed],
        outcome: oc.PerInput,
        now: float,
    ) -> None:
        delivered: list[DeliveredItem] = []
        confirmed: list[Claimed] = []
        failed: list[tuple[Claimed, str, bool]] = []
        for item in chunk:
            result = outcome.outcomes[item.key]
            if isinstance(result, oc.Success):
                delivered.append(
                    DeliveredItem(
                        item.key,
                        item.version,
                        result.hubspot_id,
                        result.new,
                        previous_id=item.hubspot_id,
                        order=item.order,
                    )
                )
                confirmed.append(item)
            else:
                failed.append((item, result.reason, result.permanent))
        marks.mark_delivered(self.engine, kind, owner=owner, items=delivered, now=now)
        metrics.observe_delivered(kind, confirmed, now)
        if delivered:
            self.halts.lift(kind)
            clear_state(self.engine, AUTH_ERROR, halted(kind))
        dead = [
            DeadItem(c.key, c.version, why, c.order) for c, why, permanent in failed if permanent
        ]
        retryable = [(c, why) for c, why, permanent in failed if not permanent]
        self._retry_or_bury(kind, owner, retryable, now, dead)

    def _apply_backoff(
        self,
        kind: RecordKind,
        owner: str,
        chunk: Sequence[Claimed],
        outcome: oc.Backoff,
        now: float,
    ) -> None:
        if outcome.wait in (oc.Wait.RATE, oc.Wait.DAILY, oc.Wait.MIGRATION):
            # The batch itself is fine; HubSpot is not taking it now. Give it back, pause all.
            if outcome.wait is oc.Wait.DAILY:
                until = retry.next_daily_reset(now)
            elif outcome.wait is oc.Wait.MIGRATION:
                until = now + (outcome.retry_after or MIGRATION_PAUSE_SECONDS)
            else:
                wait = outcome.retry_after or self.config.rate_window_seconds
                until = now + min(wait, MAX_RATE_PAUSE_SECONDS)
            rate_budget.pause(self.engine, until=until, reason=outcome.reason, now=now)
            self._release(kind, owner, list(chunk))
            return
        if outcome.wait is oc.Wait.LOCKED:
            at = now + retry.LOCKED_SECONDS + self.jitter()
            items = [RetryItem(c.key, at, outcome.reason) for c in chunk]
            marks.mark_retry(self.engine, kind, owner=owner, items=items, now=now)
            return
        self._retry_or_bury(kind, owner, [(c, outcome.reason) for c in chunk], now, [])

    def _retry_or_bury(
        self,
        kind: RecordKind,
        owner: str,
        failed: Sequence[tuple[Claimed, str]],
        now: float,
        dead: list[DeadItem],
    ) -> None:
        retries: list[RetryItem] = []
        # One draw for the batch: per-item jitter would scatter a batch that failed whole
        # into many small retries, each costing a request of the budget.
        drawn = self.jitter()
        for item, why in failed:
            at = retry.next_attempt(
                item.attempts,
                now,
                item.pending_since,
                self.config.max_retry_age_seconds,
                lambda: drawn,
            )
            if at is None:
                reason = f"gave up after {item.attempts + 1} attempts: {why}"
                dead.append(DeadItem(item.key, item.version, reason, item.order))
            else:
                retries.append(RetryItem(item.key, at, why))
        marks.mark_retry(self.engine, kind, owner=owner, items=retries, now=now)
        marks.mark_dead(self.engine, kind, owner=owner, items=dead, now=now)
        metrics.observe_dead(kind, len(dead))

    def _halt(self, kind: RecordKind, owner: str, outcome: oc.Halt, items: list[Claimed]) -> None:
        """Stop delivering for a while, everything kept pending: no batch can succeed."""
        now = self.clock()
        self._release(kind, owner, items)
        if isinstance(outcome, oc.AuthFailed):
            log.error(
                "hubspot_auth_failed",
                extra={"event": "hubspot_auth_failed", "reason": outcome.reason},
            )
            set_state(self.engine, AUTH_ERROR, outcome.reason, now=now)
            self.halts.hold(None, now + HALT_RECHECK_SECONDS)
            return
        if isinstance(outcome, oc.ScopeMissing):
            event, why = "hubspot_scope_missing", f"the token lacks the scope for {kind} records"
        else:
            event, why = (
                "hubspot_setup_wrong",
                f"HubSpot refuses the {kind} idProperty (run `relay hubspot setup`)",
            )
        log.error(event, extra={"event": event, "kind": kind, "reason": outcome.reason})
        set_state(self.engine, halted(kind), f"{why}: {outcome.reason}", now=now)
        self.halts.hold(kind, now + HALT_RECHECK_SECONDS)

    def _release(self, kind: RecordKind, owner: str, items: Sequence[Claimed]) -> None:
        queue.release(self.engine, kind, owner=owner, keys=[c.key for c in items], now=self.clock())
