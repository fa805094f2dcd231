"""The console in a real browser (headless Chromium under selenium) over the relay as it
runs: gunicorn, `relay worker`, a SQLite file, the HubSpot emulator. Signing in, the
overview's counts after real webhooks were delivered, an order followed to its HubSpot
record, a dead letter replayed and delivered, a form without its CSRF token refused, a
signed-out visit sent to sign-in, and no console error on any page, at laptop and phone
width.

One stack and one browser for the module; each test works on orders of its own and
reads the overview's counts as a change, so the tests do not depend on their order.
Outside CI they skip, with the reason, where Chromium or its driver is missing; under CI
(CI=true, set by .ci/run, which installs both) a missing browser fails them.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
import requests

from service import samples
from tests.console_stack import (
    CONSOLE_KEY,
    REFUSED_EMAIL,
    Stack,
    browser_missing,
    chromium,
    console_stack,
    errors_in,
)

SHOP = "acme.myshopify.com"
# One xdist worker runs the whole module (make test: --dist loadgroup), so one stack and
# one browser serve every test.
pytestmark = pytest.mark.xdist_group("console-browser")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    missing = browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing + " (CI must run the browser tests)")
        pytest.skip(missing)
    with console_stack(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def module_browser(stack: Stack) -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def browser(module_browser: Any, stack: Stack) -> Iterator[Any]:
    """The module's browser, signed out at the start of each test; no console errors
    may be left at its end."""
    module_browser.set_window_size(1280, 900)
    module_browser.get(stack.console + "sign-in")
    module_browser.delete_all_cookies()
    errors_in(module_browser)
    yield module_browser
    assert errors_in(module_browser, stack.base) == []


def sign_in(browser: Any, stack: Stack, key: str = CONSOLE_KEY) -> None:
    from selenium.webdriver.common.by import By

    browser.get(stack.console + "sign-in")
    browser.find_element(By.ID, "key").send_keys(key)
    go(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click)


def go(browser: Any, action: Callable[[], None]) -> None:
    """Click or submit, and wait until the next page has replaced this one (selenium
    returns from a click before the navigation it starts)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))


def wait_until(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def overview_counts(browser: Any, stack: Stack) -> dict[str, tuple[int, int, int]]:
    from selenium.webdriver.common.by import By

    browser.get(stack.console)
    counts = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#counts tr[data-kind]"):
        cells = [
            row.find_element(By.CSS_SELECTOR, f".{s}").text
            for s in ("pending", "delivered", "dead")
        ]
        counts[unescape(row.get_attribute("data-kind"))] = tuple(int(n) for n in cells)
    return counts


def order(number: int, email: str = "buyer@example.com") -> dict[str, Any]:
    return samples.shopify_order(number, email=email)


def delivered(stack: Stack, key: str) -> Callable[[], bool]:
    return lambda: key in stack.emulator.records("orders")


def test_sign_in_then_the_overview_counts_what_the_worker_delivered(
    browser: Any, stack: Stack
) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, stack)
    assert browser.current_url == stack.console
    before = overview_counts(browser, stack)
    first, second = 5_900_000_000_001, 5_900_000_000_002
    assert stack.send_shopify(order(first, "ann@example.com"), shop=SHOP) == 202
    assert stack.send_shopify(order(second, "bob@example.com"), shop=SHOP) == 202
    wait_until(delivered(stack, f"shopify:{SHOP}:{second}"), what="the orders reach HubSpot")

    def settled() -> dict[str, tuple[int, int, int]] | None:
        counts = overview_counts(browser, stack)
        return counts if counts["all"][0] == 0 and counts["all"][1] > before["all"][1] else None

    after = wait_until(settled, what="nothing left pending")
    change = {kind: after[kind][1] - before[kind][1] for kind in after}
    assert change["line_item"] == 6 and change["order"] == 2 and change["contact"] == 2
    assert change["line_item>order"] == 6 and change["order>contact"] == 2
    assert change["all"] == 18
    assert browser.find_element(By.ID, "oldest-pending").text == "none"
    status = browser.find_element(By.CSS_SELECTOR, "#status h2").text
    assert status == "Status: ready"
    # The chart's bars carry their figures: this hour's delivered add up to the total.
    titles = [
        t.get_attribute("textContent")
        for t in browser.find_elements(By.CSS_SELECTOR, "svg.chart rect title")
    ]
    shown = sum(int(m) for t in titles for m in re.findall(r": (\d+) delivered", t))
    assert shown == after["all"][1]


