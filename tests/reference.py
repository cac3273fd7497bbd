"""Plain-Python reference of the commune's economic rules, written from the design, not the contracts.

Tests compare the contracts against these functions to the base unit.
"""

from __future__ import annotations

from dataclasses import dataclass

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
