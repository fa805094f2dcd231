"""Checked run-time changes to an emulator's settings, from JSON values: each field has a
`Check` that converts a value or raises ValueError naming what is wrong, and a change
applies all or nothing."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

Check = Callable[[Any], Any]
T = TypeVar("T")


def integer(minimum: int = 0) -> Check:
    def check(value: Any) -> int:
        if type(value) is not int or value < minimum:  # bool is an int subclass, not a count
            raise ValueError(f"expected an integer of at least {minimum}, not {value!r}")
        return value

    return check


def number(minimum: float = 0.0) -> Check:
    def check(value: Any) -> float:
        if type(value) not in (int, float) or value < minimum:
            raise ValueError(f"expected a number of at least {minimum}, not {value!r}")
        return float(value)

    return check


def text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, not {value!r}")
    return value


def names(value: Any) -> set[str]:
    if not isinstance(value, list | set | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, not {value!r}")
    return set(value)


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, not {value!r}")
    return value


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {list(choices)}, not {value!r}")
        return str(value)

    return check


def utc_offset(value: Any) -> int:
    """Minutes from UTC, as a shop's or site's time zone has them."""
    minutes: int = integer(-720)(value)
    if minutes > 840:
        raise ValueError("a UTC offset lies between -720 and 840 minutes")
    return minutes


def distinct(items: Sequence[Any], what: str, *attributes: str) -> None:
    """Refuse no items, or two sharing a value of one of these attributes."""
    for attribute in attributes:
        values = [getattr(item, attribute) for item in items]
        if not values or len(set(values)) != len(values):
            raise ValueError(f"{what} need distinct values of {', '.join(attributes)}")


def find(items: Sequence[T], name: str | None, attribute: str, what: str) -> T:
    """The item whose `attribute` is `name` (None: the first); KeyError names a missing one."""
    if name is None:
        return items[0]
    for item in items:
        if getattr(item, attribute) == name:
            return item
    known = [getattr(item, attribute) for item in items]
    raise KeyError(f"no {what} {name!r}; {what}s: {known}")


def patched(
    items: Sequence[T], changes: Any, attribute: str, checks: Mapping[str, Check], what: str
) -> list[T]:
    """Copies of the items with `{name: {field: value}}` applied to those named, checked;
    the items themselves are left alone, so a bad change changes nothing."""
    if not isinstance(changes, Mapping):
        raise ValueError(f"{what}s take {{name: {{field: value}}}}")
    out = [copy.copy(item) for item in items]
    names = [getattr(item, attribute) for item in out]
    for name, patch in changes.items():
        if name not in names:
            raise ValueError(f"no {what} {name!r} to change")
        if not isinstance(patch, Mapping):
            raise ValueError(f"{what} {name!r} takes {{field: value}}")
        item = out[names.index(name)]
        for field_name, value in converted(patch, checks, what).items():
            setattr(item, field_name, value)
    return out


def converted(changes: Mapping[str, Any], checks: Mapping[str, Check], what: str) -> dict[str, Any]:
    """Every change converted by its field's check; ValueError names the first bad one."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        check = checks.get(name)
        if check is None:
            raise ValueError(f"unknown {what} field {name!r}; known: {sorted(checks)}")
        try:
            out[name] = check(value)
        except ValueError as exc:
            raise ValueError(f"bad value for {what} field {name!r}: {exc}") from exc
    return out


def as_json(value: Any) -> Any:
    """A settings dataclass (or what it holds) as JSON values: sets sorted into lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value
