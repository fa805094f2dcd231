"""`relay reconcile`, `relay backfill` and `relay shops check`: the shops' APIs now,
through the same passes and checks the worker runs (service.reconcile,
service.shop_checks)."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import Engine

from service.cli_context import command_config, open_store
from service.config import Config
from service.reconcile import PassResult, Reconciler
from service.shop_checks import run_check
from service.shops import access
from service.shops.http import ShopApiError
from service.shops.listing import Window
from service.store import syncs
from service.store.syncs import BACKFILL, SyncKey

SOURCES = click.Choice(["shopify", "woocommerce"])
READ_ALL_ORDERS_HINT = (
    "Shopify refused (403): orders older than 60 days need the read_all_orders scope "
    "(granted on request, beside read_orders): shop-apis.md §1, README 'Giving the relay "
    "API access'"
)


def moment(value: str | None, name: str) -> float | None:
    """POSIX seconds of an ISO 8601 date or time; one without an offset is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time", param_hint=name
        ) from exc
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).timestamp()


def owner(pid: int | None = None) -> str:
    return f"cli:{socket.gethostname()[:24]}:{os.getpid() if pid is None else pid}"


def forget_dead_command(engine: Engine, key: SyncKey) -> None:
    """A backfill command killed on this host leaves its lease behind; rerun at once, it
    would wait out the lease. Free it when that process is gone."""
    held = syncs.holder(engine, key)
    prefix = owner(0)[:-1]
    if not held or not held.startswith(prefix) or not held[len(prefix) :].isdigit():
        return
    try:
        os.kill(int(held[len(prefix) :]), 0)
    except ProcessLookupError:
        syncs.drop_lease(engine, key, held, now=time.time())
    except PermissionError:
        pass  # alive, under another user


def _clients(config: Config, store: str | None, source: str | None) -> list[Any]:
    """The stores a command names, or its error."""
    try:
        return access.chosen(config, store, source)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _report(result: PassResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "store": result.store,
        "job": result.job,
        "ran": result.ran,
        "finished": result.finished,
        "orders_seen": result.seen,
        "orders_new_or_changed": result.changed,
        "orders_rejected": result.rejected,
        "error": result.error if result.ran else "another worker is running this store's pass",
    }


@click.command("reconcile")
@click.option("--store", help="One store (as the relay keys it); default: every store.")
@click.option("--source", type=SOURCES, help="With --store, when both shops have one so named.")
@click.option("--since", help="Read changes from this ISO 8601 time instead of the checkpoint.")
def reconcile_command(store: str | None, source: str | None, since: str | None) -> None:
    """Run a reconciliation pass now, for every store with API access or one."""
    config = command_config()
    start = moment(since, "--since")
    clients = _clients(config, store, source)
    failed = False
    with open_store(config) as engine:
        reconciler = Reconciler(config, engine, owner=owner())
        for client in clients:
            result = reconciler.reconcile(client, since=start)
            failed |= not result.finished
            click.echo(json.dumps(_report(result), sort_keys=True))
    if failed:
        sys.exit(1)


@click.command("backfill")
@click.option("--store", required=True, help="The store, as the relay keys it.")
@click.option("--source", type=SOURCES, help="When both shops have a store so named.")
@click.option("--since", required=True, help="Import orders created from this date (ISO 8601).")
@click.option("--until", help="... up to this date (default: now).")
def backfill_command(store: str, source: str | None, since: str, until: str | None) -> None:
    """Import a store's order history; run again after a crash to resume."""
    config = command_config()
    start, end = moment(since, "--since"), moment(until, "--until")
    assert start is not None
    clients = _clients(config, store, source)
    if len(clients) > 1:
        raise click.UsageError(f"both shops have a store {store!r}: say which with --source")
    client = clients[0]
    with open_store(config) as engine:
        forget_dead_command(engine, SyncKey(client.source, client.store, BACKFILL))
        reconciler = Reconciler(config, engine, owner=owner())
        result = _backfill(reconciler, client, start, end)
    click.echo(json.dumps(_report(result), sort_keys=True))
    if not result.ran:
        raise click.ClickException("another backfill of this store is running")
    if not result.finished:
        if client.source == "shopify" and result.status == 403:
            raise click.ClickException(READ_ALL_ORDERS_HINT)
        raise click.ClickException(f"stopped: {result.error}; run the same command to resume")


def _backfill(
    reconciler: Reconciler, client: access.ShopClient, start: float, end: float | None
) -> PassResult:
    """The backfill with its progress: a bar on a terminal, a line a page otherwise."""
    try:
        total = client.count(Window(start, end or reconciler.clock(), start, end))
    except ShopApiError as exc:
        if client.source == "shopify" and exc.status == 403:
            raise click.ClickException(READ_ALL_ORDERS_HINT) from exc
        raise click.ClickException(str(exc)) from exc
    label = f"{client.source} {client.store}"
    if sys.stdout.isatty():
        with click.progressbar(length=total or 0, label=label, show_pos=True) as bar:
            done = [0]

            def advance(result: PassResult) -> None:
                bar.update(result.seen - done[0])
                done[0] = result.seen

            return reconciler.backfill(client, since=start, until=end, on_page=advance)

    def line(result: PassResult) -> None:
        of = f"/{total}" if total is not None else ""
        click.echo(f"{label}: {result.seen}{of} orders, {result.changed} new or changed", err=True)

    return reconciler.backfill(client, since=start, until=end, on_page=line)


@click.group("shops", cls=click.Group)
def shops_group() -> None:
    """The shops' webhook subscriptions."""


@shops_group.command("check")
@click.option("--store", help="One store (as the relay keys it); default: every store.")
@click.option("--source", type=SOURCES)
@click.option("--fix", is_flag=True, help="Create missing and re-activate disabled ones.")
def shops_check(store: str | None, source: str | None, fix: bool) -> None:
    """List each store's webhook subscriptions, report missing or disabled ones; with
    --fix, mend them (pointing at RELAY_PUBLIC_URL) and reconcile after a re-activation."""
    config = command_config()
    clients = _clients(config, store, source)
    unhealthy = False
    with open_store(config) as engine:
        reconciler = Reconciler(config, engine, owner=owner())
        for client in clients:
            outcome = run_check(config, engine, client, reconciler, fix=fix)
            if outcome is None:
                click.echo(
                    json.dumps(
                        {
                            "source": client.source,
                            "store": client.store,
                            "error": "another worker is checking this store",
                        }
                    )
                )
                unhealthy = True
                continue
            result, passed = outcome
            report = result.to_json()
            if passed is not None:
                report["reconciled"] = _report(passed)
            unhealthy |= not result.healthy
            click.echo(json.dumps(report, sort_keys=True))
    if unhealthy:
        sys.exit(1)
