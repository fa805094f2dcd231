"""gunicorn's access and error logs as JSON lines, each field escaped by the JSON encoder.

gunicorn's `access_log_format` is a %-template: a path is decoded before it is logged, so
a request for `/x%0A{"event":...}` wrote a second line of the attacker's choosing, and a
`%22` or `%5C` broke the JSON. Here every access line is a log record whose fields are
extras, rendered by `service.logs.JsonFormatter` (json.dumps escapes newlines, quotes,
backslashes and NUL), and so is every line of gunicorn's error log.

deploy/gunicorn.conf.py names `JsonGunicornLogger` as its `logger_class`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from service.logs import JsonFormatter


class JsonGunicornLogger(Logger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's logger with one JSON object a line on both of its logs."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(_name_gunicorn_lines)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.cfg.accesslog:
            return
        self.access_log.info("http_access", extra=access_fields(resp, environ, request_time))


def access_fields(resp: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
    """What an access line holds: no query string, no header but the request id the app
    answered with (the query of a misdirected request may carry a key)."""
    status = str(resp.status).split(None, 1)[0]
    response_headers = {name.lower(): value for name, value in resp.headers}
    return {
        "event": "http_access",
        "remote": environ.get("REMOTE_ADDR"),
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "status": int(status) if status.isdigit() else status,
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 1),
        "request_id": response_headers.get("x-request-id"),
    }


def _name_gunicorn_lines(record: logging.LogRecord) -> bool:
    """gunicorn's own lines ("Booting worker with pid: 7") get the fixed event `gunicorn`,
    their text as a field."""
    if not hasattr(record, "event"):
        record.event = "gunicorn"
        record.text = record.getMessage()
    return True
