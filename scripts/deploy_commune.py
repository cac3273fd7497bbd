"""Deploy a commune through the factory and write deployments/NETWORK.json, as `vc deploy` does.

    python scripts/deploy_commune.py                 # on the embedded chain (gone when it exits)
    python scripts/deploy_commune.py local           # on the node of `vc node start`

On a local network the founders are test accounts 0 and 1 and a test stablecoin is deployed.
"""

from __future__ import annotations

import sys

from vcengine.compiler import load_artifacts
from vcengine.deploy import DAY, CommuneParams, create_commune, deploy_factory
from vcengine.deployments import write_record
from vcengine.networks import get_network, open_chain
from vcengine.token import TestStablecoinClient


def main(network_name: str = "tester") -> None:
    network = get_network(network_name)
    chain = open_chain(network)
    artifacts = load_artifacts()
    deployer, second = chain.accounts[0], chain.accounts[1]

    factory = deploy_factory(chain, deployer, artifacts)             # once per chain; reusable by anyone
    token = TestStablecoinClient.deploy(chain, deployer, artifacts=artifacts)
    params = CommuneParams(founders=[deployer.address, second.address], quorum_cap=2,
                           period_seconds=30 * DAY, grace_seconds=7 * DAY)
    deployment, tx = create_commune(chain, deployer, params, factory.factory, token.address, artifacts)

    factory_record = {"address": factory.factory, "deployers": factory.deployers,
                      "series_implementation": factory.series_implementation, "test_token": True}
    path = write_record(network.name, chain, deployment, tx.block_number, tx.tx_hash, factory_record, artifacts)
    print(f"commune {deployment.commune.address} created in {tx.tx_hash} ({tx.gas_used:,} gas); record {path}")
    for name, address in deployment.contracts().items():
        print(f"  {name:<26} {address}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
