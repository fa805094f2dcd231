"""Checked run-time changes to an emulator's settings, from JSON values: each field has a
`Check` that converts a value or raises ValueError naming what is wrong, and a change
applies all or nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], Any]


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
