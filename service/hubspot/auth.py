"""HubSpot credentials: a static token, or OAuth refresh with the access token renewed
before `expires_in` runs out (HubSpot: 30 minutes) and a rotated refresh token kept."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import requests

REFRESH_MARGIN_SECONDS = 300.0  # renew five minutes before expiry
log = logging.getLogger("service.hubspot.auth")


class AuthError(Exception):
    """HubSpot refused the credentials (a bad refresh token, a revoked app)."""


class TokenProvider(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> bool:
        """Drop the current token; True when a fresh one can be obtained."""
        ...


class StaticToken:
    """A private-app token or service key: nothing to renew."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def invalidate(self) -> bool:
        return False


class RefreshTokenStore(Protocol):
    """Where the current refresh token lives, so a rotated one survives restarts and is
    shared by all worker processes."""

    def load(self) -> str | None: ...

    def save(self, refresh_token: str) -> None: ...


class MemoryTokenStore:
    def __init__(self, refresh_token: str | None = None) -> None:
        self.refresh_token = refresh_token

    def load(self) -> str | None:
        return self.refresh_token

    def save(self, refresh_token: str) -> None:
        self.refresh_token = refresh_token


class OAuthRefresh:
    """Access tokens from `POST /oauth/v3/token` with grant_type=refresh_token."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        session: requests.Session,
        store: RefreshTokenStore | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        on_portal: Callable[[str], None] | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/oauth/v3/token"
        self._on_portal = on_portal  # told the portal (hub_id) each token answer names
        self._client_id = client_id
        self._client_secret = client_secret
        self._initial_refresh_token = refresh_token
        self._store = store or MemoryTokenStore()
        self._session = session
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._latest_refresh_token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._access_token is None or self._clock() >= self._expires_at:
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def invalidate(self) -> bool:
        with self._lock:
            self._access_token = None
        return True

    def _current_refresh_token(self) -> str:
        """The shared, stored refresh token; this process's latest when the store fails."""
        try:
            stored = self._store.load()
        except Exception:  # the store is down: carry on with what this process knows
            log.warning("refresh_token_unreadable", extra={"event": "refresh_token_unreadable"})
            stored = None
        return stored or self._latest_refresh_token or self._initial_refresh_token

    def _keep(self, rotated: str) -> None:
        self._latest_refresh_token = rotated
        try:
            self._store.save(rotated)
        except Exception:  # kept in memory; the next refresh tries to store it again
            log.warning("refresh_token_not_saved", extra={"event": "refresh_token_not_saved"})

    def _refresh(self) -> None:
        refresh_token = self._current_refresh_token()
        try:
            response = self._session.post(
                self._url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "refresh_token": refresh_token,
                },
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise AuthError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise AuthError(f"token refresh refused: {response.status_code} {_reason(response)}")
        body = response.json()
        self._access_token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 1800))
        self._expires_at = self._clock() + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2)
        rotated = body.get("refresh_token")
        if rotated and rotated != refresh_token:
            self._keep(str(rotated))
        hub_id = body.get("hub_id")
        if self._on_portal is not None and isinstance(hub_id, int) and hub_id > 0:
            try:
                self._on_portal(str(hub_id))
            except Exception:  # only the console's links need it; the next refresh retries
                log.warning("portal_id_not_saved", extra={"event": "portal_id_not_saved"})


def _reason(response: requests.Response) -> str:
    """HubSpot's error code and status, never the request (it holds the secret)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return " ".join(str(body[k]) for k in ("error", "status") if body.get(k))
