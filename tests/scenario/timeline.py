"""Checks on the emulator's timeline of write calls (`GET /_emulator/timeline`: per call,
in arrival order, `received_at`, `finished_at`, `status`, `kind`, `path` and `ids`, an
upsert's input ids or an association's "fromId>toId" pairs)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUCCESS = frozenset({200, 201})  # 207 is partial: which inputs it wrote is in its body
Timeline = Sequence[Mapping[str, Any]]


def _end(entry: Mapping[str, Any]) -> float:
    finished = entry["finished_at"]
    return float("inf") if finished is None else float(finished)


def overlapping_sends(timeline: Timeline) -> list[tuple[str, int, int]]:
    """(id, i, j) for every record or pair of one kind that was in requests i and j while
    both were in flight."""
    spans: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    for index, entry in enumerate(timeline):
        for key in entry["ids"]:
            span = (float(entry["received_at"]), _end(entry), index)
            spans.setdefault((entry.get("kind", ""), key), []).append(span)
    overlaps = []
    for (_, key), intervals in spans.items():
        intervals.sort()
        latest_end, latest = intervals[0][1], intervals[0][2]
        for start, end, index in intervals[1:]:
            if start < latest_end:
                overlaps.append((key, latest, index))
            if end > latest_end:
                latest_end, latest = end, index
    return sorted(overlaps, key=lambda overlap: (overlap[1], overlap[2], overlap[0]))


def max_in_flight(timeline: Timeline) -> int:
    """The most write calls HubSpot was answering at one moment."""
    events = []
    for entry in timeline:
        events.append((float(entry["received_at"]), 1))
        events.append((_end(entry), -1))
    most = current = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts
        current += step
        most = max(most, current)
    return most


def faults_by_kind(timeline: Timeline) -> dict[str, dict[str, int]]:
    """Per call kind, how many calls got each answer other than success ("0": dropped)."""
    faults: dict[str, Counter[str]] = {}
    for entry in timeline:
        if entry["status"] not in SUCCESS and entry["status"] != 207:
            faults.setdefault(entry["kind"], Counter())[str(entry["status"])] += 1
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(faults.items())}


@dataclass(frozen=True)
class Resend:
    """An association pair HubSpot wrote in request `again` after it had already written
    and confirmed it in request `first` (timeline indexes)."""

    kind: str
    pair: str
    first: int
    again: int
    lost: str | None  # why the relay cannot have had the first answer; None: it had it


def association_resends(
    timeline: Timeline, kills: Sequence[float], *, read_timeout: float, grace: float = 2.0
) -> list[Resend]:
    """Every association pair sent again after a successful create of the same pair.

    The pair is by HubSpot ids, so an end that got a new HubSpot id makes a new pair. The
    relay may send a pair again only when HubSpot's confirmation never reached its store:
    the answer came after the relay's read timeout, or the worker was SIGKILLed (at one
    of `kills`, epoch seconds) between sending it and `grace` seconds after the answer,
    the time a worker takes to record an outcome on these loaded cores."""
    last: dict[tuple[str, str], int] = {}
    resends = []
    for index, entry in enumerate(timeline):
        if not entry["kind"].startswith("associations:") or entry["status"] not in SUCCESS:
            continue
        for pair in entry["ids"]:
            previous = last.get((entry["kind"], pair))
            if previous is not None:
                why = _answer_lost(timeline[previous], kills, read_timeout, grace)
                resends.append(Resend(entry["kind"], pair, previous, index, why))
            last[(entry["kind"], pair)] = index
    return resends


def _answer_lost(
    entry: Mapping[str, Any], kills: Sequence[float], read_timeout: float, grace: float
) -> str | None:
    sent, answered = float(entry["received_at"]), _end(entry)
    if answered - sent >= read_timeout:
        return f"answered after {answered - sent:.1f} s, past the relay's read timeout"
    for kill in kills:
        if sent <= kill <= answered + grace:
            return f"a worker was SIGKILLed {kill - answered:+.2f} s from the answer"
    return None


def busy_at(timeline: Timeline, moments: Sequence[float], after: float = 1.0) -> int:
    """How many of `moments` fell while a write call was in flight or within `after`
    seconds of its answer, while its worker was still recording the outcome."""
    return sum(
        any(float(e["received_at"]) <= moment <= _end(e) + after for e in timeline)
        for moment in moments
    )
