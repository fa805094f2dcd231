"""Stores for the scenarios: a SQLite file, or a fresh PostgreSQL database dropped after.

PostgreSQL is the server at 127.0.0.1:5432 (RELAY_TEST_POSTGRES_URL overrides); where none
answers the PostgreSQL cases skip with the reason, except under CI, where that fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL, _postgres_available


def require_postgres() -> None:
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem + " (CI must run the PostgreSQL scenarios)")
        pytest.skip(problem)


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A new, empty database on the test server; its URL as a PaaS would give it."""
    require_postgres()
    name = f"relay_scenario_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """DATABASE_URL for every relay process of one scenario."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    url: str = request.getfixturevalue("fresh_postgres")
    return url


def store_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
