"""Line-item property definitions inside the HubSpot emulator (the Properties API).

The portal's properties are the config's known, read-only and unique names (HubSpot's
defaults get their real labels and types) plus those created over the API. Every
definition has the shape of the spec's `Property`; `type` drives value validation in
`crm` (numbers, enumeration options).
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.replies import Reply, error_reply, iso, missing_scopes_reply

MAX_UNIQUE_PROPERTIES = 10  # HubSpot's cap per object type
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPES = {"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"}
_FIELD_TYPES = {"booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html"}
_FIELD_TYPES |= {"number", "phonenumber", "radio", "select", "text", "textarea"}
_OPTION_KEYS = {"label", "value", "hidden", "displayOrder", "description"}

# name: (label, type, fieldType) for HubSpot's default line-item properties.
_DEFAULTS: dict[str, tuple[str, str, str]] = {
    "name": ("Name", "string", "text"),
    "description": ("Description", "string", "textarea"),
    "price": ("Unit price", "number", "number"),
    "quantity": ("Quantity", "number", "number"),
    "discount": ("Unit discount", "number", "number"),
    "hs_discount_percentage": ("Unit discount percentage", "number", "number"),
    "tax": ("Tax", "number", "number"),
    "hs_sku": ("SKU", "string", "text"),
    "hs_product_id": ("Product ID", "number", "number"),
    "hs_line_item_currency_code": ("Currency", "string", "text"),
    "recurringbillingfrequency": ("Billing frequency", "enumeration", "select"),
    "hs_recurring_billing_period": ("Term", "string", "text"),
    "hs_recurring_billing_start_date": ("Billing start date", "date", "date"),
    "hs_cost_of_goods_sold": ("Unit cost", "number", "number"),
    "hs_position_on_quote": ("Position on quote", "number", "number"),
    "hs_tax_rate_group_id": ("Tax rate", "string", "text"),
    "amount": ("Net price", "number", "number"),
    "hs_object_id": ("Record ID", "number", "number"),
    "createdate": ("Create date", "datetime", "date"),
    "hs_lastmodifieddate": ("Last modified date", "datetime", "date"),
}
_FREQUENCIES: tuple[str, ...] = ("weekly", "biweekly", "monthly", "quarterly", "per_six_months")
_FREQUENCIES += ("annually", "per_two_years", "per_three_years", "per_four_years", "per_five_years")


class PropertyRegistry:
    """The line-item property definitions of one portal; created ones under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._custom: dict[str, dict[str, Any]] = {}

    def catalogue(self, config: EmulatorConfig) -> dict[str, dict[str, Any]]:
        """Every definition by name, as the spec's `Property` (copies)."""
        names = config.known_properties | config.read_only_properties | config.unique_properties
        catalogue = {name: _default_property(name, config) for name in sorted(names)}
        with self._lock:
            catalogue.update({name: dict(p) for name, p in self._custom.items()})
        return catalogue

    def create(self, body: bytes, config: EmulatorConfig) -> Reply:
        """POST /crm/v3/properties/line_items with a `PropertyCreate` body."""
        if config.missing_scopes:
            return missing_scopes_reply()
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
        location = f"/crm/v3/properties/line_items/{created['name']}"
        return Reply(201, dict(created), {"Location": location})

    def _conflict(self, definition: dict[str, Any], config: EmulatorConfig) -> Reply | None:
        names = config.known_properties | config.read_only_properties | config.unique_properties
        name = definition["name"]
        if name in names or name in self._custom:
            message = f"Property named '{name}' already exists."
            return error_reply(409, message, "OBJECT_ALREADY_EXISTS")
        unique = len(config.unique_properties) + sum(
            1 for p in self._custom.values() if p["hasUniqueValue"]
        )
        if definition.get("hasUniqueValue") and unique >= MAX_UNIQUE_PROPERTIES:
            message = f"An object type can have at most {MAX_UNIQUE_PROPERTIES} unique properties."
            return error_reply(400, message, "VALIDATION_ERROR")
        return None


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


def _default_property(name: str, config: EmulatorConfig) -> dict[str, Any]:
    fallback = (name.replace("_", " ").capitalize(), "string", "text")
    label, type_, field_type = _DEFAULTS.get(name, fallback)
    defined = name in _DEFAULTS
    options = _FREQUENCIES if name == "recurringbillingfrequency" else ()
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "groupName": "lineiteminformation",
        "description": "",
        "options": [
            {"label": o.replace("_", " ").capitalize(), "value": o, "hidden": False}
            for o in options
        ],
        "displayOrder": -1,
        "hasUniqueValue": name in config.unique_properties,
        "calculated": name == "amount",
        "hidden": False,
        "formField": False,
        "hubspotDefined": defined,
        "archived": False,
        "modificationMetadata": {
            "archivable": not defined,
            "readOnlyDefinition": defined,
            "readOnlyValue": name in config.read_only_properties,
            "readOnlyOptions": defined,
        },
    }


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
