"""Token amounts: entered and shown in token units with decimals (``12.5``), kept in base units.

Example::

    >>> parse_amount("12.5", 6)
    12500000
    >>> format_amount(12_500_000, 6)
    '12.5'
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

from vcengine.client import InputError

#: The one accepted way to write an amount: digits with at most one decimal point (``12.5``,
#: ``1000``, ``0.25``, ``.5``). No exponent (``1e3``), separators (``1_000``, ``1,000``), words
#: (``NaN``, ``inf``) or sign: what a person types is what is sent, and nothing is guessed.
_AMOUNT = re.compile(r"(?P<sign>[-+]?)(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)")
#: Written in messages that refuse an amount.
AMOUNT_FORMAT = "digits with at most one '.', such as 12.5 or 1000 (no exponent, '_', ',' or sign)"


def parse_amount(text: str | int | Decimal, decimals: int, what: str = "amount", positive: bool = False) -> int:
    """Token units (``"12.5"``) to base units, exactly; refuses anything but plain decimal notation,
    negatives (and zero when ``positive``), and more precision than the token has.

    >>> parse_amount("-5", 6, "AMOUNT", positive=True)
    Traceback (most recent call last):
    ...
    vcengine.client.InputError: AMOUNT must be more than zero, got '-5'
    """
    shown = str(text).strip()
    match = _AMOUNT.fullmatch(shown)
    if match is None:
        raise InputError(f"{what} must be a number of tokens written as {AMOUNT_FORMAT}, got {shown!r}")
    value = Decimal(match["number"])
    if match["sign"] == "-" and value != 0 or positive and value == 0:
        raise InputError(f"{what} must be {'more than zero' if positive else 'zero or more'}, got {shown!r}")
    if match["sign"]:
        raise InputError(f"{what} must be a number of tokens written as {AMOUNT_FORMAT}, got {shown!r}")
    digits, exponent = len(value.as_tuple().digits), value.as_tuple().exponent
    if exponent + digits > 80:  # far beyond uint256 in any token's units; keeps the context below finite
        raise InputError(f"{what} is too large: {shown!r}")
    with localcontext() as ctx:  # exact: enough digits for every digit given, so nothing is rounded
        ctx.prec = digits + abs(exponent) + decimals + 2
        base = value.scaleb(decimals)
        if base != base.to_integral_value():
            raise InputError(f"{what} has more than {decimals} decimal places: {shown!r}")
    units = int(base)
    if units > 2**256 - 1:
        raise InputError(f"{what} is too large for a uint256 in base units: {shown!r}")
    return units


def format_amount(base_units: int, decimals: int, grouping: bool = False) -> str:
    """Base units to token units, without trailing zeros (``12500000, 6 -> "12.5"``).

    With ``grouping`` the whole part has thousands separators (``"10,000.5"``), for people to read.
    """
    sign = "-" if base_units < 0 else ""
    whole, frac = divmod(abs(base_units), 10**decimals)
    shown = f"{whole:,}" if grouping else str(whole)
    if decimals == 0 or frac == 0:
        return f"{sign}{shown}"
    return f"{sign}{shown}.{str(frac).rjust(decimals, '0').rstrip('0')}"
