"""The shops' own APIs, read by reconciliation, backfill and the subscription check.

    access      which stores the relay may read (SHOPIFY_ADMIN_TOKENS, WOOCOMMERCE_API_KEYS)
                and a client for each, at SHOPIFY_API_BASE_URL / WOOCOMMERCE_API_BASE_URL
    http        one request to a shop: timeouts, retries, Retry-After, Shopify's pacing
    items       a listing's orders as the raw JSON text the shop sent, one per order
    shopify     REST Admin API: orders.json by updated_at with Link paging, webhooks.json
    woocommerce REST v3: /orders by modified date, /webhooks with their status

Errors: every failure a caller sees is a `ShopApiError` (in `http`), which carries the
store, the HTTP status (None when no answer came) and the shop's own message, never a
credential or a URL's query.
"""
