#!/usr/bin/env python3
"""The whole performance benchmark: gas of every operation against its EVM floor, at 10, 100, 1,000
and 10,000 members, bids and bondholders, and throughput of one member workload on the embedded
chain and on anvil. Writes bench-results/bench.json and two PNG charts. Same as `vc bench all`.

    .venv/bin/python scripts/bench.py [--sizes 10,100,1000,10000] [--rounds 100] [--out bench-results]
"""

import sys

from vcengine.bench.cli import bench_all

if __name__ == "__main__":
    bench_all.main(sys.argv[1:], prog_name="bench.py")  # `vc bench all`'s options, usage and exit status
