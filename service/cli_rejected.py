"""`relay rejected`: signed webhooks that did not fit, kept for an operator to see,
replay once the mapping or a setting is fixed, or purge (README, "Rejected webhooks")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from service.cli_context import command_config, open_store
from service.domain import RejectionReason, Source
from service.replay import replay
from service.store import rejected
from service.store.engine import reading
from service.store.rejected import RejectedFilter

SOURCES = click.Choice([source.value for source in Source])
REASONS = click.Choice([reason.value for reason in RejectionReason])
IDS = click.IntRange(1, 2**63 - 1)  # what the store's integers hold
F = TypeVar("F", bound=Callable[..., Any])


@click.group("rejected", cls=click.Group)
def rejected_group() -> None:
    """Signed webhooks that did not fit: list, show, replay after a fix, purge."""


def _filters(command: F) -> F:
    for option in (
        click.option("--reason", type=REASONS),
        click.option("--store"),
        click.option("--source", type=SOURCES),
    ):
        command = option(command)
    return command


def _selection(command: F) -> F:
    """--id N (repeatable), the filters, or --all: the selection of replay and purge."""
    command = click.option("--all", "everything", is_flag=True, help="Every one kept.")(command)
    command = _filters(command)
    return click.option("--id", "ids", type=IDS, multiple=True, help="Repeat for several.")(command)


def _selected(
    ids: tuple[int, ...], source: str | None, store: str | None, reason: str | None, every: bool
) -> RejectedFilter:
    if not (ids or source or store or reason or every):
        raise click.UsageError("say which: --id, --source/--store/--reason, or --all")
    return RejectedFilter(ids=ids or None, source=source, store=store, reason=reason)


@rejected_group.command("list")
@_filters
@click.option("--limit", type=int, default=50, show_default=True)
def rejected_list(source: str | None, store: str | None, reason: str | None, limit: int) -> None:
    """Print rejected webhooks as JSON lines, oldest first: what and why, never a body."""
    where = RejectedFilter(source=source, store=store, reason=reason)
    with open_store(command_config()) as engine, reading(engine) as conn:
        items, _cursor = rejected.listed(conn, where, after=None, limit=limit)
    for item in items:
        click.echo(json.dumps(item, sort_keys=True))


@rejected_group.command("show")
@click.argument("rejected_id", type=IDS)
def rejected_show(rejected_id: int) -> None:
    """Print one rejected webhook with its headers and raw body, as JSON."""
    with open_store(command_config()) as engine, reading(engine) as conn:
        entry = rejected.shown(conn, rejected_id)
    if entry is None:
        raise click.ClickException(f"no rejected webhook {rejected_id} is kept")
    click.echo(json.dumps(entry, indent=2, sort_keys=True))


@rejected_group.command("replay")
@_selection
def rejected_replay(
    ids: tuple[int, ...],
    source: str | None,
    store: str | None,
    reason: str | None,
    everything: bool,
) -> None:
    """Run them through today's parsing and mapping; the taken ones leave the list."""
    where = _selected(ids, source, store, reason, everything)
    config = command_config()
    with open_store(config) as engine:
        counts = replay(engine, config, where, now=time.time())
    click.echo(json.dumps({"replayed": sum(counts.values()), **counts}, sort_keys=True))


@rejected_group.command("purge")
@_selection
def rejected_purge(
    ids: tuple[int, ...],
    source: str | None,
    store: str | None,
    reason: str | None,
    everything: bool,
) -> None:
    """Delete them, bodies and all."""
    where = _selected(ids, source, store, reason, everything)
    with open_store(command_config()) as engine:
        purged = rejected.purge(engine, where)
    click.echo(f"purged {purged} rejected webhook(s)")
