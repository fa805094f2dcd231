"""Shop payloads into canonical orders: one module per shop, shared pieces here.

Each shop module (`shopify`, `woocommerce`) holds marshmallow schemas for the shop's order
body and `to_order(payload, store) -> Order`, which raises `marshmallow.ValidationError`
with messages keyed by field name (line items by index) when the body does not fit.

The body must be parsed with `parse_json`, never plain `json.loads`: it keeps every JSON
number exact (fractions as `Decimal`, integers as `int` even above 2**53), and the money
fields below refuse a `float` rather than guess at its digits.

Shared schema pieces: `SourceSchema` (ignores unknown keys, as shops add fields in every
API version), `ExactId`, `Money`, `Currency`, `Quantity`, `load_payload`,
`reject_duplicate_ids`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from service.money import parse_decimal

# Shopify ids are int64 and WooCommerce ids are post ids: all fit in 64 unsigned bits.
_MAX_ID = 2**64
# A string id becomes part of "{source}:{store}:{id}", so no ':' and no whitespace.
# At most 64 characters: the store keeps order ids in a VARCHAR(64).
_ID_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Bounds that keep arithmetic and storage cheap; no real order line comes near them.
MAX_AMOUNT = Decimal(10) ** 15
MAX_QUANTITY = 2**31 - 1
_CURRENCY = re.compile(r"[A-Za-z]{3}")


def parse_json(body: bytes) -> object:
    """Parse a UTF-8 JSON body with exact numbers; raise `ValueError` if it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("body is not valid UTF-8") from exc
    # json.loads raises JSONDecodeError, a ValueError, on malformed text.
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError as exc:  # thousands of nested arrays or objects: not an order
        raise ValueError("JSON nested too deeply") from exc


def _reject_constant(name: str) -> object:
    # Python's json accepts NaN and Infinity, which are not JSON and not amounts.
    raise ValueError(f"{name} is not a valid JSON value")


class SourceSchema(Schema):
    """Base of the shop schemas: unknown keys are dropped, not errors."""

    class Meta:
        unknown = EXCLUDE


class ExactId(fields.Field[str]):
    """A shop's id, a JSON integer or a string, kept exact as text."""

    default_error_messages = {"invalid": "Not a valid id: expected an integer or an id string."}

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        # bool is an int subclass; a float or Decimal id has lost or invented digits.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_ID:
            return str(value)
        if isinstance(value, str) and _ID_TEXT.fullmatch(value):
            return value
        raise self.make_error("invalid")


class Money(fields.Field[Decimal]):
    """A non-negative amount: a decimal string, a JSON integer or a `Decimal` from JSON."""

    default_error_messages = {
        "invalid": "Not a valid amount: expected a decimal string or number.",
        "negative": "Must not be negative.",
        "too_large": "Amount too large.",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Decimal:
        try:
            amount = parse_decimal(value)
        except (TypeError, ValueError) as exc:
            raise self.make_error("invalid") from exc
        if amount < 0:
            raise self.make_error("negative")
        if amount >= MAX_AMOUNT:
            raise self.make_error("too_large")
        return amount


class Currency(fields.String):
    """An ISO 4217 code, returned upper case."""

    default_error_messages = {"invalid_currency": "Not a valid ISO 4217 currency code."}

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        if not _CURRENCY.fullmatch(code):
            raise self.make_error("invalid_currency")
        return code.upper()


class Quantity(fields.Integer):
    """A count of units: a JSON integer (not "2", 2.0 or true), 0 or more."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(0, MAX_QUANTITY), **kwargs)


def load_payload(schema: Schema, payload: object) -> dict[str, Any]:
    """Load `payload` with `schema`; raise `ValidationError` if it does not fit."""
    # A body that is not a JSON object is reported by marshmallow itself, as
    # {"_schema": ["Invalid input type."]}, so any parsed body may be passed.
    result: dict[str, Any] = schema.load(payload)  # type: ignore[arg-type]
    return result


def reject_duplicate_ids(line_items: Sequence[Mapping[str, Any]]) -> None:
    """Raise `ValidationError` if two line items share an id (they would share a key)."""
    seen: set[str] = set()
    errors: dict[int, dict[str, list[str]]] = {}
    for index, item in enumerate(line_items):
        if item["id"] in seen:
            errors[index] = {"id": ["Duplicate line item id."]}
        seen.add(item["id"])
    if errors:
        raise ValidationError({"line_items": errors})
