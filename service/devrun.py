"""`relay run` (what `make run` calls): the whole service on one machine.

Applies migrations (the Procfile's release line), then runs the Procfile's web and
worker lines together under honcho. Without HubSpot credentials it adds the bundled
HubSpot emulator and points the worker at it (sandbox), and gives the receivers
sandbox secrets when none are set, so a signed sample order can be sent at once.
Without shop API access configured, the sandbox also runs the Shopify and WooCommerce
emulators and gives the worker their credentials, so its reconciliation passes and
subscription checks run against them (`SANDBOX_SHOPS`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from honcho.environ import parse_procfile
from honcho.manager import Manager

from service.config import Config

SANDBOX_DEFAULTS = {
    "SHOPIFY_WEBHOOK_SECRETS": "sandbox-shopify-secret",
    "WOOCOMMERCE_WEBHOOK_SECRETS": "sandbox-woocommerce-secret",
    "RELAY_API_KEYS": "sandbox-api-key",
    # The console on plain local HTTP: the cookie cannot be Secure there.
    "RELAY_CONSOLE_KEYS": "sandbox-console-key",
    "RELAY_CONSOLE_SECURE_COOKIE": "false",
}


SHOP_EMULATOR_PORTS = "_RELAY_RUN_SHOP_EMULATOR_PORTS"  # from child_environment to run()


def port_near(preferred: int) -> int:
    """`preferred` when it is free, else any free port: another sandbox (or a test) may
    hold it, and a shop emulator that cannot listen would end the whole run."""
    for wanted in (preferred, 0):
        with contextlib.closing(socket.socket()) as sock:
            try:
                sock.bind(("127.0.0.1", wanted))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise OSError("no free port for a shop emulator")


def sandbox_shops(port: str, shopify_port: int, woocommerce_port: int) -> dict[str, str]:
    """The shop emulators' stores, as their default config seeds them, for the relay: API
    access, the secrets their webhooks are signed with, and where they reach the relay."""
    from emulators.shopify import EmulatorConfig as ShopifyConfig
    from emulators.woocommerce import EmulatorConfig as WooConfig

    shops, sites = ShopifyConfig().shops, WooConfig().sites
    site_name = {s.name: s.url.split("://", 1)[1] for s in sites}  # as the relay keys it
    return {
        "SHOPIFY_ADMIN_TOKENS": ",".join(f"{s.domain}={s.access_token}" for s in shops),
        "SHOPIFY_API_BASE_URL": f"http://127.0.0.1:{shopify_port}",
        "WOOCOMMERCE_API_KEYS": ",".join(
            f"{site_name[s.name]}={s.consumer_key}:{s.consumer_secret}" for s in sites
        ),
        "WOOCOMMERCE_API_BASE_URL": f"http://127.0.0.1:{woocommerce_port}",
        # API-made Shopify subscriptions are signed with the app's secret, per shop here.
        "SHOPIFY_WEBHOOK_SECRETS": ",".join(
            [SANDBOX_DEFAULTS["SHOPIFY_WEBHOOK_SECRETS"]]
            + [f"{s.domain}={s.webhook_secret}" for s in shops]
        ),
        "RELAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RELAY_RECONCILE_SECONDS": "60",
    }


def child_environment(config: Config) -> dict[str, str]:
    """The environment handed to each process: ours, plus sandbox defaults when sandboxed."""
    env = dict(os.environ)  # passed through to the children, which read it via Config
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PORT", "8000")
    env.setdefault("RELAY_LOG_JSON", "false")
    if config.sandbox:
        if not (config.shopify_admin_tokens or config.woocommerce_api_keys):
            # Beside the HubSpot emulator's port: 8026 and 8027 by default.
            ports = port_near(config.sandbox_port + 1), port_near(config.sandbox_port + 2)
            env[SHOP_EMULATOR_PORTS] = f"{ports[0]},{ports[1]}"
            for name, value in sandbox_shops(env["PORT"], *ports).items():
                env.setdefault(name, value)
        for name, value in SANDBOX_DEFAULTS.items():
            env.setdefault(name, value)
        # Signs this run's console sessions; a new one each run signs everyone out.
        env.setdefault("RELAY_SECRET_KEY", secrets.token_urlsafe(32))
    return env


def run(procfile: Path = Path("Procfile")) -> int:
    config = Config.from_env()
    env = child_environment(config)
    shop_ports = env.pop(SHOP_EMULATOR_PORTS, None)
    processes = parse_procfile(procfile.read_text()).processes
    subprocess.run(processes["release"], shell=True, env=env, check=True)  # noqa: S602
    manager = Manager()
    if config.sandbox:
        manager.add_process(
            "hubspot", f"relay hubspot emulator --port {config.sandbox_port}", env=env
        )
        if shop_ports:
            shopify_port, woocommerce_port = shop_ports.split(",")
            command = f"relay shopify emulator --port {shopify_port}"
            manager.add_process("shopify", command, env=env)
            command = f"relay woocommerce emulator --port {woocommerce_port}"
            manager.add_process("woocommerce", command, env=env)
    for name in ("web", "worker"):
        manager.add_process(name, processes[name], env=env)
    _print_welcome(config, env, bool(shop_ports))
    manager.loop()
    return int(manager.returncode or 0)


def _print_welcome(config: Config, env: dict[str, str], sandbox_shops_on: bool) -> None:
    port = env["PORT"]
    lines = [
        f"line-item-relay on http://127.0.0.1:{port}  (readiness: /readyz, metrics: /metrics)",
        f"HubSpot: {config.hubspot_base_url}" + ("  [sandbox emulator]" if config.sandbox else ""),
        "Send a signed sample order from another terminal:",
        f"  {sys.executable.rsplit('/', 1)[0]}/relay send-sample shopify --port {port}"
        if not config.sandbox
        else f"  SHOPIFY_WEBHOOK_SECRETS={env['SHOPIFY_WEBHOOK_SECRETS'].split(',')[0]} "
        f".venv/bin/relay send-sample shopify --port {port}",
    ]
    if env.get("RELAY_CONSOLE_KEYS"):
        # Only the sandbox's own key is shown: a key the operator set stays unprinted.
        sandbox_key = env["RELAY_CONSOLE_KEYS"] == SANDBOX_DEFAULTS["RELAY_CONSOLE_KEYS"]
        shown = f"  (key: {SANDBOX_DEFAULTS['RELAY_CONSOLE_KEYS']})" if sandbox_key else ""
        lines.insert(1, f"Console: http://127.0.0.1:{port}/console/{shown}")
    if config.sandbox:
        emulator = f"http://127.0.0.1:{config.sandbox_port}/_emulator"
        lines.append(f"  then: curl -s {emulator}/records?type=orders   (and ?type=contacts,")
        lines.append(f"        ?type=line_items, and {emulator}/associations)")
    if sandbox_shops_on:
        lines.append(
            f"Shop emulators: Shopify {env['SHOPIFY_API_BASE_URL']}, WooCommerce "
            f"{env['WOOCOMMERCE_API_BASE_URL']}; the worker reconciles them every minute"
        )
        lines.append("  and keeps their webhooks subscribed: relay status shows both")
    print("\n".join(lines), flush=True)
