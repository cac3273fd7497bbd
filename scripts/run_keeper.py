"""The keeper as a script: settle what has closed and reclaim what is overdue, every INTERVAL seconds.

    python scripts/run_keeper.py local 0 60          # network, operator's test account, interval

Safe to run next to other keepers: a lost race is logged as skipped. Stop it with Ctrl-C.
"""

from __future__ import annotations

import sys
import time

from vcengine.compiler import load_artifacts
from vcengine.deployments import open_deployment
from vcengine.keeper import now_iso, run_once
from vcengine.networks import get_network, open_chain


def main(network_name: str = "local", account_index: str = "0", interval: str = "60", rounds: str = "0") -> None:
    network = get_network(network_name)
    chain = open_chain(network)
    d = open_deployment(chain, network.name, load_artifacts())
    operator = chain.accounts[int(account_index)]
    n = 0
    while True:
        n += 1
        for action in run_once(d.stock, operator):
            print(now_iso(), action, flush=True)  # amounts with the token's decimals and symbol
        if int(rounds) and n >= int(rounds):
            break
        time.sleep(float(interval))


if __name__ == "__main__":
    main(*sys.argv[1:5])
