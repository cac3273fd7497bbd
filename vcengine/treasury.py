"""Typed client of ``Treasury``: member income, equal payouts and net positions.

Example::

    >>> d.treasury.claimable(alice.address) == d.treasury.claimable(bob.address)
    True
    >>> d.treasury.claim_payout(sender=alice).amount
    640000000
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from vcengine.client import ContractClient, TxResult, require_address, require_int


#: Grid periods one `release` transaction of the clients releases at most (about 9 million gas).
RELEASE_BATCH = 4_096


@dataclass(frozen=True)
class PayoutResult:
    amount: int
    tx: TxResult


@dataclass(frozen=True)
class Position:
    """A member's economics: rent paid (bond service included), payouts received, and the net."""

    rent_paid: int
    income: int
    claimed: int
    claimable: int
    net: int


class TreasuryClient(ContractClient):
    """The treasury: income divided equally among members, paid by pull."""

    CONTRACT = "Treasury"

    def claim_payout(self, sender: LocalAccount) -> PayoutResult:
        tx = self.transact("claimPayout", sender=sender)
        return PayoutResult(tx.event("PayoutClaimed").args["amount"], tx)

    def release(self, max_periods: int, sender: LocalAccount) -> TxResult:
        """Release up to ``max_periods`` begun grid periods' income (anyone)."""
        require_int(max_periods, "periods to release", 1, 2**32)
        return self.transact("release", max_periods, sender=sender)

    def pending_periods(self) -> int:
        """Grid periods that have begun and are not yet released."""
        return max(0, self.current_period() - self.released_through())

    def release_pending(self, sender: LocalAccount) -> list[TxResult]:
        """Release every begun grid period beyond what one call releases by itself, in batches of
        RELEASE_BATCH periods (about 2,200 gas each); usually nothing is sent."""
        sent = []
        while (pending := self.pending_periods()) > self.max_release_periods():
            sent.append(self.release(min(pending, RELEASE_BATCH), sender))
        return sent

    def sweep(self, sender: LocalAccount) -> TxResult:
        """Divide what the treasury holds beyond what it owes among the members (anyone)."""
        return self.transact("sweep", sender=sender)

    def deposit_income(self, amount: int, sender: LocalAccount) -> TxResult:
        """Pay ``amount`` in as member income (anyone); approves first if needed."""
        require_int(amount, "income", 1)
        from vcengine.token import ERC20Client

        from vcengine.preflight import pay_and_call

        token = ERC20Client(self.chain, self.call("token"), self.artifacts)
        return pay_and_call(self, token, amount, "depositIncome", (amount,), sender).tx

    def claimable(self, account: str) -> int:
        return self.call("claimable", require_address(account, "account"))

    def income_of(self, account: str) -> int:
        return self.call("incomeOf", require_address(account, "account"))

    def claimed(self, account: str) -> int:
        return self.call("claimed", require_address(account, "account"))

    def rent_paid(self, member: str) -> int:
        return self.call("rentPaid", require_address(member, "member"))

    def net_position(self, member: str) -> int:
        return self.call("netPosition", require_address(member, "member"))

    def position(self, member: str) -> Position:
        return Position(self.rent_paid(member), self.income_of(member), self.claimed(member),
                        self.claimable(member), self.net_position(member))

    def income_per_share(self) -> int:
        return self.call("incomePerShare")

    def carry(self) -> int:
        return self.call("carry")

    def total_income(self) -> int:
        return self.call("totalIncome")

    def total_claimed(self) -> int:
        return self.call("totalClaimed")

    def scheduled_income(self) -> int:
        """Income received for grid periods that have not begun (released as they begin)."""
        return self.call("scheduledIncome")

    def released_through(self) -> int:
        return self.call("releasedThrough")

    def release_rate(self) -> int:
        return self.call("releaseRate")

    def current_period(self) -> int:
        return self.call("currentPeriod")

    def period_at(self, time: int) -> int:
        return self.call("periodAt", require_int(time, "block time"))

    def grid_origin(self) -> int:
        return self.call("gridOrigin")

    def period_seconds(self) -> int:
        return self.call("periodSeconds")

    def max_release_periods(self) -> int:
        return self.call("MAX_RELEASE_PERIODS")

    def pending_income(self) -> int:
        """Income of begun grid periods the next call releases (up to MAX_RELEASE_PERIODS of them)."""
        return self.call("pendingIncome")

    def owed_tokens(self) -> int:
        """Settlement tokens the treasury owes (claimable payouts, the carry, scheduled income)."""
        return self.call("owedTokens")

    def surplus(self) -> int:
        return self.call("surplus")

    def rate_change_at(self, period: int) -> int:
        return self.call("rateChangeAt", require_int(period, "grid period"))
