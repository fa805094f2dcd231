"""Structured logging: one JSON object a line when stderr is not a terminal.

Log calls name a fixed event (`log.info("webhook_accepted", extra={...})`); the request
id is added from the Flask request context. Callers pass ids and counts, never a secret,
a token or a payload.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import g, has_request_context

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "event" and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{key}={_text_value(value)}"
            for key, value in vars(record).items()
            if key not in _STANDARD and key != "event" and value is not None
        )
        line = f"{record.levelname:<7} {getattr(record, 'event', record.getMessage())} {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.rstrip()


def _text_value(value: object) -> str:
    """A value as text on one line: one holding a space, a quote or any character that is
    not printable (a newline from a request path) is written as a JSON string."""
    text = str(value)
    if text.isprintable() and " " not in text and '"' not in text:
        return text
    return json.dumps(text)


def configure(level: str = "INFO", as_json: bool | None = None) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    if as_json is None:
        as_json = not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_relay", False)]:
        root.removeHandler(old)
    handler._relay = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 logs full URLs at DEBUG; keep third-party chatter at WARNING.
    for noisy in ("urllib3", "werkzeug", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
