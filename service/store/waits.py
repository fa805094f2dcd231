"""How long anything waits for the store: less than a shop waits for its answer.

Shopify gives a webhook about 5 s; a 503 it gets in time is retried, an answer it gave up
on is not seen at all. So a write waits at most `STORE_WAIT_SECONDS` for SQLite's write
lock, a PostgreSQL lock, a pooled connection or a new connection, then fails as the store
being unavailable (503 with Retry-After); a readiness probe waits `PROBE_WAIT_SECONDS`.

SQLite's own busy handler sleeps inside the C library, where no other request of an
async worker can run, so the write lock is waited for here instead: BEGIN IMMEDIATE is
tried with no busy timeout and retried after short sleeps that yield (`time.sleep`,
which gevent makes cooperative), until the wait is over.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

STORE_WAIT_SECONDS = 3.0
PROBE_WAIT_SECONDS = 0.5
WAIT_OPTION = "relay_store_wait"  # execution option: this connection's wait, in seconds
# SQLite's busy timeout for what is not a write transaction's BEGIN: a reader in WAL mode
# meets a lock only while another connection closes the database or recovers it.
SQLITE_READ_BUSY_MS = 200
_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.025)  # as SQLite's busy handler, yielding


def wait_of(connection: Connection) -> float:
    wait: float = connection.get_execution_options().get(WAIT_OPTION, STORE_WAIT_SECONDS)
    return wait


def begin_immediate(
    connection: Connection,
    wait: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Take SQLite's write lock within `wait` seconds, or raise the driver's `database is
    locked` error as SQLAlchemy wraps it."""
    deadline = clock() + wait
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        for attempt in itertools.count():
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                left = deadline - clock()
                if not is_locked(exc) or left <= 0:
                    raise
                sleep(min(_PAUSES[min(attempt, len(_PAUSES) - 1)], left))
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_MS}")


def is_locked(exc: OperationalError) -> bool:
    """SQLite's SQLITE_BUSY ("database is locked") or PostgreSQL's lock_timeout (55P03)."""
    if "database is locked" in str(exc.orig):
        return True
    return getattr(getattr(exc.orig, "diag", None), "sqlstate", None) == "55P03"


def waited_too_long(exc: Exception) -> bool:
    """A lock not granted in time, or PostgreSQL's statement_timeout (57014)."""
    if not isinstance(exc, OperationalError):
        return False
    return is_locked(exc) or getattr(getattr(exc.orig, "diag", None), "sqlstate", None) == "57014"


def postgres_options(wait: float) -> str:
    """libpq `options` bounding a session's waits for a lock; a statement that waits
    longer fails with SQLSTATE 55P03."""
    return f"-c lock_timeout={int(wait * 1000)}"


def probe_write_lock(engine: Engine) -> None:
    """Take and give back the lock a webhook's write needs, waiting `PROBE_WAIT_SECONDS`;
    raise OperationalError when the store is locked or too slow to grant it."""
    options = {WAIT_OPTION: PROBE_WAIT_SECONDS}
    with engine.connect().execution_options(**options) as conn, conn.begin() as transaction:
        if conn.dialect.name == "postgresql":
            ms = int(PROBE_WAIT_SECONDS * 1000)
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {2 * ms}")
            # The mode an INSERT takes: it waits on whoever locked the table against writes.
            conn.exec_driver_sql("LOCK TABLE records IN ROW EXCLUSIVE MODE")
        transaction.rollback()  # on SQLite, BEGIN IMMEDIATE was the probe
