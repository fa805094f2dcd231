"""Configuration: every environment variable is read here, once.

`Config.from_env()` converts types and reports every missing or malformed variable in
one `ConfigError`, so an operator fixes them all in one deploy. Nothing else in the
service reads `os.environ`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from environs import Env
from environs.exceptions import EnvValidationError
from marshmallow.validate import Range

from service.domain import OrderObject, OrderStatus

DEFAULT_DATABASE_URL = "sqlite:///var/relay.sqlite3"
DEFAULT_HUBSPOT_BASE_URL = "https://api.hubapi.com"
DEFAULT_SANDBOX_PORT = 8025
DEFAULT_SHOPIFY_API_BASE_URL = "https://{shop}"
DEFAULT_WOOCOMMERCE_API_BASE_URL = "https://{site}"
MiB = 1024 * 1024

# Every variable `Config.from_env()` reads; README documents each, the deploy manifests
# (app.json, render.yaml, compose) may set only these (a test holds all three together).
VARIABLES = (
    "DATABASE_URL",
    "HUBSPOT_ACCESS_TOKEN",
    "HUBSPOT_CLIENT_ID",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_REFRESH_TOKEN",
    "HUBSPOT_BASE_URL",
    "HUBSPOT_ID_PROPERTY",
    "HUBSPOT_RATE_LIMIT",
    "HUBSPOT_ORDER_OBJECT",
    "HUBSPOT_ORDER_ID_PROPERTY",
    "HUBSPOT_SYNC_CONTACTS",
    "HUBSPOT_ORDER_PIPELINE",
    "HUBSPOT_ORDER_STAGES",
    "SHOPIFY_WEBHOOK_SECRETS",
    "WOOCOMMERCE_WEBHOOK_SECRETS",
    "RELAY_API_KEYS",
    "RELAY_CONSOLE_KEYS",
    "RELAY_SECRET_KEY",
    "RELAY_CONSOLE_SECURE_COOKIE",
    "HUBSPOT_PORTAL_ID",
    "RELAY_SANDBOX",
    "RELAY_SANDBOX_PORT",
    "RELAY_MAX_BODY_BYTES",
    "RELAY_BODY_GRACE_SECONDS",
    "RELAY_MIN_BODY_RATE",
    "RELAY_LINGER_SECONDS",
    "RELAY_BATCHES_IN_FLIGHT",
    "RELAY_LEASE_SECONDS",
    "RELAY_MAX_RETRY_AGE_SECONDS",
    "RELAY_MAX_FUTURE_SKEW_SECONDS",
    "RELAY_REJECTED_RETENTION_DAYS",
    "RELAY_HUBSPOT_TIMEOUT_SECONDS",
    "RELAY_LOG_LEVEL",
    "RELAY_LOG_JSON",
    "PROMETHEUS_MULTIPROC_DIR",
    "RELAY_WORKER_METRICS_PORT",
    "SHOPIFY_ADMIN_TOKENS",
    "WOOCOMMERCE_API_KEYS",
    "SHOPIFY_API_BASE_URL",
    "WOOCOMMERCE_API_BASE_URL",
    "RELAY_RECONCILE_SECONDS",
    "RELAY_RECONCILE_OVERLAP_SECONDS",
    "RELAY_PUBLIC_URL",
)
# HUBSPOT_ORDER_STAGES when unset: canonical status -> stage label of the object's default
# pipeline. Orders: HubSpot's default order pipeline (commerce.md §1). Deals: HubSpot's
# default sales pipeline has no shipping stages; an order placed is all but won, a paid
# one is won, a cancelled one lost.
DEFAULT_STAGES: dict[OrderObject, dict[OrderStatus, str]] = {
    OrderObject.ORDERS: {
        OrderStatus.OPEN: "Open",
        OrderStatus.PROCESSED: "Processed",
        OrderStatus.SHIPPED: "Shipped",
        OrderStatus.DELIVERED: "Delivered",
        OrderStatus.CANCELLED: "Cancelled",
    },
    OrderObject.DEALS: {
        OrderStatus.OPEN: "Contract Sent",
        OrderStatus.PROCESSED: "Closed Won",
        OrderStatus.SHIPPED: "Closed Won",
        OrderStatus.DELIVERED: "Closed Won",
        OrderStatus.CANCELLED: "Closed Lost",
    },
    OrderObject.NONE: {},
}

# Read by gunicorn (deploy/gunicorn.conf.py), not by the app: the PaaS conventions.
PLATFORM_VARIABLES = ("PORT", "WEB_CONCURRENCY")


class ConfigError(Exception):
    """One or more environment variables are missing or malformed."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        lines = [f"{name}: {'; '.join(msgs)}" for name, msgs in sorted(problems.items())]
        super().__init__("invalid configuration:\n  " + "\n  ".join(lines))


