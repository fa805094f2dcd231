"""Pipelines of orders and deals inside the HubSpot emulator (CRM Pipelines v3).

Orders get "Order Pipeline" with Open, Processed, Shipped, Delivered and Cancelled
(`metadata.state` OPEN, Delivered and Cancelled CLOSED). Its pipeline and stage ids are
random UUIDs per emulator, drawn from the seed: real portals are seen with the same ids
(shared/reference/commerce.md §1) but one portal relabelled them, so clients must resolve
stages by label, and here they have to. Deals get "Sales Pipeline" (id "default") with
HubSpot's well-known stage ids and `probability` metadata. `replace` (the control
endpoint `POST /_emulator/pipelines`) swaps an object's pipelines, so tests can remove or
relabel a stage.
"""

from __future__ import annotations

import copy
import random
import threading
import time
import uuid
from typing import Any

from emulators.hubspot.replies import iso

_ORDER_STAGES: tuple[tuple[str, str], ...] = (("Open", "OPEN"), ("Processed", "OPEN"))
_ORDER_STAGES += (("Shipped", "OPEN"), ("Delivered", "CLOSED"), ("Cancelled", "CLOSED"))
_DEAL_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
)
PIPELINE_TYPES = ("orders", "deals")


class PipelineBook:
    """Each object type's pipelines, as the spec's `Pipeline` bodies, under one lock."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._rng = random.Random(seed)
            self._pipelines = {"orders": [self._order_pipeline()], "deals": [_deal_pipeline()]}

    def pipelines(self, object_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._pipelines.get(object_type, []))

    def pipeline(self, object_type: str, pipeline_id: str) -> dict[str, Any] | None:
        return next((p for p in self.pipelines(object_type) if p["id"] == pipeline_id), None)

    def replace(self, object_type: str, specs: Any) -> list[dict[str, Any]]:
        """Replace a type's pipelines: `[{"label", "id"?, "stages": [{"label", "id"?,
        "metadata"?}]}]`; missing ids become UUIDs. ValueError on a bad shape."""
        if object_type not in PIPELINE_TYPES:
            raise ValueError(f"objectType must be one of {list(PIPELINE_TYPES)}")
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise ValueError('expected {"objectType": "orders", "pipelines": [{...}]}')
        with self._lock:
            built = [self._pipeline_from(spec, order) for order, spec in enumerate(specs)]
            self._pipelines[object_type] = built
            return copy.deepcopy(built)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _order_pipeline(self) -> dict[str, Any]:
        stages = [
            _stage(self._uuid(), label, order, {"state": state})
            for order, (label, state) in enumerate(_ORDER_STAGES)
        ]
        return _pipeline(self._uuid(), "Order Pipeline", 0, stages)

    def _pipeline_from(self, spec: dict[str, Any], order: int) -> dict[str, Any]:
        stages = spec.get("stages", [])
        if not isinstance(spec.get("label"), str) or not isinstance(stages, list):
            raise ValueError("a pipeline needs a string 'label' and a 'stages' list")
        built = [self._stage_from(stage, n) for n, stage in enumerate(stages)]
        return _pipeline(str(spec.get("id") or self._uuid()), spec["label"], order, built)

    def _stage_from(self, spec: Any, order: int) -> dict[str, Any]:
        if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            raise ValueError("a stage needs a string 'label'")
        metadata = spec.get("metadata", {"state": "OPEN"})
        if not isinstance(metadata, dict):
            raise ValueError("a stage's metadata must be an object")
        metadata = {str(k): str(v) for k, v in metadata.items()}
        return _stage(str(spec.get("id") or self._uuid()), spec["label"], order, metadata)


def _deal_pipeline() -> dict[str, Any]:
    stages = [
        _stage(
            stage_id,
            label,
            order,
            {"isClosed": str(stage_id.startswith("closed")).lower(), "probability": probability},
        )
        for order, (stage_id, label, probability) in enumerate(_DEAL_STAGES)
    ]
    return _pipeline("default", "Sales Pipeline", 0, stages)


def _pipeline(
    pipeline_id: str, label: str, order: int, stages: list[dict[str, Any]]
) -> dict[str, Any]:
    now = iso(time.time())
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": order,
        "stages": stages,
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
    }


def _stage(stage_id: str, label: str, order: int, metadata: dict[str, str]) -> dict[str, Any]:
    now = iso(time.time())
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": order,
        "metadata": metadata,
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }
