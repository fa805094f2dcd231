"""A HubSpot emulator: a real threaded HTTP server for tests, benchmarks and sandbox mode.

HubSpot endpoints (behaviour per shared/reference/hubspot.md; details in `crm`
and `validation` for the upsert, `properties` for properties,
`config` for settings and faults, `state` for auth, limits and the
log, `replies` for HubSpot's body shapes, `server` for the server):

    POST /crm/v3/objects/line_items/batch/upsert     (also 0-8 and /crm/objects/2026-03/...)
    GET  /crm/v3/properties/line_items               {"results": [Property, ...]}
    GET  /crm/v3/properties/line_items/<name>        Property, or 404
    POST /crm/v3/properties/line_items               201 Property; 409 if it exists
    POST /oauth/v1/token, /oauth/v3/token            grant_type=refresh_token, form encoded

CRM calls need `Authorization: Bearer <token>` (a static token from the config or an
unexpired OAuth access token), share one rolling rate window and a daily count, carry
`X-HubSpot-RateLimit-*` headers, and wait `config.latency` before answering. Faults
(scripted first, else drawn from `config.fault_rates`) apply to the upsert only and write
nothing. Unknown paths answer 404 without needing auth.

Control endpoints, for tests in other processes (no auth, no rate limit, no latency):

    GET  /_emulator/records | stats | requests | timeline | config
    POST /_emulator/config {field: value}   POST /_emulator/script {"faults": [...]}
    POST /_emulator/reset                   POST /_emulator/expire-tokens

Each connection gets a thread, so a stalled or slow request never blocks the others.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from emulators.hubspot.config import EmulatorConfig, fault_reply
from emulators.hubspot.crm import LineItemStore
from emulators.hubspot.properties import PropertyRegistry
from emulators.hubspot.replies import Reply, error_reply
from emulators.hubspot.server import EmulatorServer
from emulators.hubspot.state import EmulatorState

__all__ = ["Emulator", "EmulatorConfig", "serve"]

log = logging.getLogger(__name__)

_LINE_ITEMS = r"(?:line_items|0-8)"
_UPSERT = re.compile(rf"/crm/(?:v3/objects|objects/2026-03)/{_LINE_ITEMS}/batch/upsert")
_PROPERTIES = re.compile(rf"/crm/v3/properties/{_LINE_ITEMS}")
_PROPERTY = re.compile(rf"/crm/v3/properties/{_LINE_ITEMS}/([^/]+)")
_TOKEN = re.compile(r"/oauth/(?:v1|v3|2026-03)/token")

Route = Callable[[bytes], Reply]


class Emulator:
    """One emulated HubSpot portal served over HTTP; state is inspectable in-process."""

    def __init__(
        self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._state = EmulatorState(config or EmulatorConfig())
        self._properties = PropertyRegistry()
        self._store = LineItemStore(self._properties, self._state.config.seed)
        self._address = (host, port)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # ends latency waits and stalls at stop()
        self._current = threading.local()  # the upsert a handler thread is answering

    @property
    def config(self) -> EmulatorConfig:
        return self._state.config

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self._address[0]}:{self._server.server_port}"

    def start(self) -> Emulator:
        """Serve in a daemon thread; returns self once the socket is listening."""
        if self._server is None:
            self._stopping.clear()
            self._server = EmulatorServer(self._address, self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},  # stop() waits up to one interval
                name="hubspot-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._stopping.clear()
        self._server = EmulatorServer(self._address, self)
        print(f"HubSpot emulator listening on {self.url}", flush=True)
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        if self._thread is not None and self._server is not None:
            self._stopping.set()
            self._server.shutdown()  # waits for the serve_forever loop only
            self._thread.join()
        self._close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- inspection and control (also over /_emulator/*) --------------------------------

    def script(self, *faults: str) -> None:
        """Make the next upsert calls answer these faults, in order."""
        self._state.script(faults)

    def configure(self, **changes: Any) -> None:
        """Change config fields at run time (validated, all or nothing)."""
        self._state.configure(changes)

    def records(self) -> dict[str, dict[str, Any]]:
        return self._store.records()

    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def requests_log(self) -> list[dict[str, Any]]:
        return self._state.requests_log()

    def timeline(self) -> list[dict[str, Any]]:
        """When each upsert arrived and was answered, with its input ids."""
        return self._state.timeline()

    def expire_tokens(self) -> None:
        self._state.expire_tokens()

    def reset(self) -> None:
        """Forget records, created properties, counters, scripts, windows and OAuth tokens."""
        self._state.reset()
        self._properties.reset()
        self._store.reset(self.config.seed)

    # --- request handling ---------------------------------------------------------------

    def handle(self, method: str, target: str, authorization: str | None, body: bytes) -> Reply:
        path = urlsplit(target).path
        if path.startswith("/_emulator/"):
            return self._control(method, path.removeprefix("/_emulator/"), body)
        reply = self._api(method, path, authorization, body)
        self._state.note_reply(reply)
        return reply

    def answered(self, status: int) -> None:
        """The calling handler thread has written (or dropped) its answer."""
        entry = getattr(self._current, "timing", None)
        self._current.timing = None
        if entry is not None:
            self._state.note_finished(entry, status)

    def pause(self, seconds: float) -> None:
        """Wait, but no longer than until stop()."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _api(self, method: str, path: str, authorization: str | None, body: bytes) -> Reply:
        upsert = method == "POST" and _UPSERT.fullmatch(path) is not None
        self._current.timing = self._state.note_request(_as_logged(body) if upsert else None)
        self.pause(self.config.latency)
        if method == "POST" and _TOKEN.fullmatch(path):
            return self._state.refresh(dict(parse_qsl(body.decode("utf-8", "replace"))))
        handler = self._route(method, path)
        if handler is None:
            return error_reply(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")
        kind = self._state.authenticate(authorization)
        if isinstance(kind, Reply):
            return kind
        admission = self._state.admit(upsert)
        if admission.reply is not None:
            reply = admission.reply
        elif admission.fault is not None:
            reply = fault_reply(admission.fault, self.config)
        else:
            reply = handler(body)
        return reply.with_headers(self._state.rate_headers(kind))

    def _route(self, method: str, path: str) -> Route | None:
        if method == "POST" and _UPSERT.fullmatch(path):
            return lambda body: self._store.upsert(body, self.config)
        if method == "GET" and _PROPERTIES.fullmatch(path):
            return lambda _: Reply(
                200, {"results": list(self._properties.catalogue(self.config).values())}
            )
        if method == "POST" and _PROPERTIES.fullmatch(path):
            return lambda body: self._properties.create(body, self.config)
        match = _PROPERTY.fullmatch(path)
        if method == "GET" and match:
            return lambda _: self._property(match.group(1))
        return None

    def _property(self, name: str) -> Reply:
        definition = self._properties.catalogue(self.config).get(name)
        if definition is None:
            message = f"Unable to find property named '{name}' for object type 0-8"
            return error_reply(404, message, "OBJECT_NOT_FOUND")
        return Reply(200, definition)

    def _control(self, method: str, name: str, body: bytes) -> Reply:
        getters: dict[str, Callable[[], Any]] = {
            "records": self.records,
            "stats": self.stats,
            "requests": self.requests_log,
            "timeline": self.timeline,
            "config": self.config.to_json,
        }
        if method == "GET" and name in getters:
            return Reply(200, getters[name]())
        if method != "POST" or name not in {"config", "script", "reset", "expire-tokens"}:
            return error_reply(404, f"No emulator control {method} /_emulator/{name}", "NOT_FOUND")
        try:
            return self._command(name, json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:  # bad JSON or a bad config/fault value
            return error_reply(400, str(exc), "VALIDATION_ERROR")

    def _command(self, name: str, payload: Any) -> Reply:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        if name == "config":
            self.configure(**payload)
            return Reply(200, self.config.to_json())
        if name == "script":
            faults = payload.get("faults")
            if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
                raise ValueError('expected {"faults": ["429", ...]}')
            self.script(*faults)
        elif name == "reset":
            self.reset()
        else:
            self.expire_tokens()
        return Reply(200, {"ok": True})

    def _close(self) -> None:
        if self._server is not None:
            self._stopping.set()
            self._server.close_connections()
            self._server.server_close()
        self._server, self._thread = None, None


def serve(port: int, config: EmulatorConfig, host: str = "127.0.0.1") -> None:
    """Run an emulator in the foreground until interrupted (`relay hubspot emulator`)."""
    with contextlib.suppress(KeyboardInterrupt):
        Emulator(config, host, port).serve_forever()


def _as_logged(body: bytes) -> dict[str, Any]:
    """The upsert body as received: parsed JSON, or the raw text when it is not an object."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {"_unparsed": body.decode("utf-8", "replace")}
