"""Token amounts in token units with decimals, and base units."""

import pytest

from vcengine.client import InputError
from vcengine.units import format_amount, parse_amount


@pytest.mark.parametrize(
    "text, decimals, base",
    [("12.5", 6, 12_500_000), ("0", 6, 0), ("1", 18, 10**18), ("0.000001", 6, 1), ("1000", 6, 1_000_000_000),
     ("5.", 6, 5_000_000), (".5", 6, 500_000),
     (" 7 ", 2, 700), ("3", 0, 3),
     # more significant digits than Decimal's default context of 28 keeps: none may be rounded away
     ("1234567890123456789012345.123456", 6, 1234567890123456789012345123456)],
)
def test_parse_amount(text, decimals, base):
    assert parse_amount(text, decimals) == base


@pytest.mark.parametrize(
    "text, message",
    [("-1", "zero or more"), ("abc", "must be a number"), ("0.0000001", "more than 6 decimal places"),
     ("inf", "no exponent"), ("NaN", "no exponent"), ("1e3", "no exponent"), ("1_000", "no exponent"),
     ("1,000", "no exponent"), ("+5", "no exponent"), ("", "must be a number"), ("\u0663", "must be a number"),
     ("1.0000000000000000000000000001", "more than 6 decimal places"), ("1" * 100, "too large"),
     (str(2**256), "too large")],
)
def test_parse_amount_refuses(text, message):
    with pytest.raises(InputError, match=message):
        parse_amount(text, 6)


@pytest.mark.parametrize(
    "base, decimals, grouping, text",
    [(12_500_000, 6, False, "12.5"), (0, 6, False, "0"), (1, 6, False, "0.000001"),
     (10_000_500_000, 6, True, "10,000.5"), (-2_000_000, 6, True, "-2"), (5, 0, False, "5")],
)
def test_format_amount(base, decimals, grouping, text):
    assert format_amount(base, decimals, grouping) == text


@pytest.mark.parametrize("base", [0, 1, 999_999, 10**6, 123_456_789_012])
def test_round_trip(base):
    assert parse_amount(format_amount(base, 6), 6) == base
