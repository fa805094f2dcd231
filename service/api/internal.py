"""The internal API (/v1): post orders, read their sync state, see and replay dead letters."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from service import extensions, metrics, pipeline
from service.api.auth import require_api_key
from service.api.bodies import json_body, selection
from service.api.schemas import REPLAY_SCHEMAS, DeadLetterQuerySchema
from service.errors import ProblemError
from service.sources.internal import to_order
from service.store.engine import reading
from service.store.ingest import IngestStatus
from service.store.reads import DeadLetterFilter, dead_letters, order_view, replay

bp = Blueprint("internal", __name__, url_prefix="/v1")


@bp.post("/orders")
@require_api_key
def post_order() -> tuple[Response, int]:
    """Store an order from an internal system; `Idempotency-Key` makes retries harmless."""
    order = to_order(json_body())
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ProblemError("Idempotency-Key is too long.", errors={"Idempotency-Key": ["Max 200."]})
    delivery_ids = [f"idempotency:{order.source}:{key}"] if key else []
    result = pipeline.accept(
        extensions.engine(), extensions.config(), order, delivery_ids=delivery_ids, now=time.time()
    )
    metrics.observe_webhook("internal", order.source, result.status.value)
    status = 202 if result.status is IngestStatus.ACCEPTED else 200
    return jsonify({"status": result.status.value, "line_items": result.line_items}), status


@bp.get("/orders/<source>/<path:store>/<order_id>")  # a WooCommerce store may hold a path
@require_api_key
def get_order(source: str, store: str, order_id: str) -> Response:
    """An order's records (order record, contacts, line items, associations) and their state."""
    with reading(extensions.engine()) as conn:
        view = order_view(conn, source, store, order_id)
    if view is None:
        raise ProblemError(f"No order {source}/{store}/{order_id} is stored.", status=404)
    return jsonify(view)


@bp.get("/dead-letters")
@require_api_key
def list_dead_letters() -> Response:
    """Dead letters, filtered, a page at a time (cursor = `next_cursor` of the last page)."""
    query: dict[str, Any] = DeadLetterQuerySchema().load(request.args)
    where = DeadLetterFilter(
        source=query.get("source"),
        store=query.get("store"),
        order_id=query.get("order_id"),
        kind=query.get("kind"),
        reason=query.get("reason"),
    )
    with reading(extensions.engine()) as conn:
        items, cursor = dead_letters(conn, where, after=query.get("cursor"), limit=query["limit"])
    return jsonify({"items": items, "next_cursor": cursor})


@bp.post("/dead-letters/replay")
@require_api_key
def replay_dead_letters() -> Response:
    """Send dead letters again, by keys, by filter, or all; attempts start over."""
    body = selection(REPLAY_SCHEMAS)
    where = DeadLetterFilter(keys=body.get("keys"), **body.get("filter", {}))
    count = replay(extensions.engine(), where, now=time.time())
    return jsonify({"replayed": count})
