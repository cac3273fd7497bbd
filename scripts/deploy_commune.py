#!/usr/bin/env python3
"""Deploy a commune through the factory and write deployments/NETWORK.json, as `vc deploy` does.

    python scripts/deploy_commune.py                 # on the embedded chain (gone when it exits)
    python scripts/deploy_commune.py local           # on the node of `vc node start`

On a local network the founders are test accounts 0 and 1 and a test stablecoin is deployed (for
any other network use `vc deploy --token ADDRESS --account NAME`). Exit status as `vc`'s: 0 done,
1 the chain refused, 2 bad input or an unreachable node.
"""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deploy_commune.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("network", metavar="NETWORK", nargs="?", default="tester",
                   help="a local network: tester (default, embedded) or local (`vc node start`)")
    return p


def deploy_commune(network_name: str) -> None:
    from vcengine.client import InputError
    from vcengine.compiler import load_artifacts
    from vcengine.deploy import DAY, CommuneParams, create_commune, deploy_factory
    from vcengine.deployments import write_record
    from vcengine.networks import get_network, open_chain
    from vcengine.token import TestStablecoinClient

    network = get_network(network_name)
    if not network.has_test_accounts:
        raise InputError(f"network {network.name!r} is not local: this script signs with test accounts 0 and 1; "
                         "use `vc deploy --network NAME --token ADDRESS --founder ... --account NAME` instead")
    chain = open_chain(network)
    artifacts = load_artifacts()
    deployer, second = chain.accounts[0], chain.accounts[1]

    factory = deploy_factory(chain, deployer, artifacts)             # once per chain; reusable by anyone
    token = TestStablecoinClient.deploy(chain, deployer, artifacts=artifacts)
    params = CommuneParams(founders=[deployer.address, second.address], quorum_cap=2,
                           period_seconds=30 * DAY, grace_seconds=7 * DAY)
    deployment, tx = create_commune(chain, deployer, params, factory.factory, token.address, artifacts)

    factory_record = {"address": factory.factory, "implementations": factory.implementations,
                      "series_implementation": factory.series_implementation, "test_token": True}
    path = write_record(network.name, chain, deployment, tx.block_number, tx.tx_hash, factory_record, artifacts)
    print(f"commune {deployment.commune.address} created in {tx.tx_hash} ({tx.gas_used:,} gas); record {path}")
    for name, address in deployment.contracts().items():
        print(f"  {name:<26} {address}")


def main(*argv: str) -> None:
    """``main("local")`` as the command line ``deploy_commune.py local``."""
    args = parser().parse_args(argv)  # --help and bad arguments before the engine is imported
    from vcengine.cli import handle_errors

    handle_errors(deploy_commune)(args.network)


if __name__ == "__main__":
    main(*sys.argv[1:])
