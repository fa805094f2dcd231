"""Security checks against the web process as deployed: real gunicorn (two workers) from
deploy/gunicorn.conf.py on a migrated SQLite store, over real sockets.

Refused requests must leave nothing in the store; forged or replayed signatures change
nothing; secrets travel through the environment intact; a bad secret list stops the
process at startup; signed bodies with hostile headers, ids, numbers or nesting are kept
as rejected webhooks and store no order; malformed requests and slow clients get a 4xx
or a closed connection; never a 5xx, and never starving other requests.
"""

from __future__ import annotations

import base64
import json
import select
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from service import samples
from service.signatures import sign
from service.store.engine import make_engine
from service.store.tables import orders, receipts, records
from tests.scenario.harness import (
    API_KEY,
    GUNICORN,
    RELAY,
    SHOPIFY_SECRET,
    WOO_SECRET,
    Proc,
    Stack,
    free_port,
    run,
)

PROBLEM_JSON = "application/problem+json"
OLD_SHOPIFY_SECRET = "old-rotated&secret"  # the first entry of Stack.env()'s secret list


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("security")
    with Stack("security", f"sqlite:///{workdir / 'relay.sqlite3'}", workdir) as stack:
        stack.db_upgrade()
        stack.start_web()
        yield stack


@pytest.fixture(autouse=True)
def show_output_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and "stack" in request.fixturenames:
        for proc in request.getfixturevalue("stack").procs:
            print(proc.tail())


@pytest.fixture(scope="module")
def engine(stack: Stack) -> Iterator[sa.Engine]:
    engine = make_engine(stack.database_url)
    yield engine
    engine.dispose()


def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows of the store's tables, and the line items among the whole order's records."""
    with engine.connect() as conn:
        rows = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (orders, records, receipts)
        }
        line_items = sa.select(sa.func.count()).where(records.c.kind == "line_item")
        rows["line_items"] = conn.execute(line_items).scalar_one()
    return rows


def new_order(**overrides: Any) -> dict[str, Any]:
    """A sample order with a fresh id, so module-scoped tests never collide."""
    order_id = 6_100_000_000_000 + uuid.uuid4().int % 10**9
    lines = [
        samples.shopify_line_item(order_id * 10 + 1, "Trail Socks - L", "3", "12.00", sku="TS"),
        samples.shopify_line_item(order_id * 10 + 2, "Gift wrap", "1", "4.00"),
    ]
    return {**samples.shopify_order(order_id, line_items=lines), **overrides}


def signed(
    payload: Any, secret: str = SHOPIFY_SECRET, **options: Any
) -> tuple[bytes, dict[str, str]]:
    return samples.shopify_request(payload, secret, **options)


def post(
    stack: Stack, body: bytes, headers: dict[str, str], path: str = "/webhooks/shopify"
) -> requests.Response:
    return requests.post(stack.web_url + path, data=body, headers=headers, timeout=15)


def assert_rejected(response: requests.Response, reason: str) -> dict[str, Any]:
    """A signed body that did not fit: kept as a rejected webhook, answered 200."""
    assert response.status_code == 200, (response.status_code, response.text[:500])
    answer: dict[str, Any] = response.json()
    assert (answer["status"], answer["reason"]) == ("rejected", reason), answer
    return answer


def assert_problem(response: requests.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    return problem


def raw_request(port: int, head: bytes, body: bytes = b"", timeout: float = 10) -> bytes:
    """Send bytes as they are (no client-side header checks) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head + body)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def raw_head(path: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:200]
    return int(answer.split(b" ", 2)[1])


# --- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forgery",
    ["wrong-secret", "other-body", "random", "empty", "absent", "hex-digest", "truncated"],
)
def test_a_forged_signature_is_401_and_stores_nothing(
    stack: Stack, engine: sa.Engine, forgery: str
) -> None:
    body, headers = signed(new_order())
    good = headers["X-Shopify-Hmac-Sha256"]
    forged = {
        "wrong-secret": sign(SHOPIFY_SECRET + "x", body),
        "other-body": sign(SHOPIFY_SECRET, body + b" "),
        "random": base64.b64encode(uuid.uuid4().bytes * 2).decode(),
        "empty": "",
        "absent": None,
        "hex-digest": base64.b64decode(good).hex(),
        "truncated": good[:-4],
    }[forgery]
    if forged is None:
        del headers["X-Shopify-Hmac-Sha256"]
    else:
        headers["X-Shopify-Hmac-Sha256"] = forged
    before = counts(engine)

    response = post(stack, body, headers)

    assert_problem(response, 401)
    assert counts(engine) == before


