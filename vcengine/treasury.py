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

    def deposit_income(self, amount: int, sender: LocalAccount) -> TxResult:
        """Pay ``amount`` in as member income (anyone); approves first if needed."""
        require_int(amount, "income", 1)
        from vcengine.token import ERC20Client

        ERC20Client(self.chain, self.call("token"), self.artifacts).ensure_allowance(self.address, amount, sender)
        return self.transact("depositIncome", amount, sender=sender)

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
