"""Talking to a started HubSpot emulator over real HTTP, every answer (and every JSON
request) checked against HubSpot's OpenAPI files by `tests.hubspot_spec`."""

from __future__ import annotations

from typing import Any

import requests

from emulators.hubspot import Emulator
from tests.hubspot_spec import validate_answer, validate_request

TOKEN = "sandbox-token"


class Hub:
    """A client of one emulator: `call` sends, checks the answer and returns it."""

    def __init__(self, emulator: Emulator, http: requests.Session, token: str = TOKEN) -> None:
        self.emulator = emulator
        self.http = http
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        checked_as: int | None = None,
    ) -> requests.Response:
        """Send; check the answer as the spec's response for its status (or `checked_as`)."""
        if body is not None:
            validate_request(method, path, body)
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = self.http.request(
            method, self.emulator.url + path, json=body, headers=headers, timeout=10
        )
        answer = response.json() if response.content else None
        validate_answer(method, path, checked_as or response.status_code, answer)
        return response

    def upsert(self, object_type: str, inputs: list[dict[str, Any]]) -> requests.Response:
        return self.call("POST", f"/crm/v3/objects/{object_type}/batch/upsert", {"inputs": inputs})

    def associate(
        self,
        source: str,
        target: str,
        pairs: list[tuple[str, str]],
        type_id: int,
        checked_as: int | None = None,
    ) -> requests.Response:
        spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
        inputs = [{"from": {"id": a}, "to": {"id": b}, "types": [spec]} for a, b in pairs]
        path = f"/crm/v4/associations/{source}/{target}/batch/create"
        return self.call("POST", path, {"inputs": inputs}, checked_as=checked_as)

    def ids(self, object_type: str) -> dict[str, str]:
        """Record ids by the key each record was created by."""
        return {key: r["id"] for key, r in self.emulator.records(object_type).items()}


def keyed(
    key: str, id_property: str = "external_order_key", trace: bool = True, **properties: str
) -> dict[str, Any]:
    """One upsert input keyed by `id_property`; keyword args are its properties."""
    body: dict[str, Any] = {"idProperty": id_property, "id": key, "properties": properties}
    if trace:
        body["objectWriteTraceId"] = f"trace-{key}"
    return body


def order(key: str, trace: bool = True, **properties: str) -> dict[str, Any]:
    return keyed(key, trace=trace, **{"hs_order_name": f"Order {key}", **properties})


def line(key: str, trace: bool = True, **properties: str) -> dict[str, Any]:
    values = {"name": f"Item {key}", "price": "10.00", "quantity": "1", **properties}
    return keyed(key, "external_line_item_id", trace, **values)


def contact(email: str, trace: bool = True, **properties: str) -> dict[str, Any]:
    return keyed(email, "email", trace, **properties)
