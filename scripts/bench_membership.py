#!/usr/bin/env python3
"""Gas of the membership operations (deploy, submit, attest, join, leave) on the embedded chain.

Each operation is measured in a commune of each size given, in a steady state (not the first
claim or the first join, which pay once for counters going from zero), so the table also shows
whether gas grows with the number of members. Usage:

    .venv/bin/python scripts/bench_membership.py [--sizes 3,30,100] [--json]
"""

from __future__ import annotations



from vcengine.benchmark import scaling_main
from vcengine.chains import TesterChain
from vcengine.commune import CommuneClient
from vcengine.compiler import load_artifacts

OPERATIONS = ["deploy", "submitLabour", "attest (not counting)", "attest (counting)", "join", "leave"]


def measure(members: int, quorum_cap: int = 3, threshold: int = 10) -> dict[str, int]:
    """Gas of each operation in a commune that has ``members`` members when the measured worker joins."""
    chain = TesterChain(accounts=members + 3)
    acct = chain.accounts
    founders = acct[:quorum_cap]
    commune = CommuneClient.deploy(chain, acct[0], founders=[f.address for f in founders],
                                   labour_threshold=threshold, quorum_cap=quorum_cap, artifacts=load_artifacts())
    gas = {"deploy": commune.deploy_receipt.gas_used}
    commune.submit_labour(1, "ipfs://warm-up", sender=acct[0])  # claimCount leaves zero before measuring
    for worker in acct[quorum_cap:members]:  # grow the commune to `members` by labour
        claim = commune.submit_labour(threshold, "ipfs://grow", sender=worker).claim_id
        for f in founders:
            commune.attest(claim, sender=f)
        commune.join(sender=worker)
    worker = acct[members]
    submitted = commune.submit_labour(threshold, "ipfs://bafy-measured-timesheet", sender=worker)
    gas["submitLabour"] = submitted.tx.gas_used
    for i, f in enumerate(founders):
        result = commune.attest(submitted.claim_id, sender=f)
        if i == 0:
            gas["attest (not counting)"] = result.tx.gas_used
    gas["attest (counting)"] = result.tx.gas_used
    gas["join"] = commune.join(sender=worker).tx.gas_used
    gas["leave"] = commune.leave(sender=worker).gas_used
    assert commune.member_count() == members
    return gas


def main() -> None:
    scaling_main(__doc__, measure, OPERATIONS, "Membership gas (embedded chain, solc 0.8.30, optimizer 10,000 runs)",
                 "3,30,100", size_label="{n} members", sizes_help="member counts, comma-separated")


if __name__ == "__main__":
    main()
