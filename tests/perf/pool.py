"""Pre-signed request pools: every request a distinct Shopify order, of a distinct buyer,
with a valid signature.

Signing happens before a run, so the load generator only replays bytes. Each entry is a
complete raw HTTP/1.1 request (request line, headers, body), which both wrk (through a Lua
script) and the Python load generator send as is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service import samples

SHOP = "bench-shop.myshopify.com"
PATH = "/webhooks/shopify"


def buyer_email(order_id: int) -> str:
    """Each order its own buyer, as in a shop's traffic, so every order stores a contact."""
    return f"buyer-{order_id}@example.com"


def order_payload(order_id: int, lines: int) -> dict[str, Any]:
    """A realistic Shopify order with `lines` line items, ids derived from `order_id`."""
    email = buyer_email(order_id)
    if lines == 3:
        return samples.shopify_order(order_id, email=email)
    items = [
        samples.shopify_line_item(order_id * 10 + n, f"Item {n} - Blue", "2", "9.50", sku=f"S{n}")
        for n in range(1, lines + 1)
    ]
    return samples.shopify_order(order_id, line_items=items, email=email)


def raw_request(path: str, body: bytes, headers: dict[str, str], host: str) -> bytes:
    # One connection per webhook, as a shop opens them (and the sync workers close them).
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode("latin-1") + body


def signed_request(order_id: int, secret: str, *, lines: int = 3, host: str) -> bytes:
    body, headers = samples.shopify_request(order_payload(order_id, lines), secret, shop=SHOP)
    return raw_request(PATH, body, headers, host)


def build(count: int, secret: str, *, first_order_id: int, lines: int = 3) -> list[bytes]:
    """`count` signed requests for orders first_order_id, first_order_id + 1, ..."""
    return [
        signed_request(first_order_id + n, secret, lines=lines, host="127.0.0.1")
        for n in range(count)
    ]


def write_shards(pool: list[bytes], folder: Path, shards: int) -> list[Path]:
    """Split the pool round-robin into `shards` files of `<length>\\n<bytes>` records."""
    paths = []
    for shard in range(shards):
        path = folder / f"pool.{shard}"
        with path.open("wb") as out:
            for item in pool[shard::shards]:
                out.write(b"%d\n" % len(item))
                out.write(item)
        paths.append(path)
    return paths
