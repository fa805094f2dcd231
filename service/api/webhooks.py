"""Shop webhook receivers: verify the raw body, then take it (service.intake): stored as
an order, or kept as a rejected webhook. Never call HubSpot."""

from __future__ import annotations

import html
import re
import time

from flask import Blueprint, Response, g, jsonify, request

from service import extensions, intake, metrics, signatures
from service.domain import Source
from service.errors import InvalidSignature, NotConfigured
from service.intake import EVENT_ID, STORE_HEADERS, WEBHOOK_ID, Delivery
from service.sources import parse_json
from service.store.ingest import IngestStatus
from service.webhook_secrets import secrets_for

bp = Blueprint("webhooks", __name__)

SHOPIFY_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/edited"}
)
WOOCOMMERCE_TOPICS = frozenset({"order.created", "order.updated"})
KNOWN_TOPICS = SHOPIFY_TOPICS | WOOCOMMERCE_TOPICS  # metric labels stay bounded
# The unsigned Shopify headers a delivery keeps; each also comes as `shopify-*`.
SHOPIFY_HEADERS = (STORE_HEADERS[Source.SHOPIFY], WEBHOOK_ID, EVENT_ID)
_PING = re.compile(rb"^webhook_id=\d{1,20}$")


def _header(*names: str) -> str | None:
    """The first of several header spellings that is present (Shopify sends two families)."""
    for name in names:
        value = request.headers.get(name)
        if value is not None:
            return value
    return None


def _verified_body(source: Source, entries: tuple[str, ...], signature: str | None) -> bytes:
    """The raw body, once its signature matches a secret valid for the shop it claims to be
    from (service.webhook_secrets): one shop's secret never signs for another."""
    if not entries:
        raise NotConfigured(f"No {source.value} webhook secret is configured; refusing requests.")
    header = STORE_HEADERS[source]
    store = intake.store_name(_header(header, header[2:].lower()))
    secrets = secrets_for(entries, store)
    if source is Source.WOOCOMMERCE:
        secrets = _woocommerce_keys(secrets)
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


def _take(delivery: Delivery) -> Response:
    """Store the order, or keep the body as rejected: 200 with its id, reason and errors
    (a shop that got an error would retry in vain, then drop the subscription)."""
    outcome = intake.take(extensions.engine(), extensions.config(), delivery, now=time.time())
    if isinstance(outcome, intake.Kept):
        reason = outcome.rejection.reason.value
        metrics.observe_rejected(delivery.source.value, reason)
        answer: dict[str, object] = {
            "status": "rejected",
            "rejected_id": outcome.rejected_id,
            "reason": reason,
            "errors": outcome.rejection.errors,
        }
        return _json(answer, 200)
    status = 202 if outcome.status is IngestStatus.ACCEPTED else 200
    return _json({"status": outcome.status.value, "line_items": outcome.line_items}, status)


@bp.post("/webhooks/shopify")
def shopify_webhook() -> Response:
    """Receive a Shopify order webhook (HMAC over the raw body, base64)."""
    config = extensions.config()
    signature = _header("X-Shopify-Hmac-Sha256", "shopify-hmac-sha256")
    body = _verified_body(Source.SHOPIFY, config.shopify_webhook_secrets, signature)
    topic = _header("X-Shopify-Topic", "shopify-topic")
    if topic not in SHOPIFY_TOPICS or (topic == "orders/edited" and _is_order_edit(body)):
        return _ignored(topic)
    headers = {name: _header(name, name[2:].lower()) for name in SHOPIFY_HEADERS}
    return _take(Delivery.of(Source.SHOPIFY, topic, headers, body))


@bp.post("/webhooks/woocommerce")
def woocommerce_webhook() -> Response:
    """Receive a WooCommerce order webhook; answer the unsigned activation ping with 200."""
    config = extensions.config()
    signature = request.headers.get("X-WC-Webhook-Signature")
    if signature is None and _is_ping():
        if not config.woocommerce_webhook_secrets:
            raise NotConfigured("No woocommerce webhook secret is configured; refusing requests.")
        return _json({"status": "pong"}, 200)
    body = _verified_body(Source.WOOCOMMERCE, config.woocommerce_webhook_secrets, signature)
    topic = request.headers.get("X-WC-Webhook-Topic")
    if topic not in WOOCOMMERCE_TOPICS:
        return _ignored(topic)
    header = STORE_HEADERS[Source.WOOCOMMERCE]
    headers = {header: request.headers.get(header)}
    return _take(Delivery.of(Source.WOOCOMMERCE, topic, headers, body))


def _is_order_edit(body: bytes) -> bool:
    """Shopify's orders/edited body is an OrderEdit (`{"order_edit": {...}}`: what changed),
    not the order; the orders/updated webhook Shopify sends for the same edit carries the
    whole order, so the edit is acknowledged rather than refused (a refusal is retried and
    eventually removes the subscription)."""
    try:
        payload = parse_json(body)
    except ValueError:
        return False  # taken, and kept as rejected
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
