"""The data of one emulated HubSpot portal: a record store and property registry per
object type, the pipelines, and the associations between records. No HTTP here."""

from __future__ import annotations

from typing import Any

from emulators.hubspot.association_api import AssociationApi
from emulators.hubspot.associations import AssociationStore
from emulators.hubspot.crm import ObjectStore
from emulators.hubspot.objects import TYPES, object_type
from emulators.hubspot.pipelines import PipelineBook
from emulators.hubspot.properties import PropertyRegistry
from emulators.hubspot.reads import ObjectReader


class Portal:
    """Everything a portal holds, each part under its own lock."""

    def __init__(self, seed: int | None = None) -> None:
        self.pipelines = PipelineBook(seed)
        self.properties = {t.name: PropertyRegistry(t) for t in TYPES}
        self.stores = {
            t.name: ObjectStore(t, self.properties[t.name], self.pipelines, seed) for t in TYPES
        }
        self.links = AssociationStore()
        self.reader = ObjectReader(self.stores, self.links)
        self.associations = AssociationApi(self.links, self._exists)

    def reset(self, seed: int | None = None) -> None:
        """Forget records, associations and created properties; pipelines as at start."""
        self.pipelines.reset(seed)
        self.links.reset()
        for registry in self.properties.values():
            registry.reset()
        for store in self.stores.values():
            store.reset(seed)

    def records(self, object_type_name: str = "line_items") -> dict[str, dict[str, Any]]:
        kind = object_type(object_type_name)
        if kind is None:
            raise ValueError(f"unknown object type {object_type_name!r}")
        return self.stores[kind.name].records()

    def record(self, object_type_name: str, record_id: str) -> dict[str, Any] | None:
        """One record by its HubSpot id, as the API reads it; None when there is none."""
        kind = object_type(object_type_name)
        if kind is None:
            raise ValueError(f"unknown object type {object_type_name!r}")
        return self.stores[kind.name].find(record_id)

    def _exists(self, object_type_name: str, record_id: str) -> bool:
        return self.stores[object_type_name].exists(record_id)
