"""A member's month, in Python: pay the rent that is due, claim the payout, collect bond payments.

    python scripts/member_month.py local 2          # network, then the member's test account index

It reads the commune from deployments/NETWORK.json (as every `vc` command does) and prints the
member's position before and after. Amounts are shown in token units.
"""

from __future__ import annotations

import sys

from vcengine.client import ContractReverted
from vcengine.compiler import load_artifacts
from vcengine.deployments import open_deployment
from vcengine.networks import get_network, open_chain
from vcengine.stock import AssetState
from vcengine.units import format_amount


def main(network_name: str = "local", account_index: str = "2") -> None:
    network = get_network(network_name)
    chain = open_chain(network)
    d = open_deployment(chain, network.name, load_artifacts())
    me = chain.accounts[int(account_index)]
    decimals = d.token.decimals()

    def show(base: int) -> str:
        return format_amount(base, decimals, grouping=True)

    print(f"{me.address}: net position {show(d.treasury.net_position(me.address))} before")
    for asset_id in range(1, d.stock.asset_count() + 1):
        asset = d.stock.asset(asset_id)
        if asset.state == AssetState.RENTED and asset.renter == me.address:
            rental = d.stock.rental(asset_id)
            if rental.paid_periods < rental.periods:  # one period, if any is left in the term
                paid = d.stock.pay_rent(asset_id, 1, sender=me)
                print(f"asset {asset_id}: rent {show(paid.amount)} ({show(paid.to_bonds)} to bonds)")
        if asset.series:
            series = d.stock.series(asset_id)
            if series.pay_withdrawable(me.address):
                due = series.pay_withdrawable(me.address)
                series.withdraw_payments(sender=me)
                print(f"asset {asset_id}: bond payments {show(due)} collected")
    if d.treasury.claimable(me.address):
        try:
            print(f"payout {show(d.treasury.claim_payout(sender=me).amount)}")
        except ContractReverted as exc:  # e.g. claimed by this account from elsewhere meanwhile
            print(f"payout not claimed: {exc.error}")
    print(f"{me.address}: net position {show(d.treasury.net_position(me.address))} after")


if __name__ == "__main__":
    main(*sys.argv[1:3])
