"""Realistic sample orders, signed as the shops sign them: for `relay send-sample`, the
benchmark and the tests. Shapes follow the shops' documented payloads (only the fields
the relay reads, plus a few that real payloads always carry)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from service.signatures import sign


def shopify_order(
    order_id: int = 5_840_000_000_001,
    *,
    updated_at: str = "2026-11-27T09:15:00-05:00",
    currency: str = "USD",
    line_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if line_items is None:
        line_items = [
            shopify_line_item(
                order_id * 10 + 1, "Merino Beanie - Charcoal", "2", "24.50", sku="MB-CH"
            ),
            shopify_line_item(order_id * 10 + 2, "Trail Socks - L", "3", "12.00", sku="TS-L"),
            shopify_line_item(order_id * 10 + 3, "Gift wrap", "1", "4.00", sku=None),
        ]
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 100_000}",
        "currency": currency,
        "created_at": updated_at,
        "updated_at": updated_at,
        "financial_status": "paid",
        "total_price": "0.00",
        "line_items": line_items,
    }


def shopify_line_item(
    line_id: int,
    name: str,
    quantity: str,
    price: str,
    *,
    sku: str | None = None,
    discount: str | None = None,
) -> dict[str, Any]:
    allocations = [{"amount": discount, "discount_application_index": 0}] if discount else []
    return {
        "id": line_id,
        "title": name.split(" - ")[0],
        "name": name,
        "sku": sku,
        "quantity": int(quantity),
        "current_quantity": int(quantity),
        "price": price,
        "total_discount": "0.00",
        "discount_allocations": allocations,
    }


def woocommerce_order(
    order_id: int = 1207,
    *,
    modified_gmt: str = "2026-11-27T14:15:00",
    currency: str = "EUR",
) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "processing",
        "currency": currency,
        "date_created_gmt": modified_gmt,
        "date_modified_gmt": modified_gmt,
        "line_items": [
            {
                "id": order_id * 10 + 1,
                "name": "Espresso Cup &ndash; Set of 2",
                "quantity": 2,
                "subtotal": "30.00",
                "total": "27.00",
                "sku": "EC-2",
                "price": 13.5,
            },
            {
                "id": order_id * 10 + 2,
                "name": "Coffee Beans 1kg",
                "quantity": 1,
                "subtotal": "21.90",
                "total": "21.90",
                "sku": "",
                "price": 21.9,
            },
        ],
    }


def shopify_request(
    payload: dict[str, Any],
    secret: str,
    *,
    shop: str = "sample-shop.myshopify.com",
    topic: str = "orders/updated",
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
    }
    return body, headers


def woocommerce_request(
    payload: dict[str, Any],
    secret: str,
    *,
    site: str = "https://shop.example.com/",
    topic: str = "order.updated",
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    resource, event = topic.split(".")
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": site,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(secret, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }
    return body, headers
