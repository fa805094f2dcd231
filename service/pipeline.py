"""The one ingest path shared by every receiver: map an order, store it, say what happened."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from sqlalchemy import Engine

from service.config import Config
from service.domain import Order
from service.mapping import MappingSettings, to_records
from service.store.ingest import IngestResult, record_order

log = logging.getLogger("service.pipeline")


def mapping_settings(config: Config) -> MappingSettings:
    return MappingSettings(config.hubspot_order_object, config.hubspot_sync_contacts)


def accept(
    engine: Engine, config: Config, order: Order, *, delivery_ids: Sequence[str]
) -> IngestResult:
    """Map `order` to every record it wants in HubSpot and store them in one transaction."""
    records = to_records(order, mapping_settings(config))
    result = record_order(engine, order, records, delivery_ids=delivery_ids, now=time.time())
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
