"""`relay backfill` as a real process against the Shopify emulator (a real HTTP server):
5,000 orders, paced by the shop's call limit, killed midway and run again, on SQLite.
(Its PostgreSQL runs are the CLI tests' own, in tests/integration/test_cli_shops.py.)"""

from __future__ import annotations

import re
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from emulators.shopify import Emulator, EmulatorConfig
from service.store import migrate
from service.store.engine import make_engine
from service.store.tables import orders
from tests.integration import shopify_support
from tests.processes import VENV_BIN, base_env, run_process

ORDERS = 5_000
BUCKET = 10
PROGRESS = re.compile(r"shopify \S+: (\d+)/5000 orders")


def progress(output: str) -> list[int]:
    return [int(n) for n in PROGRESS.findall(output)]


def keep_the_bucket_full(emulator: Emulator, until: threading.Event) -> None:
    """Other calls of the app at the store (Shopify's bucket is per app and store) keep
    the bucket full until the backfill has made its first call, which meets a 429."""
    url = emulator.url + shopify_support.API + "/webhooks/count.json"
    headers = {"X-Shopify-Access-Token": shopify_support.TOKEN}
    with requests.Session() as http:
        while not until.is_set():
            http.get(url, headers=headers, timeout=5)
            if _backfill_calls(emulator):
                until.set()


def _backfill_calls(emulator: Emulator) -> list[dict[str, object]]:
    return [c for c in emulator.requests_log() if "/orders" in str(c["path"])]


@pytest.mark.scenario
def test_a_backfill_of_5000_orders_is_paced_shows_progress_and_resumes_after_a_kill(
    tmp_path: Path,
) -> None:
    shop = shopify_support.shop(orders=ORDERS, scopes={"read_orders", "read_all_orders"})
    config = EmulatorConfig(shops=[shop], bucket_size=BUCKET, leak_rate=2.0, retry_after=1.0)
    url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    env = base_env(
        DATABASE_URL=url,
        SHOPIFY_ADMIN_TOKENS=f"{shopify_support.DOMAIN}={shopify_support.TOKEN}",
        RELAY_LOG_JSON="true",
    )
    command = [str(VENV_BIN / "relay"), "backfill", "--store", shopify_support.DOMAIN]
    command += ["--since", "2000-01-01"]
    with Emulator(config) as shopify:
        env["SHOPIFY_API_BASE_URL"] = shopify.url
        first_call = threading.Event()
        filler = threading.Thread(target=keep_the_bucket_full, args=(shopify, first_call))
        filler.start()
        with run_process(command, env) as first:
            filler.join(timeout=30)
            deadline = time.monotonic() + 60
            while not any(n >= 1_000 for n in progress(first.output())):
                assert first.alive() and time.monotonic() < deadline, first.describe()
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        done_first = max(progress(first.output()))
        with run_process(command, env) as second:
            assert second.wait(timeout=120) == 0, second.describe()
        calls = _backfill_calls(shopify)

    statuses = [call["status"] for call in calls]
    # The first call found the bucket full (unless it came in the moment a slot drained);
    # after it the pace kept every call inside the bucket.
    assert statuses[0] in (200, 429) and 429 not in statuses[1:], statuses
    resumed = progress(second.output())
    # It went on from its checkpoint: one page either way (killed between a page's
    # checkpoint and its progress line, or the orders at the checkpoint's second again).
    assert abs(resumed[-1] + done_first - ORDERS) <= 250
    assert '"finished": true' in second.output()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orders)).scalar_one() == ORDERS
    engine.dispose()