def normalize_database_url(url: str) -> str:
    """Accept a PaaS `postgres://` URL and pin PostgreSQL to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Config:
    """The service's settings; construct directly in tests, from the environment in use."""

    database_url: str = DEFAULT_DATABASE_URL
    hubspot_access_token: str | None = field(default=None, repr=False)
    hubspot_client_id: str | None = None
    hubspot_client_secret: str | None = field(default=None, repr=False)
    hubspot_refresh_token: str | None = field(default=None, repr=False)
    hubspot_base_url: str = DEFAULT_HUBSPOT_BASE_URL
    hubspot_id_property: str = "external_line_item_id"
    hubspot_rate_limit: int = 100
    hubspot_order_object: OrderObject = OrderObject.ORDERS
    hubspot_order_id_property: str = "external_order_key"
    hubspot_sync_contacts: bool = True
    hubspot_order_pipeline: str | None = None  # label or id; None: the default pipeline
    # canonical status -> stage label; None: DEFAULT_STAGES for the order object
    hubspot_order_stages: dict[OrderStatus, str] | None = None
    rate_window_seconds: float = 10.0  # HubSpot's rolling window; shorter only in tests
    shopify_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    woocommerce_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    relay_api_keys: tuple[str, ...] = field(default=(), repr=False)
    # The operator's console (service.console): on when keys are set; it refuses without
    # a secret key to sign its sessions with.
    console_keys: tuple[str, ...] = field(default=(), repr=False)
    secret_key: str | None = field(default=None, repr=False)
    console_secure_cookie: bool = True  # off only for a console on plain local HTTP
    hubspot_portal_id: str | None = None  # for links to records in HubSpot
    sandbox: bool = True
    sandbox_port: int = DEFAULT_SANDBOX_PORT
    max_body_bytes: int = MiB
    # A body must arrive at min_body_rate bytes/s after the grace (service.body_reader).
    body_grace_seconds: float = 5.0
    min_body_rate: int = 64 * 1024
    linger_seconds: float = 0.5
    batch_size: int = 100
    batches_in_flight: int = 3
    lease_seconds: float = 60.0
    max_retry_age_seconds: float = 24 * 3600.0
    # How far an order's updated_at may run ahead of the relay's clock; a version further
    # ahead would make every real update until then "stale" (service.pipeline).
    max_future_skew_seconds: float = 24 * 3600.0
    rejected_retention_days: int = 30  # rejected webhooks hold personal data: then deleted
    request_timeout_seconds: float = 30.0
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON when stderr is not a terminal
    metrics_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR: sum metrics across processes
    worker_metrics_port: int | None = None  # the worker serves /metrics itself when set
    # Read access to the shops' APIs, for reconciliation, backfill and the subscription
    # check (service.shops): store -> Admin API token; store -> (consumer key, secret).
    shopify_admin_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    woocommerce_api_keys: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    shopify_api_base_url: str = DEFAULT_SHOPIFY_API_BASE_URL  # {shop}: the store's name
    woocommerce_api_base_url: str = DEFAULT_WOOCOMMERCE_API_BASE_URL  # {site}: likewise
    reconcile_seconds: float = 900.0  # 0: the worker runs no passes
    # How far before its checkpoint a pass starts again: the shops publish no lag between
    # a change and its visibility in a listing (shop-apis.md §4).
    reconcile_overlap_seconds: float = 300.0
    public_url: str | None = None  # where the shops reach the relay: the check's addresses

    @property
    def order_stages(self) -> dict[OrderStatus, str]:
        """Status -> stage label for the order object, the defaults filled in."""
        return {**DEFAULT_STAGES[self.hubspot_order_object], **(self.hubspot_order_stages or {})}

    @property
    def uses_oauth(self) -> bool:
        return bool(self.hubspot_refresh_token)

    @property
    def has_hubspot_credentials(self) -> bool:
        return bool(self.hubspot_access_token or self.hubspot_refresh_token)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def replace(self, **changes: object) -> Config:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Config:
        """Read the environment; raise `ConfigError` listing every problem at once."""
        env = Env(eager=False)
        problems: dict[str, list[str]] = {}
        values = _read(env, problems)
        try:
            env.seal()  # type: ignore[no-untyped-call]
        except EnvValidationError as exc:
            messages = exc.error_messages
            assert isinstance(messages, dict)  # environs keys its messages by variable
            for name, msgs in messages.items():
                problems.setdefault(str(name), []).extend(str(m) for m in msgs)
        if problems:
            raise ConfigError(problems)
        return cls(**values)  # type: ignore[arg-type]


