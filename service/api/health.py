"""Liveness and readiness for the platform; both cheap enough to poll every second."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service import extensions
from service.store import migrate
from service.store.engine import reading
from service.store.state import AUTH_ERROR, CONFIG_ERROR, read_states

bp = Blueprint("health", __name__)
log = logging.getLogger("service.health")


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving; says nothing about its dependencies."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when the store answers with current migrations and HubSpot is usable."""
    config = extensions.config()
    checks: dict[str, Any] = {}
    problems: list[str] = []
    try:
        with reading(extensions.engine()) as conn:
            conn.execute(text("SELECT 1"))
            checks["store"] = "ok"
            states = read_states(conn)
        revision = migrate.current_revision(extensions.engine())
        checks["migrations"] = "current" if revision == migrate.head_revision() else revision
        if revision != migrate.head_revision():
            problems.append("migrations are not current: run `relay db upgrade`")
    except SQLAlchemyError as exc:
        checks["store"] = f"unreachable ({type(exc).__name__})"
        problems.append("store unreachable")
        states = {}
    checks["hubspot"] = _hubspot_check(config.sandbox, config.has_hubspot_credentials, states)
    if checks["hubspot"] not in ("ok", "sandbox"):
        problems.append(f"hubspot: {checks['hubspot']}")
    unconfigured = [
        name
        for name, secrets in (
            ("shopify", config.shopify_webhook_secrets),
            ("woocommerce", config.woocommerce_webhook_secrets),
        )
        if not secrets
    ]
    body = {
        "status": "ready" if not problems else "not_ready",
        "checks": checks,
        "sandbox": config.sandbox,
        "sources_without_secret": unconfigured,
        "problems": problems,
    }
    response = jsonify(body)
    response.status_code = 200 if not problems else 503
    return response


def _hubspot_check(sandbox: bool, has_credentials: bool, states: dict[str, str | None]) -> str:
    rejected = states.get(AUTH_ERROR)
    if rejected:
        return f"credentials rejected: {rejected}"
    misconfigured = states.get(CONFIG_ERROR)
    if misconfigured:
        return f"line item idProperty refused (run `relay hubspot setup`): {misconfigured}"
    if sandbox:
        return "sandbox"
    if not has_credentials:
        return "no credentials configured"
    return "ok"
