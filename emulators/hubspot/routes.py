"""Which HubSpot endpoint a request is: its call kind (see `faults`), the scopes that
admit it (any one of them; per the OpenAPI files in shared/reference/hubspot-openapi),
whether it is a write call (logged and on the timeline), and what answers it.

Objects are addressed by name or objectTypeId (`orders` or `0-123`), under
`/crm/v3/objects/...` and `/crm/objects/2026-03/...`. An object type the emulator does
not hold is an unknown route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators.hubspot.association_api import timeline_ids
from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.objects import ObjectType, object_type
from emulators.hubspot.pipelines import PIPELINE_TYPES
from emulators.hubspot.portal import Portal
from emulators.hubspot.replies import Reply, error_reply

_OBJECTS = r"/crm/(?:v3/objects|objects/2026-03)/(?P<type>[^/]+)"
_LINKS = r"/crm/(?:v4/associations|associations/2026-03)/(?P<type>[^/]+)/(?P<to>[^/]+)/batch/"
_LINKS_OF = r"/crm/(?:v4/objects|objects/2026-03)/(?P<type>[^/]+)/(?P<id>[^/]+)/associations/"
_PIPELINES = r"/crm/v3/pipelines/(?P<type>[^/]+)"
_PROPERTIES = r"/crm/v3/properties/(?P<type>[^/]+)"
_PIPELINE_SCOPES = {
    "orders": frozenset({"crm.pipelines.orders.read", "crm.objects.orders.read", "e-commerce"}),
    "deals": frozenset({"crm.objects.deals.read"}),
}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Route:
    kind: str
    scopes: frozenset[str]
    answer: Callable[[], Reply]
    write: bool = False
    ids: Callable[[Any], list[str]] = field(default=lambda _: [])  # from the parsed body


Build = Callable[[ObjectType, "re.Match[str]", Call], Route | None]


class Router:
    """Finds the route of a call against one portal and the live config."""

    def __init__(self, portal: Portal, config: Callable[[], EmulatorConfig]) -> None:
        self._portal = portal
        self._config = config
        self._table: list[tuple[str, re.Pattern[str], Build]] = [
            ("POST", re.compile(_OBJECTS + "/batch/upsert"), self._upsert),
            ("POST", re.compile(_OBJECTS + "/batch/read"), self._batch_read),
            ("GET", re.compile(_OBJECTS), self._list),
            ("GET", re.compile(_OBJECTS + "/(?P<id>[^/]+)"), self._get),
            ("GET", re.compile(_PROPERTIES), self._properties),
            ("POST", re.compile(_PROPERTIES), self._create_property),
            ("GET", re.compile(_PROPERTIES + "/(?P<name>[^/]+)"), self._property),
            (
                "GET",
                re.compile(_PIPELINES + "(?:/(?P<pid>[^/]+)(?P<stages>/stages)?)?"),
                self._pipelines,
            ),
            (
                "POST",
                re.compile(_LINKS + "(?P<op>create|associate/default|archive|read)"),
                self._links,
            ),
            ("GET", re.compile(_LINKS_OF + "(?P<to>[^/]+)"), self._links_page),
            (
                "PUT",
                re.compile(_LINKS_OF + "default/(?P<to>[^/]+)/(?P<toid>[^/]+)"),
                self._link_one,
            ),
            ("DELETE", re.compile(_LINKS_OF + "(?P<to>[^/]+)/(?P<toid>[^/]+)"), self._link_one),
        ]

    def find(self, call: Call) -> Route | None:
        for method, pattern, build in self._table:
            match = pattern.fullmatch(call.path) if method == call.method else None
            kind = object_type(match.group("type")) if match else None
            if match and kind is not None:
                return build(kind, match, call)
        return None

    # --- objects ----------------------------------------------------------------------

    def _upsert(self, kind: ObjectType, _: re.Match[str], call: Call) -> Route:
        store = self._portal.stores[kind.name]
        return Route(
            f"upsert:{kind.name}",
            kind.write_scopes,
            lambda: store.upsert(call.body, self._config()),
            write=True,
            ids=_input_ids,
        )

    def _batch_read(self, kind: ObjectType, _: re.Match[str], call: Call) -> Route:
        reader = self._portal.reader
        answer = lambda: reader.batch_read(kind, call.body, self._config())  # noqa: E731
        return Route(f"read:{kind.name}", kind.read_scopes, answer)

    def _list(self, kind: ObjectType, _: re.Match[str], call: Call) -> Route:
        reader = self._portal.reader
        answer = lambda: reader.list(kind, call.query, self._config())  # noqa: E731
        return Route(f"read:{kind.name}", kind.read_scopes, answer)

    def _get(self, kind: ObjectType, match: re.Match[str], call: Call) -> Route:
        reader = self._portal.reader
        object_id = match.group("id")
        answer = lambda: reader.get(kind, object_id, call.query, self._config())  # noqa: E731
        return Route(f"read:{kind.name}", kind.read_scopes, answer)

    # --- properties and pipelines -----------------------------------------------------

    def _properties(self, kind: ObjectType, _: re.Match[str], call: Call) -> Route:
        registry = self._portal.properties[kind.name]
        answer = lambda: Reply(  # noqa: E731
            200, {"results": list(registry.catalogue(self._config()).values())}
        )
        return Route(f"properties:{kind.name}", _schema_read_scopes(kind), answer)

    def _create_property(self, kind: ObjectType, _: re.Match[str], call: Call) -> Route:
        registry = self._portal.properties[kind.name]
        answer = lambda: registry.create(call.body, self._config())  # noqa: E731
        return Route(f"properties:{kind.name}", kind.write_scopes, answer)

    def _property(self, kind: ObjectType, match: re.Match[str], call: Call) -> Route:
        registry, name = self._portal.properties[kind.name], match.group("name")

        def answer() -> Reply:
            definition = registry.catalogue(self._config()).get(name)
            if definition is None:
                message = f"Unable to find property named '{name}' for object type {kind.type_id}"
                return error_reply(404, message, "OBJECT_NOT_FOUND")
            return Reply(200, definition)

        return Route(f"properties:{kind.name}", _schema_read_scopes(kind), answer)

    def _pipelines(self, kind: ObjectType, match: re.Match[str], call: Call) -> Route | None:
        if kind.name not in PIPELINE_TYPES:
            return None
        book, pipeline_id = self._portal.pipelines, match.group("pid")

        def answer() -> Reply:
            if pipeline_id is None:
                return Reply(200, {"results": book.pipelines(kind.name)})
            pipeline = book.pipeline(kind.name, pipeline_id)
            if pipeline is None:
                message = f"Unable to find pipeline {pipeline_id} for object type {kind.type_id}"
                return error_reply(404, message, "OBJECT_NOT_FOUND")
            if match.group("stages"):
                return Reply(200, {"results": pipeline["stages"]})
            return Reply(200, pipeline)

        return Route(f"pipelines:{kind.name}", _PIPELINE_SCOPES[kind.name], answer)

    # --- associations -----------------------------------------------------------------

    def _links(self, kind: ObjectType, match: re.Match[str], call: Call) -> Route | None:
        target = object_type(match.group("to"))
        if target is None:
            return None
        api, op = self._portal.associations, match.group("op")
        scopes = _link_scopes(kind, target)
        if op == "read":
            answer = lambda: api.read(kind, target, call.body)  # noqa: E731
            return Route("associations-read", scopes, answer)
        answers: dict[str, Callable[[], Reply]] = {
            "create": lambda: api.create(
                kind, target, call.body, self._config().association_create_status
            ),
            "associate/default": lambda: api.associate_default(kind, target, call.body),
            "archive": lambda: api.archive(kind, target, call.body),
        }
        kind_name = f"associations:{kind.name}/{target.name}"
        ids = lambda body: timeline_ids(None, body)  # noqa: E731
        return Route(kind_name, scopes, answers[op], write=True, ids=ids)

    def _links_page(self, kind: ObjectType, match: re.Match[str], call: Call) -> Route | None:
        target = object_type(match.group("to"))
        if target is None:
            return None
        api, object_id = self._portal.associations, match.group("id")
        answer = lambda: api.page(kind, object_id, target, call.query)  # noqa: E731
        return Route("associations-read", _link_scopes(kind, target), answer)

    def _link_one(self, kind: ObjectType, match: re.Match[str], call: Call) -> Route | None:
        target = object_type(match.group("to"))
        if target is None:
            return None
        api, pair = self._portal.associations, (match.group("id"), match.group("toid"))
        act = api.put_default if call.method == "PUT" else api.delete
        answer = lambda: act(kind, pair[0], target, pair[1])  # noqa: E731
        kind_name = f"associations:{kind.name}/{target.name}"
        ids = lambda _: timeline_ids(pair, None)  # noqa: E731
        return Route(kind_name, _link_scopes(kind, target), answer, write=True, ids=ids)


def _schema_read_scopes(kind: ObjectType) -> frozenset[str]:
    return kind.read_scopes | kind.write_scopes | {f"crm.schemas.{kind.name}.read"}


def _link_scopes(source: ObjectType, target: ObjectType) -> frozenset[str]:
    """Associations take any object scope of either end (commerce.md §1)."""
    return source.read_scopes | source.write_scopes | target.read_scopes | target.write_scopes


def _input_ids(body: Any) -> list[str]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        return []
    return [i["id"] for i in inputs if isinstance(i, dict) and isinstance(i.get("id"), str)]
