"""Statements built and compiled once per dialect, then run on the driver's cursor.

The webhook's store write is the hottest path in the service, and SQLAlchemy's statement
execution was most of its cost: it does not cache statements that carry the dialects' ON
CONFLICT clauses (their insert constructs set `inherit_cache = False`), and even
`Connection.exec_driver_sql` spends ~50 µs per call building an execution context, more
than SQLite takes to run the statement (`python -m tests.perf.stages` shows the split).

A `Prepared` builds its statement once per dialect from named `bindparam`s, compiles it,
and runs the SQL text on the DBAPI cursor of a SQLAlchemy `Connection`: the transaction,
the pool and the engine's `begin` event stay SQLAlchemy's, and a driver error is raised
as SQLAlchemy's `DBAPIError`, its parameters hidden, like any other statement's. Values go
to the driver as they are (no SQLAlchemy type processing), so pass plain `str`, `int`,
`float`, `bool`, `None`, and lists for PostgreSQL arrays.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # bind names in placeholder order, for positional styles
    defaults: dict[str, Any]  # the literals SQLAlchemy turned into anonymous parameters

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **values} if self.defaults else values
        if self.order is None:
            return dict(merged)
        return self.pick(merged)

    @cached_property
    def pick(self) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """The values in placeholder order, picked in C (this runs per row of a webhook)."""
        assert self.order is not None
        if len(self.order) == 1:
            only = self.order[0]
            return lambda values: (values[only],)
        picked: Callable[[Mapping[str, Any]], tuple[Any, ...]] = operator.itemgetter(*self.order)
        return picked


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

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> list[Row]:
        """Run once with `values` (bind name -> value); the rows it returns, if any."""
        compiled = self._for(conn.dialect)
        return _run(conn, compiled.sql, compiled.bind(values), many=False)

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row in one driver `executemany` call."""
        compiled = self._for(conn.dialect)
        _run(conn, compiled.sql, [compiled.bind(row) for row in rows], many=True)


def _run(conn: Connection, sql: str, params: Any, *, many: bool) -> list[Row]:
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []
    except dbapi.Error as exc:
        # As SQLAlchemy does for its own statements: a lost connection is thrown away, so
        # the error says why it was lost rather than the failed rollback after it.
        lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            params,
            exc,
            dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=conn.dialect,
        ) from exc
    finally:
        cursor.close()
