"""Typed clients of the ERC-20s the commune uses: the settlement token and its bond series.

Amounts are base units (ints); :mod:`vcengine.units` converts to and from token units.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from vcengine.client import ContractClient, TxResult, require_address, require_int

UINT256_MAX = 2**256 - 1


class ERC20Client(ContractClient):
    """Any ERC-20, read and moved through its standard interface."""

    CONTRACT = "TestStablecoin"  # its ABI is a superset of the ERC-20 standard's

    def balance_of(self, account: str) -> int:
        return self.call("balanceOf", require_address(account, "account"))

    def total_supply(self) -> int:
        return self.call("totalSupply")

    def decimals(self) -> int:
        return self.call("decimals")

    def symbol(self) -> str:
        return self.call("symbol")

    def name(self) -> str:
        return self.call("name")

    def allowance(self, owner: str, spender: str) -> int:
        return self.call("allowance", require_address(owner, "owner"), require_address(spender, "spender"))

    def approve(self, spender: str, amount: int, sender: LocalAccount) -> TxResult:
        require_int(amount, "allowance", 0, UINT256_MAX)
        return self.transact("approve", require_address(spender, "spender"), amount, sender=sender)

    def transfer(self, to: str, amount: int, sender: LocalAccount) -> TxResult:
        require_int(amount, "amount", 0, UINT256_MAX)
        return self.transact("transfer", require_address(to, "recipient"), amount, sender=sender)

    def ensure_allowance(self, spender: str, amount: int, sender: LocalAccount) -> TxResult | None:
        """Approve ``spender`` for exactly ``amount`` if the current allowance is lower; returns the
        approval. (Calls that pull tokens go through :func:`vcengine.preflight.pay_and_call`, which
        also simulates the call first.)"""
        if self.allowance(sender.address, spender) >= amount:
            return None
        return self.approve(spender, amount, sender)


class TestStablecoinClient(ERC20Client):
    """The local chains' settlement token, with its faucet."""

    __test__ = False  # not a pytest test class, despite the name
    CONTRACT = "TestStablecoin"

    def faucet(self, to: str, amount: int, sender: LocalAccount) -> TxResult:
        """Mint ``amount`` base units to ``to`` (test chains only)."""
        require_int(amount, "faucet amount", 1)
        return self.transact("faucet", require_address(to, "recipient"), amount, sender=sender)


class BondSeriesClient(ERC20Client):
    """The bonds of one asset: an ERC-20 whose unit is one unit of principal."""

    CONTRACT = "BondSeries"

    def face(self) -> int:
        return self.call("face")

    def rate_bps(self) -> int:
        return self.call("rateBps")

    def asset_id(self) -> int:
        return self.call("assetId")

    def issuer(self) -> str:
        return self.call("issuer")

    def pay_withdrawable(self, holder: str) -> int:
        """Payments accrued to ``holder`` and not yet withdrawn."""
        return self.call("withdrawable", require_address(holder, "holder"))

    def accumulated(self, holder: str) -> int:
        """Payments ever accrued to ``holder``."""
        return self.call("accumulated", require_address(holder, "holder"))

    def withdraw_payments(self, sender: LocalAccount) -> TxResult:
        """Withdraw every payment accrued on ``sender``'s bonds."""
        return self.transact("withdrawPayments", sender=sender)

    def total_paid(self) -> int:
        return self.call("totalPaid")

    def total_withdrawn(self) -> int:
        return self.call("totalWithdrawn")

    def unclaimed_payments(self) -> int:
        return self.call("unclaimedPayments")

    def sweep(self, sender: LocalAccount) -> TxResult:
        """Send what the series holds beyond what its holders are owed to the treasury (anyone)."""
        return self.transact("sweep", sender=sender)
