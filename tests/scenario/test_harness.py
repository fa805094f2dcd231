"""The harness's own checks can fail: the emulator's timeline records when each upsert
arrived and was answered, and `overlapping_sends` finds a line item in two requests that
were in flight at once. Fast, in-process; no scenario marker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulators.hubspot import Emulator, EmulatorConfig
from tests.scenario.harness import max_in_flight, overlapping_sends

UPSERT = "/crm/v3/objects/line_items/batch/upsert"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.3)) as emulator:
        yield emulator


def upsert(emulator: Emulator, *keys: str) -> requests.Response:
    inputs = [
        {"idProperty": "external_line_item_id", "id": key, "properties": {"quantity": "1"}}
        for key in keys
    ]
    return requests.post(
        emulator.url + UPSERT,
        json={"inputs": inputs},
        headers={"Authorization": "Bearer sandbox-token"},
        timeout=10,
    )


def entry(start: float, end: float | None, *ids: str) -> dict[str, Any]:
    return {"received_at": start, "finished_at": end, "status": 200, "ids": list(ids)}


def test_two_concurrent_upserts_sharing_a_key_show_as_an_overlap(emulator: Emulator) -> None:
    threads = [
        threading.Thread(target=upsert, args=(emulator, "a", "b")),
        threading.Thread(target=upsert, args=(emulator, "c", "a")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    timeline = requests.get(emulator.url + "/_emulator/timeline", timeout=5).json()

    assert len(timeline) == 2
    for item in timeline:
        assert item["status"] == 200
        assert item["finished_at"] - item["received_at"] >= 0.3  # the latency
    assert sorted(map(sorted, (item["ids"] for item in timeline))) == [["a", "b"], ["a", "c"]]
    assert [key for key, _, _ in overlapping_sends(timeline)] == ["a"]
    assert max_in_flight(timeline) == 2


def test_upserts_one_after_another_do_not_overlap(emulator: Emulator) -> None:
    upsert(emulator, "a")
    upsert(emulator, "a")
    emulator.script("drop")
    with pytest.raises(requests.ConnectionError):
        upsert(emulator, "a")

    timeline = emulator.timeline()

    assert [item["status"] for item in timeline] == [200, 200, 0]  # 0: dropped unanswered
    assert overlapping_sends(timeline) == []
    assert max_in_flight(timeline) == 1
    assert len(emulator.requests_log()) == 3  # the request log and the timeline align


def test_overlapping_sends_sees_a_long_request_covering_later_ones() -> None:
    timeline = [entry(0.0, 10.0, "k"), entry(1.0, 2.0, "k"), entry(5.0, 6.0, "k", "x")]

    assert overlapping_sends(timeline) == [("k", 0, 1), ("k", 0, 2)]


def test_a_request_still_in_flight_overlaps_everything_after_it() -> None:
    timeline = [entry(0.0, None, "k"), entry(100.0, 101.0, "k"), entry(0.5, 0.6, "other")]

    assert overlapping_sends(timeline) == [("k", 0, 1)]
    assert max_in_flight(timeline) == 2
