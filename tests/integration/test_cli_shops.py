"""`relay reconcile` and `relay backfill` against the shop emulators, through click's
runner with the environment they read, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner, Result

from service.cli import main
from tests.integration import shopify_support, woocommerce_support
from tests.integration.reconcile_support import SHOP, SITE

DAY = 86_400


def relay(args: list[str], store_url: str, **env: str) -> Result:
    base = {
        "DATABASE_URL": store_url,
        "RELAY_LOG_JSON": "true",
        "SHOPIFY_WEBHOOK_SECRETS": "",
        "HUBSPOT_ACCESS_TOKEN": "",
        "SHOPIFY_ADMIN_TOKENS": "",
        "WOOCOMMERCE_API_KEYS": "",
    }
    return CliRunner().invoke(main, args, env={**base, **env}, catch_exceptions=False)


def woo_env(url: str, secret: str = woocommerce_support.SECRET) -> dict[str, str]:
    return {
        "WOOCOMMERCE_API_KEYS": f"{SITE}={woocommerce_support.KEY}:{secret}",
        "WOOCOMMERCE_API_BASE_URL": url,
    }


def shopify_env(url: str) -> dict[str, str]:
    return {"SHOPIFY_ADMIN_TOKENS": f"{SHOP}={shopify_support.TOKEN}", "SHOPIFY_API_BASE_URL": url}


def lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_reconcile_runs_a_pass_per_store_and_status_shows_what_it_saw(
    store_url: str, start_shopify: shopify_support.Start, start_woo: woocommerce_support.Start
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=0))
    woo = start_woo(woocommerce_support.site(orders=0))
    for _ in range(3):
        shopify.emulator.save_order({})
        woo.emulator.save_order({})
    env = {**shopify_env(shopify.emulator.url), **woo_env(woo.emulator.url)}

    result = relay(["reconcile"], store_url, **env)

    assert result.exit_code == 0, result.output
    assert [(r["source"], r["orders_seen"], r["orders_new_or_changed"]) for r in lines(result)] == [
        ("shopify", 3, 3),
        ("woocommerce", 3, 3),
    ]
    again = relay(["reconcile", "--store", SITE, "--since", "2000-01-01"], store_url, **env)
    assert [(r["store"], r["orders_new_or_changed"]) for r in lines(again)] == [(SITE, 0)]
    status = json.loads(relay(["status"], store_url, **env).stdout)
    assert status["reconcile"][f"shopify:{SHOP}"]["orders_new_or_changed"] == 3
    assert status["reconcile"][f"woocommerce:{SITE}"]["orders_seen"] == 3
    assert status["reconcile"][f"woocommerce:{SITE}"]["error"] is None


def test_reconcile_of_a_store_without_api_access_or_a_bad_time_is_refused(store_url: str) -> None:
    result = relay(["reconcile", "--store", "nowhere.example"], store_url)
    assert result.exit_code == 1 and "no store 'nowhere.example' has API access" in result.output
    result = relay(["reconcile", "--since", "last tuesday"], store_url)
    assert result.exit_code == 2 and "is not an ISO 8601 date or time" in result.output


def test_a_refused_key_fails_the_command_without_showing_the_secret(
    store_url: str, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo()
    result = relay(["reconcile"], store_url, **woo_env(woo.emulator.url, secret="cs_bad_one"))
    assert result.exit_code == 1
    (report,) = lines(result)
    assert "HTTP 401" in str(report["error"]) and report["finished"] is False
    assert "cs_bad_one" not in result.output


def test_backfill_imports_orders_created_in_its_range_with_a_progress_line_per_page(
    store_url: str, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    for _ in range(5):
        woo.emulator.save_order({})
    since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - DAY))

    result = relay(
        ["backfill", "--store", SITE, "--since", since], store_url, **woo_env(woo.emulator.url)
    )

    assert result.exit_code == 0, result.output
    assert f"woocommerce {SITE}: 5/5 orders, 5 new or changed" in result.stderr
    (report,) = lines(result)
    assert report["job"] == "backfill" and report["finished"] is True


def test_backfill_past_60_days_without_read_all_orders_says_which_scope_is_missing(
    store_url: str, start_shopify: shopify_support.Start
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=3))  # read_orders only
    since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 90 * DAY))

    result = relay(
        ["backfill", "--store", SHOP, "--since", since],
        store_url,
        **shopify_env(shopify.emulator.url),
    )

    assert result.exit_code == 1
    assert "orders older than 60 days need the read_all_orders scope" in result.output
