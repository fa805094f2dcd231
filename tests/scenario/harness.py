"""The scenario harness: the real processes, a webhook driver, and the expected end state.

    with Stack("name", database_url, workdir) as stack:
        stack.start_emulator(rate_limit=100, latency=0.1)
        stack.db_upgrade()
        stack.start_web()
        stack.start_workers(3)
        driver = Driver(stack.web_url)
        driver.send_all(deliveries)
        stack.wait_delivered(expectation, timeout=120)

Every process runs in its own process group with its output in a file under `workdir`;
leaving the block stops them all (SIGTERM to the group, then SIGKILL), and when the block
raises, the tail of every process's output is printed, so pytest shows it with the failure.

`wait_delivered` waits until HubSpot holds exactly what `tests.scenario.expectation`
computes from the orders sent: line items, order records, contacts and associations.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from service import samples
from tests.scenario.expectation import (
    SHOP,
    SYSTEM_PROPERTIES,
    CrmState,
    Expectation,
    OrderPipeline,
    OrderVersion,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RELAY = str(BIN / "relay")
GUNICORN = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "service.app:create_app()"]

# Secrets with `&` and `;`: they travel through the environment and must still sign.
SHOPIFY_SECRET = "shpss_scn&secret;one"
WOO_SECRET = "wc_scn;secret&two"
API_KEY = "scenario-api-key-0123456789"
HUBSPOT_TOKEN = "sandbox-token"
# The object types the relay writes with HUBSPOT_ORDER_OBJECT=orders, its default.
RECORD_TYPES = ("line_items", "orders", "contacts")
TAIL_LINES = 80


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without the relay's own variables (a developer may export some)."""
    prefixes = ("DATABASE_URL", "HUBSPOT_", "SHOPIFY_", "WOOCOMMERCE_", "RELAY_", "GUNICORN_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(prefixes) and k not in ("PORT", "WEB_CONCURRENCY")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def wait_until(
    check: Callable[[], bool], timeout: float, interval: float = 0.1, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s")


# --- processes ---------------------------------------------------------------------------


class Proc:
    """One child process in its own process group, its output in a file."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(env)
        self.log = log
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Proc:
        with self.log.open("ab") as sink:
            sink.write(f"--- start {self.starts + 1}: {' '.join(self.args)}\n".encode())
            sink.flush()
            self.popen = subprocess.Popen(  # the test's own command line
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: we signal the group
            )
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        """Signal this child's own process group (gunicorn's workers included)."""
        if self.popen is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would, and reap it."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, then SIGKILL; the exit code (None if it never started)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(timeout=10)
        # Whatever the leader left behind in its group goes too.
        self.signal_group(signal.SIGKILL)
        return self.popen.returncode

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = TAIL_LINES) -> str:
        text = self.output().splitlines()
        shown = "\n".join(text[-lines:])
        return f"=== {self.name} ({self.log}, {len(text)} lines, last {lines}) ===\n{shown}"


def run(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # the test's own command line
        list(args),
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- the stack ---------------------------------------------------------------------------


class Stack:
    """Emulator, web (gunicorn) and workers for one scenario, always cleaned up."""

    def __init__(self, name: str, database_url: str, workdir: Path) -> None:
        self.name = name
        self.database_url = database_url
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []
        self.workers: list[Proc] = []
        self.emulator_url = ""
        self.web_url = ""
        self.web: Proc | None = None
        self.order_pipeline: OrderPipeline | None = None
        self.api_read_at = 0.0  # when the test itself last called HubSpot's API
        self.worker_restarts = 0
        self.started = time.monotonic()
        self.http = requests.Session()
        self.closed = False  # set on exit: a chaos thread must not start anything after
        self._lock = threading.Lock()

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self.closed = True
        for proc in reversed(self.procs):
            proc.stop()
        self.http.close()
        if exc is not None:
            print(f"\n##### process output of scenario {self.name} #####")
            for proc in self.procs:
                print(proc.tail())

    def _spawn(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> Proc:
        proc = Proc(name, args, env, self.workdir / f"{name}.log").start()
        self.procs.append(proc)
        return proc

    # -- emulator --

    def start_emulator(self, *, rate_limit: int = 100, latency: float = 0.0, **config: Any) -> None:
        port = free_port()
        args = [RELAY, "hubspot", "emulator", "--port", str(port), "--rate-limit", str(rate_limit)]
        args += ["--latency", str(latency)]
        proc = self._spawn("emulator", args, clean_env())
        self.emulator_url = f"http://127.0.0.1:{port}"
        wait_http(f"{self.emulator_url}/_emulator/stats", proc, timeout=20)
        self.order_pipeline = OrderPipeline.from_answer(self.api_get("/crm/v3/pipelines/orders"))
        if config:
            self.configure_emulator(**config)

    def api_get(self, path: str) -> Any:
        """A read through HubSpot's own API, as a client makes it. It takes a slot of the
        emulator's rate window, which the relay's budget does not know of."""
        headers = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}
        response = self.http.get(f"{self.emulator_url}{path}", headers=headers, timeout=10)
        self.api_read_at = time.monotonic()
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def wait_rate_window_clear(self, window: float = 10.0) -> None:
        """Until the test's own API calls have left HubSpot's rolling window, for scenarios
        where the relay alone must fill it."""
        time.sleep(max(0.0, self.api_read_at + window + 0.1 - time.monotonic()))

    def configure_emulator(self, **config: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.emulator_url}/_emulator/config", json=config, timeout=5)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def script_faults(self, *faults: str, calls: str | None = None) -> None:
        """The next write calls (of the kind or prefix `calls`) answer these faults, in
        order; then `fault_rates` apply."""
        script: dict[str, Any] = {"faults": list(faults)}
        if calls is not None:
            script["calls"] = calls
        response = self.http.post(f"{self.emulator_url}/_emulator/script", json=script, timeout=5)
        assert response.status_code == 200, response.text

    def emulator(self, what: str) -> Any:
        response = self.http.get(f"{self.emulator_url}/_emulator/{what}", timeout=30)
        response.raise_for_status()
        return response.json()

    # -- the relay --

    def env(self, **overrides: str) -> dict[str, str]:
        """The relay's environment, as the platform sets it for every process."""
        base = {
            "DATABASE_URL": self.database_url,
            "SHOPIFY_WEBHOOK_SECRETS": f"old-rotated&secret,{SHOPIFY_SECRET}",
            "WOOCOMMERCE_WEBHOOK_SECRETS": WOO_SECRET,
            "RELAY_API_KEYS": API_KEY,
            "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
            "HUBSPOT_BASE_URL": self.emulator_url or "http://127.0.0.1:9",
            "HUBSPOT_RATE_LIMIT": "100",
            "RELAY_SANDBOX": "false",
            "RELAY_LOG_JSON": "true",
        }
        return clean_env(**{**base, **overrides})

    def db_upgrade(self, **overrides: str) -> None:
        result = run([RELAY, "db", "upgrade"], self.env(**overrides))
        assert result.returncode == 0, result.stdout + result.stderr

    def start_web(self, *, workers: int = 2, **overrides: str) -> Proc:
        port = free_port()
        env = self.env(PORT=str(port), WEB_CONCURRENCY=str(workers), **overrides)
        self.web = self._spawn("web", GUNICORN, env)
        self.web_url = f"http://127.0.0.1:{port}"
        wait_http(f"{self.web_url}/healthz", self.web, timeout=30)
        return self.web

    def start_workers(self, count: int, **overrides: str) -> None:
        settings = {
            "RELAY_LINGER_SECONDS": "0.2",
            "RELAY_LEASE_SECONDS": "5",
            "RELAY_HUBSPOT_TIMEOUT_SECONDS": "2",
            **overrides,
        }
        for _ in range(count):
            index = len(self.workers)
            worker = self._spawn(f"worker-{index}", [RELAY, "worker"], self.env(**settings))
            self.workers.append(worker)

    def wait_workers_started(self, timeout: float = 30) -> None:
        """Until every worker has logged worker_started (for its latest start)."""

        def started() -> bool:
            for worker in self.workers:
                assert worker.alive(), worker.tail()
                if worker.output().count('"worker_started"') < worker.starts:
                    return False
            return True

        wait_until(started, timeout, what="workers started")

    def kill_worker(self, index: int) -> None:
        with self._lock:
            self.workers[index].kill()

    def restart_worker(self, index: int) -> None:
        with self._lock:
            if self.closed:
                return
            self.workers[index].start()
            self.worker_restarts += 1

    def assert_running(self) -> None:
        for proc in self.procs:
            assert proc.alive(), f"{proc.name} exited with {proc.popen and proc.popen.returncode}"

    # -- outcome --

    def records(self) -> dict[str, dict[str, str]]:
        """The emulator's line items by key, without the properties HubSpot adds."""
        return {
            key: {p: v for p, v in record["properties"].items() if p not in SYSTEM_PROPERTIES}
            for key, record in self.emulator("records").items()
        }

    def hubspot(self) -> CrmState:
        """What the emulator holds of every type the relay writes, and the associations."""
        records = {kind: self.emulator(f"records?type={kind}") for kind in RECORD_TYPES}
        return CrmState.from_emulator(records, self.emulator("associations"))

    def wait_delivered(self, expectation: Expectation, timeout: float) -> CrmState:
        """Wait until the emulator holds exactly what `expectation` says; fail with the
        difference at the deadline."""
        assert self.order_pipeline is not None, "start_emulator reads the pipeline"
        expected = expectation.expected(self.order_pipeline)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Associations go last; the whole snapshot (megabytes for thousands of
            # records, on the cores the relay uses) is read once their count is reached.
            if len(self.emulator("associations")) == len(expected.associations):
                actual = self.hubspot()
                if actual == expected:
                    return actual
            time.sleep(0.5)
        raise AssertionError(expected.difference(self.hubspot()))

    def assert_holds(self, expectation: Expectation) -> None:
        """HubSpot still holds exactly the expected state (nothing older landed since)."""
        assert self.order_pipeline is not None, "start_emulator reads the pipeline"
        expected = expectation.expected(self.order_pipeline)
        actual = self.hubspot()
        assert actual == expected, expected.difference(actual)

    def figures(self, line_items: int, driver: Driver | None = None, **extra: Any) -> str:
        stats = self.emulator("stats")
        by_status = stats["by_status"]
        faults = {s: n for s, n in sorted(by_status.items()) if s not in ("200", "201", "207")}
        if stats["dropped"]:
            faults["dropped"] = stats["dropped"]
        parts = [
            f"scenario={self.name}",
            f"line_items={line_items}",
            f"faults={sum(faults.values())} {json.dumps(faults, separators=(',', ':'))}",
            f"worker_restarts={self.worker_restarts}",
            f"hubspot_requests={stats['requests']}",
            f"by_kind={json.dumps(dict(sorted(stats['by_kind'].items())), separators=(',', ':'))}",
            f"429s={stats['rate_limited']}",
            f"max_in_window={stats['max_in_window']}",
        ]
        if driver is not None:
            parts.append(f"webhook_requests={driver.requests}")
            parts.append(f"webhook_retries={driver.retries}")
        parts += [f"{k}={v}" for k, v in extra.items()]
        parts.append(f"elapsed={time.monotonic() - self.started:.1f}s")
        line = "FIGURES " + " ".join(parts)
        print(line)
        return line


def wait_http(url: str, proc: Proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            raise AssertionError(f"{proc.name} exited before {url} answered\n{proc.tail()}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s ({last})")


# --- webhooks ------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One webhook as Shopify sends it; a retry resends the very same bytes and headers."""

    body: bytes
    headers: dict[str, str]
    label: str = ""


def shopify_delivery(
    order: OrderVersion,
    *,
    topic: str = "orders/updated",
    shop: str = SHOP,
    secret: str = SHOPIFY_SECRET,
) -> Delivery:
    body, headers = samples.shopify_request(order.payload(), secret, shop=shop, topic=topic)
    return Delivery(body, headers, f"order {order.order_id} @ {order.updated_at}")


# --- the driver --------------------------------------------------------------------------


@dataclass
class Answer:
    delivery: Delivery
    status: int
    attempts: int
    body: str = ""


@dataclass
class Driver:
    """Posts webhooks with bounded concurrency and retries 503s and dropped connections, as
    Shopify does; every other answer is final."""

    url: str
    concurrency: int = 6
    max_attempts: int = 120
    retry_pause: float = 0.25
    timeout: float = 15.0
    requests: int = 0
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def post(self, delivery: Delivery) -> Answer:
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._session().post(
                    self.url, data=delivery.body, headers=delivery.headers, timeout=self.timeout
                )
            except requests.RequestException:
                status, text = 0, ""
                self._local.session = None  # a broken connection: start afresh
            else:
                status, text = response.status_code, response.text
            with self._lock:
                self.requests += 1
                self.statuses[status] += 1
                if status in (0, 503):
                    self.retries += 1
            if status not in (0, 503):
                return Answer(delivery, status, attempt, text)
            time.sleep(self.retry_pause)
        return Answer(delivery, status, self.max_attempts, text)

    def send_all(self, deliveries: Iterable[Delivery]) -> list[Answer]:
        """Post every delivery (in order of submission, `concurrency` at a time)."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self.post, deliveries))


def assert_all_accepted(answers: Sequence[Answer]) -> None:
    """Every webhook was answered 2xx in the end (after retries)."""
    bad = [a for a in answers if not 200 <= a.status < 300]
    assert not bad, f"{len(bad)} webhooks not accepted, e.g. {bad[0].delivery.label}: " + (
        f"{bad[0].status} {bad[0].body[:300]}"
    )


# --- the relay's store -------------------------------------------------------------------


def store_counts(engine: Any) -> dict[str, dict[str, int]]:
    """Records by kind and state in the relay's store: {"line_item": {"delivered": 9}}."""
    from sqlalchemy import func, select

    from service.store.tables import records

    with engine.connect() as conn:
        rows = conn.execute(
            select(records.c.kind, records.c.state, func.count()).group_by(
                records.c.kind, records.c.state
            )
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        counts.setdefault(str(kind), {})[str(state)] = int(count)
    return counts
