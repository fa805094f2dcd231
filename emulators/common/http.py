"""The shop emulators' HTTP layer: the `Request` an emulator answers, the `Reply` it gives,
and a threaded server that hands every request to its application and writes the reply
(or stalls first, or drops the connection, as the reply asks)."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("emulators")


@dataclass(frozen=True)
class Request:
    """One request as received: `query` joins a repeated parameter's values with commas,
    `headers` are keyed in lower case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    @classmethod
    def of(cls, method: str, target: str, headers: Mapping[str, str], body: bytes = b"") -> Request:
        parts = urlsplit(target)
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(method, parts.path, query, lowered, body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    """What to answer: a status and a JSON body (None: no body), or stall first, or drop."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without answering

    def with_headers(self, headers: Mapping[str, str]) -> Reply:
        """The same reply with more headers; its own win over the ones given."""
        return Reply(self.status, self.body, {**headers, **self.headers}, self.stall, self.drop)


class Application(Protocol):
    """What the server serves: an emulator's `handle` and its stop-aware `pause`."""

    def handle(self, request: Request) -> Reply: ...

    def pause(self, seconds: float) -> None: ...


class TrackedServer(ThreadingHTTPServer):
    """A thread per connection, so a stalled answer never blocks the others, and the
    open connections kept so that shutting down can wake the idle keep-alive ones."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    name = "an"  # which emulator, for the log

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections so they finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away (timed out on a stall, closed early)
        log.exception("%s emulator failed on a request from %s", self.name, client_address)


class TrackedHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 whose connections the server tracks; every method goes to
    `_serve`, which a subclass writes."""

    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms stall
    server: TrackedServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(self.server.name + " emulator: " + format, *args)

    def read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        raise NotImplementedError


class EmulatorServer(TrackedServer):
    """The shop emulators' server: each request to `app`."""

    def __init__(self, address: tuple[str, int], app: Application, name: str) -> None:
        self.app = app
        self.name = name
        super().__init__(address, _Handler)


class _Handler(TrackedHandler):
    server: EmulatorServer

    def _serve(self, method: str) -> None:
        body = self.read_body()
        headers = {name: value for name, value in self.headers.items()}
        reply = self.server.app.handle(Request.of(method, self.path, headers, body))
        if reply.drop:
            self.close_connection = True  # closed unanswered: the client sees a reset
            return
        self.server.app.pause(reply.stall)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
