"""Who gets into the console: every route refused without a session, the console refused
without its keys or secret key (fail closed), the cookie's flags, CSRF on every form,
failed sign-ins slowed per client, sign-out, and no secret in any page."""

from __future__ import annotations

import json
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from service import samples
from service.app import create_app
from service.config import Config
from service.console import SESSION_HOURS
from service.console.access import THROTTLE
from service.store.reads import DeadLetterFilter, count_dead
from service.store.state import SIGNED_OUT, prune_expired
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET
from tests.integration.console_support import (
    CONSOLE_KEY,
    SECRET_KEY,
    csrf_of,
    sign_in,
    with_console,
)

HUBSPOT_TOKEN = "pat-na1-console-test-token-secret"
SECRETS = (CONSOLE_KEY, SECRET_KEY, API_KEY, SHOPIFY_SECRET, "old-rotated-secret", WOO_SECRET)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def console_app(config: Config, engine: Engine) -> Flask:
    app = create_app(with_console(config), engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def console(console_app: Flask) -> FlaskClient:
    return console_app.test_client()


def console_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, URL) of every console route but sign-in and the stylesheet."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in (
            "console.sign_in",
            "console.static",
        ):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{name}>", "x", url)
        found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_console_route_is_refused_without_a_session(console_app: Flask) -> None:
    client = console_app.test_client()
    routes = console_routes(console_app)
    assert len(routes) >= 9  # overview, orders, an order, dead letters, rejected, the forms
    for method, url in routes:
        answer = client.open(url, method=method, data={})
        if method == "GET":
            assert answer.status_code == 302, url
            assert answer.headers["Location"].startswith("/console/sign-in?next="), url
        else:
            assert answer.status_code == 403, (method, url)


def test_a_signed_out_visit_is_sent_to_sign_in_and_back(console: FlaskClient) -> None:
    answer = console.get("/console/dead-letters?kind=contact")
    assert (
        answer.headers["Location"] == "/console/sign-in?next=/console/dead-letters?kind%3Dcontact"
    )
    page = console.get(answer.headers["Location"]).get_data(as_text=True)
    token = csrf_of(page)
    assert 'name="next" value="/console/dead-letters?kind=contact"' in page
    signed = console.post(
        "/console/sign-in",
        data={
            "csrf_token": token,
            "key": CONSOLE_KEY,
            "next": "/console/dead-letters?kind=contact",
        },
    )
    assert signed.headers["Location"] == "/console/dead-letters?kind=contact"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console", "/v1/orders"]
)
def test_sign_in_never_sends_an_operator_off_the_console(console: FlaskClient, target: str) -> None:
    token = csrf_of(console.get("/console/sign-in").get_data(as_text=True))
    answer = console.post(
        "/console/sign-in", data={"csrf_token": token, "key": CONSOLE_KEY, "next": target}
    )
    assert answer.headers["Location"] == "/console/"


@pytest.mark.parametrize(
    ("changes", "missing"),
    [({"console_keys": ()}, "RELAY_CONSOLE_KEYS"), ({"secret_key": None}, "RELAY_SECRET_KEY")],
)
def test_the_console_refuses_everything_without_its_keys_or_secret_key(
    config: Config, engine: Engine, changes: dict[str, object], missing: str
) -> None:
    app = create_app(with_console(config).replace(**changes), engine)
    client = app.test_client()
    for method, url in [
        ("GET", "/console/sign-in"),
        ("POST", "/console/sign-in"),
        *console_routes(app),
    ]:
        answer = client.open(url, method=method, data={"key": CONSOLE_KEY})
        assert answer.status_code == 503, (method, url)
        assert missing in answer.get_data(as_text=True)
        assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize("secure", [True, False])
