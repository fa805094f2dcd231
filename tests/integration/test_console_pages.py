"""The console's pages over a store that real webhooks filled and a worker delivered to
the emulator: the overview's counts and charts, finding an order and following it to its
HubSpot record, dead letters filtered and replayed after a confirmation that counts
them, rejected webhooks listed and replayed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from service.config import Config
from service.shop_checks import RESULT
from service.store.reads import DeadLetterFilter, count_dead
from service.store.state import PORTAL_ID, set_state
from tests.integration.console_pages_support import bury, keep_rejected
from tests.integration.console_support import sign_in, with_console
from tests.integration.whole_order_support import Relay, relay_for
from tests.integration.worker_support import worker_config

SHOP = "acme.myshopify.com"
FIRST, SECOND = 5_840_000_000_101, 5_840_000_000_102


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=12)) as running:
        yield running


def console_relay(config: Config, engine: Engine, emulator: Emulator, **changes: Any) -> Relay:
    settings = worker_config(with_console(config), emulator, **{"sandbox": True, **changes})
    return relay_for(settings, engine, emulator)


@pytest.fixture
def relay(config: Config, engine: Engine, emulator: Emulator) -> Relay:
    relay = console_relay(config, engine, emulator)
    assert relay.shopify(samples.shopify_order(FIRST), shop=SHOP) == 202
    assert relay.shopify(samples.shopify_order(SECOND, email="sam@example.com"), shop=SHOP) == 202
    relay.deliver()
    return relay


def page(relay: Relay, url: str) -> str:
    answer = relay.client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)
    return answer.get_data(as_text=True)


def counts_table(html: str) -> dict[str, tuple[int, int, int]]:
    """kind -> (pending, delivered, dead) as the overview's table shows them."""
    rows = re.findall(
        r'<tr data-kind="([^"]+)">.*?class="num pending">(\d+)<.*?class="num delivered">(\d+)<'
        r'.*?class="num dead">(?:<a [^>]+>)?(\d+)<',
        html,
        re.S,
    )
    return {unescape(kind): (int(p), int(d), int(x)) for kind, p, d, x in rows}


def test_the_overview_counts_what_the_worker_delivered_and_charts_it(relay: Relay) -> None:
    sign_in(relay.client)
    html = page(relay, "/console/")
    counts = counts_table(html)
    assert counts["line_item"] == (0, 6, 0)
    assert counts["order"] == (0, 2, 0)
    assert counts["contact"] == (0, 2, 0)
    assert counts["line_item>order"] == (0, 6, 0)
    assert counts["order>contact"] == (0, 2, 0)
    assert counts["all"] == (0, 18, 0)
    assert re.search(r'id="oldest-pending">none<', html)
    assert "sandbox: delivering to the bundled HubSpot emulator" in html
    assert re.search(r'id="unconfigured">none<', html)
    # Every request the worker sent is in the budget's window still.
    used = int(re.search(r'id="rate-budget">(\d+) of 100', html).group(1))  # type: ignore[union-attr]
    assert used == len(relay.emulator.requests_log()) + 2  # the writes and 2 start-up reads
    # The bars of this minute (or the last two, at a minute's turn) add up to 18.
    delivered = [int(n) for n in re.findall(r"<title>\d\d:\d\d UTC: (\d+) delivered</title>", html)]
    assert sum(delivered) == 18


def test_an_order_is_found_by_id_number_store_and_email_and_followed_to_hubspot(
    relay: Relay,
) -> None:
    sign_in(relay.client)
    href = f"/console/orders/shopify/{SHOP}/{SECOND}"
    for query in (str(SECOND), f"%23{SECOND % 100_000}", str(SECOND % 100_000), "sam@example.com"):
        found = page(relay, f"/console/orders?q={query}")
        assert f'href="{href}"' in found, query
        assert f'href="/console/orders/shopify/{SHOP}/{FIRST}"' not in found, query
    both = page(relay, f"/console/orders?q={SHOP}")
    assert f'/{FIRST}"' in both and f'/{SECOND}"' in both
    assert "No order found" in page(relay, "/console/orders?q=nobody@example.com")

    order = page(relay, href)
    links = re.findall(r'class="hubspot-link" href="([^"]+)"', order)
    assert len(links) == 5  # the order record, the buyer, three lines
    record = requests.get(links[0].replace("&amp;", "&"), timeout=5)
    assert record.status_code == 200
    assert record.json()["properties"]["external_order_key"] == f"shopify:{SHOP}:{SECOND}"
    assert "version 1 of 1 delivered" in order


def test_a_woocommerce_order_is_found_by_its_number_with_or_without_a_hash(
    relay: Relay,
) -> None:
    order = samples.woocommerce_order()
    order["id"], order["number"] = 1207, "W-88"  # a numbering plugin's own numbers
    assert relay.woocommerce(order) == 202
    sign_in(relay.client)
    href = 'href="/console/orders/woocommerce/shop.example.com/1207"'
    assert href in page(relay, "/console/orders?q=W-88")
    plain = samples.woocommerce_order()
    plain["id"] = plain["number"] = 1300
    assert relay.woocommerce(plain) == 202
    for query in ("1300", "%231300"):
        assert 'href="/console/orders/woocommerce/shop.example.com/1300"' in page(
            relay, f"/console/orders?q={query}"
        )


