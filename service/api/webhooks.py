"""Shop webhook receivers: verify the raw body, then parse, map and store. Never call HubSpot."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, jsonify, request

from service import extensions, metrics, pipeline, signatures
from service.domain import Order, Source
from service.errors import InvalidSignature, NotConfigured, ProblemError
from service.sources import parse_json, shopify, woocommerce
from service.store.ingest import IngestResult, IngestStatus

bp = Blueprint("webhooks", __name__)

SHOPIFY_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/edited"}
)
WOOCOMMERCE_TOPICS = frozenset({"order.created", "order.updated"})
KNOWN_TOPICS = SHOPIFY_TOPICS | WOOCOMMERCE_TOPICS  # metric labels stay bounded
_PING = re.compile(rb"^webhook_id=\d{1,20}$")
# A host name (dot-separated labels of letters, digits and inner hyphens, up to 200
# characters) with an optional port; for a WooCommerce site in a sub-folder, a path of up
# to 50 characters whose segments never start with a dot, so never "." or "..".
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_STORE = re.compile(
    rf"(?=[^/]{{1,200}}(?:/|\Z)){_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
    r"(?=.{0,50}\Z)(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*"
)


def _header(*names: str) -> str | None:
    """The first of several header spellings that is present (Shopify sends two families)."""
    for name in names:
        value = request.headers.get(name)
        if value is not None:
            return value
    return None


def _verified_body(source: Source, secrets: tuple[str, ...], signature: str | None) -> bytes:
    if not secrets:
        raise NotConfigured(f"No {source.value} webhook secret is configured; refusing requests.")
    body = request.get_data(cache=True)
    if not signatures.is_valid(body, signature, secrets):
        raise InvalidSignature("The signature does not match the body under any secret.")
    return body


def _ignored(topic: str | None) -> Response:
    return _json({"status": "ignored", "topic": topic}, 200)


@bp.after_request
def _count(response: Response) -> Response:
    """Count every webhook by source, topic and outcome (the answer's status or error)."""
    source = (request.path.rsplit("/", 1)[-1]) or "unknown"
    topic = _header("X-Shopify-Topic", "shopify-topic", "X-WC-Webhook-Topic")
    outcome = g.get("ingest_outcome") or f"http_{response.status_code}"
    metrics.observe_webhook(source, topic if topic in KNOWN_TOPICS else "other", outcome)
    return response


def _json(body: dict[str, object], status: int) -> Response:
    g.ingest_outcome = str(body["status"])
    response = jsonify(body)
    response.status_code = status
    return response


def _answer(result: IngestResult) -> Response:
    status = 202 if result.status is IngestStatus.ACCEPTED else 200
    return _json({"status": result.status.value, "line_items": result.line_items}, status)


def _load(body: bytes, build: Callable[[object], Order]) -> Order:
    try:
        payload = parse_json(body)
    except ValueError as exc:
        raise ProblemError("The body is not valid JSON.", errors={"body": [str(exc)]}) from exc
    return build(payload)


def _store_name(value: str | None, header: str) -> str:
    if not value:
        raise ProblemError(f"Missing {header} header.", errors={header: ["Missing header."]})
    value = value.strip()
    if "://" in value:
        # WooCommerce sends the site URL; a site in a sub-folder keeps its path.
        parts = urlsplit(value)
        value = parts.netloc.lower() + parts.path.rstrip("/")
    else:
        value = value.lower()
    if not _STORE.fullmatch(value):
        raise ProblemError(f"Invalid {header} header.", errors={header: ["Not a shop address."]})
    return value


@bp.post("/webhooks/shopify")
def shopify_webhook() -> Response:
    """Receive a Shopify order webhook (HMAC over the raw body, base64)."""
    config = extensions.config()
    signature = _header("X-Shopify-Hmac-Sha256", "shopify-hmac-sha256")
    body = _verified_body(Source.SHOPIFY, config.shopify_webhook_secrets, signature)
    topic = _header("X-Shopify-Topic", "shopify-topic")
    if topic not in SHOPIFY_TOPICS or (topic == "orders/edited" and _is_order_edit(body)):
        return _ignored(topic)
    store = _store_name(
        _header("X-Shopify-Shop-Domain", "shopify-shop-domain"), "X-Shopify-Shop-Domain"
    )
    order = _load(body, lambda payload: shopify.to_order(payload, store))
    delivery_ids = [
        f"{kind}:{value}"
        for kind, value in (
            ("webhook", _header("X-Shopify-Webhook-Id", "shopify-webhook-id")),
            ("event", _header("X-Shopify-Event-Id", "shopify-event-id")),
        )
        if value
    ]
    return _answer(
        pipeline.accept(extensions.engine(), extensions.config(), order, delivery_ids=delivery_ids)
    )


@bp.post("/webhooks/woocommerce")
def woocommerce_webhook() -> Response:
    """Receive a WooCommerce order webhook; answer the unsigned activation ping with 200."""
    config = extensions.config()
    signature = request.headers.get("X-WC-Webhook-Signature")
    if signature is None and _is_ping():
        if not config.woocommerce_webhook_secrets:
            raise NotConfigured("No woocommerce webhook secret is configured; refusing requests.")
        return _json({"status": "pong"}, 200)
    body = _verified_body(
        Source.WOOCOMMERCE, _woocommerce_keys(config.woocommerce_webhook_secrets), signature
    )
    topic = request.headers.get("X-WC-Webhook-Topic")
    if topic not in WOOCOMMERCE_TOPICS:
        return _ignored(topic)
    store = _store_name(request.headers.get("X-WC-Webhook-Source"), "X-WC-Webhook-Source")
    order = _load(body, lambda payload: woocommerce.to_order(payload, store))
    # No receipt: X-WC-Webhook-Delivery-ID is wp_hash(webhook id . current second), the same
    # for two different orders sent in one second, and WooCommerce never redelivers. The
    # version rule alone makes a repeated body harmless (it answers "stale").
    return _answer(
        pipeline.accept(extensions.engine(), extensions.config(), order, delivery_ids=[])
    )


def _is_order_edit(body: bytes) -> bool:
    """Shopify's orders/edited body is an OrderEdit (`{"order_edit": {...}}`: what changed),
    not the order; the orders/updated webhook Shopify sends for the same edit carries the
    whole order, so the edit is acknowledged rather than refused (a refusal is retried and
    eventually removes the subscription)."""
    try:
        payload = parse_json(body)
    except ValueError:
        return False  # _load reports it
    return isinstance(payload, dict) and "order_edit" in payload and "line_items" not in payload


def _woocommerce_keys(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """WooCommerce signs with wp_specialchars_decode(stored secret); an operator who copied
    the stored, HTML-escaped form (`a&amp;b`) still verifies."""
    return secrets + tuple(html.unescape(s) for s in secrets if html.unescape(s) != s)


def _is_ping() -> bool:
    """WooCommerce's activation ping: form body `webhook_id=N` and no X-WC headers."""
    if request.content_length is not None and request.content_length > 64:
        return False
    return bool(_PING.match(request.get_data(cache=True).strip()))
