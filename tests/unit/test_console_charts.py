"""The overview's charts are geometry computed from the stored minutes: bars scale to a
round axis top, minutes without a depth sample leave the line, an empty hour says so."""

from __future__ import annotations

from service.console import charts
from service.store.activity import Minute


def hour(**values: tuple[int, int, int | None]) -> list[Minute]:
    """Sixty minutes from minute 1000; `m5=(delivered, failed, pending)` sets minute 5."""
    chosen = {int(name[1:]): value for name, value in values.items()}
    return [
        Minute(1000 + i, *chosen.get(i, (0, 0, None)), None)  # type: ignore[misc]
        for i in range(60)
    ]


def test_bars_scale_to_a_round_top_and_stand_on_the_baseline() -> None:
    chart = charts.throughput(hour(m0=(30, 0, None), m59=(12, 3, None)))
    assert chart.peak == 50
    first, last = chart.bars[0], chart.bars[59]
    plot = charts.HEIGHT - charts.BOTTOM - charts.TOP
    assert first.height == plot * 30 / 50 and first.y + first.height == chart.baseline
    assert last.x > first.x and chart.failed_bars[59].height == plot * 3 / 50
    assert first.title.endswith("UTC: 30 delivered") and not chart.empty


def test_an_hour_with_nothing_is_empty_with_an_axis_of_one() -> None:
    chart = charts.throughput(hour())
    assert chart.empty and chart.peak == 1
    assert all(bar.height == 0 for bar in chart.bars)


def test_the_depth_line_passes_only_through_sampled_minutes() -> None:
    chart = charts.depth(hour(m10=(0, 0, 200), m11=(0, 0, 100), m40=(0, 0, 0)))
    points = [tuple(map(float, p.split(","))) for p in chart.line.split()]
    assert chart.peak == 200 and len(points) == 3
    assert points[0][1] == charts.TOP  # the peak touches the top
    assert points[2][1] == chart.baseline
    assert points[0][0] < points[1][0] < points[2][0]


def test_one_sample_is_drawn_as_a_short_flat_line_and_none_says_so() -> None:
    one = charts.depth(hour(m30=(0, 0, 7)))
    assert len(one.line.split()) == 2 and not one.empty
    assert charts.depth(hour()).empty and charts.depth(hour()).line == ""


def test_time_labels_are_utc_clock_times_along_the_axis() -> None:
    chart = charts.throughput(hour())
    assert [label for _x, label in chart.labels] == ["16:40", "16:55", "17:10", "17:25"]
