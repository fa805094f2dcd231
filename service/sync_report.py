"""What /readyz, `relay status` and /metrics say about reconciliation and backfill: per
store and job, the last pass's start and end, how far the checkpoint has come, the
orders it saw, stored as new or changed, and kept as rejected, and its error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from service.config import Config
from service.store.reads import iso
from service.store.syncs import RECONCILE

CHECK = "check"  # service.shop_checks's job (not imported: it imports the clients)


def describe(rows: Sequence[Mapping[str, Any]], config: Config, now: float) -> dict[str, Any]:
    """{job: {"source:store": facts}}; a store with API access and no pass yet is listed
    under reconcile with `last_started` None; nothing at all without API access."""
    report: dict[str, dict[str, Any]] = {RECONCILE: {}}
    stores = [("shopify", s) for s in config.shopify_admin_tokens] + [
        ("woocommerce", s) for s in config.woocommerce_api_keys
    ]
    for source, store in stores:
        report[RECONCILE][f"{source}:{store}"] = {"last_started": None, "error": None}
    for row in rows:
        if row["job"] == CHECK:
            continue  # the subscription check's row holds only its lease and last start
        report.setdefault(row["job"], {})[f"{row['source']}:{row['store']}"] = {
            "last_started": iso(row["started_at"]),
            "last_finished": iso(row["finished_at"]),
            "running": bool(row["lease_owner"]) and (row["lease_expires_at"] or 0) > now,
            "checkpoint": iso(row["checkpoint"]),
            "last_sweep": iso(row["swept_at"]),
            "orders_seen": row["orders_seen"],
            "orders_new_or_changed": row["orders_changed"],
            "orders_rejected": row["orders_rejected"],
            "error": row["last_error"],
        }
    return {job: stores for job, stores in report.items() if stores}


def failing(report: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[str]:
    """A line per store whose last reconcile pass ended in an error, or whose last
    subscription check found a topic missing or disabled."""
    lines = [
        f"reconcile {name}: {facts['error']}"
        for name, facts in sorted(report.get(RECONCILE, {}).items())
        if facts.get("error")
    ]
    for name, found in sorted(report.get("subscriptions", {}).items()):
        trouble = [f"missing {t}" for t in found["missing"]] + [
            f"disabled {t}" for t in found["disabled"]
        ]
        trouble += [found["error"]] if found.get("error") else []
        if trouble:
            lines.append(f"subscriptions {name}: {'; '.join(trouble)}")
    return lines


GAUGES = (
    (
        "relay_reconcile_last_finished_timestamp_seconds",
        "finished_at",
        "When the last pass that read its whole window ended",
    ),
    (
        "relay_reconcile_checkpoint_timestamp_seconds",
        "checkpoint",
        "Every change before this time has been read from the shop",
    ),
    ("relay_reconcile_orders_seen", "orders_seen", "Orders the last (or running) pass read"),
    (
        "relay_reconcile_orders_changed",
        "orders_changed",
        "Orders the last pass stored as new or changed",
    ),
    ("relay_reconcile_orders_rejected", "orders_rejected", "Orders the last pass kept as rejected"),
)


def samples(
    rows: Sequence[Mapping[str, Any]],
) -> Iterator[tuple[str, str, dict[tuple[str, str, str], float]]]:
    """(name, help, {(source, store, job): value}) for the reconciliation gauges."""
    rows = [row for row in rows if row["job"] != CHECK]
    for name, column, help_text in GAUGES:
        yield (
            name,
            help_text,
            {
                (row["source"], row["store"], row["job"]): float(row[column])
                for row in rows
                if row[column] is not None
            },
        )
    yield (
        "relay_reconcile_failing",
        "1 when the last pass ended in an error (the shop refused, failed or could not be reached)",
        {(row["source"], row["store"], row["job"]): float(bool(row["last_error"])) for row in rows},
    )


def check_samples(checks: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], float]:
    """(source, store) -> wanted webhook topics the last check found missing or disabled."""
    return {
        (result["source"], result["store"]): float(len(result["missing"]) + len(result["disabled"]))
        for result in checks.values()
    }
