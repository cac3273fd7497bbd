"""Token amounts: entered and shown in token units with decimals (``12.5``), kept in base units.

Example::

    >>> parse_amount("12.5", 6)
    12500000
    >>> format_amount(12_500_000, 6)
    '12.5'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

from vcengine.client import InputError


def parse_amount(text: str | int | Decimal, decimals: int, what: str = "amount") -> int:
    """Token units (``"12.5"``) to base units; refuses negatives and more precision than the token has."""
    try:
        value = Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        raise InputError(f"{what} must be a number of tokens such as 12.5, got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise InputError(f"{what} must be zero or more tokens, got {text!r}")
    digits, exponent = len(value.as_tuple().digits), value.as_tuple().exponent
    if exponent + digits > 80:  # far beyond uint256 in any token's units; keeps the context below finite
        raise InputError(f"{what} is too large: {text!r}")
    with localcontext() as ctx:  # exact: enough digits for every digit given, so nothing is rounded
        ctx.prec = digits + abs(exponent) + decimals + 2
        base = value.scaleb(decimals)
        if base != base.to_integral_value():
            raise InputError(f"{what} has more than {decimals} decimal places: {text!r}")
    units = int(base)
    if units > 2**256 - 1:
        raise InputError(f"{what} is too large for a uint256 in base units: {text!r}")
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