def test_a_replayed_signed_body_is_a_duplicate_and_stored_once(
    stack: Stack, engine: sa.Engine
) -> None:
    body, headers = signed(new_order())
    before = counts(engine)

    answers = [post(stack, body, headers) for _ in range(3)]

    assert [(a.status_code, a.json()["status"]) for a in answers] == [
        (202, "accepted"),
        (200, "duplicate"),
        (200, "duplicate"),
    ]
    after = counts(engine)
    assert after["orders"] == before["orders"] + 1
    assert after["line_items"] == before["line_items"] + 2
    assert after["receipts"] == before["receipts"] + 2  # the webhook id and the event id


def test_a_replay_under_fresh_delivery_ids_is_stale_and_changes_nothing(
    stack: Stack, engine: sa.Engine
) -> None:
    # The headers are not signed: an attacker holding one signed body can vary them.
    body, headers = signed(new_order())
    assert post(stack, body, headers).status_code == 202
    with engine.connect() as conn:
        rows_before = conn.execute(sa.select(records).order_by(records.c.key)).all()
    headers["X-Shopify-Webhook-Id"] = str(uuid.uuid4())
    headers["X-Shopify-Event-Id"] = str(uuid.uuid4())

    response = post(stack, body, headers)

    assert (response.status_code, response.json()["status"]) == (200, "stale")
    with engine.connect() as conn:
        assert conn.execute(sa.select(records).order_by(records.c.key)).all() == rows_before


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("/webhooks/shopify", SHOPIFY_SECRET),
        ("/webhooks/shopify", OLD_SHOPIFY_SECRET),
        ("/webhooks/woocommerce", WOO_SECRET),
    ],
)
def test_secrets_with_ampersand_and_semicolon_sign_as_configured(
    stack: Stack, path: str, secret: str
) -> None:
    assert "&" in secret and (";" in secret or path.endswith("shopify"))
    if path.endswith("shopify"):
        body, headers = signed(new_order(), secret)
    else:
        order = samples.woocommerce_order(700_000 + uuid.uuid4().int % 10**6)
        body, headers = samples.woocommerce_request(order, secret)

    response = post(stack, body, headers, path)

    assert response.status_code == 202, response.text


@pytest.mark.parametrize("secrets", ["one,,two", "one,", ",one", "one, ,two"])
def test_an_empty_secret_entry_stops_release_and_web_at_startup(
    stack: Stack, tmp_path: Path, secrets: str
) -> None:
    env = stack.env(
        SHOPIFY_WEBHOOK_SECRETS=secrets,
        DATABASE_URL=f"sqlite:///{tmp_path / 'relay.sqlite3'}",
        PORT=str(free_port()),
    )

    release = run([RELAY, "db", "upgrade"], env)

    assert release.returncode != 0
    assert "SHOPIFY_WEBHOOK_SECRETS" in release.stderr, release.stderr
    web = Proc("web-bad-secrets", GUNICORN, env, tmp_path / "web.log").start()
    try:
        code = web.popen.wait(timeout=30) if web.popen else None
    finally:
        web.stop()
    assert code not in (None, 0)
    assert "SHOPIFY_WEBHOOK_SECRETS" in web.output()


# --- hostile headers, ids, numbers and bodies -----------------------------------------------


@pytest.mark.parametrize(
    "shop",
    [
        "../../etc/passwd",
        "..",
        "evil.myshopify.com/../other",
        "evil.myshopify.com/./x",
        "shop..myshopify.com",
        ".myshopify.com",
        "evil.myshopify.com%0d%0aX-Injected: 1",
        "evil.myshopify.com\\r\\nX-Injected",
        "evil.myshopify.com:x",
        "evil.myshopify.com\tother",
        "a" * 300 + ".myshopify.com",
    ],
)
def test_a_hostile_shop_domain_is_kept_as_rejected_and_stores_no_order(
    stack: Stack, engine: sa.Engine, shop: str
) -> None:
    body, headers = signed(new_order())
    headers["X-Shopify-Shop-Domain"] = shop
    before = counts(engine)

    response = post(stack, body, headers)

    answer = assert_rejected(response, "invalid_store")
    assert list(answer["errors"]) == ["X-Shopify-Shop-Domain"]
    assert counts(engine) == before


