"""Logs that cannot be forged: through real gunicorn, a path with %0A, %5C, %00 or %22 and
headers with a newline in them add no line and break no JSON; every line the web process
writes (access log, gunicorn's own log, the app's) is one JSON object, and the access line
holds the path as it was decoded."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from service import samples
from tests.conftest import SHOPIFY_SECRET
from tests.integration.test_gunicorn_ingest import GUNICORN, relay_db_upgrade, web_env
from tests.processes import Process, run_process, wait_http

FORGED = '{"event":"order_accepted","store":"forged.myshopify.com"}'


def send_raw(port: int, head: bytes, body: bytes = b"") -> bytes:
    """One request as bytes on a socket, exactly as given (no client library normalising
    it); the whole answer, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Process]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('logs') / 'relay.sqlite3'}"
    env = web_env(url)
    relay_db_upgrade(env)
    with run_process(GUNICORN, env) as process:
        wait_http(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=30, process=process)
        yield int(env["PORT"]), process


def lines_of(process: Process) -> list[dict[str, Any]]:
    """Every line the process wrote, each parsed as one JSON object (fails on any other)."""
    entries = []
    for line in process.output().splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


def access_paths(process: Process) -> list[str]:
    return [e["path"] for e in lines_of(process) if e.get("event") == "http_access"]


@pytest.mark.parametrize(
    ("raw_path", "decoded"),
    [
        ("/healthz%0A" + FORGED.replace('"', "%22"), "/healthz\n" + FORGED),
        ("/healthz%0D%0A%7B%22event%22:%22x%22%7D", '/healthz\r\n{"event":"x"}'),
        ("/a%5C%22,%22status%22:200,%22x%22:%22", '/a\\","status":200,"x":"'),
        ("/nul%00byte%5C", "/nul\x00byte\\"),
    ],
    ids=["newline_json", "crlf", "quote_backslash", "nul"],
)
def test_a_hostile_path_is_one_escaped_access_line(
    web: tuple[int, Process], raw_path: str, decoded: str
) -> None:
    port, process = web
    answer = send_raw(port, f"GET {raw_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode())

    assert status_of(answer) == 404
    wait_for_access_line(process, decoded)
    entries = lines_of(process)
    assert not [e for e in entries if e.get("store") == "forged.myshopify.com"]
    assert not [e for e in entries if e.get("event") == "x"]


@pytest.mark.parametrize(
    "header",
    [
        b"X-Request-ID: ok\n" + FORGED.encode(),  # a bare LF inside a value
        b"X-Request-ID: ok\r\n " + FORGED.encode(),  # obsolete line folding
        b"X-Shopify-Shop-Domain: a.myshopify.com\x00\n" + FORGED.encode(),
    ],
    ids=["bare_lf", "obs_fold", "nul_lf_in_shop_header"],
)
def test_a_header_with_a_newline_adds_no_line(web: tuple[int, Process], header: bytes) -> None:
    port, process = web
    body, headers = samples.shopify_request(
        samples.shopify_order(order_id=int(uuid.uuid4().int % 10**12)),
        SHOPIFY_SECRET,
        shop="logs.myshopify.com",
    )
    head = b"POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += b"".join(f"{name}: {value}\r\n".encode() for name, value in headers.items())
    head += header + b"\r\n" + f"Content-Length: {len(body)}\r\n".encode()
    before = answered(process)

    answer = send_raw(port, head, body)

    assert status_of(answer) in (202, 400), answer[:200]  # refused by gunicorn, or taken
    _wait(lambda: answered(process) == before + 1, 10.0, process)
    entries = lines_of(process)
    assert not [e for e in entries if e.get("store") == "forged.myshopify.com"]
    for entry in entries:
        assert "\n" not in str(entry.get("request_id", "")), entry


def wait_for_access_line(process: Process, path: str, timeout: float = 10.0) -> None:
    _wait(lambda: path in access_paths(process), timeout, process)


def answered(process: Process) -> int:
    """Requests logged: an access line each, or gunicorn's error line for one it refused
    before the app saw it."""
    entries = lines_of(process)
    refused = [e for e in entries if "Invalid request" in str(e.get("text", ""))]
    return len(access_paths(process)) + len(refused)


def _wait(done: Any, timeout: float, process: Process) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, process.output()[-3000:]
        time.sleep(0.05)
