#!/usr/bin/env python3
"""The whole performance benchmark: gas of every operation against its EVM floor, at 10, 100, 1,000
and 10,000 members, bids and bondholders, and throughput of one member workload on the embedded
chain and on anvil. Writes bench-results/bench.json and two PNG charts. Same as `vc bench all`.

    .venv/bin/python scripts/bench.py [--sizes 10,100,1000,10000] [--rounds 100] [--out bench-results]
"""

import sys

from vcengine.cli import main

if __name__ == "__main__":
    main(["bench", "all", *sys.argv[1:]])
