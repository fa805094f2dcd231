"""The Associations v4 endpoints of the HubSpot emulator (CRM_Associations v4 spec):

    POST /crm/v4/associations/{from}/{to}/batch/create            201 (or 200), 207
    POST /crm/v4/associations/{from}/{to}/batch/associate/default  200
    POST /crm/v4/associations/{from}/{to}/batch/archive            204
    POST /crm/v4/associations/{from}/{to}/batch/read               200, 207
    GET  /crm/v4/objects/{type}/{id}/associations/{toType}          paged
    PUT  /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}
    DELETE /crm/v4/objects/{from}/{id}/associations/{to}/{toId}     204

Batch rules (shared/reference/commerce.md §2): create and associate take up to 2,000
inputs, read 1,000 (more: 400); a pair repeated in one batch is a 400 for the whole
batch (segmentio PR #3336); so is a type id HubSpot does not define for the pair.
Re-creating a pair replaces its types (a no-op when they are the same); associating
by default adds the default type. A pair whose from or to record does not exist gets
one StandardError whose `context` is `{"fromObjectId": [...], "toObjectId": [...]}`
and the others are written: batch/create answers 207; batch/associate/default, whose
spec declares only 200, answers 200 with `errors` and `numErrors` (its schema has
them). HubSpot's exact attribution, category and wording for a missing record are
UNCONFIRMED; so is whether archive of a missing pair is a silent 204 (here it is), and
whether associate/default answers one result per pair (here) or one per direction, and
what a read of the associations of a record that does not exist answers (here: 200 with
no results; batch/read reports such an id as an error, like one without associations).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from emulators.hubspot.associations import DEFAULT_TYPES, AssociationStore, type_ids_for
from emulators.hubspot.objects import ObjectType
from emulators.hubspot.replies import Reply, error_reply, iso
from emulators.hubspot.validation import load_json

MAX_WRITE_INPUTS = 2_000
MAX_READ_INPUTS = 1_000
MAX_PAGE = 500

Exists = Callable[[str, str], bool]  # (object type name, record id)


class AssociationApi:
    """Answers association calls from the pair store and the records that exist."""

    def __init__(self, links: AssociationStore, exists: Exists) -> None:
        self.links = links
        self._exists = exists

    def create(self, source: ObjectType, target: ObjectType, body: bytes, status: int) -> Reply:
        inputs = _inputs(body, MAX_WRITE_INPUTS, _pair_ids)
        if isinstance(inputs, Reply):
            return inputs
        allowed = type_ids_for(source.name, target.name)
        for item in inputs:
            if not _types_ok(item.get("types"), allowed):
                return _unknown_type(source, target)
        results, errors = [], []
        for item in inputs:
            from_id, to_id = _pair_ids(item)
            missing = self._missing(source, from_id, target, to_id)
            if missing:
                errors.append(missing)
                continue
            types = {t["associationTypeId"] for t in item["types"]}
            self.links.put((source.name, from_id, target.name, to_id), types, replace=True)
            results.append(_labels(source, from_id, target, to_id))
        return _batch(results, errors, status, 207)

    def associate_default(self, source: ObjectType, target: ObjectType, body: bytes) -> Reply:
        inputs = _inputs(body, MAX_WRITE_INPUTS, _pair_ids)
        if isinstance(inputs, Reply):
            return inputs
        default = DEFAULT_TYPES.get((source.name, target.name))
        if default is None:
            return _unknown_type(source, target)
        results, errors = [], []
        for item in inputs:
            from_id, to_id = _pair_ids(item)
            missing = self._missing(source, from_id, target, to_id)
            if missing:
                errors.append(missing)
                continue
            self.links.put((source.name, from_id, target.name, to_id), {default}, replace=False)
            results.append(_default_result(from_id, to_id, default))
        return _batch(results, errors, 200, 200)

    def archive(self, source: ObjectType, target: ObjectType, body: bytes) -> Reply:
        inputs = _inputs(body, MAX_WRITE_INPUTS, None)
        if isinstance(inputs, Reply):
            return inputs
        for from_id, to_id in archived_pairs(inputs):
            self.links.remove((source.name, from_id, target.name, to_id))
        return Reply(204)

    def read(self, source: ObjectType, target: ObjectType, body: bytes) -> Reply:
        inputs = _inputs(body, MAX_READ_INPUTS, None)
        if isinstance(inputs, Reply):
            return inputs
        results, errors = [], []
        for from_id in dict.fromkeys(_object_id(i.get("id")) for i in inputs):
            found = self.links.targets(source.name, from_id, target.name)
            if found:
                results.append({"from": {"id": from_id}, "to": [_target(t) for t in found]})
            else:
                errors.append(_none_found(source, from_id, target))
        return _batch(results, errors, 200, 207)

    def page(
        self, source: ObjectType, object_id: str, target: ObjectType, query: dict[str, str]
    ) -> Reply:
        try:
            limit = min(int(query.get("limit", MAX_PAGE)), MAX_PAGE)
            start = int(query.get("after", "0"))
        except ValueError:
            return error_reply(400, "limit and after must be integers.", "VALIDATION_ERROR")
        found = self.links.targets(source.name, object_id, target.name)
        body: dict[str, Any] = {"results": [_target(t) for t in found[start : start + limit]]}
        if start + limit < len(found):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return Reply(200, body)

    def put_default(
        self, source: ObjectType, from_id: str, target: ObjectType, to_id: str
    ) -> Reply:
        default = DEFAULT_TYPES.get((source.name, target.name))
        if default is None:
            return _unknown_type(source, target)
        missing = self._missing(source, from_id, target, to_id)
        if missing:
            return error_reply(
                400, missing["message"], "VALIDATION_ERROR", context=missing["context"]
            )
        self.links.put((source.name, from_id, target.name, to_id), {default}, replace=False)
        return _batch([_default_result(from_id, to_id, default)], [], 200, 200)

    def delete(self, source: ObjectType, from_id: str, target: ObjectType, to_id: str) -> Reply:
        self.links.remove((source.name, from_id, target.name, to_id))
        return Reply(204)

    def _missing(
        self, source: ObjectType, from_id: str, target: ObjectType, to_id: str
    ) -> dict[str, Any] | None:
        absent = [
            f"No {kind.words} with id {record_id} exists."
            for kind, record_id in ((source, from_id), (target, to_id))
            if not self._exists(kind.name, record_id)
        ]
        if not absent:
            return None
        context = {"fromObjectId": [from_id], "toObjectId": [to_id]}
        return _standard_error(" ".join(absent), "VALIDATION_ERROR", context)


def timeline_ids(path_ids: tuple[str, str] | None, body: Any) -> list[str]:
    """ "fromId>toId" for every pair a write call names."""
    if path_ids is not None:
        return [f"{path_ids[0]}>{path_ids[1]}"]
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        return []
    if all(isinstance(i, dict) and isinstance(i.get("to"), list) for i in inputs):
        return [f"{a}>{b}" for a, b in archived_pairs(inputs)]
    return [
        f"{_object_id(i.get('from'))}>{_object_id(i.get('to'))}"
        for i in inputs
        if isinstance(i, dict)
    ]


def archived_pairs(inputs: list[Any]) -> list[tuple[str, str]]:
    return [
        (_object_id(item.get("from")), _object_id(to))
        for item in inputs
        if isinstance(item, dict) and isinstance(item.get("to"), list)
        for to in item["to"]
    ]


def _object_id(value: Any) -> str:
    """The id of a PublicObjectId ({"id": "1"}), or of a bare id."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _pair_ids(item: Any) -> tuple[str, str]:
    return _object_id(item.get("from")), _object_id(item.get("to"))


