"""Both log formats keep a request's text on its own line: nothing in a value can start
a line of its own or end the JSON object early."""

from __future__ import annotations

import json
import logging

import pytest

from service.logs import JsonFormatter, TextFormatter

HOSTILE = [
    '/x\n{"event":"order_accepted"}',
    '/a\\"}',
    "/nul\x00byte",
    "/cr\rlf",
    "/sep\u2028line",
]


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("service.test", logging.INFO, __file__, 1, "webhook_x", None, None)
    entry.event = "webhook_x"
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


@pytest.mark.parametrize("value", HOSTILE)
def test_a_json_line_holds_any_value_as_it_was(value: str) -> None:
    line = JsonFormatter().format(record(path=value, fields=[value]))

    assert line.count("\n") == 0 and "\u2028" not in line
    assert json.loads(line)["path"] == value
    assert json.loads(line)["fields"] == [value]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_text_line_writes_an_unsafe_value_as_a_json_string(value: str) -> None:
    line = TextFormatter().format(record(path=value))

    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert line.startswith("INFO    webhook_x path=")
    assert json.loads(line.split("path=", 1)[1]) == value


def test_a_plain_value_stays_plain_in_text() -> None:
    assert (
        TextFormatter()
        .format(record(store="acme.myshopify.com"))
        .endswith(" store=acme.myshopify.com")
    )
