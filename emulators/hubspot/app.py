"""A HubSpot emulator: a real threaded HTTP server for tests, benchmarks and sandbox mode.

HubSpot endpoints (behaviour per shared/reference/hubspot.md and commerce.md), for
line_items (0-8), orders (0-123), deals (0-3) and contacts (0-1), by name or id, under
/crm/v3/objects/{type} and /crm/objects/2026-03/{type}:

    POST .../{type}/batch/upsert              `crm` (validation in `validation`)
    GET  .../{type}/{id}, GET .../{type}, POST .../{type}/batch/read      `reads`
    GET|POST /crm/v3/properties/{type}, GET .../{type}/{name}             `properties`
    GET  /crm/v3/pipelines/{orders|deals}[/{id}[/stages]]                 `pipelines`
    /crm/v4/associations/{from}/{to}/batch/..., /crm/v4/objects/.../associations/...
                                              `association_api`, `associations`
    POST /oauth/v1/token, /oauth/v3/token     grant_type=refresh_token, form encoded

`routes` says which endpoint a request is: its call kind, its scopes, whether it is a
write call. CRM calls need `Authorization: Bearer <token>` (a static token from the
config or an unexpired OAuth access token) and one of their scopes (`config.scopes`; else
403 MISSING_SCOPES), share one rolling rate window and a daily count, carry
`X-HubSpot-RateLimit-*` headers, and wait `config.latency` before answering. Faults
(scripted first, else drawn from `config.fault_rates` for `config.fault_calls`) apply to
the calls their pattern covers and write nothing (`faults`).

An unknown path answers 404 without needing auth, with HubSpot's JSON error shape and
the `X-HubSpot-NotFound: true` header HubSpot was seen sending for a URI it does not
serve (HGData/mk-node-hubspot #150). UNCONFIRMED: that body's wording is not on record,
and HubSpot has also answered some 404s with a text/html page (hubspot-api-nodejs #240).

Control endpoints, for tests in other processes: see `control`.
Each connection gets a thread, so a stalled or slow request never blocks the others.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from emulators.hubspot.config import EmulatorConfig
from emulators.hubspot.control import control
from emulators.hubspot.faults import ANSWER_FAULTS, broken_answer, fault_reply
from emulators.hubspot.objects import object_type
from emulators.hubspot.portal import Portal
from emulators.hubspot.replies import Reply, error_reply, missing_scopes_reply
from emulators.hubspot.routes import Call, Router
from emulators.hubspot.server import EmulatorServer
from emulators.hubspot.state import EmulatorState

__all__ = ["Emulator", "EmulatorConfig", "serve"]

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"/oauth/(?:v1|v3|2026-03)/token")


class Emulator:
    """One emulated HubSpot portal served over HTTP; state is inspectable in-process."""

    def __init__(
        self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._state = EmulatorState(config or EmulatorConfig())
        self._portal = Portal(self._state.config.seed)
        self._router = Router(self._portal, lambda: self._state.config)
        self._address = (host, port)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # ends latency waits and stalls at stop()
        self._current = threading.local()  # the write call a handler thread is answering

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

    def script(self, *faults: str, calls: str | None = None) -> None:
        """Make the next calls `calls` covers (a kind or prefix, see `faults`; None: any
        write call) answer these faults, in order."""
        self._state.script(faults, calls)

    def configure(self, **changes: Any) -> None:
        """Change config fields at run time (validated, all or nothing)."""
        self._state.configure(changes)

    def records(self, object_type: str = "line_items") -> dict[str, dict[str, Any]]:
        """A type's records keyed by the idProperty value they were created by (contacts:
        by email; else the HubSpot id)."""
        return self._portal.records(object_type)

    def record(self, object_type: str, record_id: str) -> dict[str, Any] | None:
        """One record by HubSpot id (the relay's console links here in sandbox mode)."""
        return self._portal.record(object_type, record_id)

    def associations(self) -> list[dict[str, Any]]:
        """Every associated pair: {fromType, fromId, toType, toId, typeIds}."""
        return self._portal.links.listing()

    def pipelines(self, object_type: str) -> list[dict[str, Any]]:
        return self._portal.pipelines.pipelines(_type_name(object_type))

    def set_pipelines(self, object_type: str, pipelines: Any) -> list[dict[str, Any]]:
        """Replace a type's pipelines (see `pipelines.PipelineBook.replace`)."""
        return self._portal.pipelines.replace(_type_name(object_type), pipelines)

    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def requests_log(self) -> list[dict[str, Any]]:
        """Every write call's body as received, with its `kind` and `path`."""
        return self._state.requests_log()

    def timeline(self) -> list[dict[str, Any]]:
        """When each write call arrived and was answered, with its kind, path and ids."""
        return self._state.timeline()

    def expire_tokens(self) -> None:
        self._state.expire_tokens()

    def reset(self) -> None:
        """Forget records, associations, created properties, counters, scripts, windows
        and OAuth tokens; pipelines go back to those of the start."""
        self._state.reset()
        self._portal.reset(self.config.seed)

    # --- request handling ---------------------------------------------------------------

    def handle(self, method: str, target: str, authorization: str | None, body: bytes) -> Reply:
        parts = urlsplit(target)
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        call = Call(method, parts.path, query, body)
        if call.path.startswith("/_emulator/"):
            return control(self, method, call.path.removeprefix("/_emulator/"), query, body)
        reply = self._api(call, authorization)
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

    def _api(self, call: Call, authorization: str | None) -> Reply:
        token = call.method == "POST" and _TOKEN.fullmatch(call.path) is not None
        route = None if token else self._router.find(call)
        kind = "oauth" if token else route.kind if route else "unknown"
        logged = _as_logged(call.body) if route and route.write else None
        ids = route.ids(logged) if route and logged is not None else []
        self._current.timing = self._state.note_request(kind, call.path, logged, ids)
        self.pause(self.config.latency)
        if token:
            return self._state.refresh(dict(parse_qsl(call.body.decode("utf-8", "replace"))))
        if route is None:
            message = f"No route for {call.method} {call.path}"
            reply = error_reply(404, message, "OBJECT_NOT_FOUND")
            return reply.with_headers({"X-HubSpot-NotFound": "true"})
        auth = self._state.authenticate(authorization)
        if isinstance(auth, Reply):
            return auth
        granted = bool(route.scopes & self.config.granted_scopes())
        admission = self._state.admit(route.kind, may_fault=granted)
        if admission.reply is not None:
            reply = admission.reply
        elif not granted:
            reply = missing_scopes_reply()
        elif admission.fault in ANSWER_FAULTS:
            cfg = self.config
            reply = broken_answer(
                admission.fault, route.answer(), cfg.trickle_seconds, cfg.huge_bytes
            )
        elif admission.fault is not None:
            cfg = self.config
            reply = fault_reply(admission.fault, cfg.timeout_seconds, cfg.migration_retry_after)
        else:
            reply = route.answer()
        return reply.with_headers(self._state.rate_headers(auth, reply))

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


def _type_name(name_or_id: str) -> str:
    kind = object_type(name_or_id)
    if kind is None:
        raise ValueError(f"unknown object type {name_or_id!r}")
    return kind.name


def _as_logged(body: bytes) -> dict[str, Any]:
    """A write call's body as received: parsed JSON, or the raw text when it is not an object."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {"_unparsed": body.decode("utf-8", "replace")}
