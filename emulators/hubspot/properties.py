"""Property definitions of one object type inside the HubSpot emulator (the Properties
API, `/crm/v3/properties/{objectType}`).

A type's properties are the config's known, read-only and unique names for it (HubSpot's
defaults, `catalogues`, get their labels and types) plus those created over the API.
Every definition has the shape of the spec's `Property`; `type` drives value validation
in `validation` (numbers, datetimes, enumeration options). Pipeline fields list no
options here: `pipelines` checks them against the portal's pipelines.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.objects import ObjectType
from emulators.hubspot.replies import Reply, error_reply, iso

MAX_UNIQUE_PROPERTIES = 10  # HubSpot's cap per object type
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPES = {"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"}
_FIELD_TYPES = {"booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html"}
_FIELD_TYPES |= {"number", "phonenumber", "radio", "select", "text", "textarea"}
_OPTION_KEYS = {"label", "value", "hidden", "displayOrder", "description"}


class PropertyRegistry:
    """The property definitions of one object type; created ones under a lock."""

    def __init__(self, kind: ObjectType) -> None:
        self.kind = kind
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._custom: dict[str, dict[str, Any]] = {}

    def catalogue(self, config: EmulatorConfig) -> dict[str, dict[str, Any]]:
        """Every definition by name, as the spec's `Property` (copies)."""
        catalogue = {name: self._default(name, config) for name in sorted(self._names(config))}
        with self._lock:
            catalogue.update({name: dict(p) for name, p in self._custom.items()})
        return catalogue

    def create(self, body: bytes, config: EmulatorConfig) -> Reply:
        """POST /crm/v3/properties/{objectType} with a `PropertyCreate` body."""
        try:
            definition = json.loads(body)
        except ValueError:
            definition = None
        problem = _create_problem(definition)
        if problem:
            return error_reply(400, problem, "VALIDATION_ERROR")
        with self._lock:
            refusal = self._conflict(definition, config)
            if refusal:
                return refusal
            created = self._custom[definition["name"]] = _custom_property(definition)
        location = f"/crm/v3/properties/{self.kind.name}/{created['name']}"
        return Reply(201, dict(created), {"Location": location})

    def _names(self, config: EmulatorConfig) -> set[str]:
        kind = self.kind.name
        return (
            config.known_properties.get(kind, set())
            | config.read_only_properties.get(kind, set())
            | config.unique_properties.get(kind, set())
        )

    def _conflict(self, definition: dict[str, Any], config: EmulatorConfig) -> Reply | None:
        name = definition["name"]
        if name in self._names(config) or name in self._custom:
            message = f"Property named '{name}' already exists."
            return error_reply(409, message, "OBJECT_ALREADY_EXISTS")
        unique = len(config.unique_properties.get(self.kind.name, set())) + sum(
            1 for p in self._custom.values() if p["hasUniqueValue"]
        )
        if definition.get("hasUniqueValue") and unique >= MAX_UNIQUE_PROPERTIES:
            message = f"An object type can have at most {MAX_UNIQUE_PROPERTIES} unique properties."
            return error_reply(400, message, "VALIDATION_ERROR")
        return None

    def _default(self, name: str, config: EmulatorConfig) -> dict[str, Any]:
        kind = self.kind
        fallback = (name.replace("_", " ").capitalize(), "string", "text")
        label, type_, field_type = kind.properties.get(name, fallback)
        defined = name in kind.properties
        read_only = name in config.read_only_properties.get(kind.name, set())
        return {
            "name": name,
            "label": label,
            "type": type_,
            "fieldType": field_type,
            "groupName": kind.group,
            "description": "",
            "options": [
                {"label": _option_label(o), "value": o, "hidden": False}
                for o in kind.options.get(name, ())
            ],
            "displayOrder": -1,
            "hasUniqueValue": name in config.unique_properties.get(kind.name, set()),
            "calculated": name == "amount" and kind.name == "line_items",
            "hidden": False,
            "formField": False,
            "hubspotDefined": defined,
            "archived": False,
            "modificationMetadata": {
                "archivable": not defined,
                "readOnlyDefinition": defined,
                "readOnlyValue": read_only,
                "readOnlyOptions": defined,
            },
        }


def _create_problem(definition: Any) -> str | None:
    if not isinstance(definition, dict):
        return "Invalid input JSON: expected a PropertyCreate object."
    required = ("name", "label", "type", "fieldType", "groupName")
    missing = [k for k in required if not isinstance(definition.get(k), str)]
    if missing:
        return f"Some required fields were not set: [{', '.join(missing)}]"
    if not _NAME.match(definition["name"]):
        name = definition["name"]
        return f"Property name {name!r} must be lowercase letters, digits and underscores."
    if definition["type"] not in _TYPES or definition["fieldType"] not in _FIELD_TYPES:
        return f"Unsupported type/fieldType: {definition['type']}/{definition['fieldType']}."
    if not isinstance(definition.get("hasUniqueValue", False), bool):
        return "hasUniqueValue must be a boolean."
    return None


def _custom_property(definition: dict[str, Any]) -> dict[str, Any]:
    now = iso(time.time())
    options = [
        {"hidden": False, **{k: v for k, v in o.items() if k in _OPTION_KEYS}}
        for o in definition.get("options") or []
        if isinstance(o, dict)
    ]
    return {
        "name": definition["name"],
        "label": definition["label"],
        "type": definition["type"],
        "fieldType": definition["fieldType"],
        "groupName": definition["groupName"],
        "description": str(definition.get("description", "")),
        "options": options,
        "displayOrder": order if isinstance(order := definition.get("displayOrder"), int) else -1,
        "hasUniqueValue": bool(definition.get("hasUniqueValue", False)),
        "calculated": False,
        "hidden": bool(definition.get("hidden", False)),
        "formField": bool(definition.get("formField", False)),
        "hubspotDefined": False,
        "archived": False,
        "createdAt": now,
        "updatedAt": now,
        "modificationMetadata": {
            "archivable": True,
            "readOnlyDefinition": False,
            "readOnlyValue": False,
            "readOnlyOptions": False,
        },
    }


def _option_label(value: str) -> str:
    return value if value.isupper() else value.replace("_", " ").capitalize()
