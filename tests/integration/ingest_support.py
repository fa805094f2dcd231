"""Shared by the webhook receiver tests: the store's row counts and contents, and the
shape every error answer must have."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from service.store.tables import line_items, metadata
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET

# Every secret a test app is configured with; no answer may echo one.
SECRETS = (SHOPIFY_SECRET, "old-rotated-secret", WOO_SECRET, API_KEY)
PROBLEM_JSON = "application/problem+json"


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the store."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def empty_counts() -> dict[str, int]:
    return {table.name: 0 for table in metadata.sorted_tables}


def dump_line_items(engine: Engine) -> list[dict[str, Any]]:
    """Every column of every line_items row, in key order."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(line_items).order_by(line_items.c.key))
        return [dict(row._mapping) for row in rows]


def stored_properties(engine: Engine) -> dict[str, dict[str, str]]:
    return {row["key"]: json.loads(row["properties"]) for row in dump_line_items(engine)}


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with `status` that does not echo any configured secret."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = json.loads(response.get_data(as_text=True))
    assert {"type", "title", "status"} <= body.keys()
    assert body["status"] == status
    text = response.get_data(as_text=True) + "\n".join(f"{k}: {v}" for k, v in response.headers)
    for secret in SECRETS:
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text
    return body
