"""The web process as the Procfile runs it: `relay db upgrade`, then real gunicorn with
deploy/gunicorn.conf.py and `service.app:create_app()` reading the environment; signed
shop orders over real HTTP land in the store; SIGTERM stops it cleanly.

Runs on a SQLite file and on the PostgreSQL test database.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from service import samples
from service.config import normalize_database_url
from service.store.engine import make_engine
from service.store.tables import orders, receipts, records
from tests.conftest import SHOPIFY_SECRET, WOO_SECRET
from tests.processes import VENV_BIN, base_env, free_port, run_process, wait_http

GUNICORN = [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "service.app:create_app()"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return paas_database_url(request, tmp_path)


def paas_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """DATABASE_URL as an operator sets it: a fresh SQLite file, or a PaaS postgres:// URL
    (`request.param` says which)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'relay.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database")
    return url.replace("postgresql+psycopg://", "postgres://", 1)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(normalize_database_url(database_url))
    yield engine
    engine.dispose()


def web_env(database_url: str) -> dict[str, str]:
    """The web process's environment, as a PaaS would set it."""
    return base_env(
        PORT=str(free_port()),
        WEB_CONCURRENCY="2",
        DATABASE_URL=database_url,
        SHOPIFY_WEBHOOK_SECRETS=f"old-rotated-secret,{SHOPIFY_SECRET}",
        WOOCOMMERCE_WEBHOOK_SECRETS=WOO_SECRET,
        RELAY_LOG_JSON="true",
    )


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return web_env(database_url)


def relay_db_upgrade(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "relay"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "store at revision" in result.stdout


def json_lines(output: str) -> list[dict[str, Any]]:
    entries = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return entries


def stored(engine: sa.Engine, store: str) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(records.c.key, records.c.state, records.c.version).where(
                records.c.store == store, records.c.kind == "line_item"
            )
        )
        return {row.key: (row.state, row.version) for row in rows}


def test_gunicorn_stores_signed_shop_orders_and_stops_on_sigterm(
    env: dict[str, str], engine: sa.Engine
) -> None:
    relay_db_upgrade(env)
    base = f"http://127.0.0.1:{env['PORT']}"
    run = uuid.uuid4().hex[:10]  # the PostgreSQL database is shared by the session
    shop, site = f"gunicorn-{run}.myshopify.com", f"https://gunicorn-{run}.example/"

    with run_process(GUNICORN, env) as web:
        wait_http(f"{base}/healthz", timeout=30, process=web)
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["sources_without_secret"] == []

        body, headers = samples.shopify_request(samples.shopify_order(), SHOPIFY_SECRET, shop=shop)
        headers["X-Request-ID"] = f"gunicorn-{run}"
        accepted = requests.post(f"{base}/webhooks/shopify", data=body, headers=headers, timeout=10)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json() == {"status": "accepted", "line_items": 3}
        assert accepted.headers["X-Request-ID"] == f"gunicorn-{run}"
        # The redelivery may reach the other worker; the store still knows it.
        again = requests.post(f"{base}/webhooks/shopify", data=body, headers=headers, timeout=10)
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")

        body, headers = samples.woocommerce_request(
            samples.woocommerce_order(), WOO_SECRET, site=site
        )
        woo = requests.post(f"{base}/webhooks/woocommerce", data=body, headers=headers, timeout=10)
        assert woo.status_code == 202, woo.text
        assert woo.json() == {"status": "accepted", "line_items": 2}
        ping = requests.post(
            f"{base}/webhooks/woocommerce",
            data={"webhook_id": "12"},  # form-encoded, as WordPress sends it
            timeout=10,
        )
        assert (ping.status_code, ping.json()) == (200, {"status": "pong"})

        forged = requests.post(
            f"{base}/webhooks/shopify",
            data=body,
            headers={"X-Shopify-Hmac-Sha256": "AAAA", "X-Shopify-Topic": "orders/create"},
            timeout=10,
        )
        assert forged.status_code == 401
        assert forged.headers["Content-Type"] == "application/problem+json"

        assert web.stop() == 0  # SIGTERM: graceful shutdown, exit code 0

    shopify_key = f"shopify:{shop}:"
    assert stored(engine, shop) == {
        f"{shopify_key}58400000000011": ("pending", 1),
        f"{shopify_key}58400000000012": ("pending", 1),
        f"{shopify_key}58400000000013": ("pending", 1),
    }
    woo_store = site.removeprefix("https://").rstrip("/")
    assert stored(engine, woo_store) == {
        f"woocommerce:{woo_store}:12071": ("pending", 1),
        f"woocommerce:{woo_store}:12072": ("pending", 1),
    }
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(orders)
                .where(orders.c.store.in_([shop, woo_store]))
            ).scalar_one()
            == 2
        )
        # Shopify keeps its webhook and event ids; WooCommerce has no stable delivery id.
        assert conn.execute(sa.select(sa.func.count()).select_from(receipts)).scalar_one() >= 2

    output = web.output()
    events = json_lines(output)
    accepted_logs = [e for e in events if e.get("event") == "order_accepted"]
    assert {e.get("store") for e in accepted_logs} == {shop, woo_store}
    assert any(e.get("request_id") == f"gunicorn-{run}" for e in accepted_logs)
    access = [e for e in events if e.get("event") == "http_access"]
    # Two workers write the access log; the lines of sequential requests may swap.
    assert sorted(e["status"] for e in access if e["path"] == "/webhooks/shopify") == [
        200,
        202,
        401,
    ]
    for secret in (SHOPIFY_SECRET, WOO_SECRET, "old-rotated-secret"):
        assert secret not in output


def test_gunicorn_refuses_an_oversized_body_with_413(tmp_path: Path) -> None:
    env = web_env(f"sqlite:///{tmp_path / 'relay.sqlite3'}")  # the store plays no part
    relay_db_upgrade(env)
    base = f"http://127.0.0.1:{env['PORT']}"
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"

    with run_process(GUNICORN, env) as web:
        wait_http(f"{base}/healthz", timeout=30, process=web)
        response = requests.post(
            f"{base}/webhooks/shopify",
            data=body,
            headers={"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": "x"},
            timeout=10,
        )
        assert response.status_code == 413
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 413
        assert web.stop() == 0