def _inputs(
    body: bytes, limit: int, pair: Callable[[Any], tuple[str, str]] | None
) -> list[dict[str, Any]] | Reply:
    data = load_json(body)
    inputs = data.get("inputs") if isinstance(data, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        message = "Invalid input JSON: expected an object with an 'inputs' array of objects."
        return error_reply(400, message, "VALIDATION_ERROR")
    if len(inputs) > limit:
        message = f"Too many inputs: {len(inputs)}; a batch takes at most {limit}."
        return error_reply(400, message, "VALIDATION_ERROR")
    if pair is None:
        return inputs
    pairs = [pair(i) for i in inputs]
    if not all(a and b for a, b in pairs):
        return error_reply(400, "Every input needs a from.id and a to.id.", "VALIDATION_ERROR")
    repeated = sorted(f"{a}>{b}" for (a, b), n in Counter(pairs).items() if n > 1)
    if repeated:
        message = f"Duplicate pairs found in batch input: [{', '.join(repeated)}]."
        return error_reply(400, message, "VALIDATION_ERROR", context={"ids": repeated})
    return inputs


def _types_ok(types: Any, allowed: set[int]) -> bool:
    return (
        isinstance(types, list)
        and bool(types)
        and all(
            isinstance(t, dict)
            and t.get("associationCategory") == "HUBSPOT_DEFINED"
            and t.get("associationTypeId") in allowed
            for t in types
        )
    )


def _unknown_type(source: ObjectType, target: ObjectType) -> Reply:
    message = (
        f"Invalid association type for {source.type_id} to {target.type_id}: "
        f"only HUBSPOT_DEFINED {sorted(type_ids_for(source.name, target.name))} exist."
    )
    return error_reply(400, message, "VALIDATION_ERROR")


def _labels(source: ObjectType, from_id: str, target: ObjectType, to_id: str) -> dict[str, Any]:
    return {
        "fromObjectTypeId": source.type_id,
        "fromObjectId": from_id,
        "toObjectTypeId": target.type_id,
        "toObjectId": to_id,
        "labels": [],  # HUBSPOT_DEFINED default types carry no label
    }


def _default_result(from_id: str, to_id: str, type_id: int) -> dict[str, Any]:
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    return {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec}


def _target(found: tuple[str, list[int]]) -> dict[str, Any]:
    to_id, type_ids = found
    types = [{"category": "HUBSPOT_DEFINED", "typeId": t} for t in type_ids]
    return {"toObjectId": to_id, "associationTypes": types}


def _none_found(source: ObjectType, from_id: str, target: ObjectType) -> dict[str, Any]:
    message = f"No {target.words} is associated with {source.words} {from_id}."
    return _standard_error(message, "OBJECT_NOT_FOUND", {"fromObjectId": [from_id]})


def _standard_error(message: str, category: str, context: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }


def _batch(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int, partial: int
) -> Reply:
    now = iso(time.time())
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": now,
        "startedAt": now,
        "completedAt": now,
    }
    if not errors:
        return Reply(ok, body)
    body.update(numErrors=len(errors), errors=errors)
    return Reply(partial, body)
