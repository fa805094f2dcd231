"""Rejected webhooks for operators (/v1/rejected): list them, show one with its body,
replay them through today's mapping, purge them."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from service import extensions
from service.api.auth import require_api_key
from service.api.bodies import selection
from service.api.schemas import MAX_ID, REJECTED_SCHEMAS, RejectedQuerySchema
from service.errors import ProblemError
from service.replay import replay
from service.store import rejected
from service.store.engine import reading
from service.store.rejected import RejectedFilter

bp = Blueprint("rejected", __name__, url_prefix="/v1")


@bp.get("/rejected")
@require_api_key
def list_rejected() -> Response:
    """Rejected webhooks, oldest first, filtered, a page at a time; never their bodies."""
    query: dict[str, Any] = RejectedQuerySchema().load(request.args)
    where = RejectedFilter(
        source=query.get("source"), store=query.get("store"), reason=query.get("reason")
    )
    with reading(extensions.engine()) as conn:
        items, cursor = rejected.listed(
            conn, where, after=query.get("cursor"), limit=query["limit"]
        )
    return jsonify({"items": items, "next_cursor": cursor})


@bp.get("/rejected/<int:rejected_id>")
@require_api_key
def show_rejected(rejected_id: int) -> Response:
    """One rejected webhook with its headers and raw body, for an operator fixing it."""
    entry = None
    if rejected_id <= MAX_ID:  # beyond, no id exists (and the drivers cannot bind it)
        with reading(extensions.engine()) as conn:
            entry = rejected.shown(conn, rejected_id)
    if entry is None:
        raise ProblemError(f"No rejected webhook {rejected_id} is kept.", status=404)
    return jsonify(entry)


def _selected() -> RejectedFilter:
    body = selection(REJECTED_SCHEMAS)
    return RejectedFilter(ids=body.get("ids"), **body.get("filter", {}))


@bp.post("/rejected/replay")
@require_api_key
def replay_rejected() -> Response:
    """Run rejected webhooks through today's parsing and mapping again, by ids, by filter
    or all; the taken ones leave the list. How many ended in each outcome."""
    engine, config = extensions.engine(), extensions.config()
    counts = replay(engine, config, _selected(), now=time.time())
    return jsonify({"replayed": sum(counts.values()), **counts})


@bp.post("/rejected/purge")
@require_api_key
def purge_rejected() -> Response:
    """Delete rejected webhooks, by ids, by filter or all."""
    return jsonify({"purged": rejected.purge(extensions.engine(), _selected())})
