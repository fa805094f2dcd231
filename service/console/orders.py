"""The console's orders: find one by id, number, store or buyer email; an order's page
shows every record the relay keeps for it (`reads.order_view`, as GET /v1/orders/...),
each with its state and a link to it in HubSpot."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from service import extensions
from service.console import bp
from service.console.links import record_url
from service.errors import ProblemError
from service.store.console_reads import find_orders, order_received, recent_orders
from service.store.engine import reading
from service.store.reads import iso, order_view
from service.store.state import PORTAL_ID, read_states


@bp.get("/orders")
def orders() -> str:
    query = request.args.get("q", "").strip()[:320]
    with reading(extensions.engine()) as conn:
        found = find_orders(conn, query) if query else recent_orders(conn)
    return render_template("console/orders.html", query=query, found=found, iso=iso)


@bp.get("/orders/<source>/<path:store>/<order_id>")
def order(source: str, store: str, order_id: str) -> str:
    config = extensions.config()
    with reading(extensions.engine()) as conn:
        view = order_view(conn, source, store, order_id)
        received = order_received(conn, source, store, order_id)
        portal_id = read_states(conn).get(PORTAL_ID)
    if view is None:
        raise ProblemError(f"No order {source}/{store}/{order_id} is stored.", status=404)
    sections: list[tuple[str, list[dict[str, Any]]]] = [
        ("Order record", [view["order_record"]] if view["order_record"] else []),
        ("Contact", view["contacts"]),
        ("Line items", view["line_items"]),
        ("Associations", view["associations"]),
    ]
    for _title, rows in sections:
        for row in rows:
            row["link"] = record_url(config, portal_id, row["kind"], row["hubspot_id"])
    timeline = _timeline(view, received)
    return render_template(
        "console/order.html", order=view, sections=sections, timeline=timeline, iso=iso
    )


def _timeline(view: dict[str, Any], received: Any) -> list[tuple[str, str]]:
    """What the store holds of the order's versions over time, in time order: when it was
    first stored, when its latest version (updated_at) arrived, each record's delivery."""
    events: list[tuple[str, str]] = []
    if received is not None and received.first_received_at is not None:
        events.append((iso(received.first_received_at) or "", "first version stored"))
    if received is not None:
        events.append(
            (
                iso(received.received_at) or "",
                f"latest version stored (updated_at {view['updated_at']})",
            )
        )
    records = [
        *([view["order_record"]] if view["order_record"] else []),
        *view["contacts"],
        *view["line_items"],
        *view["associations"],
    ]
    for record in records:
        if record["delivered_at"]:
            events.append(
                (
                    record["delivered_at"],
                    f"{record['kind']} {record['key']}: version {record['delivered_version']}"
                    f" of {record['version']} delivered",
                )
            )
        if record["dead_at"]:
            events.append((record["dead_at"], f"{record['kind']} {record['key']}: dead letter"))
    return sorted(events)
