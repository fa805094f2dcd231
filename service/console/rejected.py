"""The console's rejected webhooks: signed bodies that fit no order, filtered by source,
store and reason (`store.rejected.listed`, as GET /v1/rejected; never a body), and their
replay through today's mapping after a page that says how many (`service.replay`, as
POST /v1/rejected/replay and `relay rejected replay`)."""

from __future__ import annotations

import time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service import extensions
from service.api.schemas import MAX_ID, REASONS, SOURCES
from service.console import bp
from service.errors import ProblemError
from service.replay import replay
from service.store import rejected as kept
from service.store.engine import reading
from service.store.rejected import RejectedFilter

PAGE = 50
FILTERS = ("source", "store", "reason")


def _filters(values: Any) -> dict[str, str]:
    chosen = {name: values.get(name, "").strip()[:255] for name in FILTERS}
    if chosen["reason"] and chosen["reason"] not in REASONS:
        raise ProblemError("Unknown reason.", errors={"reason": [f"One of {', '.join(REASONS)}."]})
    return {name: value for name, value in chosen.items() if value}


def _where(values: Any) -> RejectedFilter:
    chosen = _filters(values)
    return RejectedFilter(
        source=chosen.get("source"), store=chosen.get("store"), reason=chosen.get("reason")
    )


def _number(value: str | None, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_ID:
        raise ProblemError(f"Not a valid {name}.", errors={name: ["Not a valid id."]})
    return int(value)


@bp.get("/rejected", endpoint="rejected")
def rejected_page() -> str:
    filters = _filters(request.args)
    where = _where(request.args)
    after = _number(request.args.get("cursor"), "cursor")
    with reading(extensions.engine()) as conn:
        items, next_cursor = kept.listed(conn, where, after=after, limit=PAGE)
        matching = kept.count(conn, where)
    return render_template(
        "console/rejected.html",
        filters=filters,
        items=items,
        next_cursor=next_cursor,
        matching=matching,
        reasons=REASONS,
        sources=SOURCES,
    )


def _selection(form: Any) -> RejectedFilter:
    one = _number(form.get("one"), "one")
    return RejectedFilter(ids=[one]) if one is not None else _where(form)


@bp.post("/rejected/confirm")
def confirm_rejected_replay() -> str:
    where = _selection(request.form)
    with reading(extensions.engine()) as conn:
        count = kept.count(conn, where)
    fields = [("one", str(where.ids[0]))] if where.ids else list(_filters(request.form).items())
    return render_template(
        "console/confirm.html",
        noun="rejected webhook(s)",
        count=count,
        explanation="Each body runs through today's parsing and mapping again; what fits "
        "is stored and leaves the list.",
        action=url_for("console.replay_rejected"),
        fields=fields,
        cancel=url_for("console.rejected"),
    )


@bp.post("/rejected/replay")
def replay_rejected() -> Response:
    engine, config = extensions.engine(), extensions.config()
    counts = replay(engine, config, _selection(request.form), now=time.time())
    summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
    flash(f"Replayed {sum(counts.values())} rejected webhook(s): {summary}.")
    return redirect(url_for("console.rejected"))
