"""Check HTTP bodies against HubSpot's OpenAPI files in ../shared/reference/hubspot-openapi.

    validate_request("POST", "/crm/v3/objects/orders/batch/upsert", body)
    validate_answer("GET", "/crm/v3/objects/orders/123", 200, body)

The operation is found by method and path template across every file: the template with
the fewest parameters wins, so `/crm/v3/objects/orders/{orderId}` (orders file) beats
`/crm/v3/objects/{objectType}/{objectId}` (generic objects file), which in turn serves
types without a file of their own (`0-8`, `deals` by name). A query string is ignored.
An error status the operation does not declare is checked against the file's `Error`
schema (the spec's `default` response carries no schema).

One known difference between the files and HubSpot's answers is allowed: HubSpot sends
null for a requested property the record has no value for, where the spec types
SimplePublicObject(WithAssociations).properties as strings only. Everything else is
strict. Without ../shared the calls skip the test, with that reason.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.conftest import require_shared

_NULLABLE_PROPERTIES = ("SimplePublicObject", "SimplePublicObjectWithAssociations")


@dataclass(frozen=True)
class Operation:
    file: str
    template: str
    method: str
    spec: dict[str, Any]
    components: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template} ({self.file})"


def validate_request(method: str, path: str, body: Any) -> Operation:
    """Assert a request body fits the operation's JSON request schema; returns the op."""
    operation = find_operation(method, path)
    content = operation.spec.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        assert body is None, f"{operation.name} takes no JSON body"
        return operation
    _validate(body, content["application/json"]["schema"], operation)
    return operation


def validate_answer(method: str, path: str, status: int, body: Any) -> Operation:
    """Assert an answer fits the operation's response for its status; returns the op."""
    operation = find_operation(method, path)
    responses = operation.spec["responses"]
    response = responses.get(str(status))
    if response is None and status < 400:
        raise AssertionError(f"{operation.name} declares no {status}: {sorted(responses)}")
    content = (response or {}).get("content", {})
    if "application/json" in content:
        _validate(body, content["application/json"]["schema"], operation)
    elif status >= 400:
        _validate(body, {"$ref": "#/components/schemas/Error"}, operation)
    else:
        assert body in (None, b"", ""), f"{operation.name} {status} has no body"
    return operation


def find_operation(method: str, path: str) -> Operation:
    path = path.split("?", 1)[0]
    candidates = [
        op
        for pattern, op in _operations()
        if op.method == method.lower() and pattern.fullmatch(path)
    ]
    if not candidates:
        raise AssertionError(f"no operation in HubSpot's OpenAPI files for {method} {path}")
    return min(candidates, key=lambda op: (op.template.count("{"), -len(op.template)))


def _validate(body: Any, schema: dict[str, Any], operation: Operation) -> None:
    root = {**schema, "components": operation.components}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    problems = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if problems:
        details = "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in problems[:5])
        raise AssertionError(f"{operation.name}: {details}")


@cache
def _operations() -> tuple[tuple[re.Pattern[str], Operation], ...]:
    folder = require_shared("reference", "hubspot-openapi")
    found = []
    for file in sorted(folder.glob("*.json")):
        document = json.loads(file.read_text())
        components = _with_nullable_properties(document.get("components", {}))
        for template, methods in document["paths"].items():
            pattern = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))
            for method, spec in methods.items():
                if isinstance(spec, dict) and "responses" in spec:
                    found.append(
                        (pattern, Operation(file.name, template, method, spec, components))
                    )
    return tuple(found)


def _with_nullable_properties(components: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(components)
    for name in _NULLABLE_PROPERTIES:
        schema = patched.get("schemas", {}).get(name)
        if schema:
            schema["properties"]["properties"]["additionalProperties"]["nullable"] = True
    return patched