def _secrets(env: Env, name: str, problems: dict[str, list[str]]) -> tuple[str, ...]:
    """A comma-separated secret list; an empty entry would let anyone sign, so refuse it."""
    raw = env.str(name, None)
    if not raw:  # unset or set to nothing: the receiver refuses every request
        return ()
    items = tuple(item.strip() for item in raw.split(","))
    if any(not item for item in items):
        problems.setdefault(name, []).append("contains an empty secret; remove it")
    return tuple(item for item in items if item)


def _stages(env: Env, problems: dict[str, list[str]]) -> dict[OrderStatus, str] | None:
    """`open=Open,shipped=Shipped,...`: the statuses given; the others keep their default."""
    raw = (env.str("HUBSPOT_ORDER_STAGES", "") or "").strip()
    if not raw:
        return None
    stages: dict[OrderStatus, str] = {}
    statuses = {s.value for s in OrderStatus}
    for entry in raw.split(","):
        status, equals, label = (part.strip() for part in entry.partition("="))
        if not equals or not label or status.lower() not in statuses:
            problems.setdefault("HUBSPOT_ORDER_STAGES", []).append(
                f"{entry.strip()!r} is not status=Stage label, with status one of "
                + ", ".join(sorted(statuses))
            )
            continue
        stages[OrderStatus(status.lower())] = label
    return stages


