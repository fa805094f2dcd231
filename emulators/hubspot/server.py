"""The HubSpot emulator's HTTP layer, on the emulators' tracked server and handler: each
request goes to the emulator, and its `Reply` is written (or the connection dropped, or
the answer stalled, padded or trickled, as the reply asks)."""

from __future__ import annotations

import json
from typing import Protocol

from emulators.common.http import TrackedHandler, TrackedServer
from emulators.hubspot.replies import Reply


class Application(Protocol):
    """What the server serves: `emulators.hubspot.app.Emulator`."""

    def handle(self, method: str, target: str, authorization: str | None, body: bytes) -> Reply: ...

    def answered(self, status: int) -> None: ...

    def pause(self, seconds: float) -> None: ...


_CHUNK = 64 * 1024


class EmulatorServer(TrackedServer):
    request_queue_size = 128  # benchmarks open many connections at once
    name = "HubSpot"

    def __init__(self, address: tuple[str, int], emulator: Application) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class _Handler(TrackedHandler):
    server_version = "HubSpotEmulator/1.0"
    server: EmulatorServer

    def _serve(self, method: str) -> None:
        body = self.read_body()
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
