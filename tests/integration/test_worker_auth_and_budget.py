"""OAuth renewal, the shared rate budget, and request validity against HubSpot's schema."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from emulators.hubspot import Emulator, EmulatorConfig
from service.config import Config
from service.store import queue, rate_budget
from service.store.engine import make_engine
from service.store.state import PORTAL_ID, StoredRefreshToken, read_states
from tests.conftest import require_shared
from tests.integration.worker_support import (
    emulated_properties,
    key_of,
    make_worker,
    props,
    rows,
    store_items,
    worker_config,
)

CLIENT_ID = "client-id-1"
CLIENT_SECRET = "client-secret-&;1"
REFRESH_TOKEN = "refresh-token-initial"


@pytest.fixture
def oauth_emulator() -> Iterator[Emulator]:
    config = EmulatorConfig(
        seed=3,
        access_tokens=set(),
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        oauth_refresh_token=REFRESH_TOKEN,
        refresh_token_reuse=0,
    )
    with Emulator(config) as running:
        yield running


def oauth_config(config: Config, emulator: Emulator) -> Config:
    return worker_config(
        config,
        emulator,
        hubspot_access_token=None,
        hubspot_client_id=CLIENT_ID,
        hubspot_client_secret=CLIENT_SECRET,
        hubspot_refresh_token=REFRESH_TOKEN,
    )


def test_an_expired_oauth_token_is_renewed_without_losing_the_batch(
    config: Config, engine: Engine, oauth_emulator: Emulator
) -> None:
    relay = oauth_config(config, oauth_emulator)
    worker = make_worker(relay, engine)
    store_items(engine, {"1": props("A")})
    assert worker.run_once() == 1
    oauth_emulator.expire_tokens()
    store_items(engine, {"2": props("B")}, order_id="1002")
    assert worker.run_once() == 1
    assert set(emulated_properties(oauth_emulator)) == {key_of("1"), key_of("2")}
    assert {r.state for r in rows(engine).values()} == {"delivered"}
    assert oauth_emulator.stats()["by_status"].get("401") == 1
    # HubSpot rotated the refresh token; the rotated one is kept for every process.
    stored = StoredRefreshToken(engine, REFRESH_TOKEN).load()
    assert stored is not None
    assert stored != REFRESH_TOKEN


def test_the_portal_an_oauth_token_answer_names_is_kept_for_the_consoles_links(
    config: Config, engine: Engine, oauth_emulator: Emulator
) -> None:
    store_items(engine, {"1": props("A")})
    assert make_worker(oauth_config(config, oauth_emulator), engine).run_once() == 1
    with engine.connect() as conn:
        assert read_states(conn)[PORTAL_ID] == "12345678"  # the emulator's hub_id


def test_a_worker_restarted_after_rotation_uses_the_stored_refresh_token(
    config: Config, engine: Engine, oauth_emulator: Emulator
) -> None:
    relay = oauth_config(config, oauth_emulator)
    store_items(engine, {"1": props("A")})
    make_worker(relay, engine).run_once()
    # The initial refresh token is spent (no reuse allowed); a fresh worker must not use it.
    store_items(engine, {"2": props("B")}, order_id="1002")
    assert make_worker(relay, engine).run_once() == 1
    assert {r.state for r in rows(engine).values()} == {"delivered"}


def test_a_refused_refresh_token_stops_delivery_and_keeps_items_pending(
    config: Config, engine: Engine, oauth_emulator: Emulator
) -> None:
    relay = oauth_config(config, oauth_emulator).replace(hubspot_refresh_token="not-a-token")
    store_items(engine, {"1": props("A")})
    worker = make_worker(relay, engine)
    worker.run_once()
    only = rows(engine)[key_of("1")]
    assert (only.state, only.attempts, only.lease_owner) == ("pending", 0, None)
    assert oauth_emulator.records() == {}


def test_two_workers_share_one_rate_budget_and_never_meet_a_429(
    config: Config, store_url: str
) -> None:
    with Emulator(EmulatorConfig(seed=5, rate_limit=4, rate_window=1.0)) as emulator:
        relay = worker_config(config, emulator, batch_size=1, rate_window_seconds=1.0)
        engines = [make_engine(store_url) for _ in range(2)]
        store_items(engines[0], {str(n): props(f"Item {n}") for n in range(12)})
        workers = [make_worker(relay, e) for e in engines]

        def drain(worker_index: int) -> None:
            # As run_forever does: idle (paused or nothing due) means try again shortly.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(emulator.records()) < 12:
                if not workers[worker_index].run_once():
                    time.sleep(0.05)

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        stats = emulator.stats()
        assert stats["rate_limited"] == 0
        assert stats["max_in_window"] <= 4
        assert len(emulator.records()) == 12
        for engine in engines:
            engine.dispose()


def test_a_slot_counts_from_when_its_answer_came_back_not_from_when_it_was_granted(
    engine: Engine,
) -> None:
    # Granted at 0 but answered at 4: the request may have reached HubSpot at 3.9, so its
    # window runs until 4 + 1 (+ margin), not 0 + 1.
    first = rate_budget.try_acquire(engine, limit=1, window=1.0, now=0.0, hold=35.0)
    assert first.slot is not None
    in_flight = rate_budget.try_acquire(engine, limit=1, window=1.0, now=4.0, hold=35.0)
    assert in_flight.slot is None  # unanswered, it may still be on its way
    rate_budget.settle(engine, first.slot, at=4.0)
    too_soon = rate_budget.try_acquire(engine, limit=1, window=1.0, now=4.5, hold=35.0)
    assert too_soon.slot is None
    assert too_soon.wait == pytest.approx(1.0 + rate_budget.WINDOW_MARGIN - 0.5)
    later = rate_budget.try_acquire(
        engine, limit=1, window=1.0, now=5.0 + rate_budget.WINDOW_MARGIN + 0.01, hold=35.0
    )
    assert later.slot is not None


def test_an_unused_slot_is_given_back_and_a_slot_pruned_before_its_answer_counts_anew(
    engine: Engine,
) -> None:
    unused = rate_budget.try_acquire(engine, limit=1, window=1.0, now=0.0, hold=35.0).slot
    assert unused is not None
    rate_budget.cancel(engine, unused)
    late = rate_budget.try_acquire(engine, limit=1, window=1.0, now=0.1, hold=2.0).slot
    assert late is not None  # the slot nothing was sent on no longer counts
    # Unanswered past its hold and the window, `late` is pruned; on SQLite the next slot
    # may even reuse its id. Its answer must neither re-date that slot nor go uncounted.
    other = rate_budget.try_acquire(engine, limit=1, window=1.0, now=3.5, hold=35.0).slot
    assert other is not None
    rate_budget.settle(engine, other, at=3.6)
    rate_budget.settle(engine, late, at=3.7)
    refused = rate_budget.try_acquire(engine, limit=2, window=1.0, now=4.5, hold=35.0)
    assert refused.slot is None
    assert refused.wait == pytest.approx(3.6 + 1.0 + rate_budget.WINDOW_MARGIN - 4.5)


def test_a_slot_that_cannot_be_settled_still_lets_the_answer_be_applied(
    config: Config, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # The store fails just as the slot is settled: the batch HubSpot took is still marked
    # delivered, not sent again; the slot counts until its hold runs out.
    def store_away(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("UPDATE hubspot_requests", {}, Exception("database is locked"))

    with Emulator(EmulatorConfig(seed=7)) as emulator:
        relay = worker_config(config, emulator)
        store_items(engine, {"1": props("A"), "2": props("B")})
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rate_budget, "settle", store_away)
            assert make_worker(relay, engine).run_once() == 2
        assert {r.state for r in rows(engine).values()} == {"delivered"}
        assert len(emulator.requests_log()) == 1
    assert any(r.getMessage() == "rate_slot_unsettled" for r in caplog.records)


def test_a_worker_whose_send_is_delayed_after_its_grant_still_never_meets_a_429(
    config: Config, engine: Engine
) -> None:
    # The lease renewal between grant and send can wait for the store; model a slow one.
    # A window longer than the 1 s pause a "remaining 0" header causes, so only the budget
    # itself keeps the third request out of the first request's window.
    with Emulator(EmulatorConfig(seed=6, rate_limit=2, rate_window=3.0)) as emulator:
        relay = worker_config(config, emulator, batch_size=1, rate_window_seconds=3.0)
        store_items(engine, {str(n): props(f"Item {n}") for n in range(4)})
        worker = make_worker(relay, engine)
        renew = queue.renew
        delays = iter([0.0, 2.0])

        def slow_renew(*args: Any, **kwargs: Any) -> set[str]:
            time.sleep(next(delays, 0.0))
            return renew(*args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(queue, "renew", slow_renew)
            deadline = time.monotonic() + 30
            while len(emulator.records()) < 4 and time.monotonic() < deadline:
                if not worker.run_once():
                    time.sleep(0.05)
        assert len(emulator.records()) == 4
        assert emulator.stats()["rate_limited"] == 0


def test_every_request_the_worker_sends_validates_against_hubspots_schema(
    config: Config, engine: Engine
) -> None:
    spec_path = require_shared("reference", "hubspot-openapi", "CRM_Line_Items__v3_lineItems.json")
    spec = json.loads(spec_path.read_text())
    schema = {
        "$ref": "#/components/schemas/BatchInputSimplePublicObjectBatchInputUpsert",
        "components": spec["components"],
    }
    validator = OAS30Validator(schema)
    with Emulator(EmulatorConfig(seed=9)) as emulator:
        emulator.configure(multi_status=False)
        relay = worker_config(config, emulator)
        items = {str(n): props(f"Item {n}", n % 4 + 1, f"{n}.25") for n in range(30)}
        items["13"] = props("Bad", price="-1")
        store_items(engine, items)
        emulator.script("500")
        worker = make_worker(relay, engine)
        worker.run_once()
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE records SET next_attempt_at = 0")
        worker.run_once()
        bodies = emulator.requests_log()
    assert len(bodies) >= 3  # the 500, the full batch, and the split halves
    for body in bodies:
        errors = sorted(str(e.message) for e in validator.iter_errors(body))
        assert errors == []
        ids = [item["id"] for item in body["inputs"]]
        assert len(ids) == len(set(ids)) <= 100
        traces = [item["objectWriteTraceId"] for item in body["inputs"]]
        assert len(set(traces)) == len(traces)
