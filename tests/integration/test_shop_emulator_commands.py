"""`relay shopify emulator` and `relay woocommerce emulator`, each run as a real process:
it serves on the port given, seeds the orders asked for, prints how to call it, and
stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal

import pytest
import requests

from tests.processes import VENV_BIN, base_env, free_port, run_process, wait_http

SHOPIFY_TOKEN = "shpat_emu_one_0001"  # the first default shop's
WOO_KEY = "ck_emuone0000000000000000000000000000001"


@pytest.mark.parametrize(
    ("shop", "orders_api", "credential"),
    [
        ("shopify", "/admin/api/2026-07/orders/count.json?status=any", SHOPIFY_TOKEN),
        ("woocommerce", "/wp-json/wc/v3/orders", WOO_KEY),
    ],
)
def test_the_emulator_command_serves_its_port_with_the_orders_asked_for(
    shop: str, orders_api: str, credential: str
) -> None:
    port = free_port()
    command = [str(VENV_BIN / "relay"), shop, "emulator", "--port", str(port), "--orders", "3"]
    with run_process(command, env=base_env()) as process:
        base = f"http://127.0.0.1:{port}"
        seeded = wait_http(base + "/_emulator/orders", timeout=30, process=process).json()
        if shop == "shopify":
            answer = requests.get(
                base + orders_api, headers={"X-Shopify-Access-Token": credential}, timeout=5
            )
        else:
            secret = credential.replace("ck_", "cs_")
            answer = requests.get(base + orders_api, auth=(credential, secret), timeout=5)

        assert len(seeded["orders"]) == 3
        assert answer.status_code == 200
        assert process.stop(signal.SIGINT) == 0
    assert f"listening on http://127.0.0.1:{port}" in process.output()
    assert credential in process.output()
