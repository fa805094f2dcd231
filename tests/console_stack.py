"""The console for a browser: the relay as it runs (gunicorn web, `relay worker`, a SQLite
file) against a started HubSpot emulator, and headless Chromium driven by selenium
(Debian's /usr/bin/chromium and /usr/bin/chromedriver). The browser tests and `make
screenshots` both start from here.

    with console_stack(tmp_path) as stack, chromium() as browser:
        stack.send_shopify(samples.shopify_order())
        browser.get(stack.console + "sign-in")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from service.store import migrate
from service.store.engine import make_engine
from tests.processes import VENV_BIN, Process, base_env, free_port, run_process, wait_http

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CONSOLE_KEY = "browser-operator-key-0123456789"
SHOPIFY_SECRET = "browser-shopify-secret"
REFUSED_EMAIL = "refused@example.com"
GUNICORN = [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "service.app:create_app()"]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@dataclass
class Stack:
    base: str  # the web process, http://127.0.0.1:PORT
    emulator: Emulator
    store_url: str
    web: Process
    worker: Process

    @property
    def console(self) -> str:
        return self.base + "/console/"

    def send_shopify(self, order: dict[str, Any], shop: str = "acme.myshopify.com") -> int:
        body, headers = samples.shopify_request(order, SHOPIFY_SECRET, shop=shop)
        answer = requests.post(
            self.base + "/webhooks/shopify", data=body, headers=headers, timeout=10
        )
        return answer.status_code


@contextmanager
def console_stack(folder: Path) -> Iterator[Stack]:
    """The emulator (refusing REFUSED_EMAIL as HubSpot refuses an invalid email), one
    gunicorn worker and one relay worker on a SQLite file in `folder`."""
    store_url = f"sqlite:///{folder / 'console.sqlite3'}"
    engine = make_engine(store_url)
    migrate.upgrade(engine)
    engine.dispose()
    port = free_port()
    with ExitStack() as stack:
        emulator = stack.enter_context(
            Emulator(EmulatorConfig(seed=31, refused_emails={REFUSED_EMAIL}))
        )
        env = base_env(
            PORT=str(port),
            WEB_CONCURRENCY="1",
            DATABASE_URL=store_url,
            SHOPIFY_WEBHOOK_SECRETS=SHOPIFY_SECRET,
            RELAY_CONSOLE_KEYS=CONSOLE_KEY,
            RELAY_SECRET_KEY=os.urandom(24).hex(),
            RELAY_CONSOLE_SECURE_COOKIE="false",  # plain HTTP on 127.0.0.1
            RELAY_SANDBOX="true",
            HUBSPOT_BASE_URL=emulator.url,
            RELAY_LINGER_SECONDS="0.05",
            RELAY_LOG_JSON="true",
        )
        web = stack.enter_context(run_process(GUNICORN, env=env))
        worker = stack.enter_context(run_process([str(VENV_BIN / "relay"), "worker"], env=env))
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", timeout=30, process=web)
        yield Stack(base, emulator, store_url, web, worker)


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """Headless Chromium under selenium, its console messages kept for `errors_in`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def errors_in(driver: Any, origin: str = "") -> list[str]:
    """The browser console's errors (CSP violations and failed loads too) since the last
    call, of pages under `origin` (the emulator's record page is not the console's)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and entry["message"].startswith(origin)
    ]
