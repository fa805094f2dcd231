from __future__ import annotations

import pytest

from service.config import DEFAULT_HUBSPOT_BASE_URL, VARIABLES, Config, ConfigError
from service.domain import OrderObject, OrderStatus


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


def test_the_whole_order_is_on_by_default_as_hubspot_orders_with_contacts() -> None:
    config = Config.from_env()
    assert config.hubspot_order_object is OrderObject.ORDERS
    assert config.hubspot_order_id_property == "external_order_key"
    assert config.hubspot_sync_contacts is True
    assert config.hubspot_order_pipeline is None
    assert config.order_stages[OrderStatus.SHIPPED] == "Shipped"


def test_deals_take_their_own_default_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_ORDER_OBJECT", "Deals")
    config = Config.from_env()
    assert config.hubspot_order_object is OrderObject.DEALS
    assert config.order_stages[OrderStatus.CANCELLED] == "Closed Lost"
    assert config.order_stages[OrderStatus.PROCESSED] == "Closed Won"


def test_stages_given_override_their_defaults_and_keep_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBSPOT_ORDER_STAGES", "shipped=On its way, cancelled = Storniert")
    monkeypatch.setenv("HUBSPOT_ORDER_PIPELINE", " Webshop ")
    config = Config.from_env()
    assert config.order_stages[OrderStatus.SHIPPED] == "On its way"
    assert config.order_stages[OrderStatus.CANCELLED] == "Storniert"
    assert config.order_stages[OrderStatus.OPEN] == "Open"
    assert config.hubspot_order_pipeline == "Webshop"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HUBSPOT_ORDER_OBJECT", "invoices"),
        ("HUBSPOT_ORDER_STAGES", "paid=Paid"),
        ("HUBSPOT_ORDER_STAGES", "shipped"),
        ("HUBSPOT_ORDER_STAGES", "shipped="),
        ("HUBSPOT_SYNC_CONTACTS", "sometimes"),
    ],
)
def test_a_malformed_order_setting_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        Config.from_env()
    assert set(caught.value.problems) == {name}


def test_rejected_webhooks_are_kept_30_days_and_a_version_may_run_a_day_ahead() -> None:
    config = Config.from_env()
    assert (config.rejected_retention_days, config.max_future_skew_seconds) == (30, 86400.0)


def test_the_rejected_webhook_settings_are_read_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAY_REJECTED_RETENTION_DAYS", "7")
    monkeypatch.setenv("RELAY_MAX_FUTURE_SKEW_SECONDS", "600")
    config = Config.from_env()
    assert (config.rejected_retention_days, config.max_future_skew_seconds) == (7, 600.0)

    monkeypatch.setenv("RELAY_REJECTED_RETENTION_DAYS", "0")
    monkeypatch.setenv("RELAY_MAX_FUTURE_SKEW_SECONDS", "-1")
    with pytest.raises(ConfigError) as caught:
        Config.from_env()
    assert set(caught.value.problems) == {
        "RELAY_REJECTED_RETENTION_DAYS",
        "RELAY_MAX_FUTURE_SKEW_SECONDS",
    }


def test_shop_api_credentials_are_read_by_store_and_kept_out_of_the_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKENS", "Acme.myshopify.com=shpat_one, b.myshopify.com=t2")
    monkeypatch.setenv(
        "WOOCOMMERCE_API_KEYS", "https://shop.example.com/=ck_1:cs_1,example.com/shop=ck_2:cs_2"
    )
    config = Config.from_env()
    assert config.shopify_admin_tokens == {
        "acme.myshopify.com": "shpat_one",
        "b.myshopify.com": "t2",
    }
    assert config.woocommerce_api_keys == {
        "shop.example.com": ("ck_1", "cs_1"),
        "example.com/shop": ("ck_2", "cs_2"),
    }
    for secret in ("shpat_one", "t2", "ck_1", "cs_2"):
        assert secret not in repr(config)


def test_reconciliation_defaults_to_every_15_minutes_against_the_shops_own_hosts() -> None:
    config = Config.from_env()
    assert config.reconcile_seconds == 900
    assert config.reconcile_overlap_seconds == 300
    assert config.shopify_api_base_url == "https://{shop}"
    assert config.woocommerce_api_base_url == "https://{site}"
    assert config.public_url is None
    assert config.shopify_admin_tokens == {} and config.woocommerce_api_keys == {}


