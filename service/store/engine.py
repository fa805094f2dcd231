"""Engine construction: SQLite (WAL, one writer at a time) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from service.config import sqlite_path
from service.store.waits import (
    SQLITE_READ_BUSY_MS,
    STORE_WAIT_SECONDS,
    begin_immediate,
    postgres_options,
    wait_of,
)


def make_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    """Create the engine for a URL; SQLite files get WAL and immediate transactions."""
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"timeout": SQLITE_READ_BUSY_MS / 1000},
            hide_parameters=True,
            pool_timeout=STORE_WAIT_SECONDS,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        database_url,
        hide_parameters=True,  # a failed statement's values (a refresh token) stay out of logs
        pool_pre_ping=True,  # a restarted PostgreSQL leaves dead pooled connections behind
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=STORE_WAIT_SECONDS,  # service.store.waits: less than a shop waits
        connect_args={
            "connect_timeout": int(STORE_WAIT_SECONDS),
            "options": postgres_options(STORE_WAIT_SECONDS),
        },
    )


READ_ONLY = {"relay_read_only": True}


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it does not take the write lock, so polls
    (/readyz, /metrics, the worker's pause check) never queue behind webhooks."""
    return engine.connect().execution_options(**READ_ONLY)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN until the first write, which lets
    # two writers deadlock on the upgrade from a read lock. Writers take the write lock up
    # front, waiting for it as service.store.waits says; readers (see `reading`) start a
    # plain deferred transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL survives a process crash; only a power loss can drop the last
        # commits (README, Guarantees). FULL would fsync every webhook.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("relay_read_only", False):
            connection.exec_driver_sql("BEGIN")
        else:
            begin_immediate(connection, wait_of(connection))


def failure_reason(exc: DBAPIError) -> str:
    """Why a statement failed, fit for a log line: the driver's error class and its primary
    message, which names the problem (a lock, a full disk, a constraint) but not values,
    unlike PostgreSQL's DETAIL or SQLAlchemy's text with the statement."""
    orig = exc.orig
    name = type(orig).__name__
    diag = getattr(orig, "diag", None)  # psycopg keeps the parts of a server error apart
    if diag is None:
        message = str(orig).strip().split("\n", 1)[0]  # sqlite3: one line, no values
        return f"{name}: {message[:200]}" if message else name
    sqlstate = getattr(diag, "sqlstate", None)
    if sqlstate is None:
        return name  # raised in the client (a refused connection): no server message
    if sqlstate.startswith("22"):
        # Data exceptions quote the offending input ("invalid input syntax ...: "x"").
        return f"{name} (SQLSTATE {sqlstate})"
    message = getattr(diag, "message_primary", None) or ""
    return f"{name} (SQLSTATE {sqlstate}): {message[:200]}"


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


def insert_for(conn: Connection, table: Any) -> Any:
    """A dialect insert that offers `on_conflict_do_update` / `on_conflict_do_nothing`."""
    if is_postgres(conn):
        return postgresql.insert(table)
    return sqlite.insert(table)
