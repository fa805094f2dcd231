"""Small named facts shared by all processes: a HubSpot pause, an auth rejection, the
last HubSpot error, the rotated OAuth refresh token. Kept in the store so the web process
can report what workers saw and every worker uses the latest refresh token."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from service.store.engine import insert_for, reading
from service.store.tables import relay_state

AUTH_ERROR = "hubspot_auth_error"  # 401: the credentials are refused; nothing is sent
HALTED = "hubspot_halted:"  # + a record kind: why that kind is not sent (scope, setup)
PAUSED_UNTIL = "hubspot_paused_until"
LAST_ERROR = "hubspot_last_error"
PORTAL_ID = "hubspot_portal_id"  # the portal an OAuth token answer named (its hub_id)
# + a console session's id: it was signed out; `number` is when its cookie expires anyway.
SIGNED_OUT = "console_signed_out:"
# A name prefix, not a secret; the tokens stored under it are never listed by read_states().
REFRESH_TOKEN = "hubspot_refresh_token"  # noqa: S105


def set_state(
    engine: Engine, name: str, value: str | None, *, number: float | None = None, now: float
) -> None:
    with engine.begin() as conn:
        stmt = insert_for(conn, relay_state).values(
            name=name, value=value, number=number, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[relay_state.c.name],
            set_={"value": value, "number": number, "updated_at": now},
        )
        conn.execute(stmt)


def halted(kind: str) -> str:
    """The state name that says why records of `kind` are not being sent."""
    return HALTED + kind


def clear_state(engine: Engine, *names: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(relay_state).where(relay_state.c.name.in_(names)))


def read_states(conn: Connection) -> dict[str, str | None]:
    """Every named fact except the stored refresh token."""
    rows = conn.execute(
        select(relay_state.c.name, relay_state.c.value).where(
            relay_state.c.name.not_like(REFRESH_TOKEN + "%")
        )
    ).all()
    return {row.name: row.value for row in rows}


def is_set(conn: Connection, name: str) -> bool:
    return (
        conn.execute(select(relay_state.c.name).where(relay_state.c.name == name)).first()
        is not None
    )


def prune_expired(engine: Engine, prefix: str, *, now: float) -> int:
    """Delete the facts named `prefix...` whose `number` (an expiry) has passed."""
    with engine.begin() as conn:
        expired = relay_state.c.name.startswith(prefix) & (relay_state.c.number < now)
        return int(conn.execute(delete(relay_state).where(expired)).rowcount)


def read_number(conn: Connection, name: str) -> float | None:
    row = conn.execute(select(relay_state.c.number).where(relay_state.c.name == name)).first()
    return None if row is None else row.number


class StoredRefreshToken:
    """Keeps HubSpot's rotated OAuth refresh token in the store for every process.

    The entry is named after a digest of the configured token, so configuring a new
    refresh token (a re-installed app) starts afresh instead of reusing a rotated old one.
    """

    def __init__(self, engine: Engine, configured_token: str) -> None:
        self._engine = engine
        digest = hashlib.sha256(configured_token.encode()).hexdigest()[:16]
        self._name = f"{REFRESH_TOKEN}:{digest}"

    def load(self) -> str | None:
        with reading(self._engine) as conn:
            row = conn.execute(
                select(relay_state.c.value).where(relay_state.c.name == self._name)
            ).first()
        return None if row is None else row.value

    def save(self, refresh_token: str) -> None:
        set_state(self._engine, self._name, refresh_token, now=time.time())
