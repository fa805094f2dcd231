"""Which kinds of record a worker process holds back for now, and until when.

A 401 holds back every kind (the credentials are refused); a 403, a refused idProperty
or an order pipeline that lacks a stage holds back the kind it was met on, while the
others go on. Each halt lasts HALT_RECHECK_SECONDS, then a batch tries again; the
reasons are kept in the store (`service.store.state`) for `/readyz` and every process.
"""

from __future__ import annotations

from service.domain import RecordKind

HALT_RECHECK_SECONDS = 60.0


class Halts:
    """The kinds this process holds back for now: all of them after a 401, one after a
    403 or a refused idProperty. The reasons are in the store, for every process."""

    def __init__(self) -> None:
        self.everything_until = 0.0
        self._until: dict[RecordKind, float] = {}

    def blocked(self, kind: RecordKind, now: float) -> bool:
        return now < self.everything_until or now < self._until.get(kind, 0.0)

    def hold(self, kind: RecordKind | None, until: float) -> None:
        if kind is None:
            self.everything_until = until
        else:
            self._until[kind] = until

    def lift(self, kind: RecordKind) -> None:
        self._until.pop(kind, None)
