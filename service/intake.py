"""A signed shop webhook into a stored order, or a rejection saying why: the one path of
the live receivers and of the replay of rejected webhooks.

Once its signature is valid, a body is never refused for its content. A shop cannot fix
a body by sending it again, and refusals cost the subscription: WooCommerce never
retries and disables a webhook after about 5 failures; Shopify retries 8 times over 4
hours, then deletes it. So a body that does not fit (`RejectionReason`) is kept with its
raw bytes as a rejected webhook (service.store.rejected) and answered 200; an operator
sees it, fixes the mapping or the setting, and replays it (service.replay) through
`receive` again, with its original headers, so the receipts and the version rule make a
repeat harmless.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from marshmallow import ValidationError
from sqlalchemy import Engine

from service import pipeline
from service.config import Config
from service.domain import Order, RejectionReason, Source
from service.errors import stringify_keys
from service.pipeline import FutureVersion
from service.sources import parse_json, shopify, woocommerce
from service.store import rejected
from service.store.ingest import IngestResult
from service.text import clean

log = logging.getLogger("service.intake")


STORE_HEADERS = {
    Source.SHOPIFY: "X-Shopify-Shop-Domain",
    Source.WOOCOMMERCE: "X-WC-Webhook-Source",
}
WEBHOOK_ID, EVENT_ID = "X-Shopify-Webhook-Id", "X-Shopify-Event-Id"
# Where each shop's order says its version (WooCommerce: else date_created_gmt).
_VERSION_FIELD = {Source.SHOPIFY: "updated_at", Source.WOOCOMMERCE: "date_modified_gmt"}
_LOADERS: dict[Source, Callable[[object, str], Order]] = {
    Source.SHOPIFY: shopify.to_order,
    Source.WOOCOMMERCE: woocommerce.to_order,
}
# A host name (dot-separated labels of letters, digits and inner hyphens, up to 200
# characters) with an optional port; for a WooCommerce site in a sub-folder, a path of up
# to 50 characters whose segments never start with a dot, so never "." or "..".
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_STORE = re.compile(
    rf"(?=[^/]{{1,200}}(?:/|\Z)){_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
    r"(?=.{0,50}\Z)(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*"
)


@dataclass(frozen=True)
class Delivery:
    """One webhook as received: its source and topic, the unsigned headers the relay reads
    (under their X- names), and the signed body."""

    source: Source
    topic: str
    headers: Mapping[str, str]
    body: bytes
    # What names this body when the shop gave it no delivery id: a reconcile pass names
    # the order and its version, so an unfit one read again is kept once.
    reference: str | None = None

    @classmethod
    def of(
        cls,
        source: Source,
        topic: str,
        headers: Mapping[str, str | None],
        body: bytes,
        reference: str | None = None,
    ) -> Delivery:
        """The headers given, those present, under the text rule (they are stored)."""
        present = {name: clean(value) for name, value in headers.items() if value is not None}
        return cls(source, topic, present, body, reference)

    @property
    def delivery_id(self) -> str | None:
        """Shopify's id of this delivery (WooCommerce has none that names one event), else
        the reference."""
        given = self.headers.get(WEBHOOK_ID) if self.source is Source.SHOPIFY else None
        return given or self.reference

    def receipt_ids(self) -> list[str]:
        """The ids under which a redelivery is a duplicate: Shopify's webhook and event
        ids. None for WooCommerce: X-WC-Webhook-Delivery-ID is wp_hash(webhook id . current
        second), the same for two orders sent in one second, and WooCommerce never
        redelivers; the version rule alone makes a repeated body harmless ("stale")."""
        if self.source is not Source.SHOPIFY:
            return []
        named = (("webhook", WEBHOOK_ID), ("event", EVENT_ID))
        return [f"{kind}:{self.headers[name]}" for kind, name in named if self.headers.get(name)]


@dataclass(frozen=True)
class Rejection:
    reason: RejectionReason
    errors: dict[str, Any]  # field (or header) -> messages, as a 422 would name them


@dataclass(frozen=True)
class Kept:
    """A rejection, kept in the store under `rejected_id`."""

    rejected_id: int
    rejection: Rejection


def store_name(value: str | None) -> str | None:
    """The store a header names, lower case (a WooCommerce site URL keeps its sub-folder
    path); None when it names none."""
    if not value:
        return None
    value = value.strip()
    if "://" in value:
        parts = urlsplit(value)
        value = parts.netloc.lower() + parts.path.rstrip("/")
    else:
        value = value.lower()
    return value if _STORE.fullmatch(value) else None


def _order_of(delivery: Delivery) -> Order | Rejection:
    header = STORE_HEADERS[delivery.source]
    given = delivery.headers.get(header)
    store = store_name(given)
    if store is None:
        problem = "Not a shop address." if given else "Missing header."
        return Rejection(RejectionReason.INVALID_STORE, {header: [problem]})
    try:
        payload = parse_json(delivery.body)
    except ValueError as exc:
        return Rejection(RejectionReason.INVALID_JSON, {"body": [str(exc)]})
    try:
        return _LOADERS[delivery.source](payload, store)
    except ValidationError as exc:
        messages = stringify_keys(exc.messages)
        errors = messages if isinstance(messages, dict) else {"_schema": messages}
        return Rejection(RejectionReason.INVALID_ORDER, errors)


def receive(
    engine: Engine, config: Config, delivery: Delivery, *, now: float
) -> IngestResult | Rejection:
    """Parse, load, map and store `delivery` at `now`, or say why it cannot be taken.
    Raise StoreUnavailable when the store cannot take the order."""
    order = _order_of(delivery)
    if isinstance(order, Rejection):
        return order
    try:
        return pipeline.accept(engine, config, order, delivery_ids=delivery.receipt_ids(), now=now)
    except FutureVersion as exc:
        messages = exc.messages
        assert isinstance(messages, dict)  # FutureVersion keys its message by field
        field = _VERSION_FIELD[delivery.source]
        return Rejection(RejectionReason.FUTURE_VERSION, {field: messages["updated_at"]})


def take(engine: Engine, config: Config, delivery: Delivery, *, now: float) -> IngestResult | Kept:
    """Receive a live webhook; keep a rejected one, in one transaction, and say where."""
    outcome = receive(engine, config, delivery, now=now)
    if isinstance(outcome, IngestResult):
        return outcome
    store = store_name(delivery.headers.get(STORE_HEADERS[delivery.source]))
    delivery_id = delivery.delivery_id
    entry = rejected.Rejected(
        source=delivery.source.value,
        topic=delivery.topic,
        headers=delivery.headers,
        body=delivery.body,
        reason=outcome.reason.value,
        errors=outcome.errors,
        store=store,
        delivery_id=delivery_id[:255] if delivery_id else None,
    )
    rejected_id = rejected.keep(engine, entry, now=now)
    log.warning(
        "webhook_rejected",
        extra={
            "event": "webhook_rejected",
            "source": delivery.source.value,
            "store": store,
            "reason": outcome.reason.value,
            "rejected_id": rejected_id,
            "fields": sorted(outcome.errors),  # the names, never the body's values
        },
    )
    return Kept(rejected_id, outcome)
