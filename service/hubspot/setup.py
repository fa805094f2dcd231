"""`relay hubspot setup`: make sure the unique idProperty exists on line items."""

from __future__ import annotations

from service.hubspot.client import HubSpotClient


class SetupError(Exception):
    """The portal cannot be made ready; the message says what the admin must do."""


def id_property_definition(name: str) -> dict[str, object]:
    return {
        "name": name,
        "label": "External line item ID",
        "description": "Set by line-item-relay: source:store:line item id. Unique.",
        "groupName": "lineiteminformation",
        "type": "string",
        "fieldType": "text",
        "hasUniqueValue": True,
    }


def ensure_id_property(client: HubSpotClient, name: str) -> str:
    """Check the property, create it when missing; return what was done."""
    answer = client.get_property(name)
    if answer.status == 200 and isinstance(answer.body, dict):
        if answer.body.get("hasUniqueValue"):
            return f"line item property {name!r} exists with unique values"
        raise SetupError(
            f"line item property {name!r} exists but is not unique, and HubSpot cannot make an "
            "existing property unique: set HUBSPOT_ID_PROPERTY to a new name and run setup again"
        )
    if answer.status == 404:
        created = client.create_property(id_property_definition(name))
        if created.status in (200, 201):
            return f"created unique line item property {name!r}"
        answer = created
    if answer.status == 403:
        raise SetupError(
            "HubSpot refused for lack of a scope (MISSING_SCOPES): give the app the "
            "line item and schema scopes (e-commerce, crm.objects.line_items.read/write), "
            f"then run setup again ({answer.describe()})"
        )
    if answer.status == 401:
        raise SetupError(f"HubSpot rejected the credentials ({answer.describe()})")
    raise SetupError(f"unexpected answer from HubSpot: {answer.describe()}")
