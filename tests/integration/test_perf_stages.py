"""The bench's stage profile runs every stage of the real ingest path (kept from rotting)."""

from __future__ import annotations

from pathlib import Path

from tests.perf import stages


def test_every_stage_of_the_ingest_path_is_timed(tmp_path: Path) -> None:
    rows = dict(stages.measure(20, tmp_path))
    assert list(rows)[:5] == [
        "signature (HMAC-SHA256, base64)",
        "JSON parse, exact numbers",
        "marshmallow load -> Order",
        "mapping -> the whole order's records",
        "store write, SQLite (one transaction)",
    ]
    timed = {stage: us for stage, us in rows.items() if isinstance(us, float)}
    assert all(us > 0 for us in timed.values()), rows
    # The whole request runs every stage, so it costs more than the store write alone.
    assert (
        timed["whole request, service app on SQLite"]
        > timed["store write, SQLite (one transaction)"]
    )
    text = stages.report(list(rows.items()), 20)
    assert "marshmallow load" in text and "us/order" in text
