"""End to end over real processes: signed webhooks into gunicorn (2 workers), `relay worker`
running, the emulator ends with exactly the expected records; metrics summed across
processes; logs free of secrets and payloads."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET
from tests.processes import VENV_BIN, base_env, free_port, run_process, wait_http

GUNICORN = [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "service.app:create_app()"]
RELAY = str(VENV_BIN / "relay")
SYSTEM = {"hs_object_id", "createdate", "hs_lastmodifieddate", "external_line_item_id"}
ORDERS = 12


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=21, access_tokens={"pat-na1-e2e-secret-token"})) as running:
        yield running


def service_env(store_url: str, emulator: Emulator, metrics_dir: Path) -> dict[str, str]:
    return base_env(
        PORT=str(free_port()),
        WEB_CONCURRENCY="2",
        DATABASE_URL=store_url,
        SHOPIFY_WEBHOOK_SECRETS=SHOPIFY_SECRET,
        WOOCOMMERCE_WEBHOOK_SECRETS=WOO_SECRET,
        RELAY_API_KEYS=API_KEY,
        HUBSPOT_ACCESS_TOKEN="pat-na1-e2e-secret-token",
        HUBSPOT_BASE_URL=emulator.url,
        RELAY_LINGER_SECONDS="0.2",
        RELAY_LOG_JSON="true",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )


def shopify_order(n: int) -> dict[str, Any]:
    order_id = 7_000_000_000_000 + n
    return samples.shopify_order(
        order_id,
        line_items=[
            samples.shopify_line_item(
                order_id * 10 + 1, f"Mug {n} - Blue", "2", "9.50", sku=f"M{n}"
            ),
            samples.shopify_line_item(order_id * 10 + 2, f"Tea {n}", "1", "4.25", discount="0.25"),
        ],
    )


def expected_records() -> dict[str, dict[str, str]]:
    shop = "sample-shop.myshopify.com"
    expected: dict[str, dict[str, str]] = {}
    for n in range(ORDERS):
        order_id = 7_000_000_000_000 + n
        expected[f"shopify:{shop}:{order_id * 10 + 1}"] = {
            "name": f"Mug {n} - Blue",
            "quantity": "2",
            "price": "9.50",
            "discount": "0.00",
            "hs_sku": f"M{n}",
            "hs_line_item_currency_code": "USD",
        }
        expected[f"shopify:{shop}:{order_id * 10 + 2}"] = {
            "name": f"Tea {n}",
            "quantity": "1",
            "price": "4.25",
            "discount": "0.25",
            "hs_line_item_currency_code": "USD",
        }
    expected["woocommerce:shop.example.com:12071"] = {
        "name": "Espresso Cup \u2013 Set of 2",
        "quantity": "2",
        "price": "15.00",
        "discount": "1.50",
        "hs_sku": "EC-2",
        "hs_line_item_currency_code": "EUR",
    }
    expected["woocommerce:shop.example.com:12072"] = {
        "name": "Coffee Beans 1kg",
        "quantity": "1",
        "price": "21.90",
        "discount": "0.00",
        "hs_line_item_currency_code": "EUR",
    }
    return expected


def records(emulator: Emulator) -> dict[str, dict[str, str]]:
    return {
        key: {k: v for k, v in record["properties"].items() if k not in SYSTEM}
        for key, record in emulator.records().items()
    }


def wait_for_records(emulator: Emulator, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(emulator.records()) < count:
        time.sleep(0.1)


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = (
        re.escape(name) + (re.escape("{" + labels + "}") if labels else r"(\{\})?") + r" (\S+)"
    )
    found = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in /metrics"
    return float(found.group(found.lastindex or 1))


def test_signed_webhooks_through_gunicorn_and_the_worker_reach_hubspot_exactly(
    store_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    env = service_env(store_url, emulator, tmp_path / "metrics")
    migrate = subprocess.run(
        [RELAY, "db", "upgrade"], env=env, capture_output=True, timeout=60, check=False
    )
    assert migrate.returncode == 0, migrate.stderr
    base = f"http://127.0.0.1:{env['PORT']}"
    with run_process(GUNICORN, env=env) as web, run_process([RELAY, "worker"], env=env) as worker:
        wait_http(f"{base}/readyz", timeout=30, process=web)
        with requests.Session() as http:
            for n in range(ORDERS):
                body, headers = samples.shopify_request(shopify_order(n), SHOPIFY_SECRET)
                assert (
                    http.post(f"{base}/webhooks/shopify", data=body, headers=headers).status_code
                    == 202
                )
            body, headers = samples.woocommerce_request(samples.woocommerce_order(), WOO_SECRET)
            assert (
                http.post(f"{base}/webhooks/woocommerce", data=body, headers=headers).status_code
                == 202
            )
            wait_for_records(emulator, ORDERS * 2 + 2, timeout=30)
            assert records(emulator) == expected_records()
            time.sleep(0.3)  # let the worker record its last outcome
            scraped = http.get(f"{base}/metrics").text
            status = http.get(
                f"{base}/v1/orders/woocommerce/shop.example.com/1207",
                headers={"Authorization": f"Bearer {API_KEY}"},
            ).json()
        assert worker.stop() == 0
        assert web.stop() == 0
    assert {item["state"] for item in status["line_items"]} == {"delivered"}
    # Counted in two gunicorn processes and the worker; /metrics sums them all.
    pids = {p.name.split("_")[-1] for p in (tmp_path / "metrics").glob("counter_*.db")}
    assert len(pids) >= 2
    assert (
        metric(
            scraped,
            "relay_webhooks_total",
            'outcome="accepted",source="shopify",topic="orders/updated"',
        )
        == ORDERS
    )
    lines = 'kind="line_item"'
    assert metric(scraped, "relay_records_delivered_total", lines) == ORDERS * 2 + 2
    assert metric(scraped, "relay_records_pending", lines) == 0
    assert metric(scraped, "relay_hubspot_requests_total", lines + ',status="200"') >= 1
    logs = web.output() + worker.output()
    assert_logs_are_clean(logs)


def assert_logs_are_clean(logs: str) -> None:
    """Structured, and no token, secret, key or order content in any line."""
    entries = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "order_accepted" for e in entries)
    assert any(e.get("event") == "http_access" for e in entries)
    for forbidden in (
        "pat-na1-e2e-secret-token",
        SHOPIFY_SECRET,
        WOO_SECRET,
        API_KEY,
        "Mug 3",
        "Espresso",
    ):
        assert forbidden not in logs
    # A price, as a number of its own: a timestamp such as 20:38:09.503Z holds "9.50" too.
    assert not re.search(r"(?<![\d.])9\.50(?![\d])", logs)
