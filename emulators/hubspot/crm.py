"""Line-item records and the batch upsert inside the HubSpot emulator.

`LineItemStore.upsert` follows HubSpot's batch upsert (shared/reference/hubspot.md §1):
- whole-batch 400 VALIDATION_ERROR for malformed JSON, more than 100 inputs, an
  `idProperty` without `hasUniqueValue` ("non-unique 0-8 property"), or duplicate ids;
- per-input problems (unknown, read-only or non-string property, a value that is not a
  number or not an allowed option, a negative price, a unique value held by another
  record) give 207 with one `errors[]` item per bad input when EVERY input carries an
  `objectWriteTraceId`, and otherwise a 400 for the whole batch that names no input,
  with nothing written (HubSpot without multi-status; `config.multi_status=False` makes
  that the answer even with trace ids, as multi-status is documented for create only);
- an input without `idProperty` updates the record whose HubSpot id is `id`;
- results come back in an order other than the input's, as HubSpot's do.
Property values are stored as given ("" clears); `amount` is not calculated. The checks
and HubSpot's wording for each problem are in `validation`.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.properties import PropertyRegistry
from emulators.hubspot.replies import Reply, iso
from emulators.hubspot.validation import (
    NOT_FOUND,
    Problem,
    batch_problem,
    input_error,
    parse_inputs,
    problem,
    unattributed,
    value_problem,
)

_FIRST_ID = 37_000_000_001  # HubSpot ids are large integers, sent as strings


@dataclass
class _Record:
    id: str
    key_property: str  # the idProperty it was created by; records() is keyed by its value
    properties: dict[str, str]
    created_at: str
    updated_at: str


class LineItemStore:
    """Line-item records by HubSpot id, with an index of unique values, under one lock."""

    def __init__(self, properties: PropertyRegistry, seed: int | None = None) -> None:
        self._properties = properties
        self._lock = threading.Lock()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._rng = random.Random(seed)
            self._records: dict[str, _Record] = {}
            self._index: dict[tuple[str, str], str] = {}  # (unique property, value) -> id
            self._next_id = _FIRST_ID

    def records(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                r.properties.get(r.key_property) or r.id: _record_json(r)
                for r in self._records.values()
            }

    # --- batch upsert -----------------------------------------------------------------

    def upsert(self, body: bytes, config: EmulatorConfig) -> Reply:
        started = iso(time.time())
        inputs = parse_inputs(body)
        if isinstance(inputs, Reply):
            return inputs
        catalogue = self._properties.catalogue(config)
        with self._lock:
            refusal = batch_problem(inputs, catalogue)
            if refusal:
                return refusal
            claimed: dict[tuple[str, str], str] = {}
            bad = [(i, p) for i in inputs if (p := self._problems(i, catalogue, config, claimed))]
            traced = config.multi_status and all(i.get("objectWriteTraceId") for i in inputs)
            if bad and not traced:
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
        body_json.update(numErrors=len(bad), errors=[input_error(i, p) for i, p in bad])
        return Reply(207, body_json)

    def _problems(
        self,
        item: dict[str, Any],
        catalogue: dict[str, dict[str, Any]],
        config: EmulatorConfig,
        claimed: dict[tuple[str, str], str],
    ) -> list[Problem]:
        key_property = item.get("idProperty")
        if not key_property and item["id"] not in self._records:
            return [problem("id", NOT_FOUND, "OBJECT_NOT_FOUND")]
        problems = [
            p
            for name, value in item["properties"].items()
            if name != key_property and (p := value_problem(name, value, catalogue, config))
        ]
        return problems or self._unique_conflicts(item, catalogue, claimed)

    def _unique_conflicts(
        self,
        item: dict[str, Any],
        catalogue: dict[str, dict[str, Any]],
        claimed: dict[tuple[str, str], str],
    ) -> list[Problem]:
        """A unique value may belong to one record only, across the store and this batch."""
        key_property = item.get("idProperty")
        target = self._index.get((key_property, item["id"])) if key_property else item["id"]
        values = dict(item["properties"])
        if key_property:
            values[key_property] = item["id"]
        problems = []
        for name, value in values.items():
            if not value or not catalogue[name]["hasUniqueValue"]:
                continue
            owner = self._index.get((name, value))
            holder = claimed.setdefault((name, value), f"{key_property}:{item['id']}")
            if (owner and owner != target) or holder != f"{key_property}:{item['id']}":
                message = f'A line item with {name} "{value}" already exists.'
                problems.append(problem(name, message, "UNIQUE_VALUE_CONFLICT"))
        return problems

    def _write(self, item: dict[str, Any], catalogue: dict[str, dict[str, Any]]) -> dict[str, Any]:
        key_property = item.get("idProperty")
        record_id = self._index.get((key_property, item["id"])) if key_property else item["id"]
        record = self._records.get(record_id) if record_id else None
        created = record is None
        if record is None:
            record = self._create(key_property or "hs_object_id")
        values = dict(item["properties"])
        if key_property:
            values[key_property] = item["id"]  # the id wins over a differing property value
        self._reindex(record, values, catalogue)
        now = iso(time.time())
        record.properties.update(values, hs_lastmodifieddate=now)
        record.updated_at = now
        result = {**_record_json(record), "archived": False, "new": created}
        if item.get("objectWriteTraceId"):
            result["objectWriteTraceId"] = item["objectWriteTraceId"]
        return result

    def _create(self, key_property: str) -> _Record:
        record_id, now = str(self._next_id), iso(time.time())
        self._next_id += 1
        props = {"hs_object_id": record_id, "createdate": now}
        record = _Record(record_id, key_property, props, now, now)
        self._records[record_id] = record
        return record

    def _reindex(
        self, record: _Record, values: dict[str, str], catalogue: dict[str, dict[str, Any]]
    ) -> None:
        for name, value in values.items():
            if not catalogue[name]["hasUniqueValue"]:
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


def _record_json(record: _Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "properties": dict(record.properties),
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
    }