@pytest.mark.parametrize(
    "header",
    [
        # obs-fold: a CRLF inside the value followed by whitespace continues the header
        b"X-Shopify-Shop-Domain: evil.myshopify.com\r\n X-Injected: 1",
        # a bare LF, a bare CR, and a NUL inside the value
        b"X-Shopify-Shop-Domain: evil.myshopify.com\nX-Injected: 1",
        b"X-Shopify-Shop-Domain: evil.myshopify.com\rX-Injected: 1",
        b"X-Shopify-Shop-Domain: evil\x00.myshopify.com",
    ],
    ids=["obs-fold", "bare-lf", "bare-cr", "nul"],
)
def test_control_characters_in_the_shop_domain_header_are_refused(
    stack: Stack, engine: sa.Engine, header: bytes
) -> None:
    body, headers = signed(new_order())
    del headers["X-Shopify-Shop-Domain"]
    head = raw_head("/webhooks/shopify", list(headers.items()), len(body))
    head = head.replace(b"\r\n\r\n", b"\r\n" + header + b"\r\n\r\n", 1)
    before = counts(engine)

    answer = raw_request(int(stack.web_url.rsplit(":", 1)[1]), head, body)

    assert 400 <= status_of(answer) < 500, answer[:300]
    assert counts(engine) == before


@pytest.mark.parametrize(
    "line_id",
    ["12:34", "12\n34", "12\r\nX-Injected: 1", "../12", "12/../34", " 12", "", "12 34", "١٢"],
)
def test_a_line_item_id_that_could_break_the_key_is_kept_as_rejected_and_stores_no_order(
    stack: Stack, engine: sa.Engine, line_id: str
) -> None:
    order = new_order()
    order["line_items"][0]["id"] = line_id
    body, headers = signed(order)
    before = counts(engine)

    response = post(stack, body, headers)

    answer = assert_rejected(response, "invalid_order")
    assert "line_items" in answer["errors"], answer
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", 10**30),
        ("quantity", -1),
        ("quantity", 1e3),
        ("price", "1e400"),
        ("price", "1E+400"),
        ("price", "NaN"),
        ("price", "Infinity"),
        ("price", "-0.01"),
        ("price", "9" * 400),
        ("id", 2**64),
        ("id", 2**64 + 1),
        ("id", -1),
    ],
)
def test_huge_or_invalid_numbers_in_a_line_item_are_kept_as_rejected(
    stack: Stack, engine: sa.Engine, field: str, value: Any
) -> None:
    order = new_order()
    order["line_items"][0][field] = value
    if field == "quantity":
        order["line_items"][0]["current_quantity"] = value
    body, headers = signed(order)
    before = counts(engine)

    response = post(stack, body, headers)

    answer = assert_rejected(response, "invalid_order")
    assert "line_items" in answer["errors"], answer
    assert counts(engine) == before


@pytest.mark.parametrize(
    "raw",
    [b'{"price": 1e400}', b'{"price": 1E400}', b'{"price": -1e400}'],
)
def test_a_json_number_beyond_float_range_as_a_price_is_kept_as_rejected(
    stack: Stack, engine: sa.Engine, raw: bytes
) -> None:
    order = new_order()
    order["line_items"][0]["price"] = "__PRICE__"
    number = raw.split(b": ", 1)[1].rstrip(b"}")
    body = json.dumps(order).encode().replace(b'"__PRICE__"', number)
    _, headers = signed(order)
    headers["X-Shopify-Hmac-Sha256"] = sign(SHOPIFY_SECRET, body)
    before = counts(engine)

    response = post(stack, body, headers)

    answer = assert_rejected(response, "invalid_order")
    assert "line_items" in answer["errors"], answer
    assert counts(engine) == before


def test_an_order_id_above_64_bits_is_kept_as_rejected(stack: Stack, engine: sa.Engine) -> None:
    body, headers = signed(new_order(id=2**64 + 5))
    before = counts(engine)

    answer = assert_rejected(post(stack, body, headers), "invalid_order")

    assert "id" in answer["errors"]
    assert counts(engine) == before


def test_an_integer_too_long_to_parse_is_kept_as_rejected(stack: Stack, engine: sa.Engine) -> None:
    order = new_order()
    order["line_items"][0]["quantity"] = "__N__"
    body = json.dumps(order).encode().replace(b'"__N__"', b"9" * 5000)
    _, headers = signed(order)
    headers["X-Shopify-Hmac-Sha256"] = sign(SHOPIFY_SECRET, body)
    before = counts(engine)

    assert_rejected(post(stack, body, headers), "invalid_json")
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("opening", "closing", "topic"),
    [
        (b"[", b"]", "orders/updated"),
        (b'{"a":', b"}", "orders/updated"),
        (b"[", b"]", "orders/edited"),
    ],
    ids=["arrays", "objects", "arrays-as-edit"],
)
def test_deeply_nested_signed_json_is_kept_as_rejected_not_a_5xx(
    stack: Stack, engine: sa.Engine, opening: bytes, closing: bytes, topic: str
) -> None:
    depth = 100_000
    body = opening * depth + b"1" + closing * depth
    _, headers = signed(new_order(), topic=topic)
    headers["X-Shopify-Hmac-Sha256"] = sign(SHOPIFY_SECRET, body)
    before = counts(engine)

    response = post(stack, body, headers)

    assert_rejected(response, "invalid_json")
    assert counts(engine) == before
    assert requests.get(stack.web_url + "/healthz", timeout=5).status_code == 200


