"""The shared schema pieces of service.sources: Text, SignedMoney and the text helpers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError, fields

from service.sources import (
    MAX_AMOUNT,
    NULLABLE,
    SignedMoney,
    SourceSchema,
    Text,
    first_text,
    join_text,
)
from service.sources.flat import Flat


class PointSchema(SourceSchema):
    label = Text(**NULLABLE)
    delta = SignedMoney(**NULLABLE)
    tags = fields.List(fields.String(), **NULLABLE)


class HolderSchema(SourceSchema):
    point = Flat(PointSchema)


HOLDER = HolderSchema()


def load(point: Any) -> Any:
    return HOLDER.load({"point": point})["point"]


@pytest.mark.parametrize(
    ("value", "text"), [("04101", "04101"), (4101, "4101"), (Decimal("12.50"), "12.50")]
)
def test_text_takes_a_string_or_a_json_number_as_its_digits(value: object, text: str) -> None:
    assert load({"label": value})["label"] == text


@pytest.mark.parametrize("value", [True, 1.5, [], {}])
def test_text_refuses_booleans_floats_and_containers(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        load({"label": value})

    assert caught.value.messages == {"point": {"label": ["Not a valid string."]}}


@pytest.mark.parametrize("value", ["-10.00", "10.00", -3, Decimal("-0.5")])
def test_signed_money_takes_amounts_on_both_sides_of_zero(value: object) -> None:
    assert load({"delta": value})["delta"] == Decimal(value)


@pytest.mark.parametrize("value", [str(MAX_AMOUNT), str(-MAX_AMOUNT), "--1", 1.5])
def test_signed_money_keeps_moneys_bounds_and_types(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        load({"delta": value})

    assert list(caught.value.messages["point"]) == ["delta"]


def test_first_text_skips_empty_and_missing_values() -> None:
    assert first_text("", None, "b", "c") == "b"
    assert first_text("", None) is None


def test_join_text_joins_the_non_empty_values() -> None:
    assert join_text(", ", "1 Main St", "", None, "Unit 2") == "1 Main St, Unit 2"
    assert join_text(", ", "", None) is None
