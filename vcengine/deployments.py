"""The deployment record: ``deployments/NETWORK.json`` in the working directory.

It holds the chain id, the block, every contract's name, address and ABI file (written beside it
under ``deployments/abi/``), the factory used and the parameters. Every command finds its
contracts there (or from ``--commune ADDRESS``).

Example::

    >>> record = load_record("local")
    >>> record["contracts"]["Commune"]["address"]
    '0x...'
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vcengine.chains import Chain
from vcengine.client import InputError, require_address
from vcengine.commune import ZERO_ADDRESS, CommuneClient
from vcengine.compiler import CompileResult
from vcengine.deploy import CommuneParams, Deployment
from vcengine.stock import CommonStockClient
from vcengine.token import ERC20Client
from vcengine.treasury import TreasuryClient

#: Contract name in the record -> the compiled contract whose ABI describes it.
ABI_OF = {
    "Commune": "Commune",
    "Treasury": "Treasury",
    "CommonStock": "CommonStock",
    "SettlementToken": "TestStablecoin",  # a superset of the ERC-20 interface
    "BondSeriesImplementation": "BondSeries",
    "CommuneFactory": "CommuneFactory",
}


class StaleDeployment(InputError):
    """The record names contracts that have no code on the chain (a fresh node, another chain)."""


def deployments_dir() -> Path:
    return Path(os.environ.get("VC_DEPLOYMENTS_DIR") or Path.cwd() / "deployments")


def record_path(network: str) -> Path:
    return deployments_dir() / f"{network}.json"


def load_record(network: str) -> dict[str, Any]:
    """The record of ``network``, or InputError saying how to make one."""
    path = record_path(network)
    if not path.is_file():
        raise InputError(f"no deployment for network {network!r} ({path} does not exist): "
                         f"run `vc deploy --network {network}` first, or pass --commune ADDRESS")
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    contracts = record.get("contracts") if isinstance(record, dict) else None
    missing = [name for name in REQUIRED if not isinstance(contracts, dict) or not isinstance(contracts.get(name), dict)]
    if missing:
        raise InputError(f"{path} is not a deployment record (it names no {', '.join(missing)}): "
                         f"redeploy with `vc deploy --network {network} --force`")
    return record


#: The contracts every deployment record must name.
REQUIRED = ("Commune", "Treasury", "CommonStock", "SettlementToken", "BondSeriesImplementation")


def write_record(network: str, chain: Chain, deployment: Deployment, block: int, tx_hash: str,
                 factory: dict[str, Any], artifacts: CompileResult) -> Path:
    """Write ``deployments/NETWORK.json`` and the ABI files it names."""
    folder = deployments_dir()
    (folder / "abi").mkdir(parents=True, exist_ok=True)
    addresses = {**deployment.contracts(), "CommuneFactory": factory["address"]}
    contracts = {}
    for name, address in addresses.items():
        compiled = ABI_OF[name]
        abi_file = folder / "abi" / f"{compiled}.json"
        abi_file.write_text(json.dumps(artifacts[compiled].abi, indent=1) + "\n")
        contracts[name] = {"address": address, "abi": f"abi/{compiled}.json"}
    record = {
        "network": network,
        "chain_id": chain.chain_id,
        "block": block,
        "tx_hash": tx_hash,
        "contracts": contracts,
        "factory": factory,
        "token": {"symbol": deployment.token.symbol(), "decimals": deployment.token.decimals(),
                  "test_token": factory.get("test_token", False)},
        "params": asdict(deployment.params),
        "gas": deployment.gas,
    }
    path = record_path(network)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def open_deployment(chain: Chain, network: str, artifacts: CompileResult, commune: str | None = None) -> Deployment:
    """Clients for the commune recorded for ``network`` (or the one at ``commune``), checked to exist."""
    if commune is not None:
        commune_client = CommuneClient(chain, require_address(commune, "--commune"), artifacts)
        _require_code(chain, commune_client.address, f"--commune {commune_client.address}")
        treasury_at, stock_at = commune_client.call("treasury"), commune_client.call("stock")
        if ZERO_ADDRESS in (treasury_at, stock_at):
            raise InputError(f"commune {commune_client.address} is membership only: it has no treasury or common stock")
        stock = CommonStockClient(chain, stock_at, artifacts)
        token = ERC20Client(chain, stock.call("token"), artifacts)
        params = CommuneParams(founders=[], labour_threshold=commune_client.labour_threshold(),
                               quorum_cap=commune_client.quorum_cap(), period_seconds=stock.period_seconds(),
                               grace_seconds=stock.grace_seconds(), sale_seconds=stock.sale_seconds(),
                               rate_cap_bps=stock.rate_cap_bps())
        return Deployment(chain, params, commune_client, token, TreasuryClient(chain, treasury_at, artifacts), stock,
                          stock.call("seriesImplementation"), {})
    record = load_record(network)
    if record.get("chain_id") != chain.chain_id:
        raise StaleDeployment(f"{record_path(network)} was made on chain id {record.get('chain_id')}, "
                              f"but network {network!r} is chain id {chain.chain_id}: redeploy with "
                              f"`vc deploy --network {network} --force`")
    try:
        addr = {name: require_address(entry["address"], f"{name} address in {record_path(network)}")
                for name, entry in record["contracts"].items()}
        params = CommuneParams(**record["params"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{record_path(network)} is not a deployment record ({exc}): redeploy with --force") from None
    _require_code(chain, addr["Commune"], f"the commune recorded in {record_path(network)}", network)
    return Deployment(chain, params, CommuneClient(chain, addr["Commune"], artifacts),
                      ERC20Client(chain, addr["SettlementToken"], artifacts),
                      TreasuryClient(chain, addr["Treasury"], artifacts),
                      CommonStockClient(chain, addr["CommonStock"], artifacts),
                      addr["BondSeriesImplementation"], dict(record.get("gas", {})))


def _require_code(chain: Chain, address: str, what: str, network: str | None = None) -> None:
    if chain.w3.eth.get_code(address):
        return
    if network is None:
        raise InputError(f"{what} has no code on this chain: is it the right network?")
    hint = (" The embedded 'tester' chain lives only inside one process and is not kept between shell commands."
            if network == "tester" else
            " The node may have been restarted without its state file.")
    raise StaleDeployment(f"{what} ({address}) has no code on network {network!r}: the record is stale.{hint} "
                          f"Deploy again with `vc deploy --network {network} --force`.")
