"""What a run of whole orders should leave in HubSpot, and what the emulator saw of it.

An order wants its records (line items, the order record, the buyer's contact) and the
associations between them (`service.mapping.to_records`). From those, `Expected` holds
what the emulator must end up holding, keyed as HubSpot knows the records (idProperty
values; a contact by its email), and `minimum_requests` the fewest write calls HubSpot's
batch limits allow per kind. From the emulator, `Holdings` maps its record ids back to
those keys, so an association is checked end to end: the right line item on the right
order, the right order on the right contact. `batches` reads the emulator's timeline
(every write call, when it arrived and was answered, the inputs it carried).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.domain import RecordInput, RecordKind
from service.hubspot.kinds import MAX_ASSOCIATION_INPUTS, MAX_OBJECT_INPUTS, OBJECT_TYPES, PRIORITY
from tests.perf.harness import emulator_get, wait_for
from tests.processes import Process

End = tuple[str, str]  # HubSpot object type, key
Link = frozenset[End]  # an association, whichever way it was created


def call_kind(kind: RecordKind) -> str:
    """The emulator's name for the write call that carries records of `kind`."""
    if kind.is_association:
        start, end = kind.ends
        return f"associations:{OBJECT_TYPES[start]}/{OBJECT_TYPES[end]}"
    return f"upsert:{OBJECT_TYPES[kind]}"


def batch_limit(kind: RecordKind) -> int:
    """HubSpot's limit on inputs per request: 100 per object upsert, 2,000 per association
    batch create (service.hubspot.kinds)."""
    return MAX_ASSOCIATION_INPUTS if kind.is_association else MAX_OBJECT_INPUTS


def minimum_requests(wanted: dict[RecordKind, int]) -> dict[RecordKind, int]:
    """The fewest write requests the batch limits allow for `wanted` records of each kind."""
    return {kind: math.ceil(count / batch_limit(kind)) for kind, count in wanted.items() if count}


@dataclass(frozen=True)
class Expected:
    """Every record and association a set of orders wants in HubSpot."""

    records: dict[RecordKind, set[str]] = field(default_factory=dict)
    links: dict[RecordKind, set[Link]] = field(default_factory=dict)

    @classmethod
    def of(cls, orders: Iterable[Sequence[RecordInput]]) -> Expected:
        expected = cls()
        for inputs in orders:
            for item in inputs:
                if item.kind.is_association:
                    expected.links.setdefault(item.kind, set()).add(link_of(item))
                else:
                    expected.records.setdefault(item.kind, set()).add(item.key)
        return expected

    def counts(self) -> dict[RecordKind, int]:
        """Records of each kind, in the order the worker sends them."""
        found = {k: len(v) for k, v in self.records.items()} | {
            k: len(v) for k, v in self.links.items()
        }
        return {kind: found[kind] for kind in PRIORITY if kind in found}


def link_of(item: RecordInput) -> Link:
    """An association record as the two ends it joins."""
    start, end = item.kind.ends
    assert item.from_key is not None and item.to_key is not None
    return frozenset({(OBJECT_TYPES[start], item.from_key), (OBJECT_TYPES[end], item.to_key)})


