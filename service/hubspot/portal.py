"""What the relay must learn from the portal before it can send order records: the
pipeline's stage ids, resolved by label, and whether `hs_external_order_id` is unique.

Stage ids differ per portal (commerce.md §1: one portal relabelled HubSpot's usual ids),
so they are never hard-coded: `resolve_stages` reads `GET /crm/v3/pipelines/{type}` and
finds HUBSPOT_ORDER_PIPELINE (by id or label; unset: the default pipeline) and each
status's stage (by label, or by id). `setup` checks the same at install time; the worker
resolves when it starts and keeps the answer.

Pure functions of HubSpot's answers, so they are tested without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.domain import OrderStatus, RecordKind
from service.hubspot.outcomes import Answer
from service.mapping.orders import STATUS

# The order record's pipeline properties, by kind.
PIPELINE_PROPERTIES = {
    RecordKind.ORDER: ("hs_pipeline", "hs_pipeline_stage"),
    RecordKind.DEAL: ("pipeline", "dealstage"),
}
DEFAULT_DEAL_PIPELINE = "default"  # HubSpot's id for every portal's first deal pipeline
EXTERNAL_ORDER_ID = "hs_external_order_id"


@dataclass(frozen=True)
class Stages:
    """The chosen pipeline and the stage id of each canonical status."""

    pipeline_id: str
    stage_ids: Mapping[OrderStatus, str]


@dataclass(frozen=True)
class Unresolved:
    """Why the stages could not be resolved: each problem names what is missing."""

    problems: tuple[str, ...]

    def describe(self) -> str:
        return "; ".join(self.problems)


@dataclass(frozen=True)
class PortalFacts:
    """Everything the worker needs to turn a stored order record into a HubSpot input."""

    kind: RecordKind
    stages: Stages
    external_id_unique: bool = False

    def prepare(self, key: str, properties: Mapping[str, str]) -> dict[str, str]:
        """The stored properties as sent: the status becomes pipeline and stage; a unique
        `hs_external_order_id` is namespaced by source and store (WooCommerce ids restart
        per site, so two stores would otherwise fight over one value)."""
        prepared = {name: value for name, value in properties.items() if name != STATUS}
        status = properties.get(STATUS)
        if status is not None:
            pipeline, stage = PIPELINE_PROPERTIES[self.kind]
            prepared[pipeline] = self.stages.pipeline_id
            prepared[stage] = self.stages.stage_ids[OrderStatus(status)]
        if self.external_id_unique and EXTERNAL_ORDER_ID in prepared:
            prepared[EXTERNAL_ORDER_ID] = key
        return prepared


def resolve_stages(
    answer: Answer,
    kind: RecordKind,
    pipeline: str | None,
    labels: Mapping[OrderStatus, str],
) -> Stages | Unresolved:
    """The pipeline and stage ids from a `GET /crm/v3/pipelines/{type}` answer."""
    object_type = "orders" if kind is RecordKind.ORDER else "deals"
    if answer.status != 200 or not isinstance(answer.body, dict):
        return Unresolved((f"could not read the {object_type} pipelines: {answer.describe()}",))
    pipelines = [p for p in answer.body.get("results") or [] if isinstance(p, dict)]
    chosen = _pipeline(pipelines, kind, pipeline)
    if chosen is None:
        wanted = f"pipeline {pipeline!r}" if pipeline else "a pipeline"
        known = ", ".join(repr(p.get("label")) for p in pipelines) or "none"
        return Unresolved((f"{object_type} have no {wanted} (there are: {known})",))
    stages = [s for s in chosen.get("stages") or [] if isinstance(s, dict)]
    found: dict[OrderStatus, str] = {}
    missing: list[str] = []
    for status, label in labels.items():
        stage = _match(stages, label)
        if stage is None:
            missing.append(f"{status.value} -> {label!r}")
        else:
            found[status] = str(stage["id"])
    if missing:
        names = ", ".join(repr(s.get("label")) for s in stages)
        return Unresolved(
            (
                f"the {object_type} pipeline {chosen.get('label')!r} has no stage for "
                + "; ".join(missing)
                + f" (its stages: {names}); set HUBSPOT_ORDER_STAGES or add the stages",
            )
        )
    return Stages(str(chosen["id"]), found)


def _pipeline(
    pipelines: list[dict[str, Any]], kind: RecordKind, wanted: str | None
) -> dict[str, Any] | None:
    if wanted:
        return _match(pipelines, wanted)
    if kind is RecordKind.DEAL:
        default = next((p for p in pipelines if p.get("id") == DEFAULT_DEAL_PIPELINE), None)
        if default is not None:
            return default
    ordered = sorted(pipelines, key=lambda p: p.get("displayOrder") or 0)
    return ordered[0] if ordered else None


def _match(entries: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """The entry whose id is `wanted`, else whose label is, ignoring case and spaces."""
    for entry in entries:
        if str(entry.get("id")) == wanted:
            return entry
    folded = wanted.strip().casefold()
    for entry in entries:
        if str(entry.get("label", "")).strip().casefold() == folded:
            return entry
    return None


def is_transient(answer: Answer) -> bool:
    """HubSpot did not answer for now (no answer, 423, 429, 477, 5xx): ask again soon."""
    return answer.status in (0, 423, 429, 477) or answer.status >= 500


def external_id_is_unique(answer: Answer) -> bool:
    """From `GET /crm/v3/properties/orders/hs_external_order_id`: HubSpot holds it unique?
    (UNCONFIRMED either way, commerce.md §1: so the portal is asked.)"""
    return (
        answer.status == 200
        and isinstance(answer.body, dict)
        and bool(answer.body.get("hasUniqueValue"))
    )
