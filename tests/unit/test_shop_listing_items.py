"""A listing's orders split into the raw JSON text the shop sent for each."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from service.shops.http import CallLimit
from service.shops.items import array_items


def test_each_item_keeps_its_own_text_and_exact_numbers() -> None:
    text = (
        '{"orders": [ {"id": 1, "price": 0.10000000000000000001, "name": "a\\u00e9\\/"} ,'
        '\n{"id": 2}], "x": 3}'
    )
    items = array_items(text, "orders")
    assert [raw for raw, _ in items] == [
        '{"id": 1, "price": 0.10000000000000000001, "name": "a\\u00e9\\/"}',
        '{"id": 2}',
    ]
    assert items[0][1]["price"] == Decimal("0.10000000000000000001")
    assert json.loads(items[0][0])["name"] == "aé/"


def test_the_key_may_come_after_others_and_a_bare_array_needs_none() -> None:
    assert [v for _, v in array_items('{"a": {"orders": 1}, "orders": [[1], 2]}', "orders")] == [
        [1],
        2,
    ]
    assert array_items("[]") == []
    assert [raw for raw, _ in array_items(' [ "x" , {"y": []} ] ')] == ['"x"', '{"y": []}']


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"errors": "Not Found"}', "orders"),
        ('{"orders": {"id": 1}}', "orders"),
        ('["a" "b"]', None),
        ("[1, 2", None),
        ('{"code": "x"}', None),
        ("", None),
    ],
)
def test_an_answer_without_the_array_is_a_value_error(text: str, key: str | None) -> None:
    with pytest.raises(ValueError):
        array_items(text, key)


def test_the_call_limit_waits_only_when_the_next_request_would_fill_the_bucket() -> None:
    limit = CallLimit(leak_per_second=2.0)
    assert limit.wait_before_next(0.0) == 0.0  # nothing seen yet
    limit.observe("10/40", now=100.0)
    assert limit.wait_before_next(100.0) == 0.0
    limit.observe("39/40", now=100.0)
    assert limit.wait_before_next(100.0) == pytest.approx(0.5)  # one place kept spare
    assert limit.wait_before_next(100.5) == 0.0  # drained meanwhile
    limit.observe("garbage", now=101.0)
    assert limit.wait_before_next(100.0) == pytest.approx(
        0.5
    )  # an unreadable header changes nothing
