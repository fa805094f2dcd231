"""`relay run`'s sandbox gives the worker the shop emulators' stores to reconcile."""

from __future__ import annotations

import pytest

from emulators.shopify import EmulatorConfig as ShopifyConfig
from emulators.woocommerce import EmulatorConfig as WooConfig
from service.config import VARIABLES, Config
from service.devrun import child_environment


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def configured(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Config:
    for name in VARIABLES:
        if name in env:
            monkeypatch.setenv(name, env[name])
    return Config.from_env()


def test_the_sandbox_reconciles_the_shop_emulators_stores_and_verifies_their_webhooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = child_environment(Config.from_env())
    config = configured(env, monkeypatch)

    shops, sites = ShopifyConfig().shops, WooConfig().sites
    assert config.shopify_admin_tokens == {s.domain: s.access_token for s in shops}
    assert config.woocommerce_api_keys == {
        "emu-one.example": (sites[0].consumer_key, sites[0].consumer_secret),
        "emu-two.example": (sites[1].consumer_key, sites[1].consumer_secret),
    }
    ports = env["_RELAY_RUN_SHOP_EMULATOR_PORTS"].split(",")  # beside HubSpot's, when free
    assert config.shopify_api_base_url == f"http://127.0.0.1:{ports[0]}"
    assert config.woocommerce_api_base_url == f"http://127.0.0.1:{ports[1]}"
    assert config.public_url == "http://127.0.0.1:8000" and config.reconcile_seconds == 60
    # Their API-made subscriptions are signed with each shop's app secret, bound to it.
    assert f"{shops[0].domain}={shops[0].webhook_secret}" in config.shopify_webhook_secrets
    assert config.shopify_webhook_secrets[0] == "sandbox-shopify-secret"  # send-sample's


def test_shop_access_the_operator_configured_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WOOCOMMERCE_API_KEYS", "shop.example.com=ck_real:cs_real")
    env = child_environment(Config.from_env())
    assert "SHOPIFY_ADMIN_TOKENS" not in env and "RELAY_PUBLIC_URL" not in env
    assert env["WOOCOMMERCE_API_KEYS"] == "shop.example.com=ck_real:cs_real"


def test_a_port_another_process_holds_is_swapped_for_a_free_one() -> None:
    import socket

    from service.devrun import port_near

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert port_near(taken) != taken
    assert port_near(taken) == taken  # free again
