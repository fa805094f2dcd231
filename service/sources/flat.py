"""Loading optional, null-tolerant fields in one pass, without marshmallow's per-field cost.

Past its line items, a shop order is two dozen optional fields and a dozen small objects
(a customer, addresses, refunds). Through marshmallow's general machinery (schema hooks,
defaults, partial loading, a closure, an `And` validator and an error-store call per field)
they cost more than the values themselves, on every webhook. A `FlatLoader` calls each
field's own `_deserialize` for the keys that are present and not null and gives None for
every other declared key; unknown keys are ignored; bad values are a `ValidationError`
keyed by field name, as marshmallow would report them. So it only takes schemas of such
fields (checked when it is built): none required, all nullable, no validators; their
hooks are not run.

- `Flat`: a `Nested` field whose object loads through a `FlatLoader` (and which apispec
  documents as the nested schema, as it does `Nested`).
- `OrderLoader`: a shop order whose core (ids, dates, line items: required fields and
  schema checks) loads through marshmallow and whose details load flat, with the errors
  of both reported together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from marshmallow import Schema, ValidationError, fields


class FlatLoader:
    """Loads the fields of `schema`, all optional and nullable, from a mapping."""

    def __init__(self, schema: Schema) -> None:
        plan = []
        for name, field in schema.load_fields.items():
            if field.required or not field.allow_none or field.validators:
                raise TypeError(
                    f"{type(schema).__name__}.{name}: a flat schema's fields must be "
                    "optional and nullable, without validators"
                )
            plan.append((field.data_key or name, name, field))
        self._plan = tuple(plan)

    def load(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """The declared fields of `value` (None where absent or null); raise
        `ValidationError` with messages keyed by field name."""
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, name, field in self._plan:
            raw = value.get(key)
            if raw is None:
                result[name] = None
                continue
            try:
                result[name] = field._deserialize(raw, key, value)
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return result


class Flat(fields.Nested):
    """A nested object of optional, null-tolerant fields (an address, a customer): absent
    or null loads as None, anything but an object is "Invalid type."."""

    def __init__(self, nested: type[Schema], **kwargs: Any) -> None:
        super().__init__(nested, **{"allow_none": True, "load_default": None, **kwargs})
        self._loader: FlatLoader | None = None

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.make_error("type")
        if self._loader is None:  # built on first use: `Nested` resolves its schema late
            self._loader = FlatLoader(self.schema)
        return self._loader.load(value)


class OrderLoader:
    """Loads a shop order: `schema` is the whole order as documented, and inherits from
    `details` the fields it loads flat; the rest (its core) loads through marshmallow."""

    def __init__(self, schema: type[Schema], details: type[Schema]) -> None:
        if not issubclass(schema, details):
            raise TypeError(f"{schema.__name__} must inherit its details, {details.__name__}")
        flat = details()
        self._core = schema(exclude=tuple(flat.load_fields))
        self._details = FlatLoader(flat)

    def load(self, payload: object) -> dict[str, Any]:
        """The loaded order; raise `ValidationError` naming every field at fault."""
        errors: dict[str, Any] = {}
        data: dict[str, Any] = {}
        try:
            data = self._core.load(payload)  # type: ignore[arg-type]
        except ValidationError as exc:
            # A body that is not an object is reported by marshmallow, as
            # {"_schema": ["Invalid input type."]}; its details are not looked at.
            _merge(errors, exc)
        if isinstance(payload, Mapping):
            try:
                data.update(self._details.load(payload))
            except ValidationError as exc:
                _merge(errors, exc)
        if errors:
            raise ValidationError(errors)
        return data


def _merge(errors: dict[str, Any], exc: ValidationError) -> None:
    # A schema's and a flat loader's messages are dicts keyed by field; the two sets of
    # fields are disjoint, so one update keeps both.
    messages = exc.messages
    errors.update(messages if isinstance(messages, dict) else {"_schema": messages})
