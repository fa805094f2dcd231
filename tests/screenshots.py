"""`make screenshots`: each console page at laptop and phone width, as PNG files in
docs/screenshots/, from the relay as it runs (tests.console_stack) with a few orders
delivered, one buyer's email refused (a dead letter) and one webhook kept as rejected.

The worker's own minutes fill only the last minute of the hour's charts, so the hour
before the run is seeded with made-up minutes (marked as such in the `activity` table's
pending column: it is what a worker would have sampled) to show the charts' shape.

    .venv/bin/python -m tests.screenshots [--folder docs/screenshots]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from service import samples
from service.store import activity
from service.store.engine import make_engine
from tests.console_stack import CONSOLE_KEY, REFUSED_EMAIL, Stack, chromium, console_stack

ROOT = Path(__file__).resolve().parents[1]
SHOP = "acme.myshopify.com"
WIDTHS = {"laptop": (1280, 860), "phone": (390, 844)}


def fill(stack: Stack) -> int:
    """Orders through the relay; the number of the one the order page shows."""
    for n in range(1, 7):
        email = REFUSED_EMAIL if n == 5 else f"buyer{n}@example.com"
        assert stack.send_shopify(samples.shopify_order(5_840_000_000_000 + n, email=email)) == 202
    broken = samples.shopify_order(5_840_000_000_099)
    broken["line_items"][0]["quantity"] = "lots"
    assert stack.send_shopify(broken) == 200  # kept as rejected
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(stack.emulator.records("orders")) < 6:
        time.sleep(0.2)
    time.sleep(1.0)  # the associations and the refused contact's dead letter follow
    return 5_840_000_000_002


def seed_hour(store_url: str) -> None:
    engine = make_engine(store_url)
    rng = random.Random(7)
    now = time.time()
    for back in range(59, 0, -1):
        moment = now - back * 60
        with engine.begin() as conn:
            activity.count(
                conn, moment, delivered=rng.randint(20, 90), failed=rng.choice([0, 0, 0, 3, 8])
            )
        activity.sample_depth(engine, moment, pending=rng.randint(0, 240), dead=1)
    engine.dispose()


def shoot(stack: Stack, folder: Path, number: int) -> list[Path]:
    from selenium.webdriver.common.by import By

    pages = {
        "overview": "",
        "orders": "orders?q=buyer2%40example.com",
        "order": f"orders/shopify/{SHOP}/{number}",
        "dead-letters": "dead-letters",
        "rejected": "rejected",
        "sign-in": "sign-in",
    }
    written = []
    for width_name, (width, height) in WIDTHS.items():
        with chromium(width, height) as browser:
            browser.get(stack.console + "sign-in")
            browser.find_element(By.ID, "key").send_keys(CONSOLE_KEY)
            browser.find_element(By.ID, "key").submit()
            for name, path in pages.items():
                if name == "sign-in":
                    browser.delete_all_cookies()
                browser.get(stack.console + path)
                target = folder / f"{name}-{width_name}.png"
                _full_height(browser, width, height, phone=width_name == "phone")
                browser.save_screenshot(str(target))
                written.append(target)
    return written


def _full_height(browser: Any, width: int, height: int, *, phone: bool) -> None:
    """The whole page in one picture, at most two screens tall (a headless window is
    no taller than its screen, so the page's viewport is set instead)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    tall = int(browser.execute_script("return document.documentElement.scrollHeight"))
    metrics["height"] = min(max(height, tall), 2 * height)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="relay-screens-") as tmp,
        console_stack(Path(tmp)) as stack,
    ):
        number = fill(stack)
        seed_hour(stack.store_url)
        for path in shoot(stack, folder, number):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
