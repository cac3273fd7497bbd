#!/usr/bin/env python3
"""Gas of rent, payouts, bond payments and the rental life cycle with 10, 100 and 1,000 members
and bondholders.

Populations are built in few transactions on the embedded chain, with a larger block gas limit:
members are founders named at deployment (one constructor call; founders hold ordinary shares and
are counted by every division of income), and bondholders receive one bond unit each from the
winning lender through `mocks/TokenSpreader` (ordinary ERC-20 `transferFrom`s). Every measured
operation is an ordinary transaction from an ordinary account, in the same order at every size.

    .venv/bin/python scripts/bench_economy.py [--sizes 10,100,1000] [--json]
"""

from __future__ import annotations


from web3 import Web3

from vcengine.benchmark import scaling_main
from vcengine.chains import TesterChain
from vcengine.client import ContractClient
from vcengine.deploy import DAY, CommuneParams, deploy_commune

UNIT = 10**6
CHUNK = 250
OPERATIONS = [
    "payRent (bond service and income)", "depositIncome", "claimPayout", "withdrawPayments (bondholder)",
    "bond transfer", "join (treasury hook)", "leave (treasury hook)", "returnAsset", "bidRent (first)",
    "bidRent (outbid)", "settleRental (first period from escrow)", "reclaim (default)", "settleRental (to liquidation)",
    "bidLiquidation", "settleLiquidation (bonds, then members)",
]


class SpreaderClient(ContractClient):
    CONTRACT = "TokenSpreader"


def synthetic(n: int, base: int) -> list[str]:
    """n distinct addresses that never sign anything (the rest of the population)."""
    return [Web3.to_checksum_address("0x%040x" % (base + i)) for i in range(n)]


def measure(n: int) -> dict[str, int]:
    chain = TesterChain(gas_limit=400_000_000)
    a = chain.accounts
    renter, claimant, third, worker, lender, holder2, keeper, buyer, vendor = (a[i] for i in (0, 1, 2, 3, 4, 5, 6, 7, 9))
    founders = [renter.address, claimant.address, third.address] + synthetic(n - 3, 0x10_0000)
    d = deploy_commune(chain, renter, CommuneParams(founders=founders, quorum_cap=3))
    stock, treasury, token = d.stock, d.treasury, d.test_token
    for acct in (renter, claimant, third, lender, holder2, buyer):
        token.faucet(acct.address, 10**15, sender=acct)
    assert d.commune.member_count() == n

    asset = stock.request_asset("ipfs://bench", 1_000 * UNIT, vendor.address, 200 * UNIT, 10, chain.now() + DAY,
                                sender=renter).asset_id
    bid = stock.bid(asset, 1_000 * UNIT, 100, sender=lender).bid_id
    chain.advance_time(DAY)
    stock.settle(asset, sender=keeper)
    stock.claim(bid, sender=lender)
    series = stock.series(asset)
    series.transfer(holder2.address, 10 * UNIT, sender=lender)
    spreader = SpreaderClient.deploy(chain, lender)
    series.approve(spreader.address, 2**255, sender=lender)
    others = synthetic(n - 2, 0x20_0000)
    for start in range(0, len(others), CHUNK):
        spreader.transact("spread", series.address, others[start:start + CHUNK], 1, sender=lender, gas=20_000_000)

    gas: dict[str, int] = {}
    stock.pay_rent(asset, 1, sender=renter)  # warm the renter's and treasury's balances
    gas["payRent (bond service and income)"] = stock.pay_rent(asset, 1, sender=renter).tx.gas_used
    # The carried remainder's storage slot costs more going from zero to non-zero than staying
    # non-zero; leave it at 1 before and after the measured deposit, so every size pays the same.
    treasury.deposit_income(n * 1_000 + 1 - treasury.carry(), sender=buyer)
    gas["depositIncome"] = treasury.deposit_income(n * 1_000, sender=buyer).gas_used
    assert treasury.carry() == 1
    gas["claimPayout"] = treasury.claim_payout(sender=claimant).tx.gas_used
    gas["withdrawPayments (bondholder)"] = series.withdraw_payments(sender=lender).gas_used
    gas["bond transfer"] = series.transfer(holder2.address, UNIT, sender=lender).gas_used

    claim = d.commune.submit_labour(10, "ipfs://w", sender=worker).claim_id
    for member in (renter, claimant, third):
        d.commune.attest(claim, sender=member)
    gas["join (treasury hook)"] = d.commune.join(sender=worker).tx.gas_used
    gas["leave (treasury hook)"] = d.commune.leave(sender=worker).gas_used

    gas["returnAsset"] = stock.return_asset(asset, sender=renter).gas_used
    gas["bidRent (first)"] = stock.bid_rent(asset, 150 * UNIT, 6, sender=claimant).gas_used
    gas["bidRent (outbid)"] = stock.bid_rent(asset, 160 * UNIT, 6, sender=third).gas_used
    chain.advance_time(d.params.sale_seconds)
    gas["settleRental (first period from escrow)"] = stock.transact("settleRental", asset, sender=keeper).gas_used
    chain.advance_time(stock.reclaimable_at(asset)[0] - chain.now())
    gas["reclaim (default)"] = stock.reclaim(asset, sender=keeper).gas_used
    chain.advance_time(d.params.sale_seconds)
    gas["settleRental (to liquidation)"] = stock.transact("settleRental", asset, sender=keeper).gas_used
    gas["bidLiquidation"] = stock.bid_liquidation(asset, 2_000 * UNIT, sender=buyer).gas_used
    chain.advance_time(d.params.sale_seconds)
    sold = stock.settle_liquidation(asset, sender=keeper)
    assert sold.sold and sold.to_bonds > 0 and sold.to_members > 0
    gas["settleLiquidation (bonds, then members)"] = sold.tx.gas_used
    assert series.balance_of(others[-1]) == 1 and d.commune.member_count() == n
    return gas


def main() -> None:
    scaling_main(__doc__, measure, OPERATIONS, "Economy gas by members and bondholders (embedded chain)",
                 "10,100,1000", sizes_help="members (and bondholders), comma-separated (>= 5)")


if __name__ == "__main__":
    main()
