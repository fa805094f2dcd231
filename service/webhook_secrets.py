"""Which webhook secrets may sign a body from a given shop.

`SHOPIFY_WEBHOOK_SECRETS` and `WOOCOMMERCE_WEBHOOK_SECRETS` hold entries of two kinds:
- `shop=secret`: valid only for that shop (Shopify's shop domain, WooCommerce's site as
  the relay keys its store, e.g. `shop.example.com` or `example.com/shop`);
- a bare `secret`: valid for any shop. A Shopify app's client secret signs the webhooks
  of every shop the app is installed in, so it is bare by nature.

The shop header is not under the HMAC: without this binding, any configured secret would
sign for every shop, and one shop's secret could rewrite another's orders. An entry is
bound when what comes before its first `=` is a store name with a dot in it (a domain);
secrets themselves rarely have one (base64 has no dot, and ends with `=`), so
`c2VjcmV0=` stays a bare secret.
"""

from __future__ import annotations

from service.intake import store_name


def split_entry(entry: str) -> tuple[str | None, str]:
    """(the shop it is bound to, or None for any shop; the secret)."""
    shop, equals, secret = entry.partition("=")
    bound = store_name(shop) if equals and secret and "." in shop else None
    return (bound, secret) if bound else (None, entry)


def secrets_for(entries: tuple[str, ...], store: str | None) -> tuple[str, ...]:
    """The secrets that may sign a body claiming to come from `store` (None: no usable
    store header, so only the bare ones)."""
    found = []
    for entry in entries:
        shop, secret = split_entry(entry)
        if shop is None or shop == store:
            found.append(secret)
    return tuple(found)
