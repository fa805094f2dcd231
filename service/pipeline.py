"""The one ingest path shared by every receiver: map an order, store it, say what happened."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from marshmallow import ValidationError
from sqlalchemy import Engine

from service.config import Config
from service.domain import Order
from service.mapping import MappingSettings, to_records
from service.store.ingest import IngestResult, record_order, to_micros

log = logging.getLogger("service.pipeline")


class FutureVersion(ValidationError):
    """The order's version (`updated_at`) is further ahead of the relay's clock than
    RELAY_MAX_FUTURE_SKEW_SECONDS. Stored, it would make every real update of the order
    "stale" until that moment, so it is not stored: `/v1/orders` answers 422 naming
    `updated_at`, a shop's webhook is kept as rejected (`future_version`)."""


def mapping_settings(config: Config) -> MappingSettings:
    return MappingSettings(config.hubspot_order_object, config.hubspot_sync_contacts)


def check_version(order: Order, *, now: float, skew_seconds: float) -> None:
    """Raise FutureVersion when `order` is dated more than `skew_seconds` after `now`."""
    if to_micros(order.updated_at) > (now + skew_seconds) * 1_000_000:
        raise FutureVersion(
            {
                "updated_at": [
                    f"More than {skew_seconds:g} seconds ahead of the relay's clock "
                    "(RELAY_MAX_FUTURE_SKEW_SECONDS)."
                ]
            }
        )


def accept(
    engine: Engine, config: Config, order: Order, *, delivery_ids: Sequence[str], now: float
) -> IngestResult:
    """Map `order` to every record it wants in HubSpot and store them in one transaction,
    received at `now`; raise FutureVersion, storing nothing, for a version too far ahead."""
    check_version(order, now=now, skew_seconds=config.max_future_skew_seconds)
    records = to_records(order, mapping_settings(config))
    result = record_order(engine, order, records, delivery_ids=delivery_ids, now=now)
    log.info(
        "order_" + result.status.value,
        extra={
            "event": "order_" + result.status.value,
            "source": order.source,
            "store": order.store,
            "order_id": order.order_id,
            "line_items": result.line_items,
        },
    )
    return result
