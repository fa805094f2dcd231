"""A broken HubSpot answer cannot stop delivery quietly: each ends with the items delivered
once HubSpot behaves, the attempt counted where one was spent, and `/readyz` saying what
happened while it lasted. The emulator plays each broken answer for real, over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from emulators.hubspot import Emulator, EmulatorConfig
from service.app import create_app
from service.config import Config
from service.store.state import PAUSED_UNTIL, read_number
from service.store.tables import records
from tests.integration.worker_support import Clock, make_worker, props, store_items, worker_config

ITEMS = {str(n): props(f"Item {n}") for n in range(5)}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=13)) as running:
        yield running


@pytest.fixture
def relay(config: Config, emulator: Emulator) -> Config:
    # A short deadline, so a trickled answer ends in a second or two.
    return worker_config(config, emulator, request_timeout_seconds=1.5, lease_seconds=4.0)


@pytest.fixture
def web(relay: Config, engine: Engine) -> FlaskClient:
    app = create_app(relay, engine)
    app.config["TESTING"] = True
    return app.test_client()


def attempts(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(records.c.key, records.c.state, records.c.attempts)).all()
    return {row.key: (row.state, row.attempts) for row in rows}


def deliver_after_one_broken_answer(
    relay: Config, engine: Engine, emulator: Emulator, fault: str, **config: Any
) -> tuple[Any, dict[str, tuple[str, int]]]:
    """Store five items, answer the first upsert with `fault`, and deliver: the worker
    after the broken answer (its /readyz view), then the items once HubSpot behaves."""
    store_items(engine, ITEMS)
    emulator.configure(**config)
    emulator.script(fault)
    clock = Clock()
    worker = make_worker(relay, engine, clock=clock)
    worker.run_once()
    after = attempts(engine)
    clock.now += 120  # past any backoff or pause the answer may have caused
    deadline = time.monotonic() + 20
    while {state for state, _ in attempts(engine).values()} != {"delivered"}:
        assert time.monotonic() < deadline, "the items never went"
        worker.run_once()
        clock.now += 1
    return worker, after


def test_a_429_saying_retry_after_inf_pauses_a_bounded_while_and_shows_in_readyz(
    relay: Config, engine: Engine, emulator: Emulator, web: FlaskClient
) -> None:
    store_items(engine, ITEMS)
    emulator.script("retry-after-inf")
    before = time.time()
    make_worker(relay, engine).run_once()

    with engine.connect() as conn:
        until = read_number(conn, PAUSED_UNTIL)
    assert until is not None and before < until <= before + 61  # capped, never infinity
    ready = web.get("/readyz").json
    assert ready["status"] == "degraded"
    assert "429" in ready["checks"]["hubspot_paused"]["reason"]
    assert {state for state, count in attempts(engine).values()} == {"pending"}
    assert {count for state, count in attempts(engine).values()} == {0}  # a pause, no attempt


def test_a_rate_limit_max_of_0_is_not_believed_and_sending_goes_on(
    relay: Config, engine: Engine, emulator: Emulator
) -> None:
    worker, _after = deliver_after_one_broken_answer(relay, engine, emulator, "ratelimit-max-0")
    assert worker.budget.limit == relay.hubspot_rate_limit
    assert len(emulator.records()) == len(ITEMS)


@pytest.mark.parametrize("fault", ["results-oops", "result-without-id"])
def test_a_200_the_relay_cannot_read_is_a_failed_attempt_and_the_items_go_later(
    relay: Config, engine: Engine, emulator: Emulator, web: FlaskClient, fault: str
) -> None:
    _worker, after = deliver_after_one_broken_answer(relay, engine, emulator, fault)

    assert {state for state, _ in after.values()} == {"pending"}
    assert {count for _, count in after.values()} == {1}  # counted, so it cannot loop
    assert {state for state, _ in attempts(engine).values()} == {"delivered"}
    assert web.get("/readyz").json["checks"]["last_hubspot_error"]


def test_an_answer_trickled_a_byte_at_a_time_ends_at_the_deadline(
    relay: Config, engine: Engine, emulator: Emulator, web: FlaskClient
) -> None:
    started = time.monotonic()
    _worker, after = deliver_after_one_broken_answer(
        relay, engine, emulator, "trickle", trickle_seconds=0.25
    )

    assert {count for _, count in after.values()} == {1}
    assert "timeout" in web.get("/readyz").json["checks"]["last_hubspot_error"]
    assert time.monotonic() - started < 15  # the deadline, not the trickle, set the pace
    # The upsert reached HubSpot before its answer was cut: the resend found the records.
    assert len(emulator.records()) == len(ITEMS)


def test_an_answer_of_hundreds_of_megabytes_is_not_read_and_the_items_go_later(
    relay: Config, engine: Engine, emulator: Emulator, web: FlaskClient
) -> None:
    _worker, after = deliver_after_one_broken_answer(
        relay, engine, emulator, "huge", huge_bytes=64 * 1024 * 1024
    )

    assert {count for _, count in after.values()} == {1}
    assert "MiB" in web.get("/readyz").json["checks"]["last_hubspot_error"]
    assert {state for state, _ in attempts(engine).values()} == {"delivered"}