def test_an_order_page_links_to_the_portal_configured_or_learned_and_not_without_one(
    config: Config, engine: Engine, emulator: Emulator, relay: Relay
) -> None:
    href = f"/console/orders/shopify/{SHOP}/{FIRST}"
    portal = console_relay(config, engine, emulator, sandbox=False, hubspot_portal_id="4455")
    sign_in(portal.client)
    links = re.findall(r'class="hubspot-link" href="([^"]+)"', page(portal, href))
    assert links[0].startswith("https://app.hubspot.com/contacts/4455/record/0-123/")
    learned = console_relay(config, engine, emulator, sandbox=False)
    sign_in(learned.client)
    assert 'class="hubspot-link"' not in page(learned, href)  # no portal known: no link
    set_state(engine, PORTAL_ID, "98765", now=0.0)
    links = re.findall(r'class="hubspot-link" href="([^"]+)"', page(learned, href))
    assert {link.split("/record/")[0] for link in links} == {
        "https://app.hubspot.com/contacts/98765"
    }


def test_an_unknown_order_is_a_404_page(relay: Relay) -> None:
    sign_in(relay.client)
    answer = relay.client.get(f"/console/orders/shopify/{SHOP}/404")
    assert answer.status_code == 404
    assert "No order shopify/acme.myshopify.com/404 is stored." in answer.get_data(as_text=True)


def test_dead_letters_are_filtered_and_replayed_after_a_confirmation_that_counts_them(
    relay: Relay, engine: Engine
) -> None:
    lines = [f"shopify:{SHOP}:{FIRST * 10 + n}" for n in (1, 2, 3)]
    for key in lines:
        bury(engine, key, error="VALIDATION_ERROR: price must not be negative")
    bury(engine, f"shopify:{SHOP}:{SECOND * 10 + 1}", error="retried for 24 h: 503")
    token = sign_in(relay.client)
    listed = page(relay, "/console/dead-letters?reason=negative&kind=line_item")
    assert 'id="matching">3 dead letter(s) match' in listed
    assert sorted(re.findall(r'<tr data-key="([^"]+)"', listed)) == lines
    assert 'id="matching">0 dead' in page(relay, "/console/dead-letters?source=woocommerce")
    assert relay.client.get("/console/dead-letters?kind=nonsense").status_code == 400

    picked = {"csrf_token": token, "mode": "selected", "keys": lines[:2]}
    confirm = relay.client.post("/console/dead-letters/confirm", data=picked)
    assert "Replay 2 dead letter(s)?" in confirm.get_data(as_text=True)
    with engine.connect() as conn:
        assert count_dead(conn, DeadLetterFilter()) == 4  # a confirmation changes nothing
    done = relay.client.post("/console/dead-letters/replay", data=picked, follow_redirects=True)
    assert "Replayed 2 dead letter(s)" in done.get_data(as_text=True)

    every = {"csrf_token": token, "mode": "all", "reason": "negative"}
    confirm = relay.client.post("/console/dead-letters/confirm", data=every)
    assert "Replay 1 dead letter(s)?" in confirm.get_data(as_text=True)
    one = {"csrf_token": token, "one": f"shopify:{SHOP}:{SECOND * 10 + 1}"}
    assert "Replay 1 dead" in relay.client.post("/console/dead-letters/confirm", data=one).text
    relay.client.post("/console/dead-letters/replay", data=every)
    relay.client.post("/console/dead-letters/replay", data=one)
    relay.deliver()
    with engine.connect() as conn:
        assert count_dead(conn, DeadLetterFilter()) == 0
    assert counts_table(page(relay, "/console/"))["line_item"] == (0, 6, 0)


def test_a_replay_with_nothing_selected_is_refused(relay: Relay) -> None:
    token = sign_in(relay.client)
    answer = relay.client.post("/console/dead-letters/confirm", data={"csrf_token": token})
    assert answer.status_code == 400
    assert "Select the dead letters to replay." in answer.get_data(as_text=True)


def test_rejected_webhooks_are_listed_without_bodies_and_replayed(relay: Relay) -> None:
    kept = keep_rejected(relay.client)
    token = sign_in(relay.client)
    listed = page(relay, "/console/rejected?reason=invalid_order")
    assert f'<tr data-id="{kept}">' in listed
    assert "Merino Beanie" not in listed  # the body holds personal data: never listed
    assert 'id="matching">0 rejected' in page(relay, "/console/rejected?source=woocommerce")
    assert relay.client.get("/console/rejected?reason=nonsense").status_code == 400
    confirm = relay.client.post("/console/rejected/confirm", data={"csrf_token": token})
    assert "Replay 1 rejected webhook(s)?" in confirm.get_data(as_text=True)
    done = relay.client.post(
        "/console/rejected/replay",
        data={"csrf_token": token, "one": str(kept)},
        follow_redirects=True,
    )
    # Today's mapping still cannot read the quantity: it stays, one attempt more.
    assert "1 rejected" in done.get_data(as_text=True)


def test_the_overview_shows_each_shops_reconciliation_and_subscriptions(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    token = "shpat_console_secret_token"
    relay = console_relay(config, engine, emulator, shopify_admin_tokens={SHOP: token})
    found = {
        "source": "shopify",
        "store": SHOP,
        "ok": ["orders/create"],
        "missing": ["orders/updated"],
        "disabled": [],
        "fixed": [],
        "error": None,
        "checked_at": "2026-12-02T03:00:00Z",
    }
    set_state(engine, f"{RESULT}shopify:{SHOP}", json.dumps(found), now=0.0)
    sign_in(relay.client)
    html = page(relay, "/console/")
    shops = html[html.index('id="shops"') :]
    shops = shops[: shops.index("</section>")]
    assert re.search(rf"<td>reconcile</td><td>shopify:{SHOP}</td>\s*<td[^>]*>never</td>", shops)
    assert '<td class="bad">orders/updated</td>' in shops
    assert '<td class="ok">orders/create</td>' in shops
    assert token not in html
