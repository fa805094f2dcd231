"""`relay hubspot setup`: make the portal ready for what the configuration sends.

- the unique idProperty on line items (HUBSPOT_ID_PROPERTY), created when missing;
- with the whole order on, the unique HUBSPOT_ORDER_ID_PROPERTY on the order object
  (orders or deals), created when missing; whether `hs_external_order_id` is unique is
  read and reported (UNCONFIRMED in HubSpot's documentation, commerce.md §1);
- the pipeline and a stage for every canonical status, resolved by label as the worker
  resolves them (`portal.resolve_stages`).

Every step runs; `SetupError` lists everything that is missing, so one run tells an
admin all there is to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from service.config import Config
from service.domain import OrderObject, RecordKind
from service.hubspot import portal
from service.hubspot.client import HubSpotClient
from service.hubspot.outcomes import Answer

SCOPES = {
    "line_items": "crm.objects.line_items.read and .write (or e-commerce)",
    "orders": "crm.objects.orders.read and .write (e-commerce does not grant them)",
    "deals": "crm.objects.deals.read and .write",
    "contacts": "crm.objects.contacts.write",
    "pipelines": "crm.pipelines.orders.read",
}
NOUNS = {"line_items": "line item", "orders": "order", "deals": "deal"}
# The property group a created property joins when the portal lists none (UNCONFIRMED
# for orders: `GET /crm/v3/properties/{type}/groups` is asked first).
DEFAULT_GROUPS = {
    "line_items": "lineiteminformation",
    "orders": "orderinformation",
    "deals": "dealinformation",
}


class SetupError(Exception):
    """The portal cannot be made ready; the message says what the admin must do."""


@dataclass
class Report:
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def id_property_definition(name: str, object_type: str = "line_items") -> dict[str, object]:
    what = "line item id" if object_type == "line_items" else "order key"
    return {
        "name": name,
        "label": "External line item ID" if object_type == "line_items" else "External order key",
        "description": f"Set by line-item-relay: source:store:{what}. Unique.",
        "groupName": DEFAULT_GROUPS[object_type],
        "type": "string",
        "fieldType": "text",
        "hasUniqueValue": True,
    }


def ensure_id_property(client: HubSpotClient, name: str, object_type: str = "line_items") -> str:
    """Check the property, create it when missing; return what was done."""
    answer = client.get_property(name, object_type)
    if answer.status == 200 and isinstance(answer.body, dict):
        if answer.body.get("hasUniqueValue"):
            return f"{NOUNS[object_type]} property {name!r} exists with unique values"
        variable = (
            "HUBSPOT_ID_PROPERTY" if object_type == "line_items" else "HUBSPOT_ORDER_ID_PROPERTY"
        )
        raise SetupError(
            f"{NOUNS[object_type]} property {name!r} exists but is not unique, and HubSpot cannot "
            f"make an existing property unique: set {variable} to a new name and run setup again"
        )
    if answer.status == 404:
        definition = id_property_definition(name, object_type)
        definition["groupName"] = _group(client, object_type)
        created = client.create_property(definition, object_type)
        if created.status in (200, 201):
            return f"created unique {NOUNS[object_type]} property {name!r}"
        answer = created
    raise SetupError(_refusal(answer, object_type))


def _group(client: HubSpotClient, object_type: str) -> str:
    """The object's own information group if the portal lists it, else its first group."""
    answer = client.get_property_groups(object_type)
    groups = answer.body.get("results") if isinstance(answer.body, dict) else None
    names = [g.get("name") for g in groups or [] if isinstance(g, dict) and g.get("name")]
    default = DEFAULT_GROUPS[object_type]
    return default if default in names or not names else str(names[0])


def _refusal(answer: Answer, object_type: str) -> str:
    if answer.status == 403:
        return (
            f"HubSpot refused for lack of a scope (MISSING_SCOPES): give the app "
            f"{SCOPES.get(object_type, object_type)} and the scope to create properties, "
            f"then run setup again ({answer.describe()})"
        )
    if answer.status == 401:
        return f"HubSpot rejected the credentials ({answer.describe()})"
    return f"unexpected answer from HubSpot about {object_type}: {answer.describe()}"


def run(client: HubSpotClient, config: Config) -> list[str]:
    """Every step for this configuration; what was done, or SetupError with all missing."""
    report = Report()
    _step(report, lambda: ensure_id_property(client, config.hubspot_id_property))
    if config.hubspot_order_object is not OrderObject.NONE:
        object_type = config.hubspot_order_object.value
        _step(
            report,
            lambda: ensure_id_property(client, config.hubspot_order_id_property, object_type),
        )
        _step(report, lambda: _check_stages(client, config))
        if config.hubspot_order_object is OrderObject.ORDERS:
            _step(report, lambda: _external_id(client))
    if report.missing:
        raise SetupError("\n".join([*report.done, *(f"MISSING: {m}" for m in report.missing)]))
    return report.done


def _step(report: Report, step: Callable[[], str]) -> None:
    try:
        report.done.append(step())
    except SetupError as exc:
        report.missing.append(str(exc))


def _check_stages(client: HubSpotClient, config: Config) -> str:
    kind = (
        RecordKind.ORDER if config.hubspot_order_object is OrderObject.ORDERS else RecordKind.DEAL
    )
    object_type = config.hubspot_order_object.value
    answer = client.get_pipelines(object_type)
    if answer.status in (401, 403):
        raise SetupError(_refusal(answer, "pipelines" if kind is RecordKind.ORDER else "deals"))
    stages = portal.resolve_stages(answer, kind, config.hubspot_order_pipeline, config.order_stages)
    if isinstance(stages, portal.Unresolved):
        raise SetupError(stages.describe())
    mapped = ", ".join(f"{status.value}={stage}" for status, stage in stages.stage_ids.items())
    noun = NOUNS[object_type]
    return f"{noun} pipeline {stages.pipeline_id} has a stage for every status ({mapped})"


def _external_id(client: HubSpotClient) -> str:
    answer = client.get_property(portal.EXTERNAL_ORDER_ID, "orders")
    if answer.status != 200:
        return f"order property {portal.EXTERNAL_ORDER_ID!r} not readable ({answer.describe()})"
    if portal.external_id_is_unique(answer):
        return (
            f"order property {portal.EXTERNAL_ORDER_ID!r} is unique in this portal: the "
            "relay sends it as source:store:order id, so two stores never collide"
        )
    return f"order property {portal.EXTERNAL_ORDER_ID!r} is not unique: the shop's own id is sent"
