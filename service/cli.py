"""The `relay` command group (a Flask CLI group): worker, db, hubspot, the shop emulators,
dead letters, rejected webhooks (service.cli_rejected), status."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
import requests
from flask.cli import FlaskGroup

from service import sync_report
from service.app import create_app
from service.cli_context import command_config, open_store
from service.cli_rejected import rejected_group
from service.cli_shops import backfill_command, reconcile_command, shops_group
from service.domain import RecordKind, RejectionReason
from service.readiness import halts
from service.shop_checks import last_checks
from service.store import migrate, rejected, syncs
from service.store.engine import make_engine, reading
from service.store.reads import DeadLetterFilter, dead_letters, iso, queue_depth, replay
from service.store.state import (
    AUTH_ERROR,
    LAST_ERROR,
    PAUSED_UNTIL,
    read_number,
    read_states,
)
from service.webhook_secrets import split_entry


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """line-item-relay: shop orders into HubSpot line items."""


@main.command(with_appcontext=False)
def worker() -> None:
    """Run the delivery loop until SIGTERM; finishes or releases its batch, exits 0."""
    from service.hubspot.factory import build_client
    from service.worker import Worker

    config = command_config()
    engine = make_engine(config.database_url)
    relay = Worker(config, engine, build_client(config, engine))
    relay.install_signal_handlers()
    if config.worker_metrics_port:
        from prometheus_client import start_http_server

        # A worker on its own dyno has no web process to report its counters.
        start_http_server(config.worker_metrics_port, addr="0.0.0.0")  # noqa: S104
    relay.run_forever()


@main.group(cls=click.Group)
def db() -> None:
    """The store's schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (the Procfile's release step)."""
    config = command_config()
    with open_store(config) as engine:
        migrate.upgrade(engine)
    click.echo(f"store at revision {migrate.head_revision()}")


@main.group(cls=click.Group)
def hubspot() -> None:
    """HubSpot portal setup and the bundled emulator."""


@hubspot.command("setup")
def hubspot_setup() -> None:
    """Create the unique id properties and check the order pipeline's stages."""
    from service.hubspot import setup
    from service.hubspot.factory import build_client

    config = command_config()
    with open_store(config) as engine:
        try:
            done = setup.run(build_client(config, engine), config)
        except setup.SetupError as exc:
            raise click.ClickException(str(exc)) from exc
    for line in done:
        click.echo(line)


