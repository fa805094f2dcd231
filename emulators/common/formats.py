"""Times and money as shops write them.

Times are kept as POSIX seconds and written in a shop's fixed UTC offset (no daylight
saving: an emulated shop lives in one offset all year). Money is `Decimal`, written with
two decimals and rounded half up, as both shops write their amounts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DAY = 86_400.0

# ISO 8601 / RFC 3339 as the shops' parameters take it: a date, then an optional time
# (T or space), fraction and offset (Z, +hh:mm, +hhmm or +hh).
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


def zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def with_offset(ts: float, offset_minutes: int) -> str:
    """`2026-03-02T09:15:00-05:00`: Shopify's format, to the second."""
    return datetime.fromtimestamp(int(ts), zone(offset_minutes)).isoformat()


def wall_clock(ts: float, offset_minutes: int) -> str:
    """`2026-03-02T09:15:00`: WooCommerce's, in the offset given (0: its `_gmt` fields)."""
    local = datetime.fromtimestamp(int(ts), zone(offset_minutes))
    return local.replace(tzinfo=None).isoformat()


def utc_z(ts: float) -> str:
    """`2026-03-02T14:15:00.123Z`, for headers that carry an instant."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_time(text: str, naive_offset_minutes: int) -> tuple[float, bool] | None:
    """POSIX seconds of an ISO 8601 time, and whether it carried an offset; a time without
    one is read in `naive_offset_minutes`. None when it is not such a time."""
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:  # 2026-02-30, hour 25
        return None
    seconds = float(f"0.{fraction}") if fraction else 0.0
    aware = moment.replace(tzinfo=_offset_of(offset) if offset else zone(naive_offset_minutes))
    return aware.timestamp() + seconds, offset is not None


def _offset_of(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    return zone(sign * (hours * 60 + minutes))


def money(amount: Decimal | int | str) -> str:
    return str(Decimal(amount).quantize(CENT, ROUND_HALF_UP))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)
