"""Slow clients against the web process: sockets that trickle their headers or their
bodies, held open (each one the server closes is opened again), while signed Shopify
webhooks arrive at a steady rate; what the webhooks got, what became of the slow sockets,
and the web workers' memory.

    python -m tests.scenario.slow_clients --seconds 30 -k gthread --threads 32

runs it by hand against gunicorn with deploy/gunicorn.conf.py (and gunicorn options
after it), on a fresh SQLite file, and prints one row.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from service import samples
from tests.conftest import SHOPIFY_SECRET
from tests.integration.test_gunicorn_ingest import GUNICORN, relay_db_upgrade, web_env
from tests.perf.rss import children, status_kb
from tests.processes import run_process, wait_http

TRICKLE_EVERY = 1.0  # seconds between two bytes of a slow socket
BODY_LENGTH = 20_000  # what a body trickler announces
SHOP_PATIENCE = 5.0  # a webhook unanswered after this counts as lost, as Shopify drops it


@dataclass
class SlowSockets:
    """What became of the slow sockets: each one's lifetime, and who ended it."""

    closed_by_server: list[float] = field(default_factory=list)
    open_at_end: list[float] = field(default_factory=list)
    refused: int = 0

    @property
    def opened(self) -> int:
        return len(self.closed_by_server) + len(self.open_at_end)

    @property
    def longest_open(self) -> float:
        return max(self.closed_by_server + self.open_at_end, default=0.0)


@dataclass
class Run:
    label: str
    seconds: float
    latencies: list[float]  # seconds, of webhooks answered 2xx
    failures: list[str]  # what each other webhook got: a status or an error
    slow: SlowSockets
    rss_mb: list[float]  # per worker: peak VmRSS seen
    rss_start_mb: list[float]

    @property
    def sent(self) -> int:
        return len(self.latencies) + len(self.failures)

    def share_in_time(self, limit: float = 1.0) -> float:
        return sum(1 for t in self.latencies if t <= limit) / max(1, self.sent)

    def percentile_ms(self, q: float) -> float:
        """The q-th latency of every webhook sent; one not answered 2xx counts as endless."""
        ordered = sorted(self.latencies) + [float("inf")] * len(self.failures)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000

    def row(self) -> str:
        rss = max(self.rss_mb, default=0.0)
        start = max(self.rss_start_mb, default=0.0)
        return (
            f"{self.label:<34}{self.seconds:>5.0f}{self.sent:>9}{self.share_in_time():>9.1%}"
            f"{self.percentile_ms(50):>9.0f}{self.percentile_ms(99):>9.0f}"
            f"{self.slow.opened:>8}{len(self.slow.closed_by_server):>8}"
            f"{self.slow.longest_open:>9.1f}{start:>8.0f}{rss:>7.0f}"
        )


HEADER = (
    f"{'run':<34}{'s':>5}{'sent':>9}{'2xx<=1s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'slow':>8}{'closed':>8}{'longest':>9}{'RSS0':>8}{'RSS':>7}"
)
LEGEND = (
    "sent: signed webhooks at 20/s; p50/p99 over all sent (one not answered 2xx counts as "
    "endless); slow: slow sockets opened; closed: of them, closed by the server; longest: "
    "the longest a slow socket stayed open (s); RSS0/RSS: largest web worker RSS at the "
    "start and at its peak (MB)"
)


async def _one_slow_socket(port: int, trickle_body: bool, until: float, out: SlowSockets) -> None:
    """Keep one slow socket open until `until`, opening a new one each time the server
    closes it."""
    if trickle_body:
        head = (
            "POST /webhooks/shopify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nX-Shopify-Topic: orders/updated\r\n"
            f"X-Shopify-Hmac-Sha256: AAAA\r\nContent-Length: {BODY_LENGTH}\r\n\r\n{{"
        ).encode()
    else:
        head = b"POST /webhooks/shopify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    while time.monotonic() < until:
        opened = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            out.refused += 1
            await asyncio.sleep(TRICKLE_EVERY)
            continue
        closed = await _trickle(reader, writer, head, until)
        (out.closed_by_server if closed else out.open_at_end).append(time.monotonic() - opened)
        writer.close()