@hubspot.command("emulator")
@click.option("--port", type=int, default=8025, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--rate-limit", type=int, default=100, show_default=True, help="Requests per 10 s.")
@click.option("--latency", type=float, default=0.0, help="Seconds added to each API call.")
@click.option("--id-property", default="external_line_item_id", show_default=True)
@click.option(
    "--order-id-property",
    default="external_order_key",
    show_default=True,
    help="The unique property that keys orders and deals.",
)
def hubspot_emulator(
    port: int,
    host: str,
    rate_limit: int,
    latency: float,
    id_property: str,
    order_id_property: str,
) -> None:
    """Run the HubSpot emulator (a real HTTP server) until interrupted."""
    from emulators.hubspot import EmulatorConfig, serve

    config = EmulatorConfig(rate_limit=rate_limit, latency=latency)
    config.update(
        {
            "unique_properties": {
                "line_items": [id_property],
                "orders": [order_id_property],
                "deals": [order_id_property],
            }
        }
    )
    serve(port, config, host=host)  # prints the address it listens on


@main.group(cls=click.Group)
def shopify() -> None:
    """The bundled Shopify Admin API emulator."""


@shopify.command("emulator")
@click.option("--port", type=int, default=8026, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--orders", type=int, help="Orders seeded per shop (default: each shop's own).")
def shopify_emulator(port: int, host: str, seed: int, orders: int | None) -> None:
    """Run the Shopify emulator (a real HTTP server) until interrupted."""
    from emulators.shopify import EmulatorConfig, serve

    config = EmulatorConfig(seed=seed)
    if orders is not None:
        config.update({"shops": {shop.domain: {"orders": orders} for shop in config.shops}})
    serve(port, config, host=host)  # prints the address and each shop's token


@main.group(cls=click.Group)
def woocommerce() -> None:
    """The bundled WooCommerce REST API emulator."""


@woocommerce.command("emulator")
@click.option("--port", type=int, default=8027, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--orders", type=int, help="Orders seeded per site (default: each site's own).")
def woocommerce_emulator(port: int, host: str, seed: int, orders: int | None) -> None:
    """Run the WooCommerce emulator (a real HTTP server) until interrupted."""
    from emulators.woocommerce import EmulatorConfig, serve

    config = EmulatorConfig(seed=seed)
    if orders is not None:
        config.update({"sites": {site.name: {"orders": orders} for site in config.sites}})
    serve(port, config, host=host)  # prints the address and each site's key pair


@main.group("dead-letters", cls=click.Group)
def dead_letters_group() -> None:
    """Line items HubSpot refused for good, or that were retried for too long."""


KINDS = click.Choice([kind.value for kind in RecordKind])


@dead_letters_group.command("list")
@click.option("--source")
@click.option("--store")
@click.option("--order-id")
@click.option("--kind", type=KINDS, help="contact, order, deal, line_item or an association.")
@click.option("--reason", help="A part of the last error.")
@click.option("--limit", type=int, default=50, show_default=True)
def dead_letters_list(
    source: str | None,
    store: str | None,
    order_id: str | None,
    kind: str | None,
    reason: str | None,
    limit: int,
) -> None:
    """Print dead letters as JSON lines."""
    config = command_config()
    where = DeadLetterFilter(
        source=source, store=store, order_id=order_id, kind=kind, reason=reason
    )
    with open_store(config) as engine, reading(engine) as conn:
        items, _cursor = dead_letters(conn, where, after=None, limit=limit)
    for item in items:
        click.echo(json.dumps(item, sort_keys=True))


@dead_letters_group.command("replay")
@click.option("--key", "keys", multiple=True, help="A record's key; repeat for several.")
@click.option("--source")
@click.option("--store")
@click.option("--order-id")
@click.option("--kind", type=KINDS)
@click.option("--reason", help="A part of the last error.")
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter.")
def dead_letters_replay(
    keys: tuple[str, ...],
    source: str | None,
    store: str | None,
    order_id: str | None,
    kind: str | None,
    reason: str | None,
    everything: bool,
) -> None:
    """Send dead letters again: back to pending with attempts reset."""
    if not (keys or source or store or order_id or kind or reason or everything):
        raise click.UsageError(
            "say which: --key, --source/--store/--order-id/--kind/--reason, or --all"
        )
    config = command_config()
    where = DeadLetterFilter(
        source=source, store=store, order_id=order_id, kind=kind, reason=reason, keys=keys or None
    )
    with open_store(config) as engine:
        count = replay(engine, where, now=time.time())
    click.echo(f"replayed {count} record(s)")


main.add_command(rejected_group)
main.add_command(reconcile_command)
main.add_command(backfill_command)
main.add_command(shops_group)


@main.command(with_appcontext=False)
def status() -> None:
    """Queue depth by kind, dead letters, oldest pending, what is held back and why."""
    config = command_config()
    with open_store(config) as engine, reading(engine) as conn:
        depth: dict[str, Any] = dict(queue_depth(conn, time.time()))
        states = read_states(conn)
        kept = rejected.counts(conn)
        paused_until = read_number(conn, PAUSED_UNTIL) or 0.0
        sync_rows = syncs.listed(conn)
        checked = last_checks(conn)
    depth.update(sync_report.describe(sync_rows, config, time.time()))
    if checked:
        depth["subscriptions"] = checked
    depth["last_hubspot_error"] = states.get(LAST_ERROR)
    depth["hubspot_paused"] = (
        {"until": iso(paused_until), "reason": states.get(PAUSED_UNTIL)}
        if paused_until > time.time()
        else None
    )
    depth["hubspot_auth_error"] = states.get(AUTH_ERROR)
    depth["held_back"] = halts(states)
    by_reason = dict.fromkeys((reason.value for reason in RejectionReason), 0)
    for (_source, reason), count in kept.items():
        by_reason[reason] = by_reason.get(reason, 0) + count
    depth["rejected_webhooks"] = {"total": sum(by_reason.values()), "by_reason": by_reason}
    depth["order_object"] = config.hubspot_order_object.value
    depth["sandbox"] = config.sandbox
    depth["hubspot_base_url"] = config.hubspot_base_url
    click.echo(json.dumps(depth, indent=2, sort_keys=True))


@main.command("send-sample", with_appcontext=False)
@click.argument("source", type=click.Choice(["shopify", "woocommerce"]))
@click.option("--url", help="The receiver; default http://127.0.0.1:$PORT/webhooks/<source>.")
@click.option("--port", type=int, default=8000, show_default=True)
def send_sample(source: str, url: str | None, port: int) -> None:
    """Sign and post a realistic sample order with the configured secret."""
    from service import samples

    config = command_config()
    secrets = (
        config.shopify_webhook_secrets
        if source == "shopify"
        else config.woocommerce_webhook_secrets
    )
    if not secrets:
        raise click.ClickException(f"set {source.upper()}_WEBHOOK_SECRETS to sign the sample")
    # The first entry signs; one bound to a shop names the shop the sample comes from.
    shop, secret = split_entry(secrets[0])
    if source == "shopify":
        where = {"shop": shop} if shop else {}
        body, headers = samples.shopify_request(samples.shopify_order(), secret, **where)
    else:
        where = {"site": f"https://{shop}/"} if shop else {}
        body, headers = samples.woocommerce_request(samples.woocommerce_order(), secret, **where)
    target = url or f"http://127.0.0.1:{port}/webhooks/{source}"
    response = requests.post(target, data=body, headers=headers, timeout=10)
    click.echo(f"{response.status_code} {response.text.strip()}")
    if response.status_code >= 300:
        sys.exit(1)


@main.command("run", with_appcontext=False)
def run_all() -> None:
    """Migrate, then run web and worker from the Procfile (plus the emulator in sandbox)."""
    from service.devrun import run

    sys.exit(run())