def _read(env: Env, problems: dict[str, list[str]]) -> dict[str, object]:
    token = env.str("HUBSPOT_ACCESS_TOKEN", None) or None
    client_id = env.str("HUBSPOT_CLIENT_ID", None) or None
    client_secret = env.str("HUBSPOT_CLIENT_SECRET", None) or None
    refresh = env.str("HUBSPOT_REFRESH_TOKEN", None) or None
    oauth = [client_id, client_secret, refresh]
    if any(oauth) and not all(oauth):
        problems.setdefault("HUBSPOT_REFRESH_TOKEN", []).append(
            "OAuth needs HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and "
            "HUBSPOT_REFRESH_TOKEN together"
        )
    has_credentials = bool(token or refresh)
    sandbox = env.bool("RELAY_SANDBOX", not has_credentials)
    sandbox_port = env.int("RELAY_SANDBOX_PORT", DEFAULT_SANDBOX_PORT)
    base_url = env.str("HUBSPOT_BASE_URL", None)
    if base_url is None:
        base_url = f"http://127.0.0.1:{sandbox_port}" if sandbox else DEFAULT_HUBSPOT_BASE_URL
    rate_limit = env.int("HUBSPOT_RATE_LIMIT", 100)
    if isinstance(rate_limit, int) and rate_limit <= 0:
        problems.setdefault("HUBSPOT_RATE_LIMIT", []).append("must be a positive integer")
    timeout = env.float("RELAY_HUBSPOT_TIMEOUT_SECONDS", 30.0)
    lease = env.float("RELAY_LEASE_SECONDS", 60.0)
    if isinstance(timeout, float) and isinstance(lease, float) and lease < 2 * timeout:
        # A lease must outlast one request (connect and read timeouts), or another worker
        # could take line items that are still at HubSpot.
        problems.setdefault("RELAY_LEASE_SECONDS", []).append(
            "must be at least twice RELAY_HUBSPOT_TIMEOUT_SECONDS"
        )
    database_url = env.str("DATABASE_URL", None) or DEFAULT_DATABASE_URL
    order_object = env.str("HUBSPOT_ORDER_OBJECT", OrderObject.ORDERS.value).strip().lower()
    if order_object not in {o.value for o in OrderObject}:
        problems.setdefault("HUBSPOT_ORDER_OBJECT", []).append("must be orders, deals or none")
        order_object = OrderObject.ORDERS.value
    return {
        "database_url": normalize_database_url(database_url),
        "hubspot_access_token": token,
        "hubspot_client_id": client_id,
        "hubspot_client_secret": client_secret,
        "hubspot_refresh_token": refresh,
        "hubspot_base_url": base_url.rstrip("/"),
        "hubspot_id_property": env.str("HUBSPOT_ID_PROPERTY", "external_line_item_id"),
        "hubspot_rate_limit": rate_limit,
        "hubspot_order_object": OrderObject(order_object),
        "hubspot_order_id_property": env.str("HUBSPOT_ORDER_ID_PROPERTY", "external_order_key"),
        "hubspot_sync_contacts": env.bool("HUBSPOT_SYNC_CONTACTS", True),
        "hubspot_order_pipeline": (env.str("HUBSPOT_ORDER_PIPELINE", "") or "").strip() or None,
        "hubspot_order_stages": _stages(env, problems),
        "shopify_webhook_secrets": _secrets(env, "SHOPIFY_WEBHOOK_SECRETS", problems),
        "woocommerce_webhook_secrets": _secrets(env, "WOOCOMMERCE_WEBHOOK_SECRETS", problems),
        "relay_api_keys": _secrets(env, "RELAY_API_KEYS", problems),
        "sandbox": sandbox,
        "sandbox_port": sandbox_port,
        "max_body_bytes": env.int("RELAY_MAX_BODY_BYTES", MiB),
        "body_grace_seconds": env.float("RELAY_BODY_GRACE_SECONDS", 5.0, validate=Range(min=0)),
        "min_body_rate": env.int("RELAY_MIN_BODY_RATE", 64 * 1024, validate=Range(min=0)),
        "linger_seconds": env.float("RELAY_LINGER_SECONDS", 0.5),
        "batches_in_flight": env.int("RELAY_BATCHES_IN_FLIGHT", 3),
        "lease_seconds": lease,
        "max_retry_age_seconds": env.float("RELAY_MAX_RETRY_AGE_SECONDS", 24 * 3600.0),
        "request_timeout_seconds": timeout,
        "log_level": env.str("RELAY_LOG_LEVEL", "INFO").upper(),
        "log_json": env.bool("RELAY_LOG_JSON", None),
        "metrics_dir": env.str("PROMETHEUS_MULTIPROC_DIR", None) or None,
        "worker_metrics_port": env.int("RELAY_WORKER_METRICS_PORT", None),
        **_rejected_webhooks(env, problems),
        **_shop_access(env, problems),
        **_console(env, problems),
    }


def _rejected_webhooks(env: Env, problems: dict[str, list[str]]) -> dict[str, object]:
    """When a signed webhook is kept as rejected rather than stored, and for how long."""
    skew = env.float("RELAY_MAX_FUTURE_SKEW_SECONDS", 24 * 3600.0)
    if isinstance(skew, float) and skew < 0:
        problems.setdefault("RELAY_MAX_FUTURE_SKEW_SECONDS", []).append("must be 0 or more")
    retention = env.int("RELAY_REJECTED_RETENTION_DAYS", 30)
    if isinstance(retention, int) and retention < 1:
        problems.setdefault("RELAY_REJECTED_RETENTION_DAYS", []).append("must be 1 or more")
    return {"max_future_skew_seconds": skew, "rejected_retention_days": retention}


