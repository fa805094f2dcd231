"""The HubSpot emulator's settings (`EmulatorConfig`, changeable at run time through
`/_emulator/config`) and its fault vocabulary: what each scripted fault answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from emulators.hubspot.replies import (
    Reply,
    error_reply,
    hubspot_error,
    missing_scopes_reply,
    rate_limit_reply,
    unauthenticated_reply,
)

DEFAULT_KNOWN_PROPERTIES = frozenset(
    {
        "name",
        "description",
        "price",
        "quantity",
        "discount",
        "hs_discount_percentage",
        "tax",
        "hs_sku",
        "hs_product_id",
        "hs_line_item_currency_code",
        "recurringbillingfrequency",
        "hs_recurring_billing_period",
        "hs_recurring_billing_start_date",
        "hs_cost_of_goods_sold",
        "hs_position_on_quote",
        "hs_tax_rate_group_id",
    }
)
DEFAULT_READ_ONLY_PROPERTIES = frozenset(
    {"amount", "hs_object_id", "createdate", "hs_lastmodifieddate"}
)

# "daily" is the DAILY 429; "400-unattributed" a whole-batch 400 naming no input.
FAULTS = frozenset(
    {"500", "502", "503", "504", "423", "429", "daily", "477", "timeout", "drop", "401", "403"}
    | {"400-unattributed"}
)
RATE_FAULTS = frozenset({"429", "daily"})


@dataclass
class EmulatorConfig:
    """The emulated portal. Fields may be changed while the emulator runs."""

    access_tokens: set[str] = field(default_factory=lambda: {"sandbox-token"})
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_refresh_token: str | None = None
    oauth_expires_in: int = 1800
    refresh_token_reuse: int = 1  # extra refreshes a used refresh token still allows
    unique_properties: set[str] = field(default_factory=lambda: {"external_line_item_id"})
    known_properties: set[str] = field(default_factory=lambda: set(DEFAULT_KNOWN_PROPERTIES))
    read_only_properties: set[str] = field(
        default_factory=lambda: set(DEFAULT_READ_ONLY_PROPERTIES)
    )
    rate_limit: int = 100
    rate_window: float = 10.0
    daily_limit: int = 250_000
    latency: float = 0.0
    fault_rates: dict[str, float] = field(default_factory=dict)
    seed: int | None = None
    timeout_seconds: float = 35.0
    missing_scopes: bool = False
    multi_status: bool = True  # False: per-input problems always 400 the batch (no 207)
    migration_retry_after: int = 1  # Retry-After of a 477; HubSpot's can be hours

    def __post_init__(self) -> None:
        check_fault_names(self.fault_rates)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply JSON-shaped changes all or nothing; ValueError names the bad field."""
        converted = {name: _coerce(name, value) for name, value in changes.items()}
        for name, value in converted.items():
            setattr(self, name, value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = sorted(value) if isinstance(value, set) else value
        return out


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is an int subclass, not a count


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_names(value: Any) -> bool:
    return isinstance(value, list | set) and all(isinstance(v, str) for v in value)


_SET_FIELDS = {"access_tokens", "unique_properties", "known_properties", "read_only_properties"}
_FLOAT_FIELDS = {"rate_window", "latency", "timeout_seconds"}
_INT_FIELDS = ("oauth_expires_in", "refresh_token_reuse", "rate_limit", "daily_limit")
_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    **dict.fromkeys(_SET_FIELDS, _is_names),
    **dict.fromkeys(_FLOAT_FIELDS, _is_number),
    **dict.fromkeys((*_INT_FIELDS, "migration_retry_after"), _is_int),
    **dict.fromkeys(
        ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token"),
        lambda v: v is None or isinstance(v, str),
    ),
    **dict.fromkeys(("missing_scopes", "multi_status"), lambda v: isinstance(v, bool)),
    "seed": lambda v: v is None or _is_int(v),
    "fault_rates": lambda v: isinstance(v, dict) and all(map(_is_number, v.values())),
}


def _coerce(name: str, value: Any) -> Any:
    """Convert one JSON value to the type of the config field `name`."""
    accepts = _ACCEPTS.get(name)
    if accepts is None or not accepts(value):
        raise ValueError(f"bad value for config field {name!r}: {value!r}")
    if name in _SET_FIELDS:
        return set(value)
    if name in _FLOAT_FIELDS:
        return float(value)
    if name == "fault_rates":
        check_fault_names(value)
        return {k: float(v) for k, v in value.items()}
    return value


def check_fault_names(names: Mapping[str, Any] | tuple[str, ...]) -> None:
    unknown = sorted(set(names) - FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {unknown}; known: {sorted(FAULTS)}")


def fault_reply(fault: str, config: EmulatorConfig) -> Reply:
    """The answer a fault stands for; faults never touch records."""
    if fault in RATE_FAULTS:
        return rate_limit_reply("DAILY" if fault == "daily" else "TEN_SECONDLY_ROLLING")
    if fault == "drop":
        return Reply(0, drop=True)
    if fault == "timeout":
        reply = error_reply(504, "The request timed out at the gateway.", "GATEWAY_TIMEOUT")
        return Reply(504, reply.body, stall=config.timeout_seconds)
    if fault == "401":
        return unauthenticated_reply()
    if fault == "403":
        return missing_scopes_reply()
    if fault == "423":
        message = "Lock could not be acquired for this record. Retry after at least 2 seconds."
        return error_reply(423, message, "LOCKED")
    if fault == "477":
        body = hubspot_error("Migration in progress, retry later.", "MIGRATION_IN_PROGRESS")
        return Reply(477, body, {"Retry-After": str(config.migration_retry_after)})
    if fault == "400-unattributed":
        message = 'Property values were not valid: [{"isValid":false,"message":"invalid value"}]'
        return error_reply(400, message, "VALIDATION_ERROR")
    return error_reply(int(fault), f"HubSpot answered {fault} (emulated fault).", "INTERNAL_ERROR")
