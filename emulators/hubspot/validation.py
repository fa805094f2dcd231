"""Checking a batch upsert request inside the HubSpot emulator, and HubSpot's words for
what is wrong with it: problems that refuse the whole batch, and per-input problems
reported as a 207's `errors[]` or, without trace ids, as one 400 naming no input.

Value rules (shared/reference/hubspot.md §1, §4; commerce.md §1, §3):
- numbers must parse; a line item's price cannot be negative;
- enumerations must be one of the options;
- datetimes are ISO 8601 or epoch milliseconds (HubSpot's FAQ), stored as ISO 8601 UTC
  with milliseconds (that HubSpot answers a stored datetime in exactly that form is
  UNCONFIRMED); a bad one is INVALID_DATE (the error name is UNCONFIRMED);
- a contact's email is trimmed and lower-cased; a malformed one is INVALID_EMAIL;
- a property required on create (orders `hs_order_name`; deals `dealname`,
  `dealstage`, `pipeline`) missing from an input that creates a record is
  REQUIRED_PROPERTY (the wording is UNCONFIRMED, and so is whether upsert enforces it).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.objects import ObjectType
from emulators.hubspot.replies import Reply, error_reply, iso

MAX_INPUTS = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

Problem = dict[str, Any]  # one entry of "Property values were not valid: [...]"


def not_found_message(kind: ObjectType) -> str:
    return (
        f"Could not get some {kind.label} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def parse_inputs(body: bytes) -> list[dict[str, Any]] | Reply:
    data = load_json(body)
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


def is_key_property(kind: ObjectType, name: str, catalogue: dict[str, dict[str, Any]]) -> bool:
    """Whether a property can key upserts and reads: unique, or a contact's email."""
    return (kind.email_key and name == "email") or bool(
        catalogue.get(name, {}).get("hasUniqueValue")
    )


def non_unique(kind: ObjectType, name: str) -> Reply:
    message = f"Unable to perform update/upsert by non-unique {kind.type_id} property {name}"
    return error_reply(400, message, "VALIDATION_ERROR")


def batch_problem(
    kind: ObjectType, inputs: list[dict[str, Any]], catalogue: dict[str, dict[str, Any]]
) -> Reply | None:
    """Problems that reject the whole request whatever the trace ids."""
    if len(inputs) > MAX_INPUTS:
        message = f"Too many inputs: {len(inputs)}; a batch takes at most {MAX_INPUTS}."
        return error_reply(400, message, "VALIDATION_ERROR")
    for item in inputs:
        name = item.get("idProperty")
        if name and not is_key_property(kind, name, catalogue):
            return non_unique(kind, name)
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
    kind: ObjectType,
    name: str,
    value: Any,
    catalogue: dict[str, dict[str, Any]],
    config: EmulatorConfig,
) -> Problem | None:
    definition = catalogue.get(name)
    if definition is None:
        return problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
    if name in config.read_only_properties.get(kind.name, set()):
        return problem(
            name, f'"{name}" is a read only property; its value cannot be set.', "READ_ONLY_VALUE"
        )
    if not isinstance(value, str):
        return problem(
            name,
            f"{json.dumps(value)} is not a string; send property values as strings.",
            "INVALID_TYPE",
        )
    if kind.email_key and name == "email" and value.strip().lower() in config.refused_emails:
        # HubSpot validates addresses beyond their form (its rules are not published);
        # a test names the ones this portal refuses.
        return problem(name, f"Email address {value} is invalid", "INVALID_EMAIL")
    return _typed_problem(kind, name, value, definition) if value else None


def _typed_problem(
    kind: ObjectType, name: str, value: str, definition: dict[str, Any]
) -> Problem | None:
    if kind.email_key and name == "email" and not _EMAIL.match(value.strip()):
        return problem(name, f"Email address {value} is invalid", "INVALID_EMAIL")
    if definition["type"] == "number":
        return _number_problem(kind, name, value)
    if definition["type"] == "datetime" and _datetime(value) is None:
        message = f"{value} is not a valid date: send ISO 8601 or milliseconds since the epoch."
        return problem(name, message, "INVALID_DATE")
    options = [o["value"] for o in definition["options"]]
    if options and any(v not in options for v in value.split(";")):
        return invalid_option(name, value, options)
    return None


def invalid_option(name: str, value: str, options: list[str]) -> Problem:
    message = f"{value} was not one of the allowed options: [{', '.join(options)}]"
    return problem(name, message, "INVALID_OPTION")


def _number_problem(kind: ObjectType, name: str, value: str) -> Problem | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        return problem(name, f"{value} was not a valid number.", "INVALID_DECIMAL")
    if kind.name == "line_items" and name == "price" and number < 0:
        return problem(name, "The price of a line item cannot be negative.", "INVALID_DECIMAL")
    return None


def _datetime(value: str) -> datetime | None:
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):  # not a date, or out of range
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stored_value(kind: ObjectType, name: str, value: str, definition: dict[str, Any]) -> str:
    """A valid value as HubSpot keeps it: emails lower-cased, datetimes in ISO 8601."""
    if kind.email_key and name == "email":
        return normal_email(value)
    moment = _datetime(value) if value and definition["type"] == "datetime" else None
    return iso(moment.timestamp()) if moment else value


def normal_email(value: str) -> str:
    return value.strip().lower()


def required_problems(kind: ObjectType, values: dict[str, str]) -> list[Problem]:
    return [
        problem(
            name, f"The property {name} is required to create a {kind.words}.", "REQUIRED_PROPERTY"
        )
        for name in kind.required
        if not values.get(name)
    ]


def input_error(kind: ObjectType, item: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """One `StandardError` of a 207, attributed to its input by trace id and id."""
    not_found = problems[0]["error"] == "OBJECT_NOT_FOUND"
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND" if not_found else "VALIDATION_ERROR",
        "message": not_found_message(kind) if not_found else _invalid_message(problems),
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
