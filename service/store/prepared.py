"""Statements built and compiled once per dialect, then run as driver SQL.

SQLAlchemy does not cache statements that carry the dialects' ON CONFLICT clauses (their
insert constructs set `inherit_cache = False`), so building and compiling such a statement
on every request cost more than the database work itself. A `Prepared` builds its
statement once per dialect from named `bindparam`s, compiles it, and runs the SQL text
with `Connection.exec_driver_sql`, which still runs the engine's events and wraps driver
errors in `DBAPIError`. Values go to the driver as they are (no SQLAlchemy type
processing), so pass plain `str`, `int`, `float`, `bool` and `None`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # bind names in placeholder order, for positional styles
    defaults: dict[str, Any]  # the literals SQLAlchemy turned into anonymous parameters

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **values}
        if self.order is None:
            return merged
        return tuple(merged[name] for name in self.order)


class Prepared:
    """`build(dialect_name)` returns the statement; it is compiled once per dialect."""

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._build(dialect.name).compile(dialect=dialect)
            names = getattr(compiled, "positiontup", None) or ()  # SQLCompiler's bind order
            order = tuple(names) if dialect.positional else None
            found = _Compiled(compiled.string, order, dict(compiled.params))
            self._compiled[dialect.name] = found  # a race only compiles it twice
        return found

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> CursorResult[Any]:
        """Run once with `values` (bind name -> value)."""
        compiled = self._for(conn.dialect)
        return conn.exec_driver_sql(compiled.sql, compiled.bind(values))

    def execute_many(
        self, conn: Connection, rows: Sequence[Mapping[str, Any]]
    ) -> CursorResult[Any]:
        """Run once per row in one driver `executemany` call."""
        compiled = self._for(conn.dialect)
        return conn.exec_driver_sql(compiled.sql, [compiled.bind(row) for row in rows])
