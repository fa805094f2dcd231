"""The shape every emulator's `/_emulator/*` control endpoints share: GET reads, POST
commands with a JSON object, and bad input answered 400 (404 for an unknown shop or
site) with `{"errors": "<what is wrong>"}`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from emulators.common.http import Reply, Request

Getter = Callable[[dict[str, str]], Any]  # the query string -> the answer
Command = Callable[[dict[str, Any]], Any]  # the JSON body -> the answer


def dispatch(
    request: Request, getters: Mapping[str, Getter], commands: Mapping[str, Command]
) -> Reply:
    name = request.path.removeprefix("/_emulator/")
    try:
        if request.method == "GET" and name in getters:
            return Reply(200, getters[name](request.query))
        if request.method == "POST" and name in commands:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            return Reply(200, commands[name](payload))
    except KeyError as exc:  # an unknown shop or site
        return Reply(404, {"errors": str(exc.args[0])})
    except (ValueError, TypeError) as exc:  # bad JSON, a bad field, an action that does not fit
        return Reply(400, {"errors": str(exc)})
    return Reply(404, {"errors": f"no emulator control {request.method} {request.path}"})


def timeout_of(payload: dict[str, Any]) -> float:
    timeout = payload.get("timeout", 5.0)
    if type(timeout) not in (int, float) or timeout < 0:
        raise ValueError('"timeout" is a number of seconds')
    return float(timeout)


def faults_of(payload: dict[str, Any]) -> list[str]:
    faults = payload.get("faults")
    if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
        raise ValueError('expected {"faults": ["500", ...], "calls": "orders"}')
    return faults


def object_of(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f'"{name}" takes an object')
    return value
