"""The one ingest path shared by every receiver: map an order, store it, say what happened."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from sqlalchemy import Engine

from service.domain import Order
from service.mapping import to_inputs
from service.store.ingest import IngestResult, record_order

log = logging.getLogger("service.pipeline")


def accept(engine: Engine, order: Order, *, delivery_ids: Sequence[str]) -> IngestResult:
    """Map `order` to line-item inputs and store them in one transaction."""
    inputs = to_inputs(order)
    result = record_order(engine, order, inputs, delivery_ids=delivery_ids, now=time.time())
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
