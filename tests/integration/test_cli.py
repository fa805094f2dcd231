"""The `relay` commands, run through click's runner with the environment they read."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import Engine, update
from werkzeug.serving import make_server

from emulators.hubspot import Emulator, EmulatorConfig
from service.app import create_app
from service.cli import main
from service.config import Config
from service.signatures import sign
from service.store import migrate
from service.store.tables import records
from tests.conftest import SHOPIFY_SECRET
from tests.integration.worker_support import key_of, props, store_items

SECRET = "cli-shopify-secret&;"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=4)) as running:
        yield running


def relay(args: list[str], env: dict[str, str]) -> Result:
    # Only these variables: a developer's exported ones must not leak into the test.
    base = {"RELAY_LOG_JSON": "true", "SHOPIFY_WEBHOOK_SECRETS": "", "HUBSPOT_ACCESS_TOKEN": ""}
    return CliRunner().invoke(main, args, env={**base, **env}, catch_exceptions=False)


def test_db_upgrade_reports_the_revision(tmp_path: object) -> None:
    result = relay(["db", "upgrade"], {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3"})
    assert result.exit_code == 0
    assert f"store at revision {migrate.head_revision()}" in result.output


def test_a_bad_environment_is_reported_in_full_before_anything_runs() -> None:
    result = CliRunner().invoke(
        main, ["status"], env={"HUBSPOT_RATE_LIMIT": "x", "SHOPIFY_WEBHOOK_SECRETS": "a,,b"}
    )
    assert result.exit_code != 0
    assert "HUBSPOT_RATE_LIMIT" in result.output
    assert "SHOPIFY_WEBHOOK_SECRETS" in result.output


def test_status_shows_queue_depth_dead_letters_and_the_last_hubspot_error(
    store_url: str, engine: Engine
) -> None:
    store_items(engine, {"1": props("A"), "2": props("B"), "3": props("C")})
    with engine.begin() as conn:
        conn.execute(update(records).where(records.c.key == key_of("3")).values(state="dead"))
    result = relay(["status"], {"DATABASE_URL": store_url})
    assert result.exit_code == 0
    status = json.loads(result.output)
    assert (status["pending"], status["dead"]) == (2, 1)
    assert status["oldest_pending_age_seconds"] >= 0
    assert status["last_hubspot_error"] is None


def test_dead_letters_are_listed_and_replayed_from_the_command_line(
    store_url: str, engine: Engine
) -> None:
    store_items(engine, {"1": props("A"), "2": props("B")})
    with engine.begin() as conn:
        conn.execute(update(records).values(state="dead", last_error="400 VALIDATION_ERROR"))
    listed = relay(["dead-letters", "list"], {"DATABASE_URL": store_url})
    keys = [json.loads(line)["key"] for line in listed.output.splitlines()]
    assert keys == [key_of("1"), key_of("2")]
    assert relay(["dead-letters", "replay"], {"DATABASE_URL": store_url}).exit_code == 2
    one = relay(["dead-letters", "replay", "--key", key_of("1")], {"DATABASE_URL": store_url})
    assert "replayed 1 record(s)" in one.output
    rest = relay(["dead-letters", "replay", "--all"], {"DATABASE_URL": store_url})
    assert "replayed 1 record(s)" in rest.output
    assert relay(["dead-letters", "list"], {"DATABASE_URL": store_url}).output == ""


def hubspot_env(store_url: str, emulator: Emulator) -> dict[str, str]:
    return {
        "DATABASE_URL": store_url,
        "HUBSPOT_ACCESS_TOKEN": "sandbox-token",
        "HUBSPOT_BASE_URL": emulator.url,
    }


def test_hubspot_setup_creates_the_unique_property_then_finds_it(
    store_url: str, emulator: Emulator
) -> None:
    env = {**hubspot_env(store_url, emulator), "HUBSPOT_ID_PROPERTY": "relay_line_key"}
    created = relay(["hubspot", "setup"], env)
    assert created.exit_code == 0
    assert "created unique line item property 'relay_line_key'" in created.output
    again = relay(["hubspot", "setup"], env)
    assert "exists with unique values" in again.output


def test_hubspot_setup_refuses_an_existing_property_that_is_not_unique(
    store_url: str, emulator: Emulator
) -> None:
    env = {**hubspot_env(store_url, emulator), "HUBSPOT_ID_PROPERTY": "name"}
    result = CliRunner().invoke(main, ["hubspot", "setup"], env=env)
    assert result.exit_code == 1
    assert "exists but is not unique" in result.output


def test_hubspot_setup_explains_a_missing_scope(store_url: str, emulator: Emulator) -> None:
    emulator.configure(missing_scopes=True)
    env = {**hubspot_env(store_url, emulator), "HUBSPOT_ID_PROPERTY": "relay_line_key"}
    result = CliRunner().invoke(main, ["hubspot", "setup"], env=env)
    assert result.exit_code == 1
    assert "MISSING_SCOPES" in result.output
    assert "sandbox-token" not in result.output


def test_send_sample_signs_and_posts_an_order_that_is_stored(
    store_url: str, engine: Engine, config: Config
) -> None:
    app = create_app(config.replace(shopify_webhook_secrets=(SECRET,)), engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = relay(
            ["send-sample", "shopify", "--port", str(server.server_port)],
            {"DATABASE_URL": store_url, "SHOPIFY_WEBHOOK_SECRETS": SECRET},
        )
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("202 ")
    time.sleep(0.05)
    with engine.connect() as conn:
        stored = conn.execute(records.select()).all()
    assert [row.kind for row in stored].count("line_item") == 3
    assert [row.kind for row in stored].count("order") == 1


def test_hubspot_emulator_keys_orders_and_deals_by_the_order_id_property(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[EmulatorConfig] = []
    monkeypatch.setattr("emulators.hubspot.serve", lambda port, config, host: served.append(config))
    args = ["hubspot", "emulator", "--id-property", "line_key", "--order-id-property", "order_key"]

    result = relay(args, {})

    assert result.exit_code == 0, result.output
    [config] = served
    assert config.unique_properties["line_items"] == {"line_key"}
    assert config.unique_properties["orders"] == config.unique_properties["deals"] == {"order_key"}
    assert config.unique_properties["contacts"] == set()


def test_rejected_webhooks_are_listed_shown_replayed_and_purged_from_the_command_line(
    store_url: str, client: FlaskClient
) -> None:
    env = {"DATABASE_URL": store_url}
    bodies = (b"not json", b'{"id": 1}')
    for body in bodies:
        answer = client.post(
            "/webhooks/shopify",
            data=body,
            headers={
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": sign(SHOPIFY_SECRET, body),
                "X-Shopify-Shop-Domain": "acme.myshopify.com",
            },
        )
        assert answer.json["status"] == "rejected"  # type: ignore[index]

    listed = [json.loads(line) for line in relay(["rejected", "list"], env).output.splitlines()]
    assert [item["reason"] for item in listed] == ["invalid_json", "invalid_order"]
    assert all("body" not in item for item in listed)
    first = listed[0]["id"]
    shown = json.loads(relay(["rejected", "show", str(first)], env).output)
    assert (shown["body"], shown["body_encoding"]) == ("not json", "utf-8")
    assert CliRunner().invoke(main, ["rejected", "show", "999"], env=env).exit_code == 1
    status = json.loads(relay(["status"], env).output)["rejected_webhooks"]
    assert status["total"] == 2
    assert status["by_reason"] == {
        "invalid_store": 0,
        "invalid_json": 1,
        "invalid_order": 1,
        "future_version": 0,
    }

    assert relay(["rejected", "replay"], env).exit_code == 2  # say which
    again = relay(["rejected", "replay", "--id", str(first)], env)
    assert json.loads(again.stdout.splitlines()[-1]) == {
        "replayed": 1,
        "accepted": 0,
        "duplicate": 0,
        "stale": 0,
        "rejected": 1,
    }
    assert (
        "purged 1 rejected webhook(s)"
        in relay(["rejected", "purge", "--id", str(first)], env).output
    )
    assert "purged 1 " in relay(["rejected", "purge", "--reason", "invalid_order"], env).output
    assert relay(["rejected", "list"], env).output == ""
