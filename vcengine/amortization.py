"""How rent repays a bond series, as ``contracts/libraries/Amortization.sol`` computes it.

Used before a request is sent: a rent that cannot repay the price even at rate zero is hopeless,
and otherwise the highest rate the offered rent supports tells the requester (and the lenders)
where the auction can clear.

Example::

    >>> repays(10_000, 100, 960, 12)
    True
    >>> highest_rate(10_000, 960, 12, cap_bps=1_000)
    224
"""

from __future__ import annotations

BPS = 10_000


def interest(principal: int, rate_bps: int) -> int:
    """One period's interest, rounded up (bondholders are never short)."""
    return (principal * rate_bps + BPS - 1) // BPS


def repays(principal: int, rate_bps: int, rent: int, periods: int) -> bool:
    """Whether ``rent`` per period repays ``principal`` at ``rate_bps`` within ``periods`` periods,
    interest first (``Amortization.repays``)."""
    balance = principal
    for _ in range(periods):
        if balance == 0:
            break
        due = interest(balance, rate_bps)
        if rent <= due:
            return False
        balance = max(0, balance - (rent - due))
    return balance == 0


def highest_rate(principal: int, rent: int, periods: int, cap_bps: int) -> int | None:
    """The highest rate in 0..cap_bps at which the rent repays the principal (None: not even at 0).

    A higher rate never repays when a lower one does not (interest only grows with the rate), so a
    binary search finds it in about 12 evaluations."""
    if not repays(principal, 0, rent, periods):
        return None
    low, high = 0, cap_bps  # repays at low; find the last rate that repays
    while low < high:
        mid = (low + high + 1) // 2
        if repays(principal, mid, rent, periods):
            low = mid
        else:
            high = mid - 1
    return low
