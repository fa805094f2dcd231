"""Table definitions (SQLAlchemy Core). Alembic migrations create them; see migrations/."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# One row per accepted delivery id; a second insert of the same id means a redelivery.
receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("received_at", Float, nullable=False),
    UniqueConstraint("source", "delivery_id", name="uq_receipts_source_delivery"),
)

# The latest accepted version of each order, so its line items can be listed.
orders = Table(
    "orders",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("store", String(255), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("source_version", BigInteger, nullable=False),  # order updated_at, microseconds
    Column("received_at", Float, nullable=False),
    # When its first version was stored (NULL for orders stored before 0002): a write that
    # finds it equal to its own time created the order, so no older lines can exist.
    Column("first_received_at", Float),
    # What the shop calls it (Shopify "#1001", a WooCommerce number), for finding it by
    # that; NULL when the order has none, or was not written since 0006.
    Column("number", String(64)),
)

# The console finds orders by id and by store, newest first, a page at a time.
Index("ix_orders_order_id", orders.c.order_id)
Index("ix_orders_number", orders.c.number)
Index("ix_orders_store_received", orders.c.store, orders.c.received_at)
Index("ix_orders_received", orders.c.received_at)

# The keyed state table: one row per HubSpot record the relay keeps in step, of every kind
# (contact, order or deal, line item, association), by (kind, idProperty value). `version`
# counts accepted changes of `properties`; `delivered_version` is the last one HubSpot
# confirmed. A row is due when state='pending' and next_attempt_at has passed; an
# association also waits until both of its ends (from_key, to_key) have HubSpot ids.
records = Table(
    "records",
    metadata,
    # Keyed (key, kind), not (kind, key): an order's records share a key prefix, so one
    # order's write touches a few neighbouring index pages instead of one per kind.
    Column("key", String(1000), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("store", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),  # a contact: the order that wrote it
    Column("position", Integer, nullable=False),
    Column("properties", Text, nullable=False),  # canonical JSON (sorted keys)
    Column("from_key", String(400)),  # associations only: the ends, by key
    Column("to_key", String(400)),
    Column("source_version", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("delivered_version", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),
    Column("hubspot_id", String(64)),  # an association: "<from id>><to id>" as delivered
    Column("hubspot_new", Boolean),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("pending_since", Float),  # when the oldest undelivered version was accepted
    Column("lease_owner", String(64)),
    Column("lease_expires_at", Float),
    Column("last_error", Text),
    Column("dead_at", Float),
    Column("delivered_at", Float),
    Column("updated_at", Float, nullable=False),
)
# (state, time, kind), not (kind, ...): 'pending' sorts last, so every row written pending
# now lands at the index's end, where SQLite appends without splitting pages; a claim
# scans the pending rows in time order and keeps its kind from the index itself.
Index("ix_records_due", records.c.state, records.c.next_attempt_at, records.c.kind)
Index("ix_records_order", records.c.source, records.c.store, records.c.order_id)
# An association is found by its ends through the order it belongs to (ix_records_order),
# except by its contact, whose associations span the buyer's orders: those alone are
# indexed by their to_key, one partial index per kind (only one is ever filled).
Index(
    "ix_records_order_contact",
    records.c.to_key,
    sqlite_where=records.c.kind == "order>contact",
    postgresql_where=records.c.kind == "order>contact",
)
Index(
    "ix_records_deal_contact",
    records.c.to_key,
    sqlite_where=records.c.kind == "deal>contact",
    postgresql_where=records.c.kind == "deal>contact",
)
# The console's count of delivered records by kind: an ordered scan of this index, where
# the due index needs a sort of them all (300,000 records: 290 ms against 34 ms). Partial,
# so the claims and the queue's depth, which read pending and dead rows, never pick it.
Index(
    "ix_records_delivered",
    records.c.kind,
    records.c.state,
    sqlite_where=records.c.state == "delivered",
    postgresql_where=records.c.state == "delivered",
)
# Only rows in flight: the worker asks often whether a kind has any.
Index(
    "ix_records_leased",
    records.c.kind,
    sqlite_where=records.c.lease_owner.is_not(None),
    postgresql_where=records.c.lease_owner.is_not(None),
)

# Request timestamps of the shared HubSpot rate budget (one row per request sent) and the
# pause HubSpot asked for; shared by every worker process through the database.
hubspot_requests = Table(
    "hubspot_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sent_at", Float, nullable=False, index=True),
)

relay_state = Table(
    "relay_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text),
    Column("number", Float),
    Column("updated_at", Float, nullable=False),
)

# What the worker did each minute (epoch minute): records delivered and attempts failed
# (retried or dead-lettered), counted as the outcomes are marked, and the queue's depth
# sampled once a minute. The console draws its charts from it; kept for a day.
activity = Table(
    "activity",
    metadata,
    Column("minute", BigInteger, primary_key=True, autoincrement=False),
    Column("delivered", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("pending", Integer),
    Column("dead", Integer),
)

# Signed webhooks the relay could not take as an order (service.intake): kept, with the
# raw body as received, for an operator to see, fix and replay, or purge; deleted after
# RELAY_REJECTED_RETENTION_DAYS (the body holds personal data). `headers` holds the
# unsigned headers the relay reads (the store, Shopify's delivery ids), as received, so
# a replay runs the same code as the live receiver; `store` is the store they name, when
# they name a valid one. `attempts` counts the runs through parsing and mapping.
rejected_webhooks = Table(
    "rejected_webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("store", String(255)),
    Column("topic", String(64), nullable=False),
    Column("delivery_id", String(255)),  # Shopify's X-Shopify-Webhook-Id
    Column("headers", Text, nullable=False),  # JSON object, ASCII
    Column("received_at", Float, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("errors", Text, nullable=False),  # JSON object, ASCII
    Column("body", LargeBinary, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_replayed_at", Float),
    # A redelivery of one Shopify delivery is kept once (NULLs, WooCommerce's, never clash).
    UniqueConstraint("source", "delivery_id", name="uq_rejected_webhooks_delivery"),
)
Index("ix_rejected_webhooks_received_at", rejected_webhooks.c.received_at)

# Reconciliation and backfill (service.reconcile), one row per store and job: how far the
# shop's API has been read (`checkpoint`: every change before it was fed through the
# webhook path), who runs the job now (a lease, so one worker at a time whatever their
# number), and what its last pass saw, for /readyz, `relay status` and /metrics.
# `job` is "reconcile" or "backfill"; a backfill also keeps its bounds, to resume.
shop_syncs = Table(
    "shop_syncs",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("store", String(255), primary_key=True),
    Column("job", String(16), primary_key=True),
    Column("checkpoint", Float),
    Column("window_after", Float),  # the running (or last) pass's bounds
    Column("window_before", Float),
    Column("created_after", Float),  # a backfill's history: orders created within
    Column("created_before", Float),
    Column("lease_owner", String(64)),
    Column("lease_expires_at", Float),
    Column("started_at", Float),
    Column("finished_at", Float),  # the last pass that read its whole window
    Column("swept_at", Float),  # the last trailing-day sweep that finished
    Column("orders_seen", Integer, nullable=False, default=0),
    Column("orders_changed", Integer, nullable=False, default=0),
    Column("orders_rejected", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("failed_at", Float),
    Column("updated_at", Float, nullable=False),
)
