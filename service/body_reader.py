"""WSGI middleware that reads each request body whole before Flask sees it: at most the
size limit, and no slower than a minimum rate.

Size. Werkzeug caps a chunked body (no Content-Length) at MAX_CONTENT_LENGTH by reading
up to the limit and stopping there without an error, so the view got the first 1 MiB of
a 20 MB body and stored it. Here such a body is read up to one byte past the limit:
within it, the request goes on with the bytes read and their length as its
Content-Length, as if it had been sent so; past it, the length stands at limit + 1, so
the app answers 413 before any view reads the body. What follows the limit is read and
dropped up to another limit's worth, so a client that sent a little too much reads its
413 rather than a connection reset. A body whose Content-Length is over the limit is not
read at all (the app answers 413 from the header).

Rate. A client that sends its body slowly holds whatever serves it: a whole sync worker,
or a greenlet and its buffers. A body must have arrived at `min_rate` bytes a second,
counted after a grace of `grace_seconds`: at t seconds into the body, at least
min_rate * (t - grace) bytes. Each read of a part (64 KiB at most) must end by the moment
its last byte is due; a client that misses it gets 408 and the connection is closed.
gunicorn's gevent worker already closes a socket that has not sent its headers within
`keepalive` seconds (deploy/gunicorn.conf.py).
"""

from __future__ import annotations

import io
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# environ key: why the body was not read, for the app to answer (408 or 400)
BODY_PROBLEM = "relay.body_problem"
TOO_SLOW = "too_slow"
CUT_SHORT = "cut_short"
_READ_SIZE = 64 * 1024


class BodyReader:
    """Wrap a WSGI app so every body reaches it whole and length-delimited, or not at all."""

    def __init__(
        self, app: WsgiApp, max_body_bytes: int, *, grace_seconds: float, min_rate: float
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.grace_seconds = grace_seconds
        self.min_rate = min_rate

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = _declared_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked and (length == 0 or length > self.max_body_bytes):
            return self.app(environ, start_response)
        limit = self.max_body_bytes + 1 if chunked else length
        reader = _PacedReader(environ, self.grace_seconds, self.min_rate)
        try:
            body = reader.read(limit)
            if chunked and len(body) > self.max_body_bytes:
                reader.read(self.max_body_bytes, keep=False)
        except TimeoutError:
            environ[BODY_PROBLEM] = TOO_SLOW
            return _closing(self.app(environ, start_response), environ)
        environ["wsgi.input"] = io.BytesIO(body)
        if chunked:
            environ["CONTENT_LENGTH"] = str(len(body))
            # werkzeug ignores Content-Length beside Transfer-Encoding: chunked.
            del environ["HTTP_TRANSFER_ENCODING"]
        elif len(body) < length:
            environ[BODY_PROBLEM] = CUT_SHORT  # the client went away: never a shorter order
        return self.app(environ, start_response)


def _declared_length(environ: dict[str, Any]) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # gunicorn refuses a malformed Content-Length before the app


class _PacedReader:
    """Reads the raw input a part at a time, each part bounded by the moment the rate
    says it is due."""

    def __init__(self, environ: dict[str, Any], grace_seconds: float, min_rate: float) -> None:
        self.stream = environ["wsgi.input"]
        self.sock: socket.socket | None = environ.get("gunicorn.socket")
        self.grace = grace_seconds
        self.min_rate = min_rate
        self.started = time.monotonic()
        self.received = 0

    def read(self, limit: int, *, keep: bool = True) -> bytes:
        """Read until the input ends or `limit` bytes are read; the bytes, if `keep`.
        Raise TimeoutError when the client falls behind the rate."""
        parts: list[bytes] = []
        read = 0
        try:
            while read < limit:
                size = min(_READ_SIZE, limit - read)
                with self._due(size):
                    part = self.stream.read(size)
                if not part:
                    break
                read += len(part)
                self.received += len(part)
                if keep:
                    parts.append(part)
        finally:
            if self.sock is not None and _gevent_timeout() is None:
                self.sock.settimeout(None)
        return b"".join(parts)

    def _due(self, size: int) -> AbstractContextManager[object]:
        """A bound on reading the next `size` bytes: until they are due at the rate."""
        if self.sock is None or self.min_rate <= 0:
            return nullcontext()  # not under gunicorn (the test client), or no rate asked
        left = self.started + self.grace + (self.received + size) / self.min_rate
        left -= time.monotonic()
        if left <= 0:
            raise TimeoutError("the body arrives more slowly than the minimum rate")
        timeout = _gevent_timeout()
        if timeout is not None:
            # gunicorn's body reader loops over recv() until it has `size` bytes: only a
            # bound on the whole read holds a trickle to the rate.
            bound: AbstractContextManager[object] = timeout(left, TimeoutError)
            return bound
        # Elsewhere (a sync worker) each recv() gets the bound: weaker, a trickle may
        # stretch a read, but never past gunicorn's own worker timeout.
        self.sock.settimeout(left)
        return nullcontext()


def _gevent_timeout() -> Any:
    """gevent.Timeout when this process runs under gevent (its socket module patched)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("socket"):
        return None
    from gevent import Timeout

    return Timeout


def _closing(answer: Iterable[bytes], environ: dict[str, Any]) -> Iterator[bytes]:
    """The app's answer (a 408), then the connection shut: what is left of a slow body is
    not read, and the next request on it is not waited for."""
    try:
        yield from answer
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            with suppress(OSError):  # the client is gone already
                sock.shutdown(socket.SHUT_RDWR)