@dataclass(frozen=True)
class Holdings:
    """What the emulator holds, keyed as `Expected` is."""

    records: dict[str, dict[str, dict[str, Any]]]  # type -> key -> record
    links: set[Link]
    ids: dict[tuple[str, str], str]  # (type, HubSpot id) -> key

    @classmethod
    def read(cls, port: int, types: Iterable[str]) -> Holdings:
        records = {t: emulator_get(port, f"records?type={t}") for t in types}
        ids = {(t, r["id"]): key for t, held in records.items() for key, r in held.items()}
        links = set()
        for pair in emulator_get(port, "associations"):
            start = (pair["fromType"], pair["fromId"])
            end = (pair["toType"], pair["toId"])
            if start in ids and end in ids:
                links.add(frozenset({(start[0], ids[start]), (end[0], ids[end])}))
        return cls(records, links, ids)

    def missing(self, expected: Expected) -> dict[RecordKind, int]:
        """How many of each kind's expected records or associations are not held yet."""
        out: dict[RecordKind, int] = {}
        for kind, keys in expected.records.items():
            out[kind] = len(keys - set(self.records.get(OBJECT_TYPES[kind], {})))
        for kind, links in expected.links.items():
            out[kind] = len(links - self.links)
        return {kind: n for kind, n in out.items() if n}

    def held(self, expected: Expected) -> dict[RecordKind, int]:
        """How many of each kind's expected records or associations are held."""
        missing = self.missing(expected)
        return {kind: n - missing.get(kind, 0) for kind, n in expected.counts().items()}

    def key_pair(self, timeline_id: str, kind: RecordKind) -> Link | None:
        """An association call's "fromId>toId" as the link of keys it stands for."""
        from_id, _, to_id = timeline_id.partition(">")
        start, end = (OBJECT_TYPES[k] for k in kind.ends)
        from_key, to_key = self.ids.get((start, from_id)), self.ids.get((end, to_id))
        if from_key is None or to_key is None:
            return None
        return frozenset({(start, from_key), (end, to_key)})


def wait_until_held(port: int, expected: Expected, process: Process, timeout: float) -> Holdings:
    """Poll the emulator until it holds everything expected (failing early if `process`,
    the worker, exits); the holdings then."""
    wanted_links = sum(len(links) for links in expected.links.values())
    found: list[Holdings] = []

    def held() -> bool:
        if not process.alive():
            raise RuntimeError(f"process exited:\n{process.describe()}")
        # The association listing is small; the records are read only once it is full.
        if len(emulator_get(port, "associations")) < wanted_links:
            return False
        holdings = Holdings.read(port, object_types(expected))
        found[:] = [holdings]
        return not holdings.missing(expected)

    try:
        wait_for(held, timeout, "the emulator to hold every record and association", 0.2)
    except TimeoutError as exc:
        missing = found[0].missing(expected) if found else "no association listing complete"
        raise TimeoutError(f"{exc}; missing: {missing}") from None
    return found[0]


def object_types(expected: Expected) -> list[str]:
    return [OBJECT_TYPES[kind] for kind in expected.records]


@dataclass(frozen=True)
class Batch:
    """One write call on the emulator's timeline."""

    kind: str
    size: int
    received_at: float
    finished_at: float | None
    status: int | None
    ids: tuple[str, ...]


def batches(timeline: list[dict[str, Any]]) -> list[Batch]:
    return [
        Batch(e["kind"], len(e["ids"]), e["received_at"], e["finished_at"], e["status"], e["ids"])
        for e in timeline
    ]


def overlapping_partials(kind: RecordKind, calls: list[Batch]) -> int:
    """Partial batches of a kind that were in flight while another partial one was: the
    mark of concurrent claims splitting what one request could carry."""
    spans = [
        (b.received_at, b.finished_at)
        for b in calls
        if b.size < batch_limit(kind) and b.finished_at is not None
    ]
    return sum(
        1
        for i, (start, end) in enumerate(spans)
        if any(s < end and start < e for j, (s, e) in enumerate(spans) if j != i)
    )


def kind_summary(kind: RecordKind, wanted: int, calls: list[Batch], since: float) -> dict[str, Any]:
    """One kind's requests against its minimum; full when at most one batch is partial
    (its last: batches sent in parallel may arrive in any order)."""
    sizes = [b.size for b in calls]
    return {
        "overlapping_partials": overlapping_partials(kind, calls),
        "records": wanted,
        "minimum": minimum_requests({kind: wanted}).get(kind, 0),
        "requests": len(calls),
        "inputs": sum(sizes),
        "mean_batch": sum(sizes) / len(calls) if calls else 0.0,
        "full": sum(1 for size in sizes if size < batch_limit(kind)) <= 1,
        "statuses": dict(Counter(str(b.status) for b in calls)),
        "batches": [[b.size, round(b.received_at - since, 3)] for b in calls],
    }
