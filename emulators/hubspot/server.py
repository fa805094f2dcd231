"""The HubSpot emulator's HTTP layer: a threaded server that can wake its idle keep-alive
connections on shutdown, and a handler that hands each request to the emulator and
writes its `Reply` (or drops the connection, or stalls first, as the reply asks)."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from emulators.hubspot.replies import Reply

log = logging.getLogger("emulators.hubspot")


class Application(Protocol):
    """What the server serves: `emulators.hubspot.app.Emulator`."""

    def handle(self, method: str, target: str, authorization: str | None, body: bytes) -> Reply: ...

    def answered(self, status: int) -> None: ...

    def pause(self, seconds: float) -> None: ...


_CHUNK = 64 * 1024


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], emulator: Application) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self._address_parts()

    def _address_parts(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return str(host), int(port)

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
        log.exception("HubSpot emulator failed on a request from %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    server_version = "HubSpotEmulator/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms stall
    server: EmulatorServer

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
        log.debug("emulator: " + format, *args)

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        emulator = self.server.emulator
        reply: Reply | None = None
        try:
            reply = emulator.handle(method, self.path, self.headers.get("Authorization"), body)
            self._answer(emulator, reply)
        finally:
            emulator.answered(0 if reply is None or reply.drop else reply.status)

    def _answer(self, emulator: Application, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True  # closed unanswered: the client sees a reset
            return
        emulator.pause(reply.stall)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        head, tail = payload, b""
        if reply.padding and payload.endswith(b"}"):
            # {"results": ..., "padding": "xxx...x"}, streamed: never held in memory whole.
            head, tail = payload[:-1] + b', "padding": "', b'"}'
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(head) + reply.padding + len(tail)))
        self.end_headers()
        self._write(emulator, head, reply.trickle)
        for left in range(reply.padding, 0, -_CHUNK):
            self.wfile.write(b"x" * min(_CHUNK, left))
        self._write(emulator, tail, reply.trickle)

    def _write(self, emulator: Application, data: bytes, trickle: float) -> None:
        if not trickle:
            self.wfile.write(data)
            return
        for byte in range(len(data)):
            self.wfile.write(data[byte : byte + 1])
            self.wfile.flush()
            emulator.pause(trickle)