def test_malformed_shop_credentials_are_named_by_position_never_by_their_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKENS", "a.myshopify.com=shpat_ok,shpat_lonely_secret")
    monkeypatch.setenv("WOOCOMMERCE_API_KEYS", "shop.example.com=ck_without_secret")
    monkeypatch.setenv("SHOPIFY_API_BASE_URL", "ftp://{shop}")
    monkeypatch.setenv("RELAY_RECONCILE_SECONDS", "-1")
    monkeypatch.setenv("RELAY_PUBLIC_URL", "relay.example.com")
    with pytest.raises(ConfigError) as caught:
        Config.from_env()
    assert set(caught.value.problems) == {
        "SHOPIFY_ADMIN_TOKENS",
        "WOOCOMMERCE_API_KEYS",
        "SHOPIFY_API_BASE_URL",
        "RELAY_RECONCILE_SECONDS",
        "RELAY_PUBLIC_URL",
    }
    message = str(caught.value)
    assert "entry 2 is not shop-domain=token" in message
    assert "shpat_lonely_secret" not in message and "ck_without_secret" not in message


def test_a_store_named_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKENS", "a.myshopify.com=one,A.myshopify.com=two")
    with pytest.raises(ConfigError, match=r"a\.myshopify\.com is named twice"):
        Config.from_env()


def test_a_base_url_without_placeholder_and_a_public_url_lose_their_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WOOCOMMERCE_API_BASE_URL", "http://127.0.0.1:8027/")
    monkeypatch.setenv("RELAY_PUBLIC_URL", "https://relay.example.com/")
    monkeypatch.setenv("RELAY_RECONCILE_SECONDS", "0")
    config = Config.from_env()
    assert config.woocommerce_api_base_url == "http://127.0.0.1:8027"
    assert config.public_url == "https://relay.example.com"
    assert config.reconcile_seconds == 0


def test_the_console_reads_its_keys_secret_key_cookie_flag_and_portal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAY_CONSOLE_KEYS", "op-one, op-two")
    monkeypatch.setenv("RELAY_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("RELAY_CONSOLE_SECURE_COOKIE", "false")
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", " 4455 ")
    config = Config.from_env()
    assert config.console_keys == ("op-one", "op-two")
    assert config.secret_key == "k" * 32
    assert config.console_secure_cookie is False
    assert config.hubspot_portal_id == "4455"
    assert "k" * 32 not in repr(config) and "op-one" not in repr(config)


def test_the_console_is_off_and_its_cookie_secure_by_default() -> None:
    config = Config.from_env()
    assert (config.console_keys, config.secret_key, config.console_secure_cookie) == (
        (),
        None,
        True,
    )


def test_a_short_secret_key_an_empty_console_key_and_a_portal_name_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAY_SECRET_KEY", "short")
    monkeypatch.setenv("RELAY_CONSOLE_KEYS", "one,,two")
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "acme")
    with pytest.raises(ConfigError) as caught:
        Config.from_env()
    assert set(caught.value.problems) == {
        "RELAY_SECRET_KEY",
        "RELAY_CONSOLE_KEYS",
        "HUBSPOT_PORTAL_ID",
    }
    assert "short" not in str(caught.value)


def test_a_body_has_5_s_of_grace_then_must_arrive_at_64_kib_a_second() -> None:
    config = Config.from_env()
    assert (config.body_grace_seconds, config.min_body_rate) == (5.0, 65536)


def test_the_body_pace_settings_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_BODY_GRACE_SECONDS", "2.5")
    monkeypatch.setenv("RELAY_MIN_BODY_RATE", "0")
    assert (Config.from_env().body_grace_seconds, Config.from_env().min_body_rate) == (2.5, 0)
    monkeypatch.setenv("RELAY_BODY_GRACE_SECONDS", "-1")
    monkeypatch.setenv("RELAY_MIN_BODY_RATE", "fast")
    with pytest.raises(ConfigError) as raised:
        Config.from_env()
    assert "RELAY_BODY_GRACE_SECONDS" in str(raised.value)
    assert "RELAY_MIN_BODY_RATE" in str(raised.value)
