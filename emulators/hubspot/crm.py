"""CRM records of one object type and their batch upsert inside the HubSpot emulator.

One `ObjectStore` per type (line items, orders, deals, contacts), one code path.
`ObjectStore.upsert` follows HubSpot's batch upsert (shared/reference/hubspot.md §1):
- whole-batch 400 VALIDATION_ERROR for malformed JSON, more than 100 inputs, an
  `idProperty` without `hasUniqueValue` ("non-unique 0-8 property"), or duplicate ids;
- per-input problems (unknown, read-only or non-string property, a bad number, datetime,
  email or option, a negative price, a missing required property on create, a pipeline
  or stage that does not exist, a unique value held by another record) give 207 with one
  `errors[]` item per bad input when EVERY input carries an `objectWriteTraceId`, and
  otherwise a 400 for the whole batch that names no input, with nothing written
  (`config.multi_status=False` makes that the answer even with trace ids, as multi-status
  is documented for create only);
- contacts keyed by `email` never succeed in part (commerce.md §3): any bad input fails
  the whole batch with that 400, trace ids or not. Emails are trimmed and lower-cased
  when stored and matched; whether two inputs differing only by case are "Duplicate IDs"
  is UNCONFIRMED (here they are);
- a pipeline must be one of the type's pipelines and a stage one of its stages
  (INVALID_OPTION); a stage sent without a pipeline is checked against the record's
  pipeline, else the first one (UNCONFIRMED: HubSpot's choice there, and whether it gives
  a new order a default pipeline and stage, which the emulator does not);
- an input without `idProperty` updates the record whose HubSpot id is `id`;
- results come back in an order other than the input's, as HubSpot's do.
Property values are stored as given ("" clears) except emails and datetimes (see
`validation`); `amount` is not calculated.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.objects import ObjectType
from emulators.hubspot.pipelines import PipelineBook
from emulators.hubspot.properties import PropertyRegistry
from emulators.hubspot.replies import Reply, iso
from emulators.hubspot.validation import (
    Problem,
    batch_problem,
    input_error,
    invalid_option,
    is_key_property,
    normal_email,
    not_found_message,
    parse_inputs,
    problem,
    required_problems,
    stored_value,
    unattributed,
    value_problem,
)

Catalogue = dict[str, dict[str, Any]]


@dataclass
class _Record:
    id: str
    key_property: str  # the idProperty it was created by; records() is keyed by its value
    properties: dict[str, str]
    created_at: str
    updated_at: str


class ObjectStore:
    """Records of one type by HubSpot id, with an index of key values, under one lock."""

    def __init__(
        self,
        kind: ObjectType,
        properties: PropertyRegistry,
        pipelines: PipelineBook,
        seed: int | None = None,
    ) -> None:
        self.kind = kind
        self.properties = properties
        self._pipelines = pipelines
        self._lock = threading.Lock()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._rng = random.Random(seed)
            self._records: dict[str, _Record] = {}
            self._index: dict[tuple[str, str], str] = {}  # (key property, value) -> id
            self._next_id = self.kind.first_id

    def records(self) -> dict[str, dict[str, Any]]:
        """Records keyed by the idProperty value they were created by (contacts: email)."""
        with self._lock:
            return {self._key_of(r): record_json(r) for r in self._records.values()}

    def _key_of(self, record: _Record) -> str:
        if self.kind.email_key and record.properties.get("email"):
            return record.properties["email"]
        return record.properties.get(record.key_property) or record.id

    def exists(self, record_id: str) -> bool:
        with self._lock:
            return record_id in self._records

    def find(self, key: str, id_property: str | None = None) -> dict[str, Any] | None:
        """A record (as JSON) by HubSpot id, or by the value of a key property."""
        with self._lock:
            if id_property:
                value = normal_email(key) if id_property == "email" else key
                key = self._index.get((id_property, value), "")
            record = self._records.get(key)
            return record_json(record) if record else None

    def ordered(self) -> list[dict[str, Any]]:
        """Every record (as JSON) in id order, for paged lists."""
        with self._lock:
            records = sorted(self._records.values(), key=lambda r: int(r.id))
            return [record_json(r) for r in records]

    # --- batch upsert -----------------------------------------------------------------

    def upsert(self, body: bytes, config: EmulatorConfig) -> Reply:
        started = iso(time.time())
        inputs = parse_inputs(body)
        if isinstance(inputs, Reply):
            return inputs
        inputs = [self._normalised(i) for i in inputs]
        catalogue = self.properties.catalogue(config)
        with self._lock:
            refusal = batch_problem(self.kind, inputs, catalogue)
            if refusal:
                return refusal
            claimed: dict[tuple[str, str], str] = {}
            bad = [(i, p) for i in inputs if (p := self._problems(i, catalogue, config, claimed))]
            if bad and not self._partial_allowed(inputs, config):
                return unattributed(bad)
            failed = {id(i) for i, _ in bad}
            results = [self._write(i, catalogue) for i in inputs if id(i) not in failed]
            results = self._out_of_order(results)
        body_json: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "requestedAt": started,
            "startedAt": started,
            "completedAt": iso(time.time()),
        }
        if not bad:
            return Reply(200, body_json)
        errors = [input_error(self.kind, i, p) for i, p in bad]
        body_json.update(numErrors=len(bad), errors=errors)
        return Reply(207, body_json)

    def _normalised(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.kind.email_key and item.get("idProperty") == "email":
            return {**item, "id": normal_email(item["id"])}
        return item

    def _partial_allowed(self, inputs: list[dict[str, Any]], config: EmulatorConfig) -> bool:
        by_email = self.kind.email_key and any(i.get("idProperty") == "email" for i in inputs)
        traced = all(i.get("objectWriteTraceId") for i in inputs)
        return config.multi_status and traced and not by_email

    def _target(self, item: dict[str, Any]) -> _Record | None:
        key_property = item.get("idProperty")
        record_id = self._index.get((key_property, item["id"])) if key_property else item["id"]
        return self._records.get(record_id) if record_id else None

    def _problems(
        self,
        item: dict[str, Any],
        catalogue: Catalogue,
        config: EmulatorConfig,
        claimed: dict[tuple[str, str], str],
    ) -> list[Problem]:
        key_property = item.get("idProperty")
        record = self._target(item)
        if not key_property and record is None:
            return [problem("id", not_found_message(self.kind), "OBJECT_NOT_FOUND")]
        checked = {k: v for k, v in item["properties"].items() if k != key_property}
        if key_property == "email":
            checked["email"] = item["id"]
        problems = [
            p
            for name, value in checked.items()
            if (p := value_problem(self.kind, name, value, catalogue, config))
        ]
        if problems:
            return problems
        values = self._values(item, catalogue)
        if record is None:
            problems = required_problems(self.kind, values)
        problems += self._pipeline_problems(values, record)
        return problems or self._unique_conflicts(item, values, catalogue, claimed)

    def _values(self, item: dict[str, Any], catalogue: Catalogue) -> dict[str, str]:
        """The input's values as they will be stored; the id wins over its property."""
        key_property = item.get("idProperty")
        values = dict(item["properties"])
        if key_property:
            values[key_property] = item["id"]
        return {k: stored_value(self.kind, k, v, catalogue[k]) for k, v in values.items()}

    def _pipeline_problems(self, values: dict[str, str], record: _Record | None) -> list[Problem]:
        """A pipeline must exist and a stage belong to it (INVALID_OPTION otherwise)."""
        if self.kind.pipeline is None or not set(self.kind.pipeline) & set(values):
            return []
        pipeline_field, stage_field = self.kind.pipeline
        pipelines = self._pipelines.pipelines(self.kind.name)
        current = record.properties if record else {}
        fallback = pipelines[0]["id"] if pipelines else ""
        chosen = values.get(pipeline_field) or current.get(pipeline_field) or fallback
        pipeline = next((p for p in pipelines if p["id"] == chosen), None)
        if pipeline is None:
            return [invalid_option(pipeline_field, chosen, [p["id"] for p in pipelines])]
        stages = [s["id"] for s in pipeline["stages"]]
        stage = values.get(stage_field)
        if stage and stage not in stages:
            return [invalid_option(stage_field, stage, stages)]
        return []

    def _unique_conflicts(
        self,
        item: dict[str, Any],
        values: dict[str, str],
        catalogue: Catalogue,
        claimed: dict[tuple[str, str], str],
    ) -> list[Problem]:
        """A key value may belong to one record only, across the store and this batch."""
        target = self._target(item)
        me = f"{item.get('idProperty')}:{item['id']}"
        problems = []
        for name, value in values.items():
            if not value or not is_key_property(self.kind, name, catalogue):
                continue
            owner = self._index.get((name, value))
            holder = claimed.setdefault((name, value), me)
            if (owner and (target is None or owner != target.id)) or holder != me:
                message = f'A {self.kind.words} with {name} "{value}" already exists.'
                problems.append(problem(name, message, "UNIQUE_VALUE_CONFLICT"))
        return problems

    def _write(self, item: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
        record = self._target(item)
        created = record is None
        if record is None:
            record = self._create(item.get("idProperty") or "hs_object_id")
        values = self._values(item, catalogue)
        self._reindex(record, values, catalogue)
        now = iso(time.time())
        record.properties.update(values, **{self.kind.modified: now})
        record.updated_at = now
        result = {**record_json(record), "archived": False, "new": created}
        if item.get("objectWriteTraceId"):
            result["objectWriteTraceId"] = item["objectWriteTraceId"]
        return result

    def _create(self, key_property: str) -> _Record:
        record_id, now = str(self._next_id), iso(time.time())
        self._next_id += 1
        props = {"hs_object_id": record_id, self.kind.created: now}
        record = _Record(record_id, key_property, props, now, now)
        self._records[record_id] = record
        return record

    def _reindex(self, record: _Record, values: dict[str, str], catalogue: Catalogue) -> None:
        for name, value in values.items():
            if not is_key_property(self.kind, name, catalogue):
                continue
            old = record.properties.get(name)
            if old and old != value:
                self._index.pop((name, old), None)
            if value:
                self._index[(name, value)] = record.id

    def _out_of_order(self, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Shuffle (by the seed); never input order, so clients cannot come to rely on it."""
        order = list(range(len(results)))
        self._rng.shuffle(order)
        if order == sorted(order):
            order.reverse()
        return [results[i] for i in order]


def record_json(record: _Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "properties": copy.copy(record.properties),
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
    }
