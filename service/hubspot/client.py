"""The HubSpot API client: one pooled `requests.Session`, timeouts, bearer auth.

Every call returns an `Answer` (status, JSON body, headers); network failures become an
`Answer` with status 0, so the caller classifies one kind of value. The session is
injected, so tests can mount their own adapter or point at the emulator.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from service.hubspot.auth import AuthError, TokenProvider
from service.hubspot.outcomes import Answer

UPSERT_PATH = "/crm/v3/objects/line_items/batch/upsert"
PROPERTIES_PATH = "/crm/v3/properties/line_items"


def make_session(pool_size: int = 4) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "line-item-relay/0.1"
    return session


class HubSpotClient:
    def __init__(
        self,
        base_url: str,
        auth: TokenProvider,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._session = session or make_session()
        self._timeout = (connect_timeout, read_timeout)

    def batch_upsert(self, inputs: list[dict[str, Any]]) -> Answer:
        """POST inputs to the line-item batch upsert; renew an expired OAuth token once."""
        answer = self._call("POST", UPSERT_PATH, {"inputs": inputs})
        if answer.status == 401 and self._auth.invalidate():
            answer = self._call("POST", UPSERT_PATH, {"inputs": inputs})
        return answer

    def get_property(self, name: str) -> Answer:
        return self._call("GET", f"{PROPERTIES_PATH}/{name}")

    def create_property(self, definition: dict[str, Any]) -> Answer:
        return self._call("POST", PROPERTIES_PATH, definition)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        try:
            token = self._auth.token()
        except AuthError as exc:
            return Answer(401, {"category": "OAUTH_REFRESH_FAILED", "message": str(exc)})
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._timeout,
            )
        except requests.Timeout:
            return Answer(0, error="timeout")
        except requests.RequestException as exc:
            return Answer(0, error=type(exc).__name__)
        return Answer(response.status_code, _json(response), dict(response.headers))


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