def test_the_session_cookie_is_http_only_strict_on_the_console_path_and_secure_unless_turned_off(
    config: Config, engine: Engine, secure: bool
) -> None:
    app = create_app(with_console(config, console_secure_cookie=secure), engine)
    client = app.test_client()
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
    answer = client.post("/console/sign-in", data={"csrf_token": token, "key": CONSOLE_KEY})
    cookie = answer.headers["Set-Cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith("relay_console=")
    assert {"httponly", "path", "samesite", "expires"} <= flags
    assert "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert ("secure" in flags) is secure


def test_the_session_cookie_holds_no_key(console_app: Flask) -> None:
    client = console_app.test_client()
    sign_in(client)
    cookie = client.get_cookie("relay_console", path="/console")
    assert cookie is not None
    payload = console_app.session_interface.get_signing_serializer(console_app).loads(  # type: ignore[attr-defined]
        cookie.value
    )
    assert set(payload) == {"operator", "sid", "csrf", "_permanent"}
    assert CONSOLE_KEY not in json.dumps(payload) and CONSOLE_KEY not in cookie.value


def test_a_tampered_session_cookie_is_a_signed_out_visit(console_app: Flask) -> None:
    client = console_app.test_client()
    sign_in(client)
    cookie = client.get_cookie("relay_console", path="/console")
    assert cookie is not None
    client.set_cookie("relay_console", cookie.value[:-2] + "xx", path="/console")
    assert client.get("/console/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    console: FlaskClient, config: Config, engine: Engine
) -> None:
    from tests.integration.console_pages_support import bury

    bury(engine, "shopify:acme.myshopify.com:1")
    token = sign_in(console)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": token[:-1] + "x"}):
        answer = console.post("/console/dead-letters/replay", data={**data, "mode": "all"})
        assert answer.status_code == 403
        assert "CSRF" in answer.get_data(as_text=True)
    with engine.connect() as conn:
        assert count_dead(conn, DeadLetterFilter()) == 1
    # The same form with its token goes through.
    answer = console.post("/console/dead-letters/replay", data={"csrf_token": token, "mode": "all"})
    assert answer.status_code == 302
    with engine.connect() as conn:
        assert count_dead(conn, DeadLetterFilter()) == 0


def test_sign_in_without_its_csrf_token_is_refused(console: FlaskClient) -> None:
    assert console.post("/console/sign-in", data={"key": CONSOLE_KEY}).status_code == 403


def test_failed_sign_ins_are_slowed_per_client_twice_as_long_each_time(console_app: Flask) -> None:
    clock = Clock()
    console_app.extensions[THROTTLE].clock = clock
    client = console_app.test_client()
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))

    def attempt(key: str) -> int:
        answer = client.post(
            "/console/sign-in",
            data={"csrf_token": token, "key": key},
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        )
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
        return answer.status_code

    assert attempt("wrong") == 401  # the next try counts in 1 s
    assert attempt(CONSOLE_KEY) == 429  # even the right key waits
    clock.now += 1.0
    assert attempt("wrong again") == 401  # now 2 s
    clock.now += 1.5
    assert attempt(CONSOLE_KEY) == 429
    other = console_app.test_client()  # another client is not slowed
    other_token = csrf_of(other.get("/console/sign-in").get_data(as_text=True))
    answer = other.post(
        "/console/sign-in",
        data={"csrf_token": other_token, "key": CONSOLE_KEY},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert answer.status_code == 302
    clock.now += 0.6
    assert attempt(CONSOLE_KEY) == 302  # the wait is over and the key is right


def test_failures_are_forgotten_after_a_quarter_hour(console_app: Flask) -> None:
    throttle = console_app.extensions[THROTTLE]
    clock = Clock()
    throttle.clock = clock
    assert [throttle.failed("c") for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    clock.now += 901
    assert throttle.wait("c") == 0 and throttle.failed("c") == 1


def test_sign_out_ends_the_session_and_every_copy_of_its_cookie(
    console_app: Flask, engine: Engine
) -> None:
    console = console_app.test_client()
    token = sign_in(console)
    assert console.get("/console/").status_code == 200
    cookie = console.get_cookie("relay_console", path="/console")
    assert cookie is not None
    assert console.post("/console/sign-out", data={"csrf_token": token}).status_code == 302
    assert console.get("/console/").status_code == 302
    stolen = console_app.test_client()  # a copy taken before the sign-out
    stolen.set_cookie("relay_console", cookie.value, path="/console")
    assert stolen.get("/console/").status_code == 302
    # Another session of the same key is not signed out with it.
    other = console_app.test_client()
    sign_in(other)
    assert other.get("/console/").status_code == 200
    # The record of a sign-out goes once the cookie would have expired anyway.
    later = time.time() + SESSION_HOURS * 3600 + 1
    assert prune_expired(engine, SIGNED_OUT, now=later) == 1


def test_a_key_taken_out_of_the_list_ends_its_sessions(config: Config, engine: Engine) -> None:
    app = create_app(with_console(config), engine)
    client = app.test_client()
    sign_in(client)
    rotated = create_app(
        with_console(config).replace(console_keys=("the-new-key-987654321",)), engine
    )
    other = rotated.test_client()
    cookie = client.get_cookie("relay_console", path="/console")
    assert cookie is not None
    other.set_cookie("relay_console", cookie.value, path="/console")
    assert other.get("/console/").status_code == 302


def test_no_key_secret_or_token_is_in_any_page(config: Config, engine: Engine) -> None:
    from tests.integration.console_pages_support import bury, keep_rejected

    full = with_console(config).replace(
        hubspot_access_token=HUBSPOT_TOKEN, sandbox=False, hubspot_portal_id="4455"
    )
    app = create_app(full, engine)
    app.config["TESTING"] = True
    client = app.test_client()
    body, headers = samples.shopify_request(samples.shopify_order(), SHOPIFY_SECRET)
    assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 202
    bury(engine, "shopify:sample-shop.myshopify.com:58400000000011", kind="line_item")
    keep_rejected(client)
    token = sign_in(client)
    pages = [
        client.get(url)
        for url in (
            "/console/sign-in",
            "/console/",
            "/console/orders",
            "/console/orders?q=5840000000001",
            "/console/orders/shopify/sample-shop.myshopify.com/5840000000001",
            "/console/dead-letters",
            "/console/rejected",
        )
    ]
    pages.append(
        client.post("/console/dead-letters/confirm", data={"csrf_token": token, "mode": "all"})
    )
    pages.append(client.post("/console/rejected/confirm", data={"csrf_token": token}))
    for page in pages:
        assert page.status_code == 200, page.request.path
        text = page.get_data(as_text=True)
        for secret in (*SECRETS, HUBSPOT_TOKEN):
            assert secret not in text, page.request.path
        assert page.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
