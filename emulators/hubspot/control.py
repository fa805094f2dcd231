"""The emulator's control endpoints, for tests in other processes (no auth, no rate limit,
no latency):

    GET  /_emulator/records?type=orders      records of a type (default line_items)
    GET  /_emulator/record?type=orders&id=N   one record by HubSpot id (404 if none)
    GET  /_emulator/associations              [{fromType, fromId, toType, toId, typeIds}]
    GET  /_emulator/pipelines?type=orders     a type's pipelines, as the API answers them
    GET  /_emulator/stats | requests | timeline | config
    POST /_emulator/config {field: value}
    POST /_emulator/script {"faults": ["429", ...], "calls": "upsert:orders"}  (calls optional)
    POST /_emulator/pipelines {"objectType": "orders", "pipelines": [{"label", "stages"}]}
    POST /_emulator/reset                     POST /_emulator/expire-tokens
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.replies import Reply, error_reply


class Controlled(Protocol):
    """What the control endpoints drive: `emulators.hubspot.app.Emulator`."""

    @property
    def config(self) -> EmulatorConfig: ...

    def script(self, *faults: str, calls: str | None = None) -> None: ...

    def configure(self, **changes: Any) -> None: ...

    def records(self, object_type: str = "line_items") -> dict[str, dict[str, Any]]: ...

    def record(self, object_type: str, record_id: str) -> dict[str, Any] | None: ...

    def associations(self) -> list[dict[str, Any]]: ...

    def pipelines(self, object_type: str) -> list[dict[str, Any]]: ...

    def set_pipelines(self, object_type: str, pipelines: Any) -> list[dict[str, Any]]: ...

    def stats(self) -> dict[str, Any]: ...

    def requests_log(self) -> list[dict[str, Any]]: ...

    def timeline(self) -> list[dict[str, Any]]: ...

    def expire_tokens(self) -> None: ...

    def reset(self) -> None: ...


_COMMANDS = {"config", "script", "pipelines", "reset", "expire-tokens"}


def control(
    emulator: Controlled, method: str, name: str, query: dict[str, str], body: bytes
) -> Reply:
    """Answer GET or POST /_emulator/<name>; bad input is a 400 naming the problem."""
    getters: dict[str, Callable[[], Any]] = {
        "records": lambda: emulator.records(query.get("type", "line_items")),
        "associations": emulator.associations,
        "pipelines": lambda: emulator.pipelines(query.get("type", "orders")),
        "stats": emulator.stats,
        "requests": emulator.requests_log,
        "timeline": emulator.timeline,
        "config": emulator.config.to_json,
    }
    try:
        if method == "GET" and name == "record":
            found = emulator.record(query.get("type", "line_items"), query.get("id", ""))
            if found is None:
                return error_reply(404, "No such record", "OBJECT_NOT_FOUND")
            return Reply(200, found)
        if method == "GET" and name in getters:
            return Reply(200, getters[name]())
        if method != "POST" or name not in _COMMANDS:
            return error_reply(404, f"No emulator control {method} /_emulator/{name}", "NOT_FOUND")
        return _command(emulator, name, json.loads(body or b"{}"))
    except (ValueError, TypeError) as exc:  # bad JSON, a bad config, fault or type name
        return error_reply(400, str(exc), "VALIDATION_ERROR")


def _command(emulator: Controlled, name: str, payload: Any) -> Reply:
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    if name == "config":
        emulator.configure(**payload)
        return Reply(200, emulator.config.to_json())
    if name == "script":
        faults, calls = payload.get("faults"), payload.get("calls")
        if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
            raise ValueError('expected {"faults": ["429", ...], "calls": "upsert"}')
        if calls is not None and not isinstance(calls, str):
            raise ValueError('"calls" must be a call kind or prefix, e.g. "upsert:orders"')
        emulator.script(*faults, calls=calls)
    elif name == "pipelines":
        object_type = payload.get("objectType")
        if not isinstance(object_type, str):
            raise ValueError('expected {"objectType": "orders", "pipelines": [...]}')
        return Reply(
            200, {"results": emulator.set_pipelines(object_type, payload.get("pipelines"))}
        )
    elif name == "reset":
        emulator.reset()
    else:
        emulator.expire_tokens()
    return Reply(200, {"ok": True})
