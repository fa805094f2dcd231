"""Shared fixtures: a migrated store on SQLite and PostgreSQL, the app, a test client.

The `store_url` fixture runs each test that uses it on both stores. PostgreSQL tests use
the server on 127.0.0.1:5432 (or RELAY_TEST_POSTGRES_URL); where none answers they skip
with that reason, except under CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from service.app import create_app
from service.config import Config
from service.store import migrate
from service.store.engine import make_engine
from service.store.tables import metadata

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POSTGRES_ADMIN_URL = os.environ.get(
    "RELAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SHOPIFY_SECRET = "shpss_test&secret;one"
WOO_SECRET = "wc-test-secret&amp;two"
API_KEY = "test-api-key-0123456789"


def require_shared(*parts: str) -> Path:
    """A file under ../shared, or a skip: a user's clone does not have it, CI does."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip("../shared is not beside this clone; CI has it")
    return path


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem + " (CI must run the PostgreSQL tests)")
        pytest.skip(problem)
    name = f"relay_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return url
    url: str = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def config(store_url: str) -> Config:
    return Config(
        database_url=store_url,
        shopify_webhook_secrets=("old-rotated-secret", SHOPIFY_SECRET),
        woocommerce_webhook_secrets=(WOO_SECRET,),
        relay_api_keys=(API_KEY,),
        sandbox=True,
        hubspot_base_url="http://127.0.0.1:9",
        log_json=True,
    )


@pytest.fixture
def app(config: Config, engine: Engine) -> Flask:
    app = create_app(config, engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
