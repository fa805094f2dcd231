"""The console's dead letters: filter by source, store, kind and reason, a page at a time
(`reads.dead_letters`, as GET /v1/dead-letters); replay one, the selected, or all that
match, after a page that says how many (`reads.replay`, as POST /v1/dead-letters/replay
and `relay dead-letters replay`)."""

from __future__ import annotations

import time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service import extensions
from service.api.schemas import KINDS, SOURCES
from service.console import bp
from service.errors import ProblemError
from service.store.engine import reading
from service.store.reads import DeadLetterFilter, count_dead, dead_letters, replay

PAGE = 50
FILTERS = ("source", "store", "kind", "reason")


def _filters(values: Any) -> dict[str, str]:
    chosen = {name: values.get(name, "").strip()[:500] for name in FILTERS}
    if chosen["kind"] and chosen["kind"] not in KINDS:
        raise ProblemError("Unknown kind.", errors={"kind": [f"One of {', '.join(KINDS)}."]})
    return {name: value for name, value in chosen.items() if value}


@bp.get("/dead-letters", endpoint="dead_letters")
def dead_letters_page() -> str:
    filters = _filters(request.args)
    where = DeadLetterFilter(**filters)
    cursor = request.args.get("cursor") or None
    with reading(extensions.engine()) as conn:
        items, next_cursor = dead_letters(conn, where, after=cursor, limit=PAGE)
        matching = count_dead(conn, where)
    return render_template(
        "console/dead_letters.html",
        filters=filters,
        items=items,
        next_cursor=next_cursor,
        matching=matching,
        kinds=KINDS,
        sources=SOURCES,
    )


def _selection(form: Any) -> tuple[str, DeadLetterFilter]:
    """What a form selects: one key, the checked keys, or all that match its filters."""
    filters = _filters(form)
    if form.get("one"):
        return "one", DeadLetterFilter(keys=[form["one"]])
    if form.get("mode") == "all":
        return "all", DeadLetterFilter(**filters)
    keys = form.getlist("keys")
    if not keys:
        raise ProblemError("Select the dead letters to replay.", errors={"keys": ["Empty."]})
    return "selected", DeadLetterFilter(keys=keys[:1000])


@bp.post("/dead-letters/confirm")
def confirm_replay() -> str:
    mode, where = _selection(request.form)
    with reading(extensions.engine()) as conn:
        count = count_dead(conn, where)
    filters: dict[str, Any] = _filters(request.form) if mode == "all" else {}
    if mode == "one":
        fields = [("one", request.form["one"])]
    elif mode == "all":
        fields = [("mode", "all"), *filters.items()]
    else:
        fields = [("keys", key) for key in where.keys or []]
    return render_template(
        "console/confirm.html",
        noun="dead letter(s)",
        count=count,
        explanation="They go back to pending with their attempts reset, and the worker "
        "sends them to HubSpot again.",
        action=url_for("console.replay_dead_letters"),
        fields=fields,
        cancel=url_for("console.dead_letters", **filters),
    )


@bp.post("/dead-letters/replay")
def replay_dead_letters() -> Response:
    _mode, where = _selection(request.form)
    count = replay(extensions.engine(), where, now=time.time())
    flash(f"Replayed {count} dead letter(s): they are pending again, attempts reset.")
    back: dict[str, Any] = _filters(request.form) if request.form.get("mode") == "all" else {}
    return redirect(url_for("console.dead_letters", **back))
