"""Two `relay worker` processes reconcile one Shopify shop (the emulator, a real HTTP
server) every second: their passes never overlap, and every order the passes read
reaches HubSpot (the emulator). On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from emulators.hubspot import Emulator as HubSpot
from emulators.hubspot import EmulatorConfig as HubSpotConfig
from emulators.shopify import Emulator, EmulatorConfig
from service.store import migrate
from service.store.engine import make_engine
from tests.integration import shopify_support
from tests.processes import VENV_BIN, base_env, run_process

ORDERS = 300  # two pages of 250
PASSES = 4  # passes to watch: the workers poll every 5 s, a pass is due after 1 s


def pass_of(call: dict[str, Any]) -> str:
    """Which pass a listing call belongs to: its updated_at_min, given or in its page_info."""
    query = call["query"]
    if "page_info" not in query:
        return str(query["updated_at_min"])
    token = query["page_info"]
    filters = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["filters"]
    return f"{filters['updated_at_min']:.0f}"


def listings_of(shopify: Emulator) -> list[dict[str, Any]]:
    return [c for c in shopify.requests_log() if c["path"].endswith("/orders.json")]


def runs_of_passes(passes: list[str]) -> list[str]:
    """The passes in the order their calls came, one entry per unbroken run of calls."""
    return [key for index, key in enumerate(passes) if index == 0 or passes[index - 1] != key]


def runs_of(shopify: Emulator) -> list[str]:
    return runs_of_passes([pass_of(call) for call in listings_of(shopify)])


@pytest.mark.scenario
def test_two_workers_take_turns_at_a_stores_passes_and_deliver_what_they_read(
    database_url: str,
) -> None:
    engine = make_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    migrate.upgrade(engine)
    engine.dispose()
    shop = shopify_support.shop(orders=ORDERS, scopes={"read_orders", "read_all_orders"})
    with (
        HubSpot(HubSpotConfig(seed=21)) as hubspot,
        Emulator(EmulatorConfig(shops=[shop])) as shopify,
    ):
        env = base_env(
            DATABASE_URL=database_url,
            HUBSPOT_BASE_URL=hubspot.url,
            RELAY_SANDBOX="true",
            SHOPIFY_ADMIN_TOKENS=f"{shopify_support.DOMAIN}={shopify_support.TOKEN}",
            SHOPIFY_API_BASE_URL=shopify.url,
            RELAY_RECONCILE_SECONDS="1",
            RELAY_RECONCILE_OVERLAP_SECONDS=str(100 * 86_400),  # every pass reads them all
            RELAY_LOG_JSON="true",
        )
        command = [str(VENV_BIN / "relay"), "worker"]
        with run_process(command, env) as first, run_process(command, env) as second:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (
                len(runs_of(shopify)) < PASSES or len(hubspot.records("orders")) < ORDERS
            ):
                time.sleep(0.2)
            assert first.stop() == 0 and second.stop() == 0
        listings = listings_of(shopify)
        delivered = len(hubspot.records("orders"))

    passes = [pass_of(call) for call in listings]
    runs = runs_of_passes(passes)
    assert len(runs) == len(set(runs)) >= PASSES, passes  # each pass's calls in one run
    assert all(c["status"] == 200 for c in listings)
    assert '"reconcile_pass_finished"' in first.output() + second.output()
    assert delivered == ORDERS