async def _trickle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, until: float
) -> bool:
    """Send `head`, then a byte a second; True once the server closed the socket."""
    try:
        writer.write(head)
        await writer.drain()
        while time.monotonic() < until:
            try:
                data = await asyncio.wait_for(reader.read(65536), timeout=TRICKLE_EVERY)
            except TimeoutError:
                writer.write(b"a")
                await writer.drain()
                continue
            if not data:
                return True  # EOF: the server closed it (after an answer, or without)
    except OSError:
        return True  # reset by the server
    return False


def _slow_sockets(port: int, count: int, seconds: float, out: SlowSockets) -> threading.Thread:
    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_one_slow_socket(port, n % 2 == 1, until, out) for n in range(count))
        )

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="slow-sockets")
    thread.start()
    return thread


def _webhooks(base: str, rate: float, seconds: float) -> tuple[list[float], list[str]]:
    """Signed Shopify webhooks, each a new order on a new connection, sent at `rate`."""
    count = int(rate * seconds)
    latencies: list[float] = []
    failures: list[str] = []

    def send(n: int) -> None:
        order = samples.shopify_order(order_id=7_100_000_000_000 + n)
        body, headers = samples.shopify_request(order, SHOPIFY_SECRET, shop="slow.myshopify.com")
        began = time.monotonic()
        try:
            answer = requests.post(
                f"{base}/webhooks/shopify", data=body, headers=headers, timeout=SHOP_PATIENCE
            )
        except requests.RequestException as exc:
            failures.append(type(exc).__name__)
            return
        if 200 <= answer.status_code < 300:
            latencies.append(time.monotonic() - began)
        else:
            failures.append(str(answer.status_code))

    with ThreadPoolExecutor(max_workers=int(rate * SHOP_PATIENCE) + 16) as pool:
        start = time.monotonic()
        for n in range(count):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            pool.submit(send, n)
    return latencies, failures


def run(
    label: str,
    folder: Path,
    *,
    seconds: float,
    slow_sockets: int = 256,
    rate: float = 20.0,
    gunicorn_options: Sequence[str] = (),
) -> Run:
    """One run against a fresh gunicorn: `slow_sockets` held open (half trickling headers,
    half bodies) while webhooks arrive at `rate` for `seconds`."""
    env = web_env(f"sqlite:///{folder / f'{label.split()[0]}.sqlite3'}")
    relay_db_upgrade(env)
    base = f"http://127.0.0.1:{env['PORT']}"
    with run_process([*GUNICORN[:3], *gunicorn_options, GUNICORN[3]], env) as web:
        wait_http(f"{base}/healthz", timeout=30, process=web)
        workers = children(web.pid)
        rss_start = [status_kb(pid).get("VmRSS", 0) / 1024 for pid in workers]
        slow = SlowSockets()
        tricklers = _slow_sockets(int(env["PORT"]), slow_sockets, seconds, slow)
        peaks = dict.fromkeys(workers, 0.0)
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.5):
                for pid in children(web.pid):
                    peaks[pid] = max(peaks.get(pid, 0.0), status_kb(pid).get("VmRSS", 0) / 1024)

        sampler = threading.Thread(target=sample, name="rss", daemon=True)
        sampler.start()
        time.sleep(1.0)  # the slow sockets are all open before the first webhook
        latencies, failures = _webhooks(base, rate, seconds - 1.0)
        tricklers.join(timeout=seconds + 30)
        sampling.set()
        sampler.join(timeout=5)
    return Run(label, seconds, latencies, failures, slow, list(peaks.values()), rss_start)


def report(runs: Sequence[Run]) -> str:
    lines = [HEADER, *(r.row() for r in runs), LEGEND]
    for r in runs:
        if r.failures:
            kinds = {kind: r.failures.count(kind) for kind in sorted(set(r.failures))}
            lines.append(f"  {r.label}: not 2xx: {kinds}")
        if r.latencies:
            lines.append(f"  {r.label}: mean {statistics.fmean(r.latencies) * 1000:.0f} ms")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--slow", type=int, default=256)
    parser.add_argument("--label", default="deploy/gunicorn.conf.py")
    options, gunicorn_options = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="relay-slow-") as tmp:
        result = run(
            options.label,
            Path(tmp),
            seconds=options.seconds,
            slow_sockets=options.slow,
            gunicorn_options=gunicorn_options,
        )
    print(report([result]))


if __name__ == "__main__":
    main()
