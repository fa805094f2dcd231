"""A body must arrive at RELAY_MIN_BODY_RATE after RELAY_BODY_GRACE_SECONDS, through real
gunicorn (its gevent workers): a trickled body gets 408 and its socket closed by the
server, nothing stored; a body sent in pieces fast enough is stored; a body cut short
of its Content-Length is a 400, never a shorter order. (The header deadline, gunicorn's
keepalive, is shown by tests/scenario/test_slow_clients.py.)"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from service import samples
from service.store.engine import make_engine
from tests.conftest import SHOPIFY_SECRET
from tests.integration.ingest_support import row_counts
from tests.integration.test_gunicorn_ingest import GUNICORN, relay_db_upgrade, web_env
from tests.perf.pool import raw_request
from tests.processes import run_process, wait_http

GRACE = 1.0
RATE = 4096  # bytes a second after the grace


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, sa.Engine]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('slow') / 'relay.sqlite3'}"
    env = web_env(url) | {"RELAY_BODY_GRACE_SECONDS": str(GRACE), "RELAY_MIN_BODY_RATE": str(RATE)}
    relay_db_upgrade(env)
    engine = make_engine(url)
    with run_process(GUNICORN, env) as process:
        wait_http(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=30, process=process)
        yield int(env["PORT"]), engine
    engine.dispose()


def webhook(order_id: int) -> bytes:
    order = samples.shopify_order(order_id=order_id)
    body, headers = samples.shopify_request(order, SHOPIFY_SECRET, shop="slow.myshopify.com")
    return raw_request("/webhooks/shopify", body, headers, "127.0.0.1")


def send_paced(port: int, raw: bytes, pieces: int, pause: float) -> tuple[bytes, float]:
    """Send the head at once and the body in `pieces`, `pause` apart (stopping if the
    server closes); the answer and when the socket ended, from the first byte."""
    head, body = raw.split(b"\r\n\r\n", 1)
    step = -(-len(body) // pieces)
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head + b"\r\n\r\n")
        try:
            for start in range(0, len(body), step):
                time.sleep(pause)
                sock.sendall(body[start : start + step])
        except OSError:
            pass  # closed by the server mid-body
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer, time.monotonic() - began


def test_a_trickled_body_is_a_408_and_its_socket_closed(web: tuple[int, sa.Engine]) -> None:
    port, engine = web
    before = row_counts(engine)

    answer, took = send_paced(port, webhook(8_801), pieces=200, pause=0.1)

    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b"application/problem+json" in answer
    assert took < GRACE + 3.0, took  # closed at the grace, not after 20 s of trickle
    assert row_counts(engine) == before


def test_a_body_sent_in_pieces_within_the_rate_is_stored(web: tuple[int, sa.Engine]) -> None:
    port, engine = web
    before = row_counts(engine)["orders"]

    answer, _ = send_paced(port, webhook(8_802), pieces=3, pause=0.2)

    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    assert row_counts(engine)["orders"] == before + 1


def test_a_body_cut_short_of_its_length_is_refused_and_not_stored(
    web: tuple[int, sa.Engine],
) -> None:
    port, engine = web
    raw = webhook(8_803)
    before = row_counts(engine)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(raw[:-100])
        sock.shutdown(socket.SHUT_WR)  # the client is done: 100 bytes short
        answer = sock.recv(65536)

    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert row_counts(engine) == before