def test_deeply_nested_json_on_the_internal_api_is_a_4xx(stack: Stack, engine: sa.Engine) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    response = post(stack, body, headers, "/v1/orders")

    assert_problem(response, 400, 413, 422)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", None, "application/xml"]
)
def test_a_signed_body_is_read_as_json_whatever_content_type_it_declares(
    stack: Stack, engine: sa.Engine, content_type: str | None
) -> None:
    """The signature covers the bytes, and Shopify always sends JSON: the declared type is
    not trusted either way, so a signed body is parsed as JSON (and kept as rejected if it
    is not)."""
    body, headers = signed(new_order())
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    before = counts(engine)

    response = post(stack, body, headers)

    assert response.status_code == 202, response.text
    assert counts(engine)["line_items"] == before["line_items"] + 2
    not_json = b"webhook_id=1&line_items=2"
    headers["X-Shopify-Hmac-Sha256"] = sign(SHOPIFY_SECRET, not_json)
    assert_rejected(post(stack, not_json, headers), "invalid_json")


# --- the internal API's key ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"Authorization": "Bearer wrong-key"}, ""),
        ({"Authorization": f"Bearer {API_KEY}x"}, ""),
        ({"Authorization": f"Basic {API_KEY}"}, ""),
        ({"Authorization": API_KEY}, ""),
        ({}, f"?api_key={API_KEY}"),
        ({}, f"?token={API_KEY}"),
        ({}, f"?access_token={API_KEY}"),
        ({"Authorization": f"Bearer {API_KEY}"}, f"?key={API_KEY}"),
    ],
    ids=[
        "none",
        "wrong",
        "longer",
        "basic",
        "no-scheme",
        "query-api_key",
        "query-token",
        "query-access_token",
        "header-and-query",
    ],
)
def test_the_internal_api_refuses_a_missing_wrong_or_url_borne_key(
    stack: Stack, headers: dict[str, str], query: str
) -> None:
    response = requests.get(f"{stack.web_url}/v1/dead-letters{query}", headers=headers, timeout=10)

    assert_problem(response, 401)


def test_the_internal_api_accepts_the_key_in_the_header(stack: Stack) -> None:
    headers = {"Authorization": f"bearer {API_KEY}"}

    response = requests.get(f"{stack.web_url}/v1/dead-letters", headers=headers, timeout=10)

    assert response.status_code == 200, response.text


def test_no_secret_or_key_reaches_the_web_log(stack: Stack) -> None:
    requests.get(f"{stack.web_url}/v1/dead-letters?api_key={API_KEY}", timeout=10)
    output = stack.web.output() if stack.web else ""
    for secret in (SHOPIFY_SECRET, OLD_SHOPIFY_SECRET, WOO_SECRET, API_KEY):
        assert secret not in output


# --- a slow client ---------------------------------------------------------------------------


@pytest.mark.scenario
@pytest.mark.timeout(90)
def test_a_client_trickling_its_body_is_cut_off_while_others_are_served(tmp_path: Path) -> None:
    with Stack("slow-client", f"sqlite:///{tmp_path / 'relay.sqlite3'}", tmp_path) as stack:
        stack.db_upgrade()
        stack.start_web(GUNICORN_CMD_ARGS="--timeout 3")
        port = int(stack.web_url.rsplit(":", 1)[1])
        body, headers = signed(new_order())
        head = raw_head("/webhooks/shopify", list(headers.items()), len(body))

        with socket.create_connection(("127.0.0.1", port), timeout=2) as slow:
            slow.sendall(head)
            started, cut, served = time.monotonic(), None, []
            for byte in body[:60]:  # one byte every 0.3 s: 18 s for 60 bytes, if allowed
                try:
                    slow.sendall(bytes([byte]))
                except OSError:  # reset or broken pipe: the server closed it
                    cut = time.monotonic() - started
                    break
                if select.select([slow], [], [], 0)[0]:  # closed (or answered): cut off
                    cut = time.monotonic() - started
                    break
                # Meanwhile the other worker answers others at once.
                other_body, other_headers = signed(new_order())
                t0 = time.monotonic()
                response = post(stack, other_body, other_headers)
                served.append((response.status_code, time.monotonic() - t0))
                time.sleep(0.3)

        assert cut is not None, "the trickling connection was never closed"
        assert cut < 12, cut
        assert served and all(status == 202 and took < 2.5 for status, took in served), served
        assert requests.get(stack.web_url + "/healthz", timeout=5).status_code == 200
        stack.assert_running()
        print(f"FIGURES scenario=slow-client cut_after={cut:.1f}s served_meanwhile={len(served)}")
