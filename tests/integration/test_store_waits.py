"""The store's waits fit the shops' patience, through real gunicorn on both stores: while
another process holds the lock a webhook's write needs (SQLite's write lock, a PostgreSQL
table lock), a signed webhook answers 503 with problem+json and Retry-After within 5 s
(Shopify waits about 5 s), several at once, nothing is stored, and meanwhile /healthz
answers at once and /readyz says the store is locked within a second or two (the gevent
workers' other requests run while one waits); once the lock is gone, the retry is
stored."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
import sqlalchemy as sa

from service import samples
from service.config import normalize_database_url, sqlite_path
from service.store.engine import make_engine
from tests.conftest import SHOPIFY_SECRET
from tests.integration.ingest_support import row_counts
from tests.integration.test_gunicorn_ingest import (
    GUNICORN,
    paas_database_url,
    relay_db_upgrade,
    web_env,
)
from tests.processes import run_process, wait_http

SHOP_PATIENCE = 5.0
CONCURRENT = 8  # webhooks waiting on the lock at once, more than the 2 worker processes
Lock = Callable[[], AbstractContextManager[None]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return paas_database_url(request, tmp_path)


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return web_env(database_url)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(normalize_database_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def hold_lock(database_url: str) -> Lock:
    """A context manager: another process's connection holds the lock a write needs."""

    @contextmanager
    def sqlite_lock() -> Iterator[None]:
        path = sqlite_path(database_url.replace("postgres://", "postgresql://"))
        holder = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    @contextmanager
    def postgres_lock() -> Iterator[None]:
        conninfo = database_url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(conninfo) as holder:
            holder.execute("LOCK TABLE records IN ACCESS EXCLUSIVE MODE")
            yield
            holder.rollback()

    return sqlite_lock if database_url.startswith("sqlite") else postgres_lock


def timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    began = time.monotonic()
    answer = call()
    return answer, time.monotonic() - began


def test_a_webhook_that_cannot_get_the_store_answers_503_before_the_shop_gives_up(
    env: dict[str, str], engine: sa.Engine, hold_lock: Lock
) -> None:
    relay_db_upgrade(env)
    base = f"http://127.0.0.1:{env['PORT']}"
    shop = f"locked-{uuid.uuid4().hex[:8]}.myshopify.com"
    deliveries = [
        samples.shopify_request(
            samples.shopify_order(order_id=9_000 + n), SHOPIFY_SECRET, shop=shop
        )
        for n in range(CONCURRENT)
    ]

    def post(n: int) -> tuple[requests.Response, float]:
        body, headers = deliveries[n]
        return timed(
            lambda: requests.post(
                f"{base}/webhooks/shopify", data=body, headers=headers, timeout=SHOP_PATIENCE + 5
            )
        )

    with run_process(GUNICORN, env) as web:
        wait_http(f"{base}/readyz", timeout=30, process=web)
        before = row_counts(engine)
        with hold_lock(), ThreadPoolExecutor(CONCURRENT) as pool:
            waiting = pool.map(post, range(CONCURRENT))
            time.sleep(0.5)  # every webhook is waiting on the lock now
            alive, alive_took = timed(lambda: requests.get(f"{base}/healthz", timeout=10))
            ready, ready_took = timed(lambda: requests.get(f"{base}/readyz", timeout=10))
            answers = list(waiting)

        for answer, took in answers:
            assert answer.status_code == 503, answer.text
            assert took < SHOP_PATIENCE, took
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert answer.headers["Retry-After"] == "5"
            assert answer.json()["type"] == "urn:line-item-relay:problem:store-unavailable"
        assert ready.status_code == 503 and ready_took < 2.0, (ready.text, ready_took)
        assert ready.json()["checks"]["store"].startswith("locked or slow")
        assert alive.status_code == 200 and alive_took < 1.0, alive_took
        assert row_counts(engine) == before

        retried, _ = post(0)  # the shop's retry, the lock gone
        assert retried.status_code == 202, retried.text
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200


def test_healthz_answers_with_the_store_unreachable(tmp_path: Path) -> None:
    """Liveness never touches the store: a store that does not answer restarts nothing."""
    env = web_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    base = f"http://127.0.0.1:{env['PORT']}"
    with run_process(GUNICORN, env | {"DATABASE_URL": "postgres://nobody@127.0.0.1:9/none"}) as web:
        alive = wait_http(f"{base}/healthz", timeout=30, process=web)
        ready, took = timed(lambda: requests.get(f"{base}/readyz", timeout=10))

    assert alive.json() == {"status": "ok"}
    assert ready.status_code == 503 and took < 5.0
    assert ready.json()["checks"]["store"].startswith("unreachable")
