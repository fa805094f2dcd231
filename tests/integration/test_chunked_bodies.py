"""A chunked body (no Content-Length) over RELAY_MAX_BODY_BYTES is a 413 like any other,
on every receiver and on /v1/orders, through real gunicorn: werkzeug alone would cut it at
the limit and let the view store the first part. One within the limit is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from service import samples
from service.store.engine import make_engine
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET
from tests.integration.ingest_support import row_counts
from tests.integration.test_gunicorn_ingest import GUNICORN, relay_db_upgrade, web_env
from tests.processes import run_process, wait_http

LIMIT = 64 * 1024


def padded(payload: dict[str, object], size: int) -> bytes:
    """The payload as JSON, then whitespace up to `size` bytes: still valid JSON, so a
    body cut at the limit would load and store."""
    body = json.dumps(payload).encode()
    return body + b" " * (size - len(body))


def in_chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sa.Engine]]:
    """One gunicorn for the module, on a fresh SQLite file, with a 64 KiB body limit."""
    url = f"sqlite:///{tmp_path_factory.mktemp('chunked') / 'relay.sqlite3'}"
    env = web_env(url) | {"RELAY_API_KEYS": API_KEY, "RELAY_MAX_BODY_BYTES": str(LIMIT)}
    relay_db_upgrade(env)
    engine = make_engine(url)
    base = f"http://127.0.0.1:{env['PORT']}"
    with run_process(GUNICORN, env) as process:
        wait_http(f"{base}/healthz", timeout=30, process=process)
        yield base, engine
    engine.dispose()


def shopify(size: int) -> tuple[str, bytes, dict[str, str]]:
    body = padded(samples.shopify_order(), size)
    _, headers = samples.shopify_request({}, SHOPIFY_SECRET, shop="chunked.myshopify.com")
    headers["X-Shopify-Hmac-Sha256"] = samples.sign(SHOPIFY_SECRET, body)
    return "/webhooks/shopify", body, headers


def woocommerce(size: int) -> tuple[str, bytes, dict[str, str]]:
    body = padded(samples.woocommerce_order(), size)
    _, headers = samples.woocommerce_request({}, WOO_SECRET, site="https://chunked.example/")
    headers["X-WC-Webhook-Signature"] = samples.sign(WOO_SECRET, body)
    return "/webhooks/woocommerce", body, headers


def internal(size: int) -> tuple[str, bytes, dict[str, str]]:
    order = {
        "source": "erp",
        "store": "chunked-store",
        "order_id": "SO-CHUNKED",
        "currency": "EUR",
        "updated_at": "2026-11-27T10:00:00Z",
        "line_items": [{"id": "1", "name": "Lamp", "quantity": 1, "unit_price": "9.90"}],
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    return "/v1/orders", padded(order, size), headers


RECEIVERS = [shopify, woocommerce, internal]


@pytest.mark.parametrize("request_for", RECEIVERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + LIMIT // 2], ids=["one_over", "half_over"])
def test_a_chunked_body_over_the_limit_is_a_413_and_stores_nothing(
    web: tuple[str, sa.Engine], request_for: object, size: int
) -> None:
    base, engine = web
    path, body, headers = request_for(size)  # type: ignore[operator]
    before = row_counts(engine)

    answer = requests.post(f"{base}{path}", data=in_chunks(body), headers=headers, timeout=10)

    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    assert answer.status_code == 413, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 413
    assert row_counts(engine) == before


@pytest.mark.parametrize("request_for", RECEIVERS, ids=lambda f: f.__name__)
def test_a_chunked_body_at_the_limit_is_read_whole_and_stored(
    web: tuple[str, sa.Engine], request_for: object
) -> None:
    base, engine = web
    path, body, headers = request_for(LIMIT)  # type: ignore[operator]
    before = row_counts(engine)["orders"]

    answer = requests.post(f"{base}{path}", data=in_chunks(body), headers=headers, timeout=10)

    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    assert row_counts(engine)["orders"] == before + 1
