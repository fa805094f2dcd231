"""The bench's whole-order parts stay runnable and count what they claim to count."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.domain import RecordKind
from tests.perf import order_delivery, order_latency
from tests.perf.whole_order import Batch, Expected, kind_summary, minimum_requests


def test_the_minimum_of_250_orders_of_3_lines_is_16_writes() -> None:
    made = order_delivery.whole_orders(250, 3)
    counts = Expected.of(inputs for _, inputs in made).counts()
    assert counts == {
        RecordKind.CONTACT: 250,  # every order its own buyer
        RecordKind.ORDER: 250,
        RecordKind.LINE_ITEM: 750,
        RecordKind.LINE_ITEM_TO_ORDER: 750,
        RecordKind.ORDER_TO_CONTACT: 250,
    }
    minimum = minimum_requests(counts)
    assert minimum == {
        RecordKind.CONTACT: 3,
        RecordKind.ORDER: 3,
        RecordKind.LINE_ITEM: 8,
        RecordKind.LINE_ITEM_TO_ORDER: 1,
        RecordKind.ORDER_TO_CONTACT: 1,
    }
    assert sum(minimum.values()) == 16


def test_a_kind_is_full_with_one_partial_batch_and_not_with_two() -> None:
    def calls(*sizes: int) -> list[Batch]:
        return [Batch("upsert:contacts", n, i, i + 0.5, 200, ()) for i, n in enumerate(sizes)]

    assert kind_summary(RecordKind.CONTACT, 250, calls(50, 100, 100), 0.0)["full"]
    split = kind_summary(RecordKind.CONTACT, 250, calls(100, 75, 75), 0.0)
    assert not split["full"]
    assert split["requests"] == 3 and split["minimum"] == 3 and split["mean_batch"] == 250 / 3


def test_partial_batches_in_flight_together_are_counted() -> None:
    together = [
        Batch("associations:orders/contacts", 18, 1.0, 1.1, 201, ()),
        Batch("associations:orders/contacts", 232, 1.05, 1.15, 201, ()),
        Batch("associations:orders/contacts", 10, 2.0, 2.1, 201, ()),
    ]
    assert (
        kind_summary(RecordKind.ORDER_TO_CONTACT, 260, together, 0.0)["overlapping_partials"] == 2
    )


def test_a_tiny_whole_order_delivery_ends_with_every_record_held(tmp_path: Path) -> None:
    row = order_delivery.run(
        "SQLite", f"sqlite:///{tmp_path / 'orders.sqlite3'}", tmp_path, orders=4, lines=2
    )
    wanted = {
        "upsert:contacts": 4,
        "upsert:orders": 4,
        "upsert:line_items": 8,
        "associations:line_items/orders": 8,
        "associations:orders/contacts": 4,
    }
    assert row["held"] == wanted
    assert {name: k["records"] for name, k in row["kinds"].items()} == wanted
    assert {name: k["inputs"] for name, k in row["kinds"].items()} == wanted
    assert row["minimum"] == 5 and row["writes"] == 5 and row["other_writes"] == 0
    assert row["reads"] == {"pipelines:orders": 1, "properties:orders": 1}
    assert row["rate_limited"] == 0 and 0 < row["seconds"] < 30
    assert order_delivery.checks(row) == {"requests": True, "full": True, "no_429": True}
    text = "\n".join(order_delivery.report([row]))
    assert "associations:line_items/orders" in text and "PASS" in text


def test_a_tiny_end_to_end_run_times_every_accepted_order(tmp_path: Path) -> None:
    row = order_latency.run(f"sqlite:///{tmp_path / 'e2e.sqlite3'}", tmp_path, orders=3, rate=10)
    assert row["accepted"] == 3
    assert len(row["per_order_ms"]) == 3
    # An order is whole only once its line items exist: its lines are associated after.
    assert all(0 < lines <= whole < 30_000 for lines, whole in row["per_order_ms"])
    slowest = max(whole for _, whole in row["per_order_ms"])
    assert row["order_ms"]["max"] == pytest.approx(slowest, abs=0.05)  # rounded to 0.1 ms
    text = "\n".join(order_latency.report(row))
    assert "the whole order" in text and "accepted 3/3" in text
