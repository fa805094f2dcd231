"""The object read endpoints of the HubSpot emulator, for every object type:

    GET  /crm/v3/objects/{type}/{id}?properties=&associations=&idProperty=
    GET  /crm/v3/objects/{type}?limit=&after=&properties=&associations=     (forward paging)
    POST /crm/v3/objects/{type}/batch/read  {"inputs": [{"id"}], "properties", "idProperty"}

Answers have the spec's shapes (SimplePublicObjectWithAssociations, CollectionResponse
SimplePublicObjectWithAssociationsForwardPaging, BatchResponseSimplePublicObject and
...WithErrors). A requested property the record has no value for comes back as null, as
HubSpot answers (the spec types property values as strings only); unknown names are left
out. Without `properties` a read returns the type's small default set; the system ones
(create date, last modified date, hs_object_id) always come back (which default set
HubSpot uses for orders and line items is UNCONFIRMED). Associations are keyed by the
plural type name, each result typed like "order_to_line_item" (UNCONFIRMED: HubSpot has
been seen to key line items as "line items"). `limit` above 100 is read as 100
(UNCONFIRMED whether HubSpot refuses it instead); `after` is the next record's id.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from emulators.hubspot.associations import AssociationStore
from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.crm import ObjectStore
from emulators.hubspot.objects import ObjectType, object_type
from emulators.hubspot.replies import Reply, error_reply, iso
from emulators.hubspot.validation import is_key_property, load_json, non_unique, not_found_message

MAX_LIST = 100
MAX_BATCH_READ = 100


class ObjectReader:
    """Answers object reads from the stores and the association pairs."""

    def __init__(self, stores: Mapping[str, ObjectStore], links: AssociationStore) -> None:
        self._stores = stores
        self._links = links

    def get(
        self, kind: ObjectType, object_id: str, query: dict[str, str], config: EmulatorConfig
    ) -> Reply:
        store = self._stores[kind.name]
        id_property = query.get("idProperty") or None
        catalogue = store.properties.catalogue(config)
        if id_property and not is_key_property(kind, id_property, catalogue):
            return non_unique(kind, id_property)
        record = store.find(object_id, id_property)
        if record is None:
            message = f"Object not found. No {kind.words} has {id_property or 'id'} {object_id}."
            return error_reply(404, message, "OBJECT_NOT_FOUND", context={"id": [object_id]})
        return Reply(200, self._shown(kind, record, query, catalogue))

    def list(self, kind: ObjectType, query: dict[str, str], config: EmulatorConfig) -> Reply:
        store = self._stores[kind.name]
        try:
            limit = max(1, min(int(query.get("limit", "10")), MAX_LIST))
            after = int(query.get("after", "0"))
        except ValueError:
            return error_reply(400, "limit and after must be integers.", "VALIDATION_ERROR")
        catalogue = store.properties.catalogue(config)
        records = [r for r in store.ordered() if int(r["id"]) >= after]
        body: dict[str, Any] = {
            "results": [self._shown(kind, r, query, catalogue) for r in records[:limit]]
        }
        if len(records) > limit:
            following = records[limit]["id"]
            link = f"/crm/v3/objects/{kind.name}?after={following}&limit={limit}"
            body["paging"] = {"next": {"after": following, "link": link}}
        return Reply(200, body)

    def batch_read(self, kind: ObjectType, body: bytes, config: EmulatorConfig) -> Reply:
        started = iso(time.time())
        request = _batch_request(load_json(body))
        if isinstance(request, Reply):
            return request
        ids, names, id_property = request
        store = self._stores[kind.name]
        catalogue = store.properties.catalogue(config)
        if id_property and not is_key_property(kind, id_property, catalogue):
            return non_unique(kind, id_property)
        found, missing = [], []
        for key in dict.fromkeys(ids):
            record = store.find(key, id_property)
            if record is None:
                missing.append(key)
            else:
                found.append(_object(kind, record, names, catalogue))
        answer: dict[str, Any] = {"status": "COMPLETE", "results": found}
        answer.update(requestedAt=started, startedAt=started, completedAt=iso(time.time()))
        if not missing:
            return Reply(200, answer)
        error = {"status": "error", "category": "OBJECT_NOT_FOUND", "errors": [], "links": {}}
        error.update(message=not_found_message(kind), context={"ids": missing})
        answer.update(numErrors=1, errors=[error])
        return Reply(207, answer)

    def _shown(
        self,
        kind: ObjectType,
        record: dict[str, Any],
        query: dict[str, str],
        catalogue: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        shown = _object(kind, record, _names(query.get("properties")), catalogue)
        associations = {}
        for name in _names(query.get("associations")) or []:
            target = object_type(name)
            if target is None:
                continue
            found = self._links.targets(kind.name, record["id"], target.name)
            kind_name = f"{kind.singular}_to_{target.singular}"
            if found:
                results = [{"id": to_id, "type": kind_name} for to_id, _ in found]
                associations[target.name] = {"results": results}
        if associations:
            shown["associations"] = associations
        return shown


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [n.strip() for n in value.split(",") if n.strip()]


def _object(
    kind: ObjectType,
    record: dict[str, Any],
    names: list[str] | None,
    catalogue: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    wanted = [*kind.system, *(kind.default_read if names is None else names)]
    stored = record["properties"]
    properties = {n: stored.get(n) for n in dict.fromkeys(wanted) if n in catalogue or n in stored}
    return {
        "id": record["id"],
        "properties": properties,
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": False,
    }


def _batch_request(data: Any) -> tuple[list[str], list[str] | None, str | None] | Reply:
    inputs = data.get("inputs") if isinstance(data, dict) else None
    bad = error_reply(
        400, 'Invalid input JSON: expected {"inputs": [{"id": "..."}]}.', "VALIDATION_ERROR"
    )
    if not isinstance(inputs, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) for i in inputs
    ):
        return bad
    if len(inputs) > MAX_BATCH_READ:
        message = f"Too many inputs: {len(inputs)}; a batch takes at most {MAX_BATCH_READ}."
        return error_reply(400, message, "VALIDATION_ERROR")
    names = data.get("properties")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        return bad
    id_property = data.get("idProperty")
    if id_property is not None and not isinstance(id_property, str):
        return bad
    return [i["id"] for i in inputs], names, id_property or None
