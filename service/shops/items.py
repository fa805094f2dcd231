"""A listing's orders as the raw JSON text the shop sent for each, so each goes through
the webhook's own parsing (`service.intake`: exact numbers, the text rule) as if it had
come alone. Re-serialising a parsed order could change its numbers (a float) or its text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_DECODER = json.JSONDecoder(parse_float=Decimal)
_SPACE = " \t\n\r"


def array_items(text: str, key: str | None = None) -> list[tuple[str, Any]]:
    """(raw text, parsed value) of each item of the top-level array, or of the array under
    `key` in the top-level object. Raise ValueError when the text has no such array."""
    start = _find(text, key)
    return _items(text, start)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at


def _find(text: str, key: str | None) -> int:
    """Where the wanted array begins (its `[`)."""
    at = _skip(text, 0)
    if key is None:
        return at
    if text[at : at + 1] != "{":
        raise ValueError("not a JSON object")
    at = _skip(text, at + 1)
    while at < len(text) and text[at] != "}":
        name, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] != ":":
            raise ValueError("malformed JSON object")
        at = _skip(text, at + 1)
        if name == key:
            return at
        _value, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)
    raise ValueError(f"no {key!r} in the answer")


def _items(text: str, at: int) -> list[tuple[str, Any]]:
    if text[at : at + 1] != "[":
        raise ValueError("not a JSON array")
    found: list[tuple[str, Any]] = []
    at = _skip(text, at + 1)
    while text[at : at + 1] != "]":
        value, end = _DECODER.raw_decode(text, at)
        found.append((text[at:end], value))
        at = _skip(text, end)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)
        elif text[at : at + 1] != "]":
            raise ValueError("malformed JSON array")
    return found
