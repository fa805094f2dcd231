"""The console part of `make bench` on a small store: it builds, signs in, renders every
page it times, and reports each against the target (the figures themselves are the
bench's, not a test's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.perf import console_pages


def test_the_console_bench_renders_every_page_and_reports_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("ORDERS", 60), ("DEAD", 55), ("REJECTED", 3), ("RUNS", 1)):
        monkeypatch.setattr(console_pages, name, value)
    row = console_pages.run("SQLite", f"sqlite:///{tmp_path / 'console.sqlite3'}")
    assert [page["page"] for page in row["pages"]] == [
        "overview",
        "orders: latest",
        "orders: by id",
        "orders: by number",
        "orders: by email",
        "orders: by store",
        "an order",
        "dead letters",
        "dead letters: page 2",
        "dead letters: by reason",
        "replay all dead: confirm",
        "rejected webhooks",
    ]
    assert all(page["bytes"] > 1000 for page in row["pages"])
    lines = console_pages.report([row])
    assert len(lines) == 2 + 12 and all(line.endswith(("PASS", "MISS")) for line in lines[2:])
