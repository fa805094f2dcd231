"""The HubSpot API client: one pooled `requests.Session`, timeouts, bearer auth.

Every call returns an `Answer` (status, JSON body, headers); network failures become an
`Answer` with status 0, so the caller classifies one kind of value. The session is
injected, so tests can mount their own adapter or point at the emulator.

A call has a total deadline (`read_timeout`), not only a timeout per read: an answer
trickled a byte at a time would otherwise keep a batch, and its lease, forever. And the
answer is read up to MAX_ANSWER_BYTES: a batch answer is some hundred kilobytes, so
anything far larger is not one, and reading it whole would take the worker's memory.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from service.hubspot.auth import AuthError, TokenProvider
from service.hubspot.outcomes import Answer

OBJECTS = "/crm/v3/objects"
ASSOCIATIONS = "/crm/v4/associations"
PROPERTIES = "/crm/v3/properties"
PIPELINES = "/crm/v3/pipelines"
MAX_ANSWER_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


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
        self._deadline_seconds = read_timeout
        # The first byte may take the whole timeout (HubSpot can be slow to start); after
        # the deadline, the read in progress is the last: a call ends within twice the
        # timeout, which the lease outlasts (service.config).
        self._timeout = (connect_timeout, read_timeout)

    def batch_upsert(self, inputs: list[dict[str, Any]], object_type: str = "line_items") -> Answer:
        """POST inputs to an object type's batch upsert."""
        return self._send(f"{OBJECTS}/{object_type}/batch/upsert", {"inputs": inputs})

    def create_associations(
        self, from_type: str, to_type: str, inputs: list[dict[str, Any]]
    ) -> Answer:
        """POST association inputs (with their types) to the v4 batch create."""
        return self._send(f"{ASSOCIATIONS}/{from_type}/{to_type}/batch/create", {"inputs": inputs})

    def get_pipelines(self, object_type: str) -> Answer:
        return self._call("GET", f"{PIPELINES}/{object_type}")

    def get_property(self, name: str, object_type: str = "line_items") -> Answer:
        return self._call("GET", f"{PROPERTIES}/{object_type}/{name}")

    def get_property_groups(self, object_type: str) -> Answer:
        return self._call("GET", f"{PROPERTIES}/{object_type}/groups")

    def create_property(
        self, definition: dict[str, Any], object_type: str = "line_items"
    ) -> Answer:
        return self._call("POST", f"{PROPERTIES}/{object_type}", definition)

    def _send(self, path: str, body: dict[str, Any]) -> Answer:
        """A batch write; an expired OAuth token is renewed and the call made once more."""
        answer = self._call("POST", path, body)
        if answer.status == 401 and self._auth.invalidate():
            answer = self._call("POST", path, body)
        return answer

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        try:
            token = self._auth.token()
        except AuthError as exc:
            return Answer(401, {"category": "OAUTH_REFRESH_FAILED", "message": str(exc)})
        deadline = time.monotonic() + self._deadline_seconds
        try:
            with self._session.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._timeout,
                stream=True,
            ) as response:
                content = _read(response, deadline)
        except requests.Timeout:
            return Answer(0, error="timeout")
        except requests.RequestException as exc:
            return Answer(0, error=type(exc).__name__)
        if isinstance(content, str):
            return Answer(0, error=content)
        return Answer(response.status_code, _json(content), dict(response.headers))


def _read(response: requests.Response, deadline: float) -> bytes | str:
    """The answer's body, or why it was not read whole (a reason for an Answer)."""
    chunks: list[bytes] = []
    size = 0
    # read1: whatever one read of the socket gives, so a trickle returns a byte at a time
    # and the deadline is checked between them (read(n) would wait for all n bytes).
    while chunk := response.raw.read1(_CHUNK):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return f"answer over {MAX_ANSWER_BYTES // (1024 * 1024)} MiB, not read"
        if time.monotonic() > deadline:
            return "timeout (the answer took longer than the deadline)"
        chunks.append(chunk)
    return b"".join(chunks)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:  # not JSON (or not UTF-8): a body the caller cannot read
        return None
