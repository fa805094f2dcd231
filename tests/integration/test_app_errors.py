"""Every error leaves the app as application/problem+json, with the request id.

werkzeug's own errors (404, 405, 413) and an unexpected exception go through the same
renderer as the service's errors; a 500 never shows the exception to the caller, but
its log line carries the request id that the caller was given.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service import logs, samples
from service.app import create_app
from service.config import Config
from service.store import migrate
from service.store.engine import make_engine
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET

PROBLEM_JSON = "application/problem+json"
BOOM = "secret-ish detail"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a migrated SQLite file; these errors do not depend on the store."""
    url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    config = Config(
        database_url=url,
        shopify_webhook_secrets=(SHOPIFY_SECRET,),
        woocommerce_webhook_secrets=(WOO_SECRET,),
        relay_api_keys=(API_KEY,),
        hubspot_base_url="http://127.0.0.1:9",
        max_body_bytes=1024,
        log_json=True,
    )
    app = create_app(config, engine)

    @app.get("/test/boom")
    def boom() -> str:
        raise RuntimeError(BOOM)

    yield app
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = json.loads(response.get_data(as_text=True))
    assert {"type", "title", "status"} <= body.keys()
    assert body["status"] == status
    # The body names the request the logs know it by.
    assert body["request_id"] == response.headers["X-Request-ID"]
    for secret in (SHOPIFY_SECRET, WOO_SECRET, API_KEY):
        assert secret not in response.get_data(as_text=True)
    return body


def test_an_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    problem = assert_problem(client.get("/no/such/path"), 404)

    assert problem["title"] == "Not Found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/webhooks/shopify", {"POST", "OPTIONS"}),
        ("PUT", "/webhooks/woocommerce", {"POST", "OPTIONS"}),
        ("POST", "/healthz", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_wrong_method_is_a_405_problem_with_an_allow_header(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)

    problem = assert_problem(response, 405)
    assert problem["title"] == "Method Not Allowed"
    assert {name.strip() for name in response.headers["Allow"].split(",")} == allowed


def test_a_body_over_the_configured_limit_is_a_413_problem(client: FlaskClient) -> None:
    body = b"{" + b" " * 1024 + b"}"  # one byte over max_body_bytes

    response = client.post(
        "/webhooks/shopify", data=body, headers={"Content-Type": "application/json"}
    )

    problem = assert_problem(response, 413)
    assert problem["title"] == "Request Entity Too Large"


def test_a_body_at_the_configured_limit_is_read(client: FlaskClient) -> None:
    body = b"{" + b" " * 1022 + b"}"  # exactly max_body_bytes: read, then refused unsigned

    response = client.post(
        "/webhooks/shopify", data=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 401)


def test_an_unexpected_exception_is_a_500_problem_without_its_text(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(logs.RequestIdFilter())  # as logs.configure() installs it
    with caplog.at_level(logging.ERROR, logger="service.errors"):
        response = client.get("/test/boom", headers={"X-Request-ID": "req-500.abc"})

    problem = assert_problem(response, 500)
    assert problem["request_id"] == "req-500.abc"
    assert BOOM not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "unhandled_error"]
    assert record.levelno == logging.ERROR
    assert record.request_id == "req-500.abc"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["event"] == "unhandled_error"
    assert line["request_id"] == "req-500.abc"
    assert BOOM in line["exception"]  # the operator sees it; the caller does not


def test_the_request_id_is_echoed_when_given(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123_x.y:z"})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "abc-123_x.y:z"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Request-ID": ""}, {"X-Request-ID": "a b"}, {"X-Request-ID": "x" * 129}],
    ids=["absent", "empty", "unsafe", "too-long"],
)
def test_a_request_id_is_generated_when_none_or_an_unusable_one_is_given(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    first = client.get("/healthz", headers=headers)
    second = client.get("/healthz", headers=headers)

    assert GENERATED_ID.match(first.headers["X-Request-ID"])
    assert GENERATED_ID.match(second.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_problem_carries_the_given_request_id(client: FlaskClient) -> None:
    # Small enough for this app's 1 KiB limit, so the signature is what fails.
    body, headers = samples.shopify_request({"id": 1}, "not-the-secret")

    response = client.post(
        "/webhooks/shopify", data=body, headers=headers | {"X-Request-ID": "shop-retry-7"}
    )

    problem = assert_problem(response, 401)
    assert problem["request_id"] == "shop-retry-7"
