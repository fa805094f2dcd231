"""The HubSpot emulator over real HTTP: auth, batch upsert, limits, faults, properties.

Every upsert, properties and OAuth body is checked against HubSpot's OpenAPI documents in
../shared/reference/hubspot-openapi when that folder is beside the clone (CI has it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator, oas30_format_checker, validate

from emulators.hubspot import Emulator, EmulatorConfig

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "hubspot-openapi"
LINE_ITEMS_SPEC = "CRM_Line_Items__v3_lineItems.json"
PROPERTIES_SPEC = "CRM_Properties__v3_properties.json"
OAUTH_SPEC = "Auth_Oauth__v3_oauth.json"
UPSERT = "/crm/v3/objects/line_items/batch/upsert"
PROPERTIES = "/crm/v3/properties/line_items"
KEY = "external_line_item_id"

Start = Callable[..., Emulator]


@cache
def _spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((SPECS / name).read_text())
    return spec


def conforms(body: Any, spec: str, schema: str) -> None:
    """Validate a body against a schema of a HubSpot OpenAPI file, resolving its $refs."""
    if not SPECS.is_dir():
        return  # reported once by test_openapi_reference_is_beside_the_clone
    root = {"$ref": f"#/components/schemas/{schema}", "components": _spec(spec)["components"]}
    validate(body, root, cls=OAS30Validator, format_checker=oas30_format_checker)


def conforms_error(response: requests.Response, spec: str = LINE_ITEMS_SPEC) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    conforms(body, spec, "Error")
    return body


@pytest.fixture
def start() -> Iterator[Start]:
    """Start emulators with config overrides; all are stopped after the test."""
    started: list[Emulator] = []

    def _start(**overrides: Any) -> Emulator:
        emulator = Emulator(EmulatorConfig(**{"seed": 7, **overrides})).start()
        started.append(emulator)
        return emulator

    yield _start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start: Start) -> Emulator:
    return start()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def item(id_: str, *, trace: bool = True, **properties: Any) -> dict[str, Any]:
    """One upsert input keyed by external_line_item_id; keyword args override properties."""
    values = {"name": f"Item {id_}", "price": "10.00", "quantity": "1", **properties}
    body: dict[str, Any] = {"idProperty": KEY, "id": id_, "properties": values}
    if trace:
        body["objectWriteTraceId"] = f"trace-{id_}"
    return body


def upsert(
    http: requests.Session,
    emulator: Emulator,
    inputs: list[dict[str, Any]],
    token: str = "sandbox-token",
    timeout: float = 5.0,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return http.post(
        emulator.url + UPSERT, json={"inputs": inputs}, headers=headers, timeout=timeout
    )


def api_get(
    http: requests.Session, emulator: Emulator, path: str, token: str = "sandbox-token"
) -> requests.Response:
    return http.get(emulator.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def create_property(
    http: requests.Session, emulator: Emulator, **overrides: Any
) -> requests.Response:
    """POST a PropertyCreate: a plain text property unless overridden."""
    definition = {"label": "A property", "type": "string", "fieldType": "text"}
    definition |= {"groupName": "lineiteminformation", **overrides}
    headers = {"Authorization": "Bearer sandbox-token"}
    return http.post(emulator.url + PROPERTIES, json=definition, headers=headers, timeout=5)


def refresh(
    http: requests.Session,
    emulator: Emulator,
    refresh_token: str,
    path: str = "/oauth/v3/token",
    secret: str = "secret",
) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": "client",
        "client_secret": secret,
        "refresh_token": refresh_token,
    }
    return http.post(emulator.url + path, data=form, timeout=5)


def oauth_emulator(start: Start, **overrides: Any) -> Emulator:
    return start(
        oauth_client_id="client",
        oauth_client_secret="secret",
        oauth_refresh_token="refresh-0",
        **overrides,
    )


def test_openapi_reference_is_beside_the_clone() -> None:
    if not SPECS.is_dir():
        pytest.skip("../shared/reference is not beside this clone; CI has it")
    assert (SPECS / LINE_ITEMS_SPEC).is_file()


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic c2FuZGJveA==", "Bearer "])
def test_missing_or_unknown_token_answers_401_invalid_authentication(
    emulator: Emulator, http: requests.Session, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = http.post(
        emulator.url + UPSERT, json={"inputs": [item("a")]}, headers=headers, timeout=5
    )

    assert response.status_code == 401
    body = conforms_error(response)
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found")
    assert emulator.records() == {}


def test_oauth_refresh_issues_a_working_token_and_rotates_the_refresh_token(
    start: Start, http: requests.Session
) -> None:
    emulator = oauth_emulator(start, oauth_expires_in=1800)

    response = refresh(http, emulator, "refresh-0")

    assert response.status_code == 200
    token = response.json()
    conforms(token, OAUTH_SPEC, "TokenResponseIF")
    assert token["token_type"] == "bearer" and token["expires_in"] == 1800
    assert token["refresh_token"] != "refresh-0"
    assert upsert(http, emulator, [item("a")], token=token["access_token"]).status_code == 200
    assert refresh(http, emulator, token["refresh_token"]).status_code == 200


def test_oauth_v1_token_path_also_refreshes(start: Start, http: requests.Session) -> None:
    emulator = oauth_emulator(start)

    response = refresh(http, emulator, "refresh-0", path="/oauth/v1/token")

    assert response.status_code == 200
    conforms(response.json(), OAUTH_SPEC, "TokenResponseIF")


def test_a_used_refresh_token_works_once_more_then_is_revoked(
    start: Start, http: requests.Session
) -> None:
    emulator = oauth_emulator(start)

    first = refresh(http, emulator, "refresh-0")
    retried = refresh(http, emulator, "refresh-0")  # e.g. the first answer was lost
    third = refresh(http, emulator, "refresh-0")

    assert (first.status_code, retried.status_code, third.status_code) == (200, 200, 400)
    assert first.json()["refresh_token"] != retried.json()["refresh_token"]
    assert third.json()["status"] == "BAD_REFRESH_TOKEN"


def test_strict_rotation_refuses_a_used_refresh_token(start: Start, http: requests.Session) -> None:
    emulator = oauth_emulator(start, refresh_token_reuse=0)

    assert refresh(http, emulator, "refresh-0").status_code == 200
    assert refresh(http, emulator, "refresh-0").status_code == 400


def test_bad_refresh_token_answers_invalid_grant(start: Start, http: requests.Session) -> None:
    emulator = oauth_emulator(start)

    response = refresh(http, emulator, "not-a-refresh-token")

    assert response.status_code == 400
    body = conforms_error(response, OAUTH_SPEC)
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == "refresh token is invalid, expired or revoked"
    assert body["status"] == "BAD_REFRESH_TOKEN" and body["message"]


def test_wrong_client_secret_answers_invalid_client(start: Start, http: requests.Session) -> None:
    emulator = oauth_emulator(start)

    response = refresh(http, emulator, "refresh-0", secret="guess")

    assert response.status_code == 400
    assert conforms_error(response, OAUTH_SPEC)["error"] == "invalid_client"


def test_expired_access_token_answers_401_expired_authentication(
    start: Start, http: requests.Session
) -> None:
    emulator = oauth_emulator(start)
    access = refresh(http, emulator, "refresh-0").json()["access_token"]

    emulator.expire_tokens()
    response = upsert(http, emulator, [item("a")], token=access)

    assert response.status_code == 401
    body = conforms_error(response)
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert "The OAuth token used to make this call expired" in body["message"]
    assert body["message"].endswith("second(s) ago.")


def test_access_tokens_expire_after_expires_in(start: Start, http: requests.Session) -> None:
    emulator = oauth_emulator(start, oauth_expires_in=0)
    access = refresh(http, emulator, "refresh-0").json()["access_token"]

    response = upsert(http, emulator, [item("a")], token=access)

    assert response.json()["category"] == "EXPIRED_AUTHENTICATION"


def test_static_tokens_survive_expire_tokens(emulator: Emulator, http: requests.Session) -> None:
    http.post(emulator.url + "/_emulator/expire-tokens", timeout=5).raise_for_status()

    assert upsert(http, emulator, [item("a")]).status_code == 200


# --- batch upsert ------------------------------------------------------------------------


def test_upsert_creates_then_updates_by_id_property(
    emulator: Emulator, http: requests.Session
) -> None:
    created = upsert(http, emulator, [item("a", hs_sku="x"), item("b")])
    updated = upsert(
        http, emulator, [{"idProperty": KEY, "id": "a", "properties": {"quantity": "3"}}]
    )

    assert created.status_code == 200 and updated.status_code == 200
    conforms(created.json(), LINE_ITEMS_SPEC, "BatchResponseSimplePublicUpsertObject")
    conforms(updated.json(), LINE_ITEMS_SPEC, "BatchResponseSimplePublicUpsertObject")
    first = {r["properties"][KEY]: r for r in created.json()["results"]}
    [again] = updated.json()["results"]
    assert created.json()["status"] == "COMPLETE"
    assert first["a"]["new"] is True and again["new"] is False
    assert again["id"] == first["a"]["id"] != first["b"]["id"]
    assert again["properties"]["hs_object_id"] == again["id"]
    assert again["properties"]["quantity"] == "3" and again["properties"]["name"] == "Item a"
    assert set(emulator.records()) == {"a", "b"}
    assert emulator.records()["a"]["id"] == again["id"]


def test_results_do_not_come_back_in_input_order(
    emulator: Emulator, http: requests.Session
) -> None:
    ids = [f"id-{n}" for n in range(10)]

    results = upsert(http, emulator, [item(i) for i in ids]).json()["results"]

    returned = [r["properties"][KEY] for r in results]
    assert sorted(returned) == sorted(ids) and returned != ids


def test_results_echo_object_write_trace_ids(emulator: Emulator, http: requests.Session) -> None:
    results = upsert(http, emulator, [item("a"), item("b")]).json()["results"]

    assert {r["objectWriteTraceId"]: r["properties"][KEY] for r in results} == {
        "trace-a": "a",
        "trace-b": "b",
    }


def test_input_without_id_property_updates_the_record_with_that_hubspot_id(
    emulator: Emulator, http: requests.Session
) -> None:
    [created] = upsert(http, emulator, [item("a")]).json()["results"]

    response = upsert(http, emulator, [{"id": created["id"], "properties": {"quantity": "7"}}])

    assert response.status_code == 200
    assert emulator.records()["a"]["properties"]["quantity"] == "7"


def test_input_without_id_property_for_an_unknown_record_is_not_found(
    emulator: Emulator, http: requests.Session
) -> None:
    inputs = [{"id": "999", "properties": {"quantity": "7"}, "objectWriteTraceId": "t"}]

    response = upsert(http, emulator, inputs)

    assert response.status_code == 207
    assert response.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"inputs": {}}', b'{"input": []}', b'{"inputs": [{"id": "a"}]}'],
    ids=["malformed", "array", "inputs-not-a-list", "no-inputs", "input-without-properties"],
)
def test_malformed_bodies_are_validation_errors(
    emulator: Emulator, http: requests.Session, body: bytes
) -> None:
    headers = {"Authorization": "Bearer sandbox-token", "Content-Type": "application/json"}

    response = http.post(emulator.url + UPSERT, data=body, headers=headers, timeout=5)

    assert response.status_code == 400
    assert conforms_error(response)["category"] == "VALIDATION_ERROR"


def test_more_than_100_inputs_reject_the_whole_batch(
    emulator: Emulator, http: requests.Session
) -> None:
    response = upsert(http, emulator, [item(f"id-{n}") for n in range(101)])

    assert response.status_code == 400
    assert conforms_error(response)["category"] == "VALIDATION_ERROR"
    assert emulator.records() == {}


def test_exactly_100_inputs_are_accepted(emulator: Emulator, http: requests.Session) -> None:
    response = upsert(http, emulator, [item(f"id-{n}") for n in range(100)])

    assert response.status_code == 200 and len(emulator.records()) == 100


def test_duplicate_ids_reject_the_whole_batch(emulator: Emulator, http: requests.Session) -> None:
    response = upsert(http, emulator, [item("a"), item("b"), item("a", quantity="2")])

    assert response.status_code == 400
    body = conforms_error(response)
    assert body["message"] == "Duplicate IDs found in batch input: [a]. IDs must be unique"
    assert body["context"] == {"ids": ["a"]}
    assert body["category"] == "VALIDATION_ERROR"
    assert emulator.records() == {}


@pytest.mark.parametrize("id_property", ["name", "hs_object_id"])
def test_non_unique_id_property_is_refused(
    emulator: Emulator, http: requests.Session, id_property: str
) -> None:
    inputs = [{"idProperty": id_property, "id": "a", "properties": {"price": "1"}}]

    response = upsert(http, emulator, inputs)

    assert response.status_code == 400
    body = conforms_error(response)
    assert (
        body["message"]
        == f"Unable to perform update/upsert by non-unique 0-8 property {id_property}"
    )


INVALID_PROPERTIES = {
    "unknown-property": ({"colour": "red"}, "colour", "PROPERTY_DOESNT_EXIST"),
    "read-only-property": ({"amount": "10"}, "amount", "READ_ONLY_VALUE"),
    "not-a-string": ({"quantity": 2}, "quantity", "INVALID_TYPE"),
    "negative-price": ({"price": "-1.00"}, "price", "INVALID_DECIMAL"),
    "non-numeric-price": ({"price": "ten"}, "price", "INVALID_DECIMAL"),
    "non-numeric-quantity": ({"quantity": "1x"}, "quantity", "INVALID_DECIMAL"),
    "non-numeric-discount": ({"discount": "NaN"}, "discount", "INVALID_DECIMAL"),
    "unknown-option": (
        {"recurringbillingfrequency": "hourly"},
        "recurringbillingfrequency",
        "INVALID_OPTION",
    ),
}


@pytest.mark.parametrize("case", INVALID_PROPERTIES.values(), ids=INVALID_PROPERTIES.keys())
def test_per_input_problems_with_trace_ids_answer_207_and_write_the_good_inputs(
    emulator: Emulator, http: requests.Session, case: tuple[dict[str, Any], str, str]
) -> None:
    properties, name, error = case

    response = upsert(http, emulator, [item("good"), item("bad", **properties), item("fine")])

    assert response.status_code == 207
    body = response.json()
    conforms(body, LINE_ITEMS_SPEC, "BatchResponseSimplePublicUpsertObjectWithErrors")
    assert body["numErrors"] == 1
    [failure] = body["errors"]
    assert failure["status"] == "error" and failure["category"] == "VALIDATION_ERROR"
    assert failure["context"] == {"objectWriteTraceId": ["trace-bad"], "ids": ["bad"]}
    assert failure["message"].startswith("Property values were not valid: [")
    [problem] = json.loads(failure["message"].removeprefix("Property values were not valid: "))
    assert problem["name"] == name and problem["error"] == error and problem["isValid"] is False
    assert failure["errors"][0]["in"] == name
    assert {r["objectWriteTraceId"] for r in body["results"]} == {"trace-good", "trace-fine"}
    assert set(emulator.records()) == {"good", "fine"}


def test_per_input_problems_without_trace_ids_reject_the_whole_batch(
    emulator: Emulator, http: requests.Session
) -> None:
    inputs = [item("good", trace=False), item("bad", trace=False, price="-5")]

    response = upsert(http, emulator, inputs)

    assert response.status_code == 400
    body = conforms_error(response)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid:")
    assert "context" not in body  # nothing says which input failed
    assert emulator.records() == {}


def test_trace_ids_on_only_some_inputs_count_as_missing(
    emulator: Emulator, http: requests.Session
) -> None:
    response = upsert(http, emulator, [item("good"), item("bad", trace=False, colour="red")])

    assert response.status_code == 400 and emulator.records() == {}


def test_a_portal_without_multi_status_rejects_the_whole_traced_batch(
    start: Start, http: requests.Session
) -> None:
    emulator = start(multi_status=False)

    response = upsert(http, emulator, [item("good"), item("bad", price="-5")])

    assert response.status_code == 400
    assert "context" not in conforms_error(response)
    assert emulator.records() == {}


def test_an_empty_string_clears_a_number(emulator: Emulator, http: requests.Session) -> None:
    upsert(http, emulator, [item("a", discount="1.00")])

    response = upsert(http, emulator, [item("a", discount="")])

    assert response.status_code == 200
    assert emulator.records()["a"]["properties"]["discount"] == ""


def test_a_unique_value_cannot_belong_to_two_records(
    emulator: Emulator, http: requests.Session
) -> None:
    assert create_property(http, emulator, name="shop_key", hasUniqueValue=True).ok
    upsert(http, emulator, [item("a", shop_key="k1")])

    response = upsert(http, emulator, [item("b", shop_key="k1"), item("c", shop_key="k2")])

    assert response.status_code == 207
    assert response.json()["errors"][0]["context"]["ids"] == ["b"]
    assert set(emulator.records()) == {"a", "c"}


def test_requests_log_keeps_every_upsert_body_in_arrival_order(
    emulator: Emulator, http: requests.Session
) -> None:
    bodies = [{"inputs": [item("a")]}, {"inputs": [item("b"), item("a")]}, {"inputs": [item("c")]}]
    for body in bodies:
        upsert(http, emulator, body["inputs"])
    api_get(http, emulator, PROPERTIES)

    log = emulator.requests_log()

    expected = [{**body, "kind": "upsert:line_items", "path": UPSERT} for body in bodies]
    assert log == expected  # the properties read is not a write call: not logged
    for body in log:
        conforms(body, LINE_ITEMS_SPEC, "BatchInputSimplePublicObjectBatchInputUpsert")
    assert http.get(emulator.url + "/_emulator/requests", timeout=5).json() == expected
    assert emulator.stats()["inputs"] == 4


# --- rate limits -------------------------------------------------------------------------


def test_every_api_response_carries_rate_limit_headers(
    start: Start, http: requests.Session
) -> None:
    emulator = start(rate_limit=5, daily_limit=1000)

    headers = upsert(http, emulator, [item("a")]).headers
    failed = upsert(http, emulator, [item("a"), item("a")]).headers  # a 400 counts too

    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert headers["X-HubSpot-RateLimit-Max"] == "5"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "4"
    assert headers["X-HubSpot-RateLimit-Daily"] == "1000"
    assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "999"
    assert failed["X-HubSpot-RateLimit-Remaining"] == "3"


def test_oauth_calls_carry_no_daily_rate_limit_headers(
    start: Start, http: requests.Session
) -> None:
    emulator = oauth_emulator(start)
    access = refresh(http, emulator, "refresh-0").json()["access_token"]

    headers = upsert(http, emulator, [item("a")], token=access).headers

    assert "X-HubSpot-RateLimit-Remaining" in headers
    assert "X-HubSpot-RateLimit-Daily" not in headers


def test_requests_over_the_window_answer_429_ten_secondly_rolling(
    start: Start, http: requests.Session
) -> None:
    emulator = start(rate_limit=3, rate_window=1.0)

    statuses = [upsert(http, emulator, [item(f"id-{n}")]).status_code for n in range(3)]
    refused = upsert(http, emulator, [item("over")])

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    body = conforms_error(refused)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["requestId"] and body["status"] == "error"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "over" not in emulator.records()
    stats = emulator.stats()
    assert stats["rate_limited"] == 1 and stats["by_status"] == {"200": 3, "429": 1}
    assert stats["max_in_window"] == 4  # refused requests are seen too


def test_a_refused_request_takes_no_slot_in_the_rolling_window(
    start: Start, http: requests.Session
) -> None:
    emulator = start(rate_limit=2, rate_window=1.0)
    began = time.monotonic()
    assert [upsert(http, emulator, [item(f"a{n}")]).status_code for n in range(2)] == [200, 200]
    time.sleep(max(0.0, began + 0.5 - time.monotonic()))
    assert upsert(http, emulator, [item("refused")]).status_code == 429

    time.sleep(max(0.0, began + 1.15 - time.monotonic()))  # the two successes have rolled off

    assert [upsert(http, emulator, [item(f"b{n}")]).status_code for n in range(2)] == [200, 200]


def test_the_daily_limit_answers_429_daily(start: Start, http: requests.Session) -> None:
    emulator = start(daily_limit=2)

    statuses = [upsert(http, emulator, [item(f"id-{n}")]).status_code for n in range(2)]
    refused = upsert(http, emulator, [item("over")])

    assert statuses == [200, 200] and refused.status_code == 429
    body = conforms_error(refused)
    assert body["policyName"] == "DAILY" and body["message"] == "You have reached your daily limit."
    assert refused.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_properties_calls_share_the_rate_window(start: Start, http: requests.Session) -> None:
    emulator = start(rate_limit=1)

    assert api_get(http, emulator, PROPERTIES).status_code == 200
    assert upsert(http, emulator, [item("a")]).status_code == 429


# --- faults ------------------------------------------------------------------------------

STATUS_FAULTS = {
    "500": (500, None),
    "502": (502, None),
    "503": (503, None),
    "504": (504, None),
    "423": (423, "LOCKED"),
    "429": (429, "RATE_LIMITS"),
    "daily": (429, "RATE_LIMITS"),
    "477": (477, "MIGRATION_IN_PROGRESS"),
    "401": (401, "INVALID_AUTHENTICATION"),
    "403": (403, "MISSING_SCOPES"),
    "400-unattributed": (400, "VALIDATION_ERROR"),
}


@pytest.mark.parametrize("fault", STATUS_FAULTS)
def test_scripted_faults_answer_their_status_and_write_nothing(
    emulator: Emulator, http: requests.Session, fault: str
) -> None:
    status, category = STATUS_FAULTS[fault]
    emulator.script(fault)

    response = upsert(http, emulator, [item("a")])

    assert response.status_code == status
    body = conforms_error(response)
    assert category is None or body["category"] == category
    assert emulator.records() == {}
    assert upsert(http, emulator, [item("a")]).status_code == 200  # the script is spent


def test_rate_faults_name_their_policy(emulator: Emulator, http: requests.Session) -> None:
    emulator.script("429", "daily")

    policies = [upsert(http, emulator, [item("a")]).json()["policyName"] for _ in range(2)]

    assert policies == ["TEN_SECONDLY_ROLLING", "DAILY"]
    assert emulator.stats()["rate_limited"] == 2


def test_a_477_carries_retry_after(emulator: Emulator, http: requests.Session) -> None:
    emulator.script("477")

    assert upsert(http, emulator, [item("a")]).headers["Retry-After"] == "1"


def test_scripted_faults_apply_in_order(emulator: Emulator, http: requests.Session) -> None:
    emulator.script("500", "423", "503")

    statuses = [upsert(http, emulator, [item("a")]).status_code for _ in range(4)]

    assert statuses == [500, 423, 503, 200]


def test_unscripted_faults_pass_reads_by_and_hit_the_upsert(
    emulator: Emulator, http: requests.Session
) -> None:
    emulator.script("500")

    assert api_get(http, emulator, PROPERTIES).status_code == 200
    assert upsert(http, emulator, [item("a")]).status_code == 500


def test_timeout_fault_stalls_then_answers_504(start: Start, http: requests.Session) -> None:
    emulator = start(timeout_seconds=0.3)
    emulator.script("timeout", "timeout")

    with pytest.raises(requests.ReadTimeout):
        upsert(http, emulator, [item("a")], timeout=0.1)
    began = time.monotonic()
    response = upsert(http, emulator, [item("a")])

    assert response.status_code == 504 and time.monotonic() - began >= 0.3
    conforms_error(response)
    assert emulator.records() == {}


def test_drop_fault_closes_the_connection_unanswered(
    emulator: Emulator, http: requests.Session
) -> None:
    emulator.script("drop")

    with pytest.raises(requests.ConnectionError):
        upsert(http, emulator, [item("a")])

    assert emulator.records() == {}
    assert emulator.stats()["dropped"] == 1
    assert upsert(http, emulator, [item("a")]).status_code == 200


def test_fault_rates_draw_faults_reproducibly_by_seed(start: Start, http: requests.Session) -> None:
    runs = []
    for _ in range(2):
        emulator = start(seed=11, fault_rates={"500": 0.3, "423": 0.2})
        runs.append([upsert(http, emulator, [item("a")]).status_code for _ in range(20)])

    assert runs[0] == runs[1]
    assert {500, 423, 200} <= set(runs[0])


def test_unknown_fault_names_are_refused(emulator: Emulator, http: requests.Session) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        emulator.script("418")
    with pytest.raises(ValueError, match="unknown faults"):
        EmulatorConfig(fault_rates={"teapot": 1.0})

    response = http.post(emulator.url + "/_emulator/script", json={"faults": ["418"]}, timeout=5)

    assert response.status_code == 400


# --- latency and concurrency -------------------------------------------------------------


def test_latency_delays_api_calls_but_not_control_calls(
    start: Start, http: requests.Session
) -> None:
    emulator = start(latency=0.25)

    began = time.monotonic()
    upsert(http, emulator, [item("a")])
    api_elapsed = time.monotonic() - began
    began = time.monotonic()
    http.get(emulator.url + "/_emulator/stats", timeout=5)
    control_elapsed = time.monotonic() - began

    assert api_elapsed >= 0.25 > control_elapsed


def test_a_stalled_request_does_not_block_others(start: Start) -> None:
    emulator = start(timeout_seconds=5.0)
    emulator.script("timeout")
    stalled: list[BaseException] = []

    def send_stalled() -> None:
        with requests.Session() as session:
            try:
                upsert(session, emulator, [item("slow")], timeout=0.8)
            except requests.ReadTimeout as exc:
                stalled.append(exc)

    worker = threading.Thread(target=send_stalled)
    worker.start()
    while emulator.stats()["upsert_requests"] == 0:
        time.sleep(0.01)
    with requests.Session() as session:
        began = time.monotonic()
        fast = upsert(session, emulator, [item("fast")])
        elapsed = time.monotonic() - began
    still_stalled = worker.is_alive()
    worker.join()

    assert fast.status_code == 200 and elapsed < 0.5 and still_stalled
    assert len(stalled) == 1


# --- properties API ----------------------------------------------------------------------


def test_properties_list_holds_the_defaults_and_the_unique_id_property(
    emulator: Emulator, http: requests.Session
) -> None:
    response = api_get(http, emulator, PROPERTIES)

    assert response.status_code == 200
    conforms(response.json(), PROPERTIES_SPEC, "CollectionResponsePropertyNoPaging")
    by_name = {p["name"]: p for p in response.json()["results"]}
    assert {"name", "price", "quantity", "discount", "hs_sku", "amount", KEY} <= set(by_name)
    assert by_name[KEY]["hasUniqueValue"] is True
    assert by_name["amount"]["calculated"] is True
    assert by_name["amount"]["modificationMetadata"]["readOnlyValue"] is True


def test_a_property_is_read_by_name(emulator: Emulator, http: requests.Session) -> None:
    found = api_get(http, emulator, f"{PROPERTIES}/{KEY}")
    missing = api_get(http, emulator, f"{PROPERTIES}/no_such_property")

    assert found.status_code == 200
    conforms(found.json(), PROPERTIES_SPEC, "Property")
    assert found.json()["name"] == KEY
    assert missing.status_code == 404
    conforms_error(missing, PROPERTIES_SPEC)


def test_a_created_unique_property_exists_and_can_key_upserts(
    start: Start, http: requests.Session
) -> None:
    emulator = start(unique_properties=set())
    assert upsert(http, emulator, [item("a")]).status_code == 400  # not unique yet

    created = create_property(http, emulator, name=KEY, hasUniqueValue=True)
    again = create_property(http, emulator, name=KEY, hasUniqueValue=True)

    assert created.status_code == 201
    conforms(created.json(), PROPERTIES_SPEC, "Property")
    assert created.json()["hasUniqueValue"] is True
    assert created.headers["Location"].endswith(f"{PROPERTIES}/{KEY}")
    assert again.status_code == 409
    assert conforms_error(again, PROPERTIES_SPEC)["category"] == "OBJECT_ALREADY_EXISTS"
    assert api_get(http, emulator, f"{PROPERTIES}/{KEY}").status_code == 200
    assert upsert(http, emulator, [item("a")]).status_code == 200


def test_creating_a_property_without_required_fields_is_a_validation_error(
    emulator: Emulator, http: requests.Session
) -> None:
    response = create_property(http, emulator, name="x", label=None, fieldType=None)

    assert response.status_code == 400
    assert conforms_error(response, PROPERTIES_SPEC)["category"] == "VALIDATION_ERROR"


def test_creating_a_property_without_scopes_answers_403(
    start: Start, http: requests.Session
) -> None:
    emulator = start(missing_scopes=True)
    response = create_property(http, emulator, name="x")

    assert response.status_code == 403
    body = conforms_error(response, PROPERTIES_SPEC)
    assert body["category"] == "MISSING_SCOPES"
    assert body["message"].startswith("This app hasn't been granted all required scopes")


# --- routing and control -----------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path", [("GET", "/crm/v3/objects/tickets"), ("POST", "/nowhere"), ("GET", UPSERT)]
)
def test_unknown_routes_answer_a_hubspot_style_404(
    emulator: Emulator, http: requests.Session, method: str, path: str
) -> None:
    response = http.request(method, emulator.url + path, timeout=5)

    assert response.status_code == 404
    assert response.headers["X-HubSpot-NotFound"] == "true"
    conforms_error(response)


def test_control_endpoints_need_no_auth_and_cost_no_rate_budget(
    start: Start, http: requests.Session
) -> None:
    emulator = start(rate_limit=1)
    control = emulator.url + "/_emulator"
    upsert(http, emulator, [item("a")])

    records = http.get(f"{control}/records", timeout=5).json()
    stats = http.get(f"{control}/stats", timeout=5).json()
    config = http.post(f"{control}/config", json={"rate_limit": 5, "latency": 0}, timeout=5)
    scripted = http.post(f"{control}/script", json={"faults": ["503"]}, timeout=5)

    assert set(records) == {"a"} and records["a"]["properties"][KEY] == "a"
    assert (
        stats["requests"] == 1
        and stats["upsert_requests"] == 1
        and stats["by_status"] == {"200": 1}
    )
    assert config.status_code == 200 and config.json()["rate_limit"] == 5
    assert emulator.config.rate_limit == 5
    assert scripted.status_code == 200
    assert upsert(http, emulator, [item("a")]).status_code == 503


def test_config_changes_are_validated(emulator: Emulator, http: requests.Session) -> None:
    control = emulator.url + "/_emulator/config"

    unknown = http.post(control, json={"no_such_field": 1}, timeout=5)
    wrong_type = http.post(control, json={"rate_limit": "many"}, timeout=5)

    assert unknown.status_code == 400 and wrong_type.status_code == 400
    assert emulator.config.rate_limit == 100


def test_the_whole_config_round_trips_over_http(start: Start, http: requests.Session) -> None:
    emulator = start(fault_rates={"500": 0.5}, oauth_client_id="client")
    before = emulator.config.to_json()

    response = http.post(emulator.url + "/_emulator/config", json=before, timeout=5)

    assert response.status_code == 200 and response.json() == before
    assert http.get(emulator.url + "/_emulator/config", timeout=5).json() == before


def test_config_sets_arrive_as_lists_over_http(emulator: Emulator, http: requests.Session) -> None:
    http.post(emulator.url + "/_emulator/config", json={"access_tokens": ["t2"]}, timeout=5)

    assert emulator.config.access_tokens == {"t2"}
    assert upsert(http, emulator, [item("a")], token="t2").status_code == 200
    assert upsert(http, emulator, [item("a")]).status_code == 401


def test_reset_forgets_records_counters_and_scripts(
    emulator: Emulator, http: requests.Session
) -> None:
    upsert(http, emulator, [item("a")])
    emulator.script("500")

    http.post(emulator.url + "/_emulator/reset", timeout=5).raise_for_status()

    assert emulator.records() == {} and emulator.requests_log() == []
    assert emulator.stats()["requests"] == 0
    assert upsert(http, emulator, [item("a")]).status_code == 200


def test_url_needs_a_started_emulator() -> None:
    with pytest.raises(RuntimeError):
        _ = Emulator().url


def test_serve_runs_an_emulator_in_the_foreground() -> None:
    code = "from emulators.hubspot import serve, EmulatorConfig; serve(0, EmulatorConfig())"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line.rsplit(" ", 1)[-1].strip()
            stats = requests.get(f"{url}/_emulator/stats", timeout=5)
        finally:
            process.terminate()
            process.wait(timeout=5)

    assert line.startswith("HubSpot emulator listening on http://127.0.0.1:")
    assert stats.status_code == 200 and stats.json()["requests"] == 0
