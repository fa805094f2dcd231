"""Request bodies of the internal API: JSON only, and a selection of exactly one kind."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from service.errors import ProblemError
from service.sources import parse_json


def json_body() -> object:
    """The request's JSON body; 415 for another content type, 400 for malformed JSON."""
    if request.mimetype != "application/json":
        raise ProblemError(
            "Send the body as application/json.",
            errors={"Content-Type": ["Expected application/json."]},
            status=415,
        )
    try:
        return parse_json(request.get_data(cache=True))
    except ValueError as exc:
        raise ProblemError("The body is not valid JSON.", errors={"body": [str(exc)]}) from exc


def selection(choices: dict[str, type[Schema]]) -> dict[str, Any]:
    """A body that selects by exactly one of `choices` (its only key names which), loaded
    by that choice's schema; 422 otherwise."""
    raw = json_body()
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in choices:
        message = f"Give exactly one of {' or '.join(choices)} (all: true)."
        raise ProblemError(message, errors={"_schema": [message]}, status=422)
    loaded: dict[str, Any] = choices[next(iter(raw))]().load(raw)
    return loaded
