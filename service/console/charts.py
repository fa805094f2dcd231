"""The overview's charts as geometry for inline SVG, drawn on the server: delivered and
failed records per minute (bars side by side) and the queue's depth (a line through the
minutes the worker sampled). Pure functions of the stored minutes, so they test alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from service.store.activity import Minute

WIDTH, HEIGHT = 600, 160
LEFT, BOTTOM, TOP = 40, 18, 8  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    peak: int  # the value at the top of the axis
    bars: tuple[Bar, ...]  # delivered, then failed
    failed_bars: tuple[Bar, ...]
    line: str  # SVG polyline points of the depth, "" when nothing was sampled
    labels: tuple[tuple[float, str], ...]  # (x, "HH:MM") along the time axis
    baseline: float
    empty: bool


def _scale(peak: int) -> int:
    """A round axis top at or above `peak`: 1, 2 or 5 times a power of ten."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= peak:
                return step * magnitude
        magnitude *= 10


def _clock(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%H:%M")


def _labels(hour: Sequence[Minute], slot: float) -> tuple[tuple[float, str], ...]:
    every = max(1, len(hour) // 4)
    return tuple(
        (LEFT + index * slot, _clock(minute.minute))
        for index, minute in enumerate(hour)
        if index % every == 0
    )


def throughput(hour: Sequence[Minute]) -> Chart:
    """Delivered (left half of each minute's slot) and failed (right half) per minute."""
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(1, len(hour))
    peak = _scale(max([1, *(m.delivered for m in hour), *(m.failed for m in hour)]))
    base = HEIGHT - BOTTOM

    def bar(index: int, value: int, offset: float, what: str, minute: Minute) -> Bar:
        tall = plot_h * value / peak
        title = f"{_clock(minute.minute)} UTC: {value} {what}"
        return Bar(LEFT + index * slot + offset, base - tall, slot * 0.45, tall, title)

    delivered = tuple(bar(i, m.delivered, 0, "delivered", m) for i, m in enumerate(hour))
    failed = tuple(bar(i, m.failed, slot * 0.45, "failed", m) for i, m in enumerate(hour))
    empty = not any(m.delivered or m.failed for m in hour)
    return Chart(WIDTH, HEIGHT, peak, delivered, failed, "", _labels(hour, slot), base, empty)


def depth(hour: Sequence[Minute]) -> Chart:
    """Pending records at each sampled minute, as a line; minutes without a sample (no
    worker ran) are skipped."""
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(1, len(hour))
    sampled = [(i, m.pending) for i, m in enumerate(hour) if m.pending is not None]
    peak = _scale(max([1, *(value for _, value in sampled)]))
    base = HEIGHT - BOTTOM
    points = " ".join(
        f"{LEFT + i * slot + slot / 2:.1f},{base - plot_h * value / peak:.1f}"
        for i, value in sampled
    )
    if len(sampled) == 1:  # one sample is a dot: draw it as a short flat line
        x, y = points.split(",")
        points = f"{float(x) - 2:.1f},{y} {float(x) + 2:.1f},{y}"
    return Chart(WIDTH, HEIGHT, peak, (), (), points, _labels(hour, slot), base, not sampled)
