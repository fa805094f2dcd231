"""The shared schema pieces of service.sources: Text, SignedMoney and Flat."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError, fields

from service.sources import (
    MAX_AMOUNT,
    NULLABLE,
    Flat,
    SignedMoney,
    SourceSchema,
    Text,
    first_text,
    join_text,
)


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


def test_flat_loads_absent_and_null_keys_as_none_and_ignores_unknown_ones() -> None:
    assert load({"label": None, "extra": object()}) == {"label": None, "delta": None, "tags": None}


def test_flat_loads_what_a_plain_nested_schema_loads() -> None:
    point = {"label": 7, "delta": "-1.5", "tags": ["a", "b"]}

    assert load(point) == PointSchema().load(point)


def test_flat_reports_every_bad_key_under_its_name() -> None:
    with pytest.raises(ValidationError) as caught:
        load({"label": False, "tags": [1]})

    assert caught.value.messages == {
        "point": {"label": ["Not a valid string."], "tags": {0: ["Not a valid string."]}}
    }


def test_flat_refuses_a_value_that_is_not_an_object_and_takes_null() -> None:
    with pytest.raises(ValidationError) as caught:
        load(["label"])

    assert caught.value.messages == {"point": ["Invalid type."]}
    assert load(None) is None
    assert HOLDER.load({}) == {"point": None}


@pytest.mark.parametrize(
    "field",
    [fields.String(required=True), fields.String(), fields.String(allow_none=True, validate=len)],
    ids=["required", "not-nullable", "validated"],
)
def test_flat_refuses_a_schema_whose_fields_it_could_not_load_faithfully(
    field: fields.Field[Any],
) -> None:
    schema = SourceSchema.from_dict({"name": field})
    holder = SourceSchema.from_dict({"inner": Flat(schema)})()

    with pytest.raises(TypeError, match="optional and nullable"):
        holder.load({"inner": {"name": "x"}})


def test_first_text_skips_empty_and_missing_values() -> None:
    assert first_text("", None, "b", "c") == "b"
    assert first_text("", None) is None


def test_join_text_joins_the_non_empty_values() -> None:
    assert join_text(", ", "1 Main St", "", None, "Unit 2") == "1 Main St, Unit 2"
    assert join_text(", ", "", None) is None
