"""`relay run` (what `make run` starts): the Procfile's release, web and worker lines under
honcho, with the emulator in sandbox mode; a signed sample order reaches the emulator."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.integration.console_support import csrf_of
from tests.processes import VENV_BIN, base_env, free_port, run_process, wait_http

RELAY = str(VENV_BIN / "relay")


def sandbox(tmp_path: Path, **extra: str) -> tuple[int, int, dict[str, str]]:
    """The web's port, the HubSpot emulator's, and `relay run`'s environment."""
    port, hubspot_port = free_port(), free_port()
    env = base_env(
        PORT=str(port),
        RELAY_SANDBOX_PORT=str(hubspot_port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'relay.sqlite3'}",
        RELAY_LINGER_SECONDS="0.2",
        **extra,
    )
    return port, hubspot_port, env


def test_relay_run_serves_the_procfile_and_delivers_a_sample_order_to_the_emulator(
    tmp_path: Path,
) -> None:
    # The sandbox's shop emulators run, but no pass: HubSpot holds the sample alone.
    port, hubspot_port, env = sandbox(tmp_path, RELAY_RECONCILE_SECONDS="0")
    with run_process([RELAY, "run"], env=env) as run:
        ready = wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60, process=run).json()
        assert ready["sandbox"] is True
        assert ready["checks"]["hubspot"] == "sandbox"
        assert ready["sources_without_secret"] == []  # sandbox secrets were filled in
        assert "relay send-sample shopify" in run.output()
        # The console is on with the sandbox's key, its cookie usable over plain HTTP.
        console = f"http://127.0.0.1:{port}/console/"
        assert f"Console: {console}  (key: sandbox-console-key)" in run.output()
        with requests.Session() as browser:
            token = csrf_of(browser.get(console + "sign-in", timeout=10).text)
            browser.post(
                console + "sign-in",
                data={"csrf_token": token, "key": "sandbox-console-key"},
                timeout=10,
            )
            overview = browser.get(console, timeout=10, allow_redirects=False)
            assert overview.status_code == 200 and "Records by kind" in overview.text
        sample = subprocess.run(
            [RELAY, "send-sample", "shopify", "--port", str(port)],
            env={**env, "SHOPIFY_WEBHOOK_SECRETS": "sandbox-shopify-secret"},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert sample.returncode == 0, sample.stdout + sample.stderr
        assert sample.stdout.startswith("202 ")
        # The worker also reconciles the sandbox's shop emulators, whose orders reach the
        # HubSpot emulator beside the sample's: only the sample's records are looked at.
        sample_shop = "shopify:sample-shop.myshopify.com:"
        records: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(records) < 3:
            every = requests.get(f"http://127.0.0.1:{hubspot_port}/_emulator/records", timeout=5)
            records = sorted(key for key in every.json() if key.startswith(sample_shop))
            time.sleep(0.2)
        assert records == [
            "shopify:sample-shop.myshopify.com:58400000000011",
            "shopify:sample-shop.myshopify.com:58400000000012",
            "shopify:sample-shop.myshopify.com:58400000000013",
        ]
        # The whole order, in the sandbox too: its record, its buyer, all hung together.
        emulator = f"http://127.0.0.1:{hubspot_port}/_emulator"
        order_key = "shopify:sample-shop.myshopify.com:5840000000001"
        order: dict[str, object] = {}
        links: list[object] = []
        while time.monotonic() < deadline and len(links) < 4:
            orders = requests.get(f"{emulator}/records", params={"type": "orders"}, timeout=5)
            order = orders.json().get(order_key, {})
            every = requests.get(f"{emulator}/associations", timeout=5).json()
            ends = {str(order.get("id"))}
            links = [a for a in every if {str(a["fromId"]), str(a["toId"])} & ends]
            time.sleep(0.2)
        assert order, "the sample order never reached the emulator"
        assert len(links) == 4  # its 3 line items hang on it, and it on its buyer
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) is not None
    output = run.output()
    assert "store at revision" in output  # the Procfile's release line ran first
    for name in ("hubspot", "shopify", "woocommerce", "web", "worker"):
        assert f"{name} started" in output
    assert "worker_stopped" in output  # honcho passed SIGTERM on; the worker let go cleanly


@pytest.mark.scenario
def test_relay_runs_sandbox_subscribes_to_the_shop_emulators_and_reconciles_them(
    tmp_path: Path,
) -> None:
    port, hubspot_port, env = sandbox(tmp_path)
    with run_process([RELAY, "run"], env=env) as run:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=run)
        deadline, ready = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()
            checks = ready["checks"]
            done = [f for f in checks.get("reconcile", {}).values() if f.get("last_finished")]
            if len(checks.get("subscriptions", {})) == 4 and len(done) == 4:
                break
            time.sleep(0.5)
        assert ready["status"] == "ready", ready
        assert all(not s["missing"] for s in ready["checks"]["subscriptions"].values())
        reconciled = sum(f["orders_new_or_changed"] for f in done)
        assert reconciled >= 1  # the seeds change an order or two a day in each shop
        emulator, orders = f"http://127.0.0.1:{hubspot_port}/_emulator/records", {}
        while time.monotonic() < deadline and len(orders) < reconciled:
            orders = requests.get(emulator, params={"type": "orders"}, timeout=5).json()
            time.sleep(0.2)
        assert {key.split(":")[1] for key in orders} <= {
            "emu-one.myshopify.com", "emu-two.myshopify.com", "emu-one.example", "emu-two.example"
        }  # fmt: skip
        assert len(orders) == reconciled
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) is not None
