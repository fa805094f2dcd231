from __future__ import annotations

import pytest

from service.config import DEFAULT_HUBSPOT_BASE_URL, Config, ConfigError

VARIABLES = [
    "DATABASE_URL",
    "HUBSPOT_ACCESS_TOKEN",
    "HUBSPOT_CLIENT_ID",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_REFRESH_TOKEN",
    "HUBSPOT_BASE_URL",
    "HUBSPOT_ID_PROPERTY",
    "HUBSPOT_RATE_LIMIT",
    "SHOPIFY_WEBHOOK_SECRETS",
    "WOOCOMMERCE_WEBHOOK_SECRETS",
    "RELAY_API_KEYS",
    "RELAY_SANDBOX",
    "RELAY_LINGER_SECONDS",
    "RELAY_LEASE_SECONDS",
    "RELAY_HUBSPOT_TIMEOUT_SECONDS",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_on_sqlite_in_sandbox_against_the_local_emulator() -> None:
    config = Config.from_env()
    assert config.database_url == "sqlite:///var/relay.sqlite3"
    assert config.sandbox is True
    assert config.hubspot_base_url == "http://127.0.0.1:8025"
    assert config.hubspot_id_property == "external_line_item_id"
    assert config.hubspot_rate_limit == 100
    assert config.shopify_webhook_secrets == ()


def test_a_token_turns_sandbox_off_and_targets_hubspot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-abc")
    config = Config.from_env()
    assert config.sandbox is False
    assert config.hubspot_base_url == DEFAULT_HUBSPOT_BASE_URL
    assert config.has_hubspot_credentials


def test_a_paas_postgres_url_is_pinned_to_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/relay")
    assert Config.from_env().database_url == "postgresql+psycopg://u:p@db.internal:5432/relay"


def test_secret_lists_are_split_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", "new-secret, old&secret;x")
    assert Config.from_env().shopify_webhook_secrets == ("new-secret", "old&secret;x")


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_RATE_LIMIT", "lots")
    monkeypatch.setenv("RELAY_LINGER_SECONDS", "soon")
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", "a,,b")
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", "only-the-id")
    with pytest.raises(ConfigError) as caught:
        Config.from_env()
    assert set(caught.value.problems) == {
        "HUBSPOT_RATE_LIMIT",
        "RELAY_LINGER_SECONDS",
        "SHOPIFY_WEBHOOK_SECRETS",
        "HUBSPOT_REFRESH_TOKEN",
    }


def test_a_negative_rate_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_RATE_LIMIT", "0")
    with pytest.raises(ConfigError, match="HUBSPOT_RATE_LIMIT"):
        Config.from_env()


def test_secrets_are_not_in_the_repr() -> None:
    config = Config(hubspot_access_token="pat-secret", shopify_webhook_secrets=("shh",))
    assert "pat-secret" not in repr(config)
    assert "shh" not in repr(config)


def test_a_lease_shorter_than_two_request_timeouts_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAY_HUBSPOT_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("RELAY_LEASE_SECONDS", "45")
    with pytest.raises(ConfigError, match="RELAY_LEASE_SECONDS"):
        Config.from_env()
