"""WSGI middleware that reads a chunked request body whole, at most the size limit, before
Flask sees it.

Werkzeug caps a chunked body (no Content-Length) at MAX_CONTENT_LENGTH by reading up to
the limit and stopping there without an error, so the view got the first 1 MiB of a 20 MB
body and stored it. Here such a body is read up to one byte past the limit: within it, the
request goes on with the bytes read and their length as its Content-Length, as if it had
been sent so; past it, the length stands at limit + 1, so the app answers 413 before any
view reads the body. What follows the limit is read and dropped up to another limit's
worth, so a client that sent a little too much reads its 413 rather than a connection
reset; a larger body is left unread and the connection closes with it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_READ_SIZE = 64 * 1024


class ChunkedBodyReader:
    """Wrap a WSGI app so a body without Content-Length reaches it length-delimited."""

    def __init__(self, app: WsgiApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if _is_streamed(environ):
            body = read_at_most(environ["wsgi.input"], self.max_body_bytes + 1)
            if len(body) > self.max_body_bytes:
                read_at_most(environ["wsgi.input"], self.max_body_bytes, keep=False)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            # werkzeug ignores Content-Length beside Transfer-Encoding: chunked.
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.app(environ, start_response)


def _is_streamed(environ: dict[str, Any]) -> bool:
    """A body whose end only the server knows: chunked, no Content-Length."""
    if environ.get("CONTENT_LENGTH"):
        return False
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def read_at_most(stream: Any, limit: int, *, keep: bool = True) -> bytes:
    """Read `stream` until it ends or `limit` bytes are read; the bytes, if `keep`."""
    parts: list[bytes] = []
    read = 0
    while read < limit:
        part = stream.read(min(_READ_SIZE, limit - read))
        if not part:
            break
        read += len(part)
        if keep:
            parts.append(part)
    return b"".join(parts)
