"""The HubSpot emulator's settings (`EmulatorConfig`), changeable at run time through
`/_emulator/config` with JSON values.

Property settings are per object type: `{"orders": ["external_order_key"], ...}`. A type
left out of a change keeps its value; a plain list (the shape before object types) sets
line items only. `hs_external_order_id` is a plain string by default; add it to
`unique_properties["orders"]` to make it unique (whether HubSpot holds it unique is
UNCONFIRMED, shared/reference/commerce.md §1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from emulators.hubspot.faults import WRITE_CALLS, check_fault_names
from emulators.hubspot.objects import TYPES, all_scopes, object_type

PerType = dict[str, set[str]]


def _per_type(attribute: str) -> Callable[[], PerType]:
    return lambda: {t.name: set(getattr(t, attribute)) for t in TYPES}


@dataclass
class EmulatorConfig:
    """The emulated portal. Fields may be changed while the emulator runs."""

    access_tokens: set[str] = field(default_factory=lambda: {"sandbox-token"})
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_refresh_token: str | None = None
    oauth_expires_in: int = 1800
    refresh_token_reuse: int = 1  # extra refreshes a used refresh token still allows
    unique_properties: PerType = field(default_factory=_per_type("unique"))
    known_properties: PerType = field(default_factory=_per_type("known"))
    read_only_properties: PerType = field(default_factory=_per_type("read_only"))
    scopes: set[str] = field(default_factory=all_scopes)  # granted to every token
    rate_limit: int = 100
    rate_window: float = 10.0
    daily_limit: int = 250_000
    latency: float = 0.0
    fault_rates: dict[str, float] = field(default_factory=dict)
    fault_calls: set[str] = field(default_factory=lambda: set(WRITE_CALLS))  # kinds, prefixes
    # Contact emails this portal refuses as INVALID_EMAIL although well formed (lower case).
    refused_emails: set[str] = field(default_factory=set)
    seed: int | None = None
    timeout_seconds: float = 35.0
    trickle_seconds: float = 5.0  # the "trickle" fault: seconds between an answer's bytes
    huge_bytes: int = 300 * 1024 * 1024  # the "huge" fault: the filler in the answer
    missing_scopes: bool = False  # True: no scope at all is granted
    multi_status: bool = True  # False: per-input problems always 400 the batch (no 207)
    migration_retry_after: int = 1  # Retry-After of a 477; HubSpot's can be hours
    association_create_status: int = 201  # 200: as HubSpot has answered (hubspot-api-php #506)

    def __post_init__(self) -> None:
        check_fault_names(self.fault_rates)
        for name in _PER_TYPE_FIELDS:  # a plain set from older callers means line items
            setattr(self, name, _merge_types(_default_of(name), getattr(self, name)))

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply JSON-shaped changes all or nothing; ValueError names the bad field."""
        converted = {name: _coerce(self, name, value) for name, value in changes.items()}
        for name, value in converted.items():
            setattr(self, name, value)

    def granted_scopes(self) -> set[str]:
        return set() if self.missing_scopes else set(self.scopes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, set):
                value = sorted(value)
            elif f.name in _PER_TYPE_FIELDS:
                value = {kind: sorted(names) for kind, names in value.items()}
            out[f.name] = value
        return out


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is an int subclass, not a count


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_names(value: Any) -> bool:
    return isinstance(value, list | set | frozenset) and all(isinstance(v, str) for v in value)


def _is_per_type(value: Any) -> bool:
    if _is_names(value):
        return True
    return isinstance(value, dict) and all(
        object_type(k) is not None and _is_names(v) for k, v in value.items()
    )


def _default_of(name: str) -> PerType:
    return _per_type(
        {"unique_properties": "unique", "known_properties": "known"}.get(name, "read_only")
    )()


def _merge_types(current: PerType, value: Any) -> PerType:
    """A per-type change over the current value; a plain list sets line items."""
    merged = {kind: set(names) for kind, names in current.items()}
    if not isinstance(value, dict):
        merged["line_items"] = set(value)
        return merged
    for kind, names in value.items():
        resolved = object_type(kind)
        assert resolved is not None  # checked by _is_per_type
        merged[resolved.name] = set(names)
    return merged


_PER_TYPE_FIELDS = {"unique_properties", "known_properties", "read_only_properties"}
_SET_FIELDS = {"access_tokens", "scopes", "fault_calls", "refused_emails"}
_FLOAT_FIELDS = {"rate_window", "latency", "timeout_seconds", "trickle_seconds"}
_INT_FIELDS = ("oauth_expires_in", "refresh_token_reuse", "rate_limit", "daily_limit")
_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    **dict.fromkeys(_PER_TYPE_FIELDS, _is_per_type),
    **dict.fromkeys(_SET_FIELDS, _is_names),
    **dict.fromkeys(_FLOAT_FIELDS, _is_number),
    **dict.fromkeys((*_INT_FIELDS, "migration_retry_after", "huge_bytes"), _is_int),
    **dict.fromkeys(
        ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token"),
        lambda v: v is None or isinstance(v, str),
    ),
    **dict.fromkeys(("missing_scopes", "multi_status"), lambda v: isinstance(v, bool)),
    "seed": lambda v: v is None or _is_int(v),
    "fault_rates": lambda v: isinstance(v, dict) and all(map(_is_number, v.values())),
    "association_create_status": lambda v: v in (200, 201) and _is_int(v),
}


def _coerce(config: EmulatorConfig, name: str, value: Any) -> Any:
    """Convert one JSON value to the type of the config field `name`."""
    accepts = _ACCEPTS.get(name)
    if accepts is None or not accepts(value):
        raise ValueError(f"bad value for config field {name!r}: {value!r}")
    if name in _PER_TYPE_FIELDS:
        return _merge_types(getattr(config, name), value)
    if name in _SET_FIELDS:
        return set(value)
    if name in _FLOAT_FIELDS:
        return float(value)
    if name == "fault_rates":
        check_fault_names(value)
        return {k: float(v) for k, v in value.items()}
    return value
