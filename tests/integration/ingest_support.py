"""Shared by the webhook receiver tests: the store's row counts and contents, and the
shape every error answer must have."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from service.domain import RecordKind
from service.store.tables import metadata, records, rejected_webhooks
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET

# Every secret a test app is configured with; no answer may echo one.
SECRETS = (SHOPIFY_SECRET, "old-rotated-secret", WOO_SECRET, API_KEY)
PROBLEM_JSON = "application/problem+json"


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the store, and records of every kind ("line_item", ...)."""
    with engine.connect() as conn:
        counts = {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
        by_kind = conn.execute(
            sa.select(records.c.kind, sa.func.count()).group_by(records.c.kind)
        ).all()
    return {**counts, **{kind.value: 0 for kind in RecordKind}, **dict(by_kind)}  # type: ignore[arg-type]


def empty_counts() -> dict[str, int]:
    return {
        **{table.name: 0 for table in metadata.sorted_tables},
        **{kind.value: 0 for kind in RecordKind},
    }


def only_rejected(count: int = 1) -> dict[str, int]:
    """The row counts of a store that kept `count` rejected webhooks and nothing else."""
    return empty_counts() | {"rejected_webhooks": count}


def kept_rejected(engine: Engine) -> list[dict[str, Any]]:
    """Every column of every rejected webhook kept, in id order."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(rejected_webhooks).order_by(rejected_webhooks.c.id))
        return [dict(row._mapping) for row in rows]


def assert_rejected(response: TestResponse, reason: str) -> dict[str, Any]:
    """The answer to a signed body that did not fit: 200, kept as a rejected webhook with
    `reason` and its field errors, echoing no configured secret."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert body.keys() == {"status", "rejected_id", "reason", "errors"}, body
    assert (body["status"], body["reason"]) == ("rejected", reason), body
    assert isinstance(body["rejected_id"], int)
    assert body["errors"] and isinstance(body["errors"], dict)
    _echoes_no_secret(response)
    return body


def dump_line_items(engine: Engine) -> list[dict[str, Any]]:
    """Every column of every line item record, in key order."""
    return dump_records(engine, "line_item")


def dump_records(engine: Engine, kind: str) -> list[dict[str, Any]]:
    """Every column of every record of `kind`, in key order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(records).where(records.c.kind == kind).order_by(records.c.key)
        )
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
    _echoes_no_secret(response)
    return body


def _echoes_no_secret(response: TestResponse) -> None:
    text = response.get_data(as_text=True) + "\n".join(f"{k}: {v}" for k, v in response.headers)
    for secret in SECRETS:
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text
