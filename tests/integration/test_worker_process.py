"""`relay worker` as a real process: SIGTERM mid-batch, SIGKILL and a lease taken over."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from emulators.hubspot import Emulator, EmulatorConfig
from tests.integration.worker_support import emulated_properties, key_of, props, rows, store_items
from tests.processes import VENV_BIN, base_env, run_process

RELAY = str(VENV_BIN / "relay")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=11)) as running:
        yield running


def worker_env(store_url: str, emulator: Emulator, **extra: str) -> dict[str, str]:
    return base_env(
        DATABASE_URL=store_url,
        HUBSPOT_ACCESS_TOKEN="sandbox-token",
        HUBSPOT_BASE_URL=emulator.url,
        RELAY_SANDBOX="false",
        RELAY_LINGER_SECONDS="0",
        RELAY_BATCHES_IN_FLIGHT="1",
        RELAY_LOG_JSON="true",
        **extra,
    )


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


def test_sigterm_mid_batch_finishes_the_batch_and_exits_zero(
    store_url: str, engine: Engine, emulator: Emulator
) -> None:
    store_items(engine, {str(n): props(f"Item {n}") for n in range(20)})
    emulator.configure(latency=1.5)
    with run_process([RELAY, "worker"], env=worker_env(store_url, emulator)) as worker:
        wait_for(lambda: len(emulator.requests_log()) == 1, timeout=20)  # batch at HubSpot
        started = time.monotonic()
        assert worker.stop(signal.SIGTERM, timeout=20) == 0
        assert time.monotonic() - started < 10
        assert "worker_stopped" in worker.output()
    states = {r.state for r in rows(engine).values()}
    leases = {r.lease_owner for r in rows(engine).values()}
    assert states == {"delivered"}  # the batch in flight was finished, not abandoned
    assert leases == {None}
    assert len(emulator.records()) == 20


def test_sigterm_while_paused_releases_the_claim(
    store_url: str, engine: Engine, emulator: Emulator
) -> None:
    store_items(engine, {"1": props("A")})
    emulator.script("429")  # the first answer pauses every worker for the window
    with run_process([RELAY, "worker"], env=worker_env(store_url, emulator)) as worker:
        wait_for(lambda: len(emulator.requests_log()) == 1, timeout=20)
        time.sleep(0.3)
        assert worker.stop(signal.SIGTERM, timeout=20) == 0
    only = rows(engine)[key_of("1")]
    assert (only.state, only.lease_owner, only.attempts) == ("pending", None, 0)


def test_a_worker_killed_mid_batch_leaves_a_lease_that_a_second_worker_takes_over(
    store_url: str, engine: Engine, emulator: Emulator
) -> None:
    store_items(engine, {str(n): props(f"Item {n}", n + 1) for n in range(30)})
    emulator.configure(latency=1.0)
    env = worker_env(
        store_url, emulator, RELAY_LEASE_SECONDS="3", RELAY_HUBSPOT_TIMEOUT_SECONDS="1.5"
    )
    with run_process([RELAY, "worker"], env=env) as first:
        wait_for(lambda: len(emulator.requests_log()) == 1, timeout=20)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert {r.lease_owner is not None for r in rows(engine).values()} == {True}
    killed_at = time.monotonic()
    with run_process([RELAY, "worker"], env=env) as second:
        wait_for(lambda: {r.state for r in rows(engine).values()} == {"delivered"}, timeout=30)
        assert time.monotonic() - killed_at >= 2.0  # not before the lease ran out
        assert second.stop(signal.SIGTERM, timeout=20) == 0
    assert emulated_properties(emulator) == {
        key_of(str(n)): props(f"Item {n}", n + 1) for n in range(30)
    }
