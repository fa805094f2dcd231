"""The text rule: what the relay does with text that a store cannot hold.

JSON may carry two things no store takes: a lone surrogate (`"\\ud800"`: half of a UTF-16
pair, which UTF-8 cannot encode, so SQLite's driver and psycopg both fail on it) and NUL
(`"\\u0000"`, which PostgreSQL's text and its JSON-to-text conversion refuse). Neither
means anything in a name, an address or an email, so the relay replaces each lone
surrogate with U+FFFD (the replacement character) and removes every NUL, in every
string of a parsed body (keys too) and in every header value it keeps; the order then
reaches HubSpot as the shop sent it but for those characters (README, "Text the store
cannot hold"). The raw body of a rejected webhook is kept as bytes, unchanged.

Both can only come from a `\\u` escape: the UTF-8 decoder refuses an encoded surrogate,
and JSON refuses a raw control character. So a body whose text has no such escape is
left alone without a walk over its values.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
# A JSON escape that may decode to NUL or to a surrogate (paired ones included: those
# decode to one astral character, and the walk then finds nothing to change).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# After json.loads every surrogate left in a string is a lone one: pairs were combined.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _replace(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else REPLACEMENT


def clean(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD and every NUL removed."""
    return _UNSTORABLE.sub(_replace, text) if _UNSTORABLE.search(text) else text


def may_need_cleaning(json_text: str) -> bool:
    """Whether parsed JSON text may hold a string that `clean` would change."""
    return _SUSPECT_ESCAPE.search(json_text) is not None


def clean_json(value: Any) -> Any:
    """A parsed JSON value with `clean` applied to every string in it, keys included.

    Containers are changed in place and walked with a stack, not recursion: JSON nested
    as deep as the parser allows must not overflow a second time here."""
    if isinstance(value, str):
        return clean(value)
    stack = [value]
    while stack:
        container = stack.pop()
        if isinstance(container, list):
            for index, item in enumerate(container):
                if isinstance(item, str):
                    container[index] = clean(item)
                elif isinstance(item, list | dict):
                    stack.append(item)
        elif isinstance(container, dict):
            items = list(container.items())
            container.clear()
            for key, item in items:
                if isinstance(item, str):
                    item = clean(item)
                elif isinstance(item, list | dict):
                    stack.append(item)
                container[clean(key)] = item
    return value
