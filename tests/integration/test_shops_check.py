"""`relay shops check [--fix]` and the worker's hourly check against the shop emulators:
a subscription Shopify deleted is made again, a webhook WooCommerce disabled is
re-activated and what it failed to deliver is reconciled at once; /readyz, `relay
status` and /metrics say what the last check found. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

from click.testing import Result
from sqlalchemy import Engine

from service.config import Config
from service.reconcile import Reconciler
from service.shop_jobs import ShopJobs
from service.shops.shopify import ORDER_TOPICS as SHOPIFY_TOPICS
from tests.integration import shopify_support, woocommerce_support
from tests.integration.reconcile_support import SHOP, SITE, with_shops
from tests.integration.test_cli_shops import relay, shopify_env, woo_env
from tests.integration.whole_order_support import relay_for
from tests.processes import free_port


def reports(result: Result) -> dict[str, dict[str, object]]:
    found = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {str(r["source"]): r for r in found}


def test_check_fix_recreates_a_deleted_subscription_reactivates_a_disabled_webhook_and_reconciles(
    store_url: str,
    config: Config,
    engine: Engine,
    start_shopify: shopify_support.Start,
    start_woo: woocommerce_support.Start,
) -> None:
    public = f"http://127.0.0.1:{free_port()}"  # the relay's address; down for now
    shopify = start_shopify(shopify_support.shop(orders=0))
    woo = start_woo(woocommerce_support.site(orders=0))
    made = [shopify.subscribe(t, f"{public}/webhooks/shopify") for t in SHOPIFY_TOPICS]
    shopify.send("DELETE", f"/webhooks/{made[1]['id']}.json", None)  # as after 8 failures
    for topic in ("order.created", "order.updated"):
        woo.hook(topic, f"{public}/webhooks/woocommerce", secret="wc-hook-secret")
    for _ in range(5):
        woo.emulator.save_order({})  # each delivery fails: after 5 the webhooks are disabled
    woo.emulator.settle(timeout=10)
    env = {
        **shopify_env(shopify.emulator.url),
        **woo_env(woo.emulator.url),
        "RELAY_PUBLIC_URL": public,
        "WOOCOMMERCE_WEBHOOK_SECRETS": f"{SITE}=wc-hook-secret",
    }

    found = reports(relay(["shops", "check"], store_url, **env))

    assert found["shopify"]["missing"] == [SHOPIFY_TOPICS[1]]
    assert found["woocommerce"]["disabled"] == [
        "order.created (disabled)",
        "order.updated (disabled)",
    ]
    relay_app = relay_for(with_shops(config, shopify.emulator.url, woo.emulator.url), engine, None)  # type: ignore[arg-type]
    ready = relay_app.client.get("/readyz").json
    assert ready["status"] == "degraded"
    assert f"subscriptions shopify:{SHOP}: missing {SHOPIFY_TOPICS[1]}" in ready["problems"]
    page = relay_app.client.get("/metrics").get_data(as_text=True)
    assert (
        f'relay_webhook_subscriptions_unhealthy{{source="woocommerce",store="{SITE}"}} 2.0' in page
    )

    fixed = relay(["shops", "check", "--fix"], store_url, **env)

    assert fixed.exit_code == 0, fixed.output
    found = reports(fixed)
    assert found["shopify"]["fixed"] == [f"created {SHOPIFY_TOPICS[1]}"]
    assert found["woocommerce"]["fixed"] == [
        "re-activated order.created",
        "re-activated order.updated",
    ]
    assert found["woocommerce"]["reconciled"]["orders_new_or_changed"] == 5  # type: ignore[index]
    assert "reconciled" not in found["shopify"]  # Shopify retries; nothing was re-activated
    subs = {(s["topic"], s["address"]) for s in shopify.get("/webhooks.json").json()["webhooks"]}
    assert subs == {(t, f"{public}/webhooks/shopify") for t in SHOPIFY_TOPICS}
    assert {h["status"] for h in woo.get("/webhooks").json()} == {"active"}
    assert relay_app.client.get("/readyz").json["status"] == "ready"
    status = json.loads(relay(["status"], store_url, **env).stdout)
    assert status["subscriptions"][f"woocommerce:{SITE}"]["missing"] == []


def test_a_missing_webhook_is_created_with_the_sites_secret_and_without_a_public_url_nothing_is(
    store_url: str, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    env = {**woo_env(woo.emulator.url), "WOOCOMMERCE_WEBHOOK_SECRETS": f"{SITE}=site-secret"}

    unfixable = relay(["shops", "check", "--fix"], store_url, **env)
    assert unfixable.exit_code == 1
    assert "set RELAY_PUBLIC_URL" in str(reports(unfixable)["woocommerce"]["error"])
    assert woo.get("/webhooks").json() == []

    public = "https://relay.example.com"
    made = relay(["shops", "check", "--fix"], store_url, **env, RELAY_PUBLIC_URL=public)
    assert made.exit_code == 0, made.output
    hooks = woo.get("/webhooks").json()
    assert {(h["topic"], h["delivery_url"], h["status"]) for h in hooks} == {
        ("order.created", f"{public}/webhooks/woocommerce", "active"),
        ("order.updated", f"{public}/webhooks/woocommerce", "active"),
    }
    assert woo.send("GET", f"/webhooks/{hooks[0]['id']}").status_code == 200


def test_a_refused_token_is_the_checks_error_and_no_secret_is_shown(
    store_url: str, start_shopify: shopify_support.Start
) -> None:
    shopify = start_shopify()
    env = {
        "SHOPIFY_ADMIN_TOKENS": f"{SHOP}=shpat_not_valid",
        "SHOPIFY_API_BASE_URL": shopify.emulator.url,
    }
    result = relay(["shops", "check"], store_url, **env)
    assert result.exit_code == 1
    assert "HTTP 401" in str(reports(result)["shopify"]["error"])
    assert "shpat_not_valid" not in result.output


def test_the_worker_checks_each_store_once_an_hour_whatever_the_number_of_workers(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=0))
    relay_config = with_shops(
        config, shopify.emulator.url, None, public_url="https://relay.example.com"
    )
    workers = [
        ShopJobs(relay_config, engine, owner=f"w{n}", stopping=threading.Event()) for n in range(3)
    ]

    for jobs in workers + workers:
        jobs.run_due()

    assert len(listings_by_the_relay(shopify)) == 1
    created = shopify.get("/webhooks.json").json()["webhooks"]
    assert sorted(s["topic"] for s in created) == sorted(SHOPIFY_TOPICS)  # once each
    later = Reconciler(relay_config, engine, owner="later", clock=lambda: time.time() + 3601)
    workers[0].reconciler = later
    workers[0].run_due()
    assert len(listings_by_the_relay(shopify)) == 2


def listings_by_the_relay(shopify: shopify_support.Shopify) -> list[dict[str, object]]:
    return [
        c
        for c in shopify.emulator.requests_log()
        if c["path"].endswith("/webhooks.json") and c["query"] == {"limit": "250"}
    ]


def test_a_webhook_the_merchant_paused_is_reported_and_left_paused(
    store_url: str, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    public = "https://relay.example.com"
    for topic in ("order.created", "order.updated"):
        made = woo.hook(topic, f"{public}/webhooks/woocommerce")
        woo.send("PUT", f"/webhooks/{made['id']}", {"status": "paused"})  # in the admin
    env = {**woo_env(woo.emulator.url), "RELAY_PUBLIC_URL": public}

    result = relay(["shops", "check", "--fix"], store_url, **env)

    assert result.exit_code == 1
    found = reports(result)["woocommerce"]
    assert found["disabled"] == ["order.created (paused)", "order.updated (paused)"]
    assert found["fixed"] == []
    assert {h["status"] for h in woo.get("/webhooks").json()} == {"paused"}
