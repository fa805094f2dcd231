"""Readiness: whether the store answers with current migrations and HubSpot is usable,
and what is held back or paused. `/readyz` answers it; the console's overview shows it."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from service import sync_report
from service.config import Config
from service.domain import RecordKind
from service.shop_checks import last_checks
from service.store import migrate, syncs
from service.store.engine import reading
from service.store.reads import iso
from service.store.state import (
    AUTH_ERROR,
    HALTED,
    LAST_ERROR,
    PAUSED_UNTIL,
    read_number,
    read_states,
)
from service.store.waits import PROBE_WAIT_SECONDS, probe_write_lock, waited_too_long


def readiness(config: Config, engine: Engine) -> tuple[dict[str, Any], bool]:
    """The readiness report, and whether it blocks (`/readyz` answers 503).

    `degraded` (not blocking) when line items flow but another kind of record is held back
    (a missing scope, a refused idProperty, an unresolved stage): an upgrade that has not
    finished its HubSpot setup keeps delivering what it did before; while HubSpot has
    paused every worker (a 429 or a 477); or while a shop's reconciliation fails."""
    checks: dict[str, Any] = {}
    problems: list[str] = []
    sync_rows: list[dict[str, Any]] = []
    checked: dict[str, Any] = {}
    try:
        # First, and with a short wait: a store whose write lock is held answers reads.
        probe_write_lock(engine)
        with reading(engine) as conn:
            conn.execute(text("SELECT 1"))
            checks["store"] = "ok"
            states = read_states(conn)
            paused_until = read_number(conn, PAUSED_UNTIL) or 0.0
        revision = migrate.current_revision(engine)
        checks["migrations"] = "current" if revision == migrate.head_revision() else revision
        if revision != migrate.head_revision():
            problems.append("migrations are not current: run `relay db upgrade`")
        else:
            with reading(engine) as conn:
                sync_rows = syncs.listed(conn)
                checked = last_checks(conn)
    except SQLAlchemyError as exc:
        if waited_too_long(exc):
            checks["store"] = f"locked or slow: a write waited over {PROBE_WAIT_SECONDS:g} s"
            problems.append("store locked or slow: webhooks get 503")
        else:
            checks["store"] = f"unreachable ({type(exc).__name__})"
            problems.append("store unreachable")
        states, paused_until = {}, 0.0
    checks["hubspot"] = _hubspot_check(config.sandbox, config.has_hubspot_credentials, states)
    if checks["hubspot"] not in ("ok", "sandbox"):
        problems.append(f"hubspot: {checks['hubspot']}")
    held = halts(states)
    checks["held_back"] = held
    # A pause HubSpot asked for (429, 477) or a run of failures is no reason to stop taking
    # webhooks, but an on-call engineer should see it while it lasts.
    paused = paused_until > time.time()
    if paused:
        checks["hubspot_paused"] = {
            "until": iso(paused_until),
            "reason": states.get(PAUSED_UNTIL),
        }
    if states.get(LAST_ERROR):
        checks["last_hubspot_error"] = states[LAST_ERROR]
    # Line items held back stop what the relay did before the whole order: not ready.
    blocking = bool(problems) or RecordKind.LINE_ITEM.value in held
    problems += [f"{kind} records held back: {reason}" for kind, reason in held.items()]
    # A failing pass loses nothing yet (webhooks still arrive, the checkpoint holds), but
    # what the shops failed to deliver waits until it passes again.
    checks.update(sync_report.describe(sync_rows, config, time.time()))
    if checked:
        checks["subscriptions"] = checked
    shop_trouble = sync_report.failing(checks)
    problems += shop_trouble
    status = (
        "not_ready" if blocking else ("degraded" if held or paused or shop_trouble else "ready")
    )
    body = {
        "status": status,
        "checks": checks,
        "sandbox": config.sandbox,
        "sources_without_secret": sources_without_secret(config),
        "problems": problems,
    }
    return body, blocking


def halts(states: dict[str, str | None]) -> dict[str, str | None]:
    """Record kind -> why it is not being sent, from the named states."""
    return {
        name.removeprefix(HALTED): reason
        for name, reason in sorted(states.items())
        if name.startswith(HALTED)
    }


def sources_without_secret(config: Config) -> list[str]:
    """The shops whose receiver refuses every webhook: no secret configured."""
    return [
        name
        for name, secrets in (
            ("shopify", config.shopify_webhook_secrets),
            ("woocommerce", config.woocommerce_webhook_secrets),
        )
        if not secrets
    ]


def _hubspot_check(sandbox: bool, has_credentials: bool, states: dict[str, str | None]) -> str:
    rejected = states.get(AUTH_ERROR)
    if rejected:
        return f"credentials rejected: {rejected}"
    if sandbox:
        return "sandbox"
    if not has_credentials:
        return "no credentials configured"
    return "ok"
