"""`Served`, the start/stop life of a shop emulator: serve in a daemon thread (`start`,
or as a context manager) or in the foreground (`serve_forever`), `url` once listening.
A subclass answers `handle` and may start and stop its own workers (the webhook outbox)
in `_on_start` and `_on_stop`."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from emulators.common.http import EmulatorServer, Reply, Request


class Served:
    """An emulator that serves over HTTP; `name` is used in logs and thread names."""

    name = "shop"

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # ends stalls at stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self._address[0]}:{self._server.server_port}"

    def start(self) -> Self:
        """Serve in a daemon thread; returns self once the socket is listening."""
        if self._server is None:
            self._stopping.clear()
            self._server = EmulatorServer(self._address, self, self.name)
            self._on_start()
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},  # stop() waits up to one interval
                name=f"{self.name}-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._stopping.clear()
        self._server = EmulatorServer(self._address, self, self.name)
        self._on_start()
        print(f"{self.name} emulator listening on {self.url}", flush=True)
        self._announce()
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def pause(self, seconds: float) -> None:
        """Wait, but no longer than until stop()."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def _on_start(self) -> None:
        """Start workers beside the server (called once the socket is bound)."""

    def _on_stop(self) -> None:
        """Stop what `_on_start` started."""

    def _announce(self) -> None:
        """Print what a user of the foreground server needs (tokens, keys)."""

    def _close(self) -> None:
        if self._server is not None:
            self._stopping.set()
            self._server.close_connections()
            self._server.server_close()
            self._on_stop()
        self._server, self._thread = None, None