def _shop_access(env: Env, problems: dict[str, list[str]]) -> dict[str, object]:
    """The shops' API credentials and addresses, and how often the worker reconciles."""
    seconds = env.float("RELAY_RECONCILE_SECONDS", 900.0)
    overlap = env.float("RELAY_RECONCILE_OVERLAP_SECONDS", 300.0)
    for name, value in (
        ("RELAY_RECONCILE_SECONDS", seconds),
        ("RELAY_RECONCILE_OVERLAP_SECONDS", overlap),
    ):
        if isinstance(value, float) and value < 0:
            problems.setdefault(name, []).append("must be 0 or more")
    public = (env.str("RELAY_PUBLIC_URL", "") or "").strip().rstrip("/") or None
    if public and not public.startswith(("https://", "http://")):
        problems.setdefault("RELAY_PUBLIC_URL", []).append("must start with https://")
    tokens = _credentials(env, "SHOPIFY_ADMIN_TOKENS", "shop-domain=token", problems)
    keys: dict[str, tuple[str, str]] = {}
    pairs = _credentials(env, "WOOCOMMERCE_API_KEYS", "site=consumer_key:consumer_secret", problems)
    for site, pair in pairs.items():
        key, colon, secret = pair.partition(":")
        if not (colon and key and secret):
            problems.setdefault("WOOCOMMERCE_API_KEYS", []).append(
                f"the entry for {site} is not site=consumer_key:consumer_secret"
            )
            continue
        keys[site] = (key, secret)
    return {
        "shopify_admin_tokens": tokens,
        "woocommerce_api_keys": keys,
        "shopify_api_base_url": _base_url(env, "SHOPIFY_API_BASE_URL", "{shop}", problems),
        "woocommerce_api_base_url": _base_url(env, "WOOCOMMERCE_API_BASE_URL", "{site}", problems),
        "reconcile_seconds": seconds,
        "reconcile_overlap_seconds": overlap,
        "public_url": public,
    }


def _credentials(env: Env, name: str, shape: str, problems: dict[str, list[str]]) -> dict[str, str]:
    """`store=credential,...` by store, the store named as the relay keys it. A message
    names an entry by its position or its store, never by its credential."""
    from service.intake import store_name  # intake reads Config: imported when used

    raw = (env.str(name, "") or "").strip()
    found: dict[str, str] = {}
    for position, entry in enumerate(raw.split(",") if raw else [], start=1):
        given, equals, credential = (part.strip() for part in entry.partition("="))
        store = store_name(given)
        if not (equals and credential and store):
            problems.setdefault(name, []).append(f"entry {position} is not {shape}")
        elif store in found:
            problems.setdefault(name, []).append(f"{store} is named twice")
        else:
            found[store] = credential
    return found


def _base_url(env: Env, name: str, placeholder: str, problems: dict[str, list[str]]) -> str:
    """A shop API's root; `placeholder` stands for the store. Without it every store is
    sent to the one address (an emulator that tells stores apart by their credentials)."""
    value = (env.str(name, None) or "").strip().rstrip("/") or f"https://{placeholder}"
    if not value.startswith(("https://", "http://")):
        problems.setdefault(name, []).append("must start with https:// or http://")
    return value


MIN_SECRET_KEY_LENGTH = 32


def _console(env: Env, problems: dict[str, list[str]]) -> dict[str, object]:
    """Who may sign in to the console, what signs its sessions, where its links point."""
    secret_key = env.str("RELAY_SECRET_KEY", None) or None
    if secret_key is not None and len(secret_key) < MIN_SECRET_KEY_LENGTH:
        # A short key can be guessed offline from one session cookie.
        problems.setdefault("RELAY_SECRET_KEY", []).append(
            f"must be at least {MIN_SECRET_KEY_LENGTH} characters"
        )
    portal = (env.str("HUBSPOT_PORTAL_ID", "") or "").strip() or None
    if portal is not None and not portal.isdigit():
        problems.setdefault("HUBSPOT_PORTAL_ID", []).append("must be the portal's number")
    return {
        "console_keys": _secrets(env, "RELAY_CONSOLE_KEYS", problems),
        "secret_key": secret_key,
        "console_secure_cookie": env.bool("RELAY_CONSOLE_SECURE_COOKIE", True),
        "hubspot_portal_id": portal,
    }


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, so its folder can be created; None for other stores."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url == "sqlite:///:memory:":
        return None
    return Path(database_url[len(prefix) :])
