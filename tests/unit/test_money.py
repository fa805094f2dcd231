"""Money: minor units, half-even rounding, exact division, parsing and rendering."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from service.money import divide, format_amount, minor_units, parse_decimal, quantize

ZERO_DECIMAL = [
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
]
THREE_DECIMAL = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]


@pytest.mark.parametrize("currency", ZERO_DECIMAL)
def test_currencies_without_a_minor_unit_have_zero_digits(currency: str) -> None:
    assert minor_units(currency) == 0


@pytest.mark.parametrize("currency", THREE_DECIMAL)
def test_currencies_with_a_thousandth_minor_unit_have_three_digits(currency: str) -> None:
    assert minor_units(currency) == 3


@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP", "CAD", "XYZ"])
def test_other_currencies_have_two_digits(currency: str) -> None:
    assert minor_units(currency) == 2


def test_minor_units_ignores_the_case_of_the_code() -> None:
    assert minor_units("jpy") == 0
    assert minor_units("kwd") == 3


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.12"),
        ("0.135", "USD", "0.14"),
        ("0.145", "USD", "0.14"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("1.2345", "KWD", "1.234"),
        ("1.2355", "KWD", "1.236"),
        ("199", "USD", "199.00"),
        ("1.99E+2", "USD", "199.00"),
    ],
)
def test_quantize_rounds_half_to_even_at_the_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    result = quantize(Decimal(amount), currency)

    assert str(result) == expected


def test_quantize_never_returns_negative_zero() -> None:
    assert str(quantize(Decimal("-0.001"), "USD")) == "0.00"


def test_quantize_keeps_every_digit_of_an_amount_longer_than_the_context_precision() -> None:
    amount = Decimal("123456789012345678901234567890.005")

    assert str(quantize(amount, "USD")) == "123456789012345678901234567890.00"


@pytest.mark.parametrize(
    ("amount", "divisor", "currency", "expected"),
    [
        ("10.00", 3, "USD", "3.33"),
        ("20.00", 3, "USD", "6.67"),
        ("1000", 3, "JPY", "333"),
        ("2000", 3, "JPY", "667"),
        ("10.000", 3, "KWD", "3.333"),
        ("0.25", 2, "USD", "0.12"),
        ("0.27", 2, "USD", "0.14"),
        ("-10.00", 3, "USD", "-3.33"),
    ],
)
def test_divide_rounds_the_quotient_half_to_even(
    amount: str, divisor: int, currency: str, expected: str
) -> None:
    assert str(divide(Decimal(amount), divisor, currency)) == expected


def test_divide_rounds_once_so_a_quotient_just_below_a_half_rounds_down() -> None:
    # 0.404999…9 / 3 = 0.134999…96…; Decimal division at 28 digits would first make
    # it 0.135 and then round that to 0.14.
    amount = Decimal("0.40499999999999999999999999999999")

    assert str(divide(amount, 3, "USD")) == "0.13"


def test_divide_does_not_depend_on_the_decimal_context_precision() -> None:
    with localcontext() as ctx:
        ctx.prec = 3
        result = divide(Decimal("12345.67"), 1, "USD")

    assert str(result) == "12345.67"


def test_divide_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        divide(Decimal("1.00"), 0, "USD")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("199.00", Decimal("199.00")),
        ("-3", Decimal("-3")),
        ("1.5e2", Decimal("150")),
        (5, Decimal(5)),
        (2**70, Decimal(1180591620717411303424)),
        (Decimal("0.1"), Decimal("0.1")),
    ],
)
def test_parse_decimal_accepts_decimal_strings_ints_and_decimals(
    value: object, expected: Decimal
) -> None:
    result = parse_decimal(value)

    assert isinstance(result, Decimal)
    assert result == expected


@pytest.mark.parametrize("value", [0.1, True, None, [], {"amount": "1.00"}])
def test_parse_decimal_refuses_floats_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        parse_decimal(value)


@pytest.mark.parametrize(
    "value", ["", "abc", "NaN", "Infinity", "1_000", " 1.00", "1.00 ", "1,00", Decimal("NaN")]
)
def test_parse_decimal_refuses_text_that_is_not_a_plain_finite_number(value: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(value)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("199", "USD", "199.00"),
        ("1.99E+2", "USD", "199.00"),
        ("1E+7", "USD", "10000000.00"),
        ("1E-10", "USD", "0.00"),
        ("333", "JPY", "333"),
        ("1.5", "KWD", "1.500"),
        ("123456789012.345", "USD", "123456789012.34"),
    ],
)
def test_format_amount_renders_plain_notation_with_the_minor_digits(
    amount: str, currency: str, expected: str
) -> None:
    assert format_amount(Decimal(amount), currency) == expected
