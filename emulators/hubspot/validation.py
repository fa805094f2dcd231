"""Checking a batch upsert request inside the HubSpot emulator, and HubSpot's words for
what is wrong with it: problems that refuse the whole batch, and per-input problems
reported as a 207's `errors[]` or, without trace ids, as one 400 naming no input."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.replies import Reply, error_reply

MAX_INPUTS = 100
NOT_FOUND = (
    "Could not get some LINE_ITEM objects, they may be deleted or not exist. "
    "Check that ids are valid."
)

Problem = dict[str, Any]  # one entry of "Property values were not valid: [...]"


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def parse_inputs(body: bytes) -> list[dict[str, Any]] | Reply:
    data = _load_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
        message = "Invalid input JSON: expected an object with an 'inputs' array."
        return error_reply(400, message, "VALIDATION_ERROR")
    inputs: list[dict[str, Any]] = data["inputs"]
    for index, item in enumerate(inputs):
        wrong = _shape_problem(item)
        if wrong:
            return error_reply(
                400, f"Invalid input JSON: inputs[{index}] {wrong}.", "VALIDATION_ERROR"
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


def batch_problem(
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


def problem(name: str, message: str, error: str) -> Problem:
    return {"isValid": False, "message": message, "error": error, "name": name}


def value_problem(
    name: str, value: Any, catalogue: dict[str, dict[str, Any]], config: EmulatorConfig
) -> Problem | None:
    definition = catalogue.get(name)
    if definition is None:
        return problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
    if name in config.read_only_properties:
        return problem(
            name, f'"{name}" is a read only property; its value cannot be set.', "READ_ONLY_VALUE"
        )
    if not isinstance(value, str):
        return problem(
            name,
            f"{json.dumps(value)} is not a string; send property values as strings.",
            "INVALID_TYPE",
        )
    if value and definition["type"] == "number":
        return _number_problem(name, value)
    options = [o["value"] for o in definition["options"]]
    if value and options and any(v not in options for v in value.split(";")):
        message = f"{value} was not one of the allowed options: [{', '.join(options)}]"
        return problem(name, message, "INVALID_OPTION")
    return None


def _number_problem(name: str, value: str) -> Problem | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        return problem(name, f"{value} was not a valid number.", "INVALID_DECIMAL")
    if name == "price" and number < 0:
        return problem(name, "The price of a line item cannot be negative.", "INVALID_DECIMAL")
    return None


def input_error(item: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """One `StandardError` of a 207, attributed to its input by trace id and id."""
    not_found = problems[0]["error"] == "OBJECT_NOT_FOUND"
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND" if not_found else "VALIDATION_ERROR",
        "message": NOT_FOUND if not_found else _invalid_message(problems),
        "context": {"objectWriteTraceId": [item["objectWriteTraceId"]], "ids": [item["id"]]},
        "errors": [{"message": p["message"], "in": p["name"]} for p in problems],
        "links": {},
    }


def unattributed(bad: list[tuple[dict[str, Any], list[Problem]]]) -> Reply:
    """HubSpot without trace ids: one 400 for the batch, naming properties but no input."""
    problems = [p for _, ps in bad for p in ps]
    category = (
        "OBJECT_NOT_FOUND" if problems[0]["error"] == "OBJECT_NOT_FOUND" else "VALIDATION_ERROR"
    )
    details = [{"message": p["message"], "in": p["name"]} for p in problems]
    return error_reply(400, _invalid_message(bad[0][1]), category, errors=details)


def _invalid_message(problems: list[Problem]) -> str:
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))
