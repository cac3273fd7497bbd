#!/usr/bin/env python3
"""A member's month, in Python: pay the rent that is due, claim the payout, collect bond payments.

    python scripts/member_month.py local 2          # network, then the member: test account 2
    python scripts/member_month.py sepolia alice    # ... or a keystore account (VC_PASSWORD, --password-file)

It reads the commune from deployments/NETWORK.json (as every `vc` command does) and prints the
member's position before and after. Amounts are shown in token units. Exit status as `vc`'s: 0 done,
1 the chain refused, 2 bad input or an unreachable node (nothing sent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="member_month.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("network", metavar="NETWORK", help="tester, local (`vc node start`) or a name from vc.toml")
    p.add_argument("account", metavar="ACCOUNT",
                   help="the member who signs: a keystore account's name or address, or a test account's index "
                        "on local networks")
    p.add_argument("--password-file", type=Path, default=None, metavar="FILE",
                   help="file whose first line is the keystore password (else VC_PASSWORD, else a prompt)")
    return p


def member_month(network_name: str, account: str, password_file: Path | None = None) -> None:
    from vcengine.client import ContractReverted
    from vcengine.commands.common import Session
    from vcengine.stock import AssetState

    s = Session.start(network_name, as_json=False)
    d = s.deployment
    me = s.signer(account, None, password_file)

    def show(base_units: int) -> str:
        return s.display.amount(base_units, symbol=False)

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


def main(*argv: str) -> None:
    """``main("local", "2")`` as the command line ``member_month.py local 2``."""
    args = parser().parse_args(argv)  # --help and bad arguments before the engine is imported
    from vcengine.cli import handle_errors

    handle_errors(member_month)(args.network, args.account, args.password_file)


if __name__ == "__main__":
    main(*sys.argv[1:])
