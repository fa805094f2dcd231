"""Webhook signature checks over the raw request body.

Shopify and WooCommerce both sign with base64(HMAC-SHA256(secret, raw body)). The check
runs on the exact bytes received, before any parsing: re-serialised JSON (escaped `\\/`,
`\\u0026`, non-ASCII) would no longer match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sign(secret: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 signature a shop would send for `body`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """True when `signature` matches `body` under any secret (several during rotation)."""
    if not signature:
        return False
    given = signature.strip().encode("ascii", errors="replace")
    valid = False
    for secret in secrets:
        # Compare against every secret, without stopping early, in constant time.
        valid |= hmac.compare_digest(sign(secret, body).encode("ascii"), given)
    return valid
