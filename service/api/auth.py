"""Bearer-key auth for the internal /v1 API (RELAY_API_KEYS; several during rotation)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import request

from service import extensions
from service.errors import NotConfigured, Unauthorized

P = ParamSpec("P")
R = TypeVar("R")
# Keys in a URL end up in access logs, proxies and browser history: refuse them outright.
QUERY_KEY_NAMES = ("api_key", "apikey", "key", "token", "access_token")


def key_is_valid(given: str, keys: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured key."""
    valid = False
    for key in keys:
        valid |= hmac.compare_digest(given.encode(), key.encode())
    return valid


def require_api_key(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        keys = extensions.config().relay_api_keys
        if not keys:
            raise NotConfigured("RELAY_API_KEYS is not set; the internal API refuses requests.")
        if any(name in request.args for name in QUERY_KEY_NAMES):
            raise Unauthorized("Send the key in the Authorization header, never in the URL.")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given or not key_is_valid(given.strip(), keys):
            raise Unauthorized("A valid 'Authorization: Bearer <key>' header is required.")
        return view(*args, **kwargs)

    return wrapper
