"""Plain-Python reference of the commune's economic rules, written from the design, not the contracts.

Tests compare the contracts against these functions to the base unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

BPS = 10_000


def interest(balance: int, rate_bps: int) -> int:
    """One period's interest, rounded up (bondholders are never short)."""
    return -(-balance * rate_bps // BPS)


def amortises(principal: int, rate_bps: int, rent: int, periods: int) -> bool:
    """Whether `rent` each period repays `principal` at `rate_bps` within `periods`, interest first."""
    balance = principal
    for _ in range(periods):
        if balance == 0:
            break
        due = interest(balance, rate_bps)
        if rent <= due:
            return False
        balance = max(0, balance - (rent - due))
    return balance == 0


@dataclass(frozen=True)
class Clearing:
    cleared: bool
    reason: str  # "", "Undersubscribed" or "RentTooLow"
    rate_bps: int | None
    fills: list[int]  # bonds per bid, in bid order (0 for every bid when not cleared)

    def refunds(self, amounts: list[int]) -> list[int]:
        return [a - f for a, f in zip(amounts, self.fills)]


def clear_auction(price: int, rent: int, periods: int, bids: list[tuple[int, int]]) -> Clearing:
    """Uniform-rate clearing of `bids` = [(amount, rate_bps), ...] in bid order."""
    amounts = [a for a, _ in bids]
    if sum(amounts) < price:
        return Clearing(False, "Undersubscribed", None, [0] * len(bids))
    by_rate: dict[int, int] = {}
    for amount, rate in bids:
        by_rate[rate] = by_rate.get(rate, 0) + amount
    cumulative = 0
    clearing = None
    for rate in sorted(by_rate):
        if cumulative + by_rate[rate] >= price:
            clearing = rate
            break
        cumulative += by_rate[rate]
    assert clearing is not None
    if not amortises(price, clearing, rent, periods):
        return Clearing(False, "RentTooLow", None, [0] * len(bids))
    need, total, before = price - cumulative, by_rate[clearing], 0
    fills = []
    for amount, rate in bids:
        if rate < clearing:
            fills.append(amount)
        elif rate > clearing:
            fills.append(0)
        else:
            fills.append((before + amount) * need // total - before * need // total)
            before += amount
    assert sum(fills) == price
    return Clearing(True, "", clearing, fills)


# --------------------------------------------------------------------------- economy


@dataclass
class DebtModel:
    """An asset's debt: simple interest accrued at each period start, paid interest first."""

    principal: int
    rate_bps: int
    start: int
    period: int
    interest_owed: int = 0
    accrued_periods: int = 0
    redeemed: bool = False
    written_off: int = 0

    def accrue(self, now: int) -> None:
        started = (now - self.start) // self.period + 1
        if self.principal > 0 and started > self.accrued_periods:
            self.interest_owed += (started - self.accrued_periods) * interest(self.principal, self.rate_bps)
        self.accrued_periods = max(self.accrued_periods, started)

    def owed(self, now: int) -> tuple[int, int]:
        started = (now - self.start) // self.period + 1
        extra = (started - self.accrued_periods) * interest(self.principal, self.rate_bps) if self.principal else 0
        return self.principal, self.interest_owed + extra

    def service(self, amount: int, now: int) -> int:
        """Apply up to `amount`; returns what the bondholders get."""
        if self.principal == 0 and self.interest_owed == 0:
            return 0
        self.accrue(now)
        to_interest = min(amount, self.interest_owed)
        to_principal = min(amount - to_interest, self.principal)
        self.interest_owed -= to_interest
        self.principal -= to_principal
        if self.principal == 0 and self.interest_owed == 0:
            self.redeemed = True
        return to_interest + to_principal


class SeriesModel:
    """Bond payments: each holder is owed the floor of their exact pro-rata share of every payment,
    counted on the units they held when it was paid (winners own their fills from settlement)."""

    def __init__(self, face: int) -> None:
        self.face = face
        self.total_paid = 0
        self.balances: dict[str, int] = {}
        self.exact: dict[str, Fraction] = {}
        self.withdrawn: dict[str, int] = {}

    def own(self, holder: str, units: int) -> None:
        self.balances[holder] = self.balances.get(holder, 0) + units

    def pay(self, amount: int) -> None:
        self.total_paid += amount
        for holder, units in self.balances.items():
            self.exact[holder] = self.exact.get(holder, Fraction(0)) + Fraction(amount * units, self.face)

    def transfer(self, src: str, dst: str, units: int) -> None:
        self.balances[src] -= units
        self.balances[dst] = self.balances.get(dst, 0) + units

    def accumulated(self, holder: str) -> int:
        return math.floor(self.exact.get(holder, Fraction(0)))

    def withdrawable(self, holder: str) -> int:
        return self.accumulated(holder) - self.withdrawn.get(holder, 0)

    def withdraw(self, holder: str) -> int:
        amount = self.withdrawable(holder)
        self.withdrawn[holder] = self.withdrawn.get(holder, 0) + amount
        return amount


@dataclass
class TreasuryModel:
    """Equal division: every current member's entitlement rises by (amount + carry) // members."""

    income_per_share: int = 0
    carry: int = 0
    members: set[str] | None = None
    checkpoint: dict[str, int] | None = None
    owed: dict[str, int] | None = None
    claimed: dict[str, int] | None = None
    rent_paid: dict[str, int] | None = None

    def __post_init__(self) -> None:
        self.members = set(self.members or ())
        self.checkpoint = {m: 0 for m in self.members}
        self.owed, self.claimed, self.rent_paid = {}, {}, {}

    def distribute(self, amount: int) -> int:
        pool = amount + self.carry
        n = len(self.members)
        per = pool // n if n else 0
        self.income_per_share += per
        self.carry = pool - per * n
        return per

    def join(self, member: str) -> None:
        self.members.add(member)
        self.checkpoint[member] = self.income_per_share

    def leave(self, member: str) -> None:
        self.owed[member] = self.owed.get(member, 0) + self.income_per_share - self.checkpoint[member]
        self.members.discard(member)

    def claimable(self, account: str) -> int:
        accrued = self.income_per_share - self.checkpoint[account] if account in self.members else 0
        return self.owed.get(account, 0) + accrued

    def claim(self, account: str) -> int:
        amount = self.claimable(account)
        if account in self.members:
            self.checkpoint[account] = self.income_per_share
        self.owed[account] = 0
        self.claimed[account] = self.claimed.get(account, 0) + amount
        return amount

    def income_of(self, account: str) -> int:
        return self.claimed.get(account, 0) + self.claimable(account)

    def net(self, account: str) -> int:
        return self.rent_paid.get(account, 0) - self.income_of(account)
