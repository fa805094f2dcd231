"""Dead letters selected by a part of their reason, the console's filter, in /v1 and the
CLI too: a list, a replay, a wildcard taken literally, an empty reason refused."""

from __future__ import annotations

import json

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import Engine

from service.cli import main
from service.store.reads import DeadLetterFilter, count_dead
from tests.conftest import API_KEY
from tests.integration.console_pages_support import bury

AUTH = {"Authorization": f"Bearer {API_KEY}"}
NEGATIVE = "VALIDATION_ERROR: price must not be negative"
RETRIED = "retried for 24 h: 503 (100% of attempts)"


def buried(engine: Engine) -> None:
    bury(engine, "shopify:acme.myshopify.com:1", error=NEGATIVE)
    bury(engine, "shopify:acme.myshopify.com:2", error=RETRIED)


def listed(client: FlaskClient, reason: str) -> list[str]:
    answer = client.get("/v1/dead-letters", query_string={"reason": reason}, headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [item["key"] for item in answer.json["items"]]  # type: ignore[index]


def test_v1_lists_and_replays_dead_letters_by_a_part_of_their_reason(
    client: FlaskClient, engine: Engine
) -> None:
    buried(engine)
    assert listed(client, "negative") == ["shopify:acme.myshopify.com:1"]
    assert listed(client, "100%") == ["shopify:acme.myshopify.com:2"]
    assert listed(client, "0_%") == []  # LIKE's wildcards are plain characters here
    answer = client.post(
        "/v1/dead-letters/replay", json={"filter": {"reason": "negative"}}, headers=AUTH
    )
    assert answer.json == {"replayed": 1}
    with engine.connect() as conn:
        assert count_dead(conn, DeadLetterFilter()) == 1


def test_an_empty_reason_is_refused_naming_the_field(client: FlaskClient, engine: Engine) -> None:
    buried(engine)
    answer = client.get("/v1/dead-letters?reason=", headers=AUTH)
    assert answer.status_code == 422
    assert "reason" in answer.json["errors"]  # type: ignore[index]
    answer = client.post("/v1/dead-letters/replay", json={"filter": {"reason": ""}}, headers=AUTH)
    assert answer.status_code == 422
    with engine.connect() as conn:
        assert count_dead(conn, DeadLetterFilter()) == 2


def test_the_cli_lists_and_replays_by_reason(store_url: str, engine: Engine) -> None:
    buried(engine)
    env = {"DATABASE_URL": store_url, "RELAY_LOG_JSON": "true"}
    runner = CliRunner()
    result = runner.invoke(main, ["dead-letters", "list", "--reason", "503"], env=env)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["key"] for line in result.output.splitlines()] == [
        "shopify:acme.myshopify.com:2"
    ]
    result = runner.invoke(main, ["dead-letters", "replay", "--reason", "503"], env=env)
    assert result.exit_code == 0 and "replayed 1 record(s)" in result.output
