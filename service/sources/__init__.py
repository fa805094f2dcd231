"""Shop payloads into canonical orders: one module per shop, shared pieces here.

Each shop module (`shopify`, `woocommerce`) holds marshmallow schemas for the shop's order
body and `to_order(payload, store) -> Order`, which raises `marshmallow.ValidationError`
with messages keyed by field name (line items by index) when the body does not fit.

The body must be parsed with `parse_json`, never plain `json.loads`: it keeps every JSON
number exact (fractions as `Decimal`, integers as `int` even above 2**53), and the money
fields below refuse a `float` rather than guess at its digits; and it applies the text
rule (`service.text`: no lone surrogate, no NUL), so every string it gives can be stored.

Shared schema pieces: `SourceSchema` (ignores unknown keys, as shops add fields in every
API version), `ExactId`, `Money`, `SignedMoney`, `Currency`, `Quantity`, `Text`, `NULLABLE`,
`load_payload`, `reject_duplicate_ids`; and `first_text`, `join_text` for the values built
from them. `service.sources.flat` loads the optional fields of shop orders in one pass.

Every field beyond what line items need (names, statuses, totals, buyer, addresses) is
optional and null-tolerant: a body the relay accepted before these fields existed is
still accepted, and a shop that leaves one out only leaves that value unknown (None).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from service.money import parse_decimal
from service.text import clean_json, may_need_cleaning

# Shopify ids are int64 and WooCommerce ids are post ids: all fit in 64 unsigned bits.
_MAX_ID = 2**64
# A string id becomes part of "{source}:{store}:{id}", so no ':' and no whitespace.
# At most 64 characters: the store keeps order ids in a VARCHAR(64).
_ID_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Bounds that keep arithmetic and storage cheap; no real order line comes near them.
MAX_AMOUNT = Decimal(10) ** 15
MAX_QUANTITY = 2**31 - 1
MAX_PLACES = 12  # no currency has more than 3 minor digits; shops send a handful
_CURRENCY = re.compile(r"[A-Za-z]{3}")
# The keyword arguments of an optional field: absent or null both load as None.
NULLABLE: Final[dict[str, Any]] = {"allow_none": True, "load_default": None}


def parse_json(body: bytes) -> object:
    """Parse a UTF-8 JSON body with exact numbers and storable text (`service.text`);
    raise `ValueError` if it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("body is not valid UTF-8") from exc
    # json.loads raises JSONDecodeError, a ValueError, on malformed text.
    try:
        payload = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError as exc:  # thousands of nested arrays or objects: not an order
        raise ValueError("JSON nested too deeply") from exc
    # The text rule (service.text): no string the relay keeps or sends holds a lone
    # surrogate or a NUL, which no store can take.
    return clean_json(payload) if may_need_cleaning(text) else payload


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

    signed = False  # SignedMoney takes amounts below zero too, within the same bounds

    default_error_messages = {
        "invalid": "Not a valid amount: expected a decimal string or number.",
        "negative": "Must not be negative.",
        "too_large": "Amount too large.",
        "too_precise": "Amount has too many decimal places.",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Decimal:
        try:
            amount = parse_decimal(value)
        except (TypeError, ValueError) as exc:
            raise self.make_error("invalid") from exc
        if amount < 0 and not self.signed:
            raise self.make_error("negative")
        if abs(amount) >= MAX_AMOUNT:
            raise self.make_error("too_large")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_PLACES:
            # Refused before any arithmetic: an exact division of 1.23e-999990 by a
            # quantity took 0.3 s of CPU per line.
            raise self.make_error("too_precise")
        return amount


class SignedMoney(Money):
    """An amount that may be negative, such as a WooCommerce refund's total ("-10.00")."""

    signed = True


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


class Text(fields.String):
    """Text such as a postal code or a phone number: a JSON string, or a JSON number kept
    as the digits that were sent (some shops and plugins send a zip code as 40202)."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        # bool is an int subclass and means nothing here; a float has lost digits already.
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


def first_text(*values: str | None) -> str | None:
    """The first value that is a non-empty string, else None (shops send "" for unknown)."""
    for value in values:
        if value:
            return value
    return None


def join_text(separator: str, *values: str | None) -> str | None:
    """The non-empty values joined by `separator`, or None when there is none."""
    return separator.join(value for value in values if value) or None


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
