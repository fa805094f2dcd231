"""The text rule: every string of a parsed body can be stored and sent."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.sources import parse_json
from service.text import REPLACEMENT, clean, clean_json, may_need_cleaning


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *strings_in(item)]]
    return []


def test_a_lone_surrogate_becomes_the_replacement_character_and_nul_is_removed() -> None:
    assert clean("Jane\ud800 Doe") == f"Jane{REPLACEMENT} Doe"
    assert clean("\udfff") == REPLACEMENT
    assert clean("Ja\x00ne\x00") == "Jane"
    assert clean("Crème brûlée \U0001f370") == "Crème brûlée \U0001f370"


def test_a_body_with_escaped_surrogates_and_nul_parses_to_storable_text() -> None:
    body = b'{"name": "a\\ud800b", "no\\u0000te": ["x\\u0000y", {"k": "\\uDC00"}]}'

    parsed = parse_json(body)

    assert parsed == {"name": f"a{REPLACEMENT}b", "note": ["xy", {"k": REPLACEMENT}]}
    for text in strings_in(parsed):
        text.encode("utf-8")  # raises on a lone surrogate
        assert "\x00" not in text


def test_a_surrogate_pair_is_kept_as_the_character_it_encodes() -> None:
    assert parse_json(b'{"name": "cake \\ud83c\\udf70"}') == {"name": "cake \U0001f370"}


def test_only_an_escape_that_may_decode_to_nul_or_a_surrogate_asks_for_a_walk() -> None:
    assert may_need_cleaning('"\\u0000"')
    assert may_need_cleaning('"\\ud800"') and may_need_cleaning('"\\uDFFF"')
    assert not may_need_cleaning('"\\u00e8 \\u2013 \\u0026 \\ue000"')
    assert not may_need_cleaning("plain text with no escape")


def test_json_nested_as_deep_as_the_parser_allows_is_cleaned_without_recursion() -> None:
    depth = 900
    value: Any = "\x00"
    for _ in range(depth):
        value = [value]

    cleaned = clean_json(value)

    for _ in range(depth):
        cleaned = cleaned[0]
    assert cleaned == ""


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values, ascii_only=st.booleans())
def test_every_string_parse_json_gives_encodes_as_utf_8_without_nul(
    value: Any, ascii_only: bool
) -> None:
    # json.dumps escapes lone surrogates (ensure_ascii) or writes them raw, which UTF-8
    # cannot encode: "surrogatepass" lets such bytes reach the parser, which refuses them.
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        parsed = parse_json(body)
    except ValueError:
        assert not ascii_only  # only raw surrogates make the body invalid UTF-8
        return
    for text in strings_in(parsed):
        text.encode("utf-8")
        assert "\x00" not in text
