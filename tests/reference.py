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
    term: int = 0  # the request's term: the series' schedule runs `term` periods from `start`

    def periods_left(self, time: int) -> int:
        """The schedule's periods not yet fully elapsed at `time`, at least 1."""
        assert self.term > 0, "a debt with no schedule"
        return max(self.term - (time - self.start) // self.period, 1)

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


# --------------------------------------------------------------------------- treasury


MAX_RELEASE_PERIODS = 64  # grid periods one treasury call releases before it acts


class ReleasePending(Exception):
    """A membership change while more begun grid periods are unreleased than one call releases."""


@dataclass
class AgreementIncome:
    """The member income of one rental agreement, by agreement period (what a refund can take back)."""

    start: int
    parts: dict[int, int]  # agreement period -> its part of the member income


class TreasuryModel:
    """Member income, divided equally among the members as the grid periods it pays for begin.

    The rules, from the design:

    * Time is one grid of periods of `period` seconds from `origin` (the treasury's creation): grid
      period g is [origin + g*P, origin + (g+1)*P).
    * Income is divided by `distribute`: every current member's entitlement rises by
      (amount + carry) // members and the remainder is carried to the next division.
    * The member income M of a rent payment for agreement periods j..j+k-1 of an agreement that
      started at S is cut into k parts M // k; the part of agreement period i belongs to grid period
      (S + i*P - origin) // P and is divided when that grid period begins (at once if it has); the
      remainder M - k * (M // k) is divided at once.
    * Before it acts, every treasury call divides the income of the grid periods that have begun
      since the last release, at most MAX_RELEASE_PERIODS of them; a member's claimable (a view)
      includes their share of what the next call would release.
    * Joining and leaving need every begun period released (else `ReleasePending`).
    * Liquidation surplus, deposits and sweeps are divided at once.
    * An early return refunds the renter the parts of the agreement periods paid whose grid periods
      have not begun; a reclaim refunds nothing.

    Money: the treasury owes total_income - total_claimed = sum(claimable) + carry + scheduled.
    """

    def __init__(self, members=(), origin: int = 0, period: int = 1) -> None:
        self.origin, self.period = origin, period
        self.members: set[str] = set(members)
        self.income_per_share = 0
        self.carry = 0
        self.checkpoint: dict[str, int] = {m: 0 for m in self.members}
        self.owed: dict[str, int] = {}
        self.claimed: dict[str, int] = {}
        self.rent_paid: dict[str, int] = {}
        self.total_income = 0
        self.total_claimed = 0
        self.waiting: dict[int, int] = {}  # grid period -> income divided when it begins
        self.released_through = 0  # every grid period up to this one has been divided
        self.release_rate = 0  # the income of grid period `released_through`
        self.agreements: dict[int, AgreementIncome] = {}

    # ------------------------------------------------------------------ time

    def grid(self, time: int) -> int:
        return (time - self.origin) // self.period

    def pending(self, now: int, limit: int = MAX_RELEASE_PERIODS) -> tuple[int, int]:
        """(income, last grid period) that releasing at `now` would divide, `limit` periods at most."""
        through = min(self.grid(now), self.released_through + limit)
        through = max(through, self.released_through)
        amount = sum(self.waiting.get(g, 0) for g in range(self.released_through + 1, through + 1))
        return amount, through

    def release(self, now: int, limit: int = MAX_RELEASE_PERIODS) -> int:
        amount, through = self.pending(now, limit)
        if through > self.released_through:
            self.release_rate = self.waiting.get(through, 0)  # the income of the last period released
        for g in range(self.released_through + 1, through + 1):
            self.waiting.pop(g, None)
        self.released_through = through
        if amount:
            self.distribute(amount)
        return amount

    def caught_up(self, now: int) -> bool:
        """Whether one call at `now` releases every begun grid period (else membership must wait)."""
        return self.pending(now)[1] >= self.grid(now)

    @property
    def scheduled(self) -> int:
        """Income received for grid periods not yet released."""
        return sum(v for g, v in self.waiting.items() if g > self.released_through)

    def owed_tokens(self) -> int:
        return self.total_income - self.total_claimed

    # ---------------------------------------------------------------- income

    def distribute(self, amount: int) -> int:
        pool = amount + self.carry
        n = len(self.members)
        per = pool // n if n else 0
        self.income_per_share += per
        self.carry = pool - per * n
        return per

    def record_rent(self, asset_id: int, renter: str, rent: int, income: int, start: int, first: int,
                    periods: int, now: int) -> None:
        """Rent `rent` paid at `now` for agreement periods first..first+periods-1, `income` of it member income."""
        self.release(now)
        self.rent_paid[renter] = self.rent_paid.get(renter, 0) + rent
        if first == 0:
            self.agreements[asset_id] = AgreementIncome(start, {})
        agreement = self.agreements[asset_id]
        if income == 0:
            return
        self.total_income += income
        part = income // periods
        at_once = income - part * periods  # the remainder of the cut
        for i in range(first, first + periods):
            agreement.parts[i] = part
            g = self.grid(start + i * self.period)
            if g <= self.grid(now):
                at_once += part
            else:
                self.waiting[g] = self.waiting.get(g, 0) + part
        if at_once:
            self.distribute(at_once)

    def record_income(self, amount: int, now: int) -> None:
        """Income divided at once: liquidation surplus, a deposit, a swept surplus."""
        self.release(now)
        if amount:
            self.total_income += amount
            self.distribute(amount)

    def refund(self, asset_id: int, renter: str, paid_periods: int, now: int) -> int:
        """The renter returned the asset at `now`: the parts of paid periods not yet begun come back."""
        self.release(now)
        agreement = self.agreements.get(asset_id)
        if agreement is None:
            return 0
        amount = 0
        for i, part in agreement.parts.items():
            g = self.grid(agreement.start + i * self.period)
            if i < paid_periods and g > self.grid(now) and part:
                self.waiting[g] -= part
                amount += part
        self.total_income -= amount
        self.rent_paid[renter] -= amount
        return amount

    # ------------------------------------------------------------ membership

    def _release_all(self, now: int) -> None:
        if not self.caught_up(now):  # the call reverts: nothing is released either
            raise ReleasePending(self.pending(now)[1], self.grid(now))
        self.release(now)

    def join(self, member: str, now: int | None = None) -> None:
        if now is not None:
            self._release_all(now)
        self.members.add(member)
        self.checkpoint[member] = self.income_per_share

    def leave(self, member: str, now: int | None = None) -> None:
        if now is not None:
            self._release_all(now)
        self.owed[member] = self.owed.get(member, 0) + self.income_per_share - self.checkpoint[member]
        self.checkpoint[member] = self.income_per_share
        self.members.discard(member)

    # --------------------------------------------------------------- payouts

    def released(self, account: str) -> int:
        accrued = self.income_per_share - self.checkpoint[account] if account in self.members else 0
        return self.owed.get(account, 0) + accrued

    def claimable(self, account: str, now: int | None = None) -> int:
        """What `account` can claim; at `now`, with their share of the begun periods not yet released."""
        amount = self.released(account)
        if now is not None and account in self.members:
            pending, _ = self.pending(now)
            if pending:
                amount += (pending + self.carry) // len(self.members)
        return amount

    def claim(self, account: str, now: int | None = None) -> int:
        if now is not None:
            self.release(now)
        amount = self.released(account)
        if account in self.members:
            self.checkpoint[account] = self.income_per_share
        self.owed[account] = 0
        self.claimed[account] = self.claimed.get(account, 0) + amount
        self.total_claimed += amount
        return amount

    def income_of(self, account: str, now: int | None = None) -> int:
        return self.claimed.get(account, 0) + self.claimable(account, now)

    def net(self, account: str, now: int | None = None) -> int:
        return self.rent_paid.get(account, 0) - self.income_of(account, now)


# ------------------------------------------------------------------ rental and liquidation


LIQUIDATION_STEPS = 4


def rent_bid_repays(debt: DebtModel, closes_at: int, rent: int, periods: int) -> bool:
    """While bonds are outstanding, a rental bid must repay what is owed at the auction's close
    (principal + interest accrued to the period the close falls in) within its term and within the
    periods left at the close of the series' own schedule (the request's term from settlement)."""
    principal, owed_interest = debt.owed(closes_at)
    owed = principal + owed_interest
    return owed == 0 or amortises(owed, debt.rate_bps, rent, min(periods, debt.periods_left(closes_at)))


def barred_as_defaulter(bidder: str, last_renter: str, last_defaulted: bool, defaulters: set[str],
                        owed_at_close: int) -> bool:
    """The renter reclaimed for default may not bid in the asset's next rental auction, and nobody who
    ever defaulted on it may bid for it while its bonds are outstanding (at the auction's close)."""
    return (last_defaulted and bidder == last_renter) or (owed_at_close > 0 and bidder in defaulters)


def liquidation_reserve(price: int, reserve_bps: int, reopenings: int) -> int:
    """The least liquidation bid: the reserve, a LIQUIDATION_STEPS-th lower per reopening, rounded up."""
    steps = LIQUIDATION_STEPS - min(reopenings, LIQUIDATION_STEPS)
    return -(-price * reserve_bps * steps // (BPS * LIQUIDATION_STEPS))
