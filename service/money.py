"""Money as `Decimal`: currency minor units, half-even rounding, parsing and rendering.

The contract that keeps floats out: a webhook body is parsed with
`json.loads(body, parse_float=Decimal)` (`service.sources.parse_json`), so a JSON number
with a fraction arrives as a `Decimal` holding exactly the digits that were sent, and a
JSON integer stays an exact `int`. `parse_decimal` therefore refuses a `float`: one in
hand means that contract was broken somewhere, and its digits may already be wrong.
No function here does float arithmetic.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache

# ISO 4217 currencies whose minor unit is not the usual 2 digits.
_ZERO_DECIMAL = frozenset(
    {
        "JPY",
        "KRW",
        "VND",
        "CLP",
        "ISK",
        "UGX",
        "XAF",
        "XOF",
        "XPF",
        "KMF",
        "GNF",
        "PYG",
        "RWF",
        "VUV",
        "BIF",
        "DJF",
    }
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})

# Plain decimal notation as shops send it ("199.00", "-3", "1.5e2"); unlike the Decimal
# constructor this refuses "NaN", "Infinity", "1_000" and surrounding whitespace.
_DECIMAL_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@lru_cache(maxsize=512)  # a few currencies, asked some twenty times per webhook
def minor_units(currency: str) -> int:
    """Return the number of decimal digits of `currency`'s minor unit (ISO 4217)."""
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` half-even to `currency`'s minor unit."""
    digits = minor_units(currency)
    if amount.as_tuple().exponent == -digits and not (amount.is_signed() and amount.is_zero()):
        return amount  # already at the minor unit: quantizing would give an equal Decimal
    with localcontext() as ctx:
        # Enough precision for any finite amount: Decimal.quantize fails, rather than
        # rounds, when the result has more digits than the context allows.
        ctx.prec = max(28, amount.adjusted() + digits + 2)
        result = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
    # A negative amount that rounds to zero would otherwise render as "-0.00".
    return result.copy_abs() if result.is_zero() else result


def divide(amount: Decimal, divisor: int, currency: str) -> Decimal:
    """Return `amount / divisor` rounded half-even to `currency`'s minor unit.

    The quotient is exact (a `Fraction`) before the one rounding, so a result never
    depends on the decimal context's precision (no double rounding).
    """
    if divisor == 0:
        raise ZeroDivisionError("divide() by a quantity of 0")
    digits = minor_units(currency)
    if amount.is_zero():
        return quantize(Decimal(f"0E-{digits}"), currency)  # what the arithmetic gives
    scaled = Fraction(amount) * 10**digits / divisor
    # round() on a Fraction rounds half to even, exactly; building the Decimal from text
    # is exact too (arithmetic such as scaleb() would round to the context precision).
    return quantize(Decimal(f"{round(scaled)}E-{digits}"), currency)


def parse_decimal(value: object) -> Decimal:
    """Return `value` (a `Decimal`, `int` or decimal string) as a finite `Decimal`.

    Raises `TypeError` for any other type, `float` and `bool` included, and `ValueError`
    for text that is not a plain decimal number.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"expected a decimal string or number, not {type(value).__name__}")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError(f"not a decimal number: {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def format_amount(amount: Decimal, currency: str) -> str:
    """Render `amount` in plain notation with `currency`'s minor digits ("199.00", "333")."""
    return format(quantize(amount, currency), "f")
