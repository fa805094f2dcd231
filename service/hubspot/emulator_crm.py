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
Property values are stored as given ("" clears); `amount` is not calculated.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from service.hubspot.emulator_config import EmulatorConfig
from service.hubspot.emulator_properties import PropertyRegistry
from service.hubspot.emulator_replies import Reply, error_reply, iso

MAX_INPUTS = 100
_FIRST_ID = 37_000_000_001  # HubSpot ids are large integers, sent as strings
_NOT_FOUND = (
    "Could not get some LINE_ITEM objects, they may be deleted or not exist. "
    "Check that ids are valid."
)

Problem = dict[str, Any]  # one entry of "Property values were not valid: [...]"


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
        inputs = _parse_inputs(body)
        if isinstance(inputs, Reply):
            return inputs
        catalogue = self._properties.catalogue(config)
        with self._lock:
            refusal = _batch_problem(inputs, catalogue)
            if refusal:
                return refusal
            claimed: dict[tuple[str, str], str] = {}
            bad = [(i, p) for i in inputs if (p := self._problems(i, catalogue, config, claimed))]
            traced = config.multi_status and all(i.get("objectWriteTraceId") for i in inputs)
            if bad and not traced:
                return _unattributed(bad)
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
        body_json.update(numErrors=len(bad), errors=[_input_error(i, p) for i, p in bad])
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
            return [_problem("id", _NOT_FOUND, "OBJECT_NOT_FOUND")]
        problems = [
            p
            for name, value in item["properties"].items()
            if name != key_property and (p := _value_problem(name, value, catalogue, config))
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
                problems.append(_problem(name, message, "UNIQUE_VALUE_CONFLICT"))
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


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _parse_inputs(body: bytes) -> list[dict[str, Any]] | Reply:
    data = _load_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
        message = "Invalid input JSON: expected an object with an 'inputs' array."
        return error_reply(400, message, "VALIDATION_ERROR")
    inputs: list[dict[str, Any]] = data["inputs"]
    for index, item in enumerate(inputs):
        problem = _shape_problem(item)
        if problem:
            return error_reply(
                400, f"Invalid input JSON: inputs[{index}] {problem}.", "VALIDATION_ERROR"
            )
    return inputs


def _shape_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "is not an object"
    if not isinstance(item.get("id"), str) or not item["id"]:
        return "needs a non-empty string 'id'"
    if not isinstance(item.get("properties"), dict):
        return "needs a 'properties' object"
    for name in ("idProperty", "objectWriteTraceId"):
        if item.get(name) is not None and not isinstance(item[name], str):
            return f"has a '{name}' that is not a string"
    return None


def _batch_problem(
    inputs: list[dict[str, Any]], catalogue: dict[str, dict[str, Any]]
) -> Reply | None:
    """Problems that reject the whole request whatever the trace ids."""
    if len(inputs) > MAX_INPUTS:
        message = f"Too many inputs: {len(inputs)}; a batch takes at most {MAX_INPUTS}."
        return error_reply(400, message, "VALIDATION_ERROR")
    for item in inputs:
        name = item.get("idProperty")
        if name and not catalogue.get(name, {}).get("hasUniqueValue"):
            message = f"Unable to perform update/upsert by non-unique 0-8 property {name}"
            return error_reply(400, message, "VALIDATION_ERROR")
    seen: set[tuple[str, str]] = set()
    duplicates: list[str] = []
    for item in inputs:
        key = (item.get("idProperty") or "hs_object_id", item["id"])
        if key in seen and item["id"] not in duplicates:
            duplicates.append(item["id"])
        seen.add(key)
    if duplicates:
        message = (
            f"Duplicate IDs found in batch input: [{', '.join(duplicates)}]. IDs must be unique"
        )
        return error_reply(400, message, "VALIDATION_ERROR", context={"ids": duplicates})
    return None


def _problem(name: str, message: str, error: str) -> Problem:
    return {"isValid": False, "message": message, "error": error, "name": name}


def _value_problem(
    name: str, value: Any, catalogue: dict[str, dict[str, Any]], config: EmulatorConfig
) -> Problem | None:
    definition = catalogue.get(name)
    if definition is None:
        return _problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
    if name in config.read_only_properties:
        return _problem(
            name, f'"{name}" is a read only property; its value cannot be set.', "READ_ONLY_VALUE"
        )
    if not isinstance(value, str):
        return _problem(
            name,
            f"{json.dumps(value)} is not a string; send property values as strings.",
            "INVALID_TYPE",
        )
    if value and definition["type"] == "number":
        return _number_problem(name, value)
    options = [o["value"] for o in definition["options"]]
    if value and options and any(v not in options for v in value.split(";")):
        message = f"{value} was not one of the allowed options: [{', '.join(options)}]"
        return _problem(name, message, "INVALID_OPTION")
    return None


def _number_problem(name: str, value: str) -> Problem | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        return _problem(name, f"{value} was not a valid number.", "INVALID_DECIMAL")
    if name == "price" and number < 0:
        return _problem(name, "The price of a line item cannot be negative.", "INVALID_DECIMAL")
    return None


def _input_error(item: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """One `StandardError` of a 207, attributed to its input by trace id and id."""
    not_found = problems[0]["error"] == "OBJECT_NOT_FOUND"
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND" if not_found else "VALIDATION_ERROR",
        "message": _NOT_FOUND if not_found else _invalid_message(problems),
        "context": {"objectWriteTraceId": [item["objectWriteTraceId"]], "ids": [item["id"]]},
        "errors": [{"message": p["message"], "in": p["name"]} for p in problems],
        "links": {},
    }


def _unattributed(bad: list[tuple[dict[str, Any], list[Problem]]]) -> Reply:
    """HubSpot without trace ids: one 400 for the batch, naming properties but no input."""
    problems = [p for _, ps in bad for p in ps]
    category = (
        "OBJECT_NOT_FOUND" if problems[0]["error"] == "OBJECT_NOT_FOUND" else "VALIDATION_ERROR"
    )
    details = [{"message": p["message"], "in": p["name"]} for p in problems]
    return error_reply(400, _invalid_message(bad[0][1]), category, errors=details)


def _invalid_message(problems: list[Problem]) -> str:
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))