def test_an_order_is_found_by_number_and_followed_to_its_hubspot_record(
    browser: Any, stack: Stack
) -> None:
    from selenium.webdriver.common.by import By

    number = 5_900_000_000_011
    assert stack.send_shopify(order(number), shop=SHOP) == 202
    wait_until(delivered(stack, f"shopify:{SHOP}:{number}"), what="the order reaches HubSpot")
    sign_in(browser, stack)
    go(browser, browser.find_element(By.LINK_TEXT, "Orders").click)
    search = browser.find_element(By.NAME, "q")
    search.send_keys(f"#{number % 100_000}")
    go(browser, search.submit)
    go(browser, browser.find_element(By.LINK_TEXT, str(number)).click)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(f"Order {number}")

    def order_record_delivered() -> Any:
        browser.refresh()
        links = browser.find_elements(By.CSS_SELECTOR, "#order-record a.hubspot-link")
        return links[0] if links else None

    link = wait_until(order_record_delivered, what="the order record's HubSpot link")
    go(browser, link.click)
    record = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    assert record["properties"]["external_order_key"] == f"shopify:{SHOP}:{number}"


def test_a_dead_letter_is_replayed_from_the_console_and_delivered(
    browser: Any, stack: Stack
) -> None:
    from selenium.webdriver.common.by import By

    number = 5_900_000_000_021
    assert stack.send_shopify(order(number, REFUSED_EMAIL), shop=SHOP) == 202
    contact = "#dead-letters tr[data-key='refused@example.com']"
    sign_in(browser, stack)

    def dead_contact() -> Any:
        browser.get(stack.console + "dead-letters?kind=contact")
        return browser.find_elements(By.CSS_SELECTOR, contact)

    row = wait_until(dead_contact, what="HubSpot refuses the buyer's email")[0]
    assert "INVALID_EMAIL" in row.text or "email" in row.text.lower()
    # The portal is fixed: HubSpot takes the address now.
    fixed = requests.post(
        stack.emulator.url + "/_emulator/config", json={"refused_emails": []}, timeout=5
    )
    assert fixed.status_code == 200
    go(browser, row.find_element(By.CSS_SELECTOR, "button[name=one]").click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Replay 1 dead letter(s)?"
    go(browser, browser.find_element(By.ID, "confirm").click)
    assert "Replayed 1 dead letter(s)" in browser.find_element(By.CSS_SELECTOR, ".flash").text

    def contact_delivered() -> bool:
        browser.get(f"{stack.console}orders/shopify/{SHOP}/{number}")
        state = browser.find_element(By.CSS_SELECTOR, "#contact tbody tr td:nth-child(2)")
        return state.text == "delivered"

    wait_until(contact_delivered, what="the replayed contact is delivered")
    assert REFUSED_EMAIL in stack.emulator.records("contacts")


def test_a_form_posted_without_its_csrf_token_is_refused(browser: Any, stack: Stack) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, stack)
    browser.execute_script(
        "document.querySelector('form.sign-out input[name=csrf_token]').remove()"
    )
    go(browser, browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click)
    assert "403 Forbidden" in browser.find_element(By.TAG_NAME, "h1").text
    assert "CSRF" in browser.find_element(By.CSS_SELECTOR, ".error").text
    browser.get(stack.console)
    assert browser.current_url == stack.console  # still signed in: nothing was done
    errors_in(browser)  # the 403 is logged by the browser as a failed load; expected here


def test_a_signed_out_visit_is_sent_to_sign_in_and_back_after_it(
    browser: Any, stack: Stack
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(stack.console + "rejected")
    assert browser.current_url == stack.console + "sign-in?next=/console/rejected"
    sign_in_here = browser.find_element(By.ID, "key")
    sign_in_here.send_keys("not-the-key")
    go(browser, sign_in_here.submit)
    assert "not an operator key" in browser.find_element(By.CSS_SELECTOR, ".error").text
    errors_in(browser)  # the 401 is logged by the browser as a failed load; expected here
    time.sleep(1.1)  # the slow-down after one failure
    browser.find_element(By.ID, "key").send_keys(CONSOLE_KEY)
    go(browser, browser.find_element(By.ID, "key").submit)
    assert browser.current_url == stack.console + "rejected"
    go(browser, browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click)
    assert browser.current_url.startswith(stack.console + "sign-in")
    browser.get(stack.console + "orders")
    assert browser.current_url.startswith(stack.console + "sign-in?next=")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_its_width_and_logs_no_error(
    browser: Any, stack: Stack, width: int
) -> None:
    number = 5_900_000_000_031 + width
    assert stack.send_shopify(order(number), shop=SHOP) == 202
    browser.set_window_size(width, 900)
    sign_in(browser, stack)
    for path in ("", "orders", "dead-letters", "rejected", f"orders/shopify/{SHOP}/{number}"):
        browser.get(stack.console + path)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, (path, width, overflow)
        assert errors_in(browser, stack.base) == [], path
