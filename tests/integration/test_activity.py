"""The worker's activity by minute, which the console charts: deliveries and failed
attempts counted as they are marked, the queue's depth sampled, a day kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from service.config import Config
from service.store import activity
from service.store.tables import records
from tests.integration.whole_order_support import relay_for
from tests.integration.worker_support import worker_config


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=13)) as running:
        yield running


def test_deliveries_and_failed_attempts_are_counted_in_their_minute(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    relay = relay_for(worker_config(config, emulator), engine, emulator)
    emulator.script("503", calls="upsert:line_items")  # one failed batch of three lines
    assert relay.shopify(samples.shopify_order()) == 202
    relay.deliver()
    with engine.connect() as conn:
        hour = activity.last_hour(conn, relay.worker.clock())
    assert len(hour) == 60
    # The buyer, the order and their association went at once; the lines wait out their
    # backoff, which a slow machine may outlast: each delivery is counted once either way.
    with engine.connect() as conn:
        delivered = conn.execute(
            select(func.count()).where(records.c.state == "delivered")
        ).scalar_one()
    assert delivered in (3, 9)
    assert sum(m.delivered for m in hour) == delivered
    assert sum(m.failed for m in hour) == 3
    assert all(m.pending is None for m in hour)  # no sample yet: run_forever takes them


def test_the_depth_sample_keeps_the_latest_of_its_minute_and_a_day_is_kept(
    engine: Engine,
) -> None:
    now = 1_800_000_000.0
    activity.sample_depth(engine, now, pending=5, dead=1)
    activity.sample_depth(engine, now + 1, pending=7, dead=2)
    activity.sample_depth(engine, now - 2 * 86400, pending=9, dead=9)
    with engine.begin() as conn:
        activity.count(conn, now, delivered=4)
        latest = activity.last_hour(conn, now + 1)[-1]
    assert (latest.delivered, latest.failed, latest.pending, latest.dead) == (4, 0, 7, 2)
    assert activity.prune(engine, now=now) == 1
    with engine.connect() as conn:
        assert activity.last_hour(conn, now - 2 * 86400)[-1].pending is None
