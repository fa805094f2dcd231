"""Who is calling the WooCommerce emulator, as `WC_REST_Authentication` decides it
(class-wc-rest-authentication.php): the consumer key and secret from the
`consumer_key`/`consumer_secret` query parameters (tried first), else from HTTP Basic
auth. The emulator plays a site served over HTTPS, where these are accepted; over plain
HTTP WooCommerce wants OAuth 1.0a signatures, which it does not emulate.

- No credentials, or a key no site knows: the request goes on unauthenticated, and the
  endpoint's own permission check refuses it (`woocommerce_rest_cannot_view`, 401).
- A known key with a wrong secret: 401 `woocommerce_rest_authentication_error`
  "Consumer secret is invalid.", with a `WWW-Authenticate: Basic` header.
- A key without read (for GET) or write (for the other methods) permission: 401
  "The API key provided does not have read permissions." (or write).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from emulators.common.http import Reply, Request
from emulators.woocommerce.state import SiteState, WooState
from emulators.woocommerce.webhooks import error

_REALM = (
    'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer '
    'secret in the password field."'
)
# What each endpoint answers an unauthenticated caller (the controllers' permission checks).
REFUSALS = {
    ("list", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    ("item", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    ("list", "POST"): (
        "woocommerce_rest_cannot_create",
        "Sorry, you are not allowed to create resources.",
    ),
    ("item", "PUT"): (
        "woocommerce_rest_cannot_edit",
        "Sorry, you are not allowed to edit this resource.",
    ),
    ("item", "POST"): (
        "woocommerce_rest_cannot_edit",
        "Sorry, you are not allowed to edit this resource.",
    ),
    ("item", "DELETE"): (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
}


@dataclass(frozen=True)
class Caller:
    """The site a request authenticated to, or None; `refusal` answers it regardless."""

    site: SiteState | None
    refusal: Reply | None = None


def authenticate(state: WooState, request: Request) -> Caller:
    key, secret = _credentials(request)
    if not key or not secret:
        return Caller(None)
    site = state.by_key(key)
    if site is None:
        return Caller(None)
    if not hmac.compare_digest(site.config.consumer_secret.encode(), secret.encode()):
        refusal = error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return Caller(None, refusal.with_headers({"WWW-Authenticate": _REALM}))
    needed = "read" if request.method in ("GET", "HEAD") else "write"
    if needed not in site.config.permissions:  # "read", "write" or "read_write"
        message = f"The API key provided does not have {needed} permissions."
        return Caller(None, error(401, "woocommerce_rest_authentication_error", message))
    return Caller(site)


def refusal_for(kind: str, method: str) -> Reply:
    code, message = REFUSALS.get((kind, method), REFUSALS[(kind, "GET")])
    return error(401, code, message)


def _credentials(request: Request) -> tuple[str | None, str | None]:
    key, secret = request.query.get("consumer_key"), request.query.get("consumer_secret")
    if key and secret:
        return key, secret
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, _, password = decoded.partition(":")
    return user, password
