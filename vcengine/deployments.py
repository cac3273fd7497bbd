"""The deployment record: ``deployments/NETWORK.json`` in the working directory.

It holds the chain id, the block, every contract's name, address and ABI file (written beside it
under ``deployments/abi/``), the factory used and the parameters. Every command finds its
contracts there (or from ``--commune ADDRESS``). A record that is replaced is kept beside it as
``deployments/NETWORK.YYYYMMDDTHHMMSSZ.json`` (UTC). The factory's pieces are recorded in
``deployments/NETWORK.factory.json`` as each is mined, so that a deployment interrupted after
paying for some of them resumes with them.

Example::

    >>> record = load_record("local")
    >>> record["contracts"]["Commune"]["address"]
    '0x...'
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from vcengine.chains import Chain
from vcengine.client import InputError, require_address
from vcengine.commune import ZERO_ADDRESS, CommuneClient
from vcengine.compiler import CompileResult
from vcengine.deploy import (FACTORY_PIECES, PROXY_HEAD, PROXY_TAIL, CommuneFactoryClient, CommuneParams, Deployment,
                             piece_is_current)
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
                         f"redeploy with `vc deploy --network {network} --force` (it is kept as a dated backup)")
    return record


def read_previous(network: str) -> dict[str, Any] | None:
    """The record ``vc deploy`` would replace: None when there is none, ``{}`` when the file is not
    a readable JSON object (nothing in it to protect, but it is still kept as a backup)."""
    path = record_path(network)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def live_commune(record: dict[str, Any] | None, chain: Chain) -> str | None:
    """The address of the commune ``record`` names if it was made on ``chain`` and has code there
    (a record worth protecting from an accidental redeploy), else None."""
    try:
        address = require_address(record["contracts"]["Commune"]["address"], "commune")  # type: ignore[index]
    except (KeyError, TypeError, InputError):
        return None
    if record.get("chain_id") != chain.chain_id or not chain.w3.eth.get_code(address):  # type: ignore[union-attr]
        return None
    return address


def backup_record(network: str) -> Path | None:
    """Move ``deployments/NETWORK.json`` aside as ``NETWORK.YYYYMMDDTHHMMSSZ.json`` (UTC, now);
    returns the backup's path (None when there was no record)."""
    path = record_path(network)
    if not path.is_file():
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup, n = path.with_name(f"{network}.{stamp}.json"), 2
    while backup.exists():  # two replacements within one second
        backup, n = path.with_name(f"{network}.{stamp}-{n}.json"), n + 1
    path.rename(backup)
    return backup


#: The common stock's modules, each named by an immutable of the CommonStock implementation.
MODULE_GETTERS = {"BondAuction": "BOND_AUCTION", "RentalMarket": "RENTAL_MARKET", "Liquidation": "LIQUIDATION"}

#: The contracts every deployment record must name.
REQUIRED = ("Commune", "Treasury", "CommonStock", "SettlementToken", "BondSeriesImplementation")


def clone_implementation(chain: Chain, address: str) -> str | None:
    """The implementation ``address`` is an EIP-1167 clone of, or None when it is not a clone."""
    code = bytes(chain.w3.eth.get_code(address))
    if code[:10] != PROXY_HEAD or code[30:45] != PROXY_TAIL:
        return None
    return to_checksum_address(code[10:30])


def factory_implementations(chain: Chain, factory: str, artifacts: CompileResult) -> dict[str, str]:
    """The code the factory at ``factory`` clones, by contract name: its implementations and the
    common stock implementation's modules."""
    made = CommuneFactoryClient(chain, factory, artifacts).implementations()
    made.pop("BondSeries")
    stock = CommonStockClient(chain, made["CommonStock"], artifacts)
    modules = {name: stock.call(getter) for name, getter in MODULE_GETTERS.items()}
    return {**modules, **made}


def write_record(network: str, chain: Chain, deployment: Deployment, block: int, tx_hash: str,
                 factory: dict[str, Any], artifacts: CompileResult) -> Path:
    """Write ``deployments/NETWORK.json`` and the ABI files it names. A record already there is
    first moved aside (:func:`backup_record`); the new one names it under ``replaces``."""
    folder = deployments_dir()
    (folder / "abi").mkdir(parents=True, exist_ok=True)
    addresses = {**deployment.contracts(), "CommuneFactory": factory["address"]}
    if not isinstance(factory.get("implementations"), dict):
        factory = {**factory, "implementations": factory_implementations(chain, factory["address"], artifacts)}
    contracts = {}
    for name, address in addresses.items():
        compiled = ABI_OF[name]
        abi_file = folder / "abi" / f"{compiled}.json"
        abi_file.write_text(json.dumps(artifacts[compiled].abi, indent=1) + "\n")
        contracts[name] = {"address": address, "abi": f"abi/{compiled}.json"}
        implementation = clone_implementation(chain, address)
        if implementation is not None:
            contracts[name]["clone_of"] = implementation
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
    backup = backup_record(network)
    record["replaces"] = backup.name if backup else None
    path = record_path(network)
    _write_json(path, record)
    return path


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` through a temporary file, so that an interruption leaves the old
    file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


# ------------------------------------------------------------------------ the factory's pieces


def factory_path(network: str) -> Path:
    return deployments_dir() / f"{network}.factory.json"


def record_factory_piece(network: str, chain: Chain, label: str, address: str, gas: int) -> Path:
    """Add factory piece ``label`` (just mined at ``address``) to ``deployments/NETWORK.factory.json``."""
    path = factory_path(network)
    data = _read_factory_file(path)
    if data.get("chain_id") != chain.chain_id:
        data = {}
    data = {"network": network, "chain_id": chain.chain_id, "pieces": dict(data.get("pieces", {}))}
    data["pieces"][label] = {"address": address, "gas": gas}
    _write_json(path, data)
    return path


def recorded_pieces(network: str, chain: Chain, artifacts: CompileResult,
                    previous: dict[str, Any] | None = None) -> dict[str, str]:
    """Factory pieces recorded for ``network`` (the factory file, else the factory of the record
    ``previous``) that were made on this chain, hold the code these artifacts build and name only
    such pieces (:func:`_wired`); a complete factory has ``CommuneFactory`` among them. A record
    written before the clones (its factory lists ``deployers``) has none to reuse."""
    found: dict[str, str] = {}
    if previous and previous.get("chain_id") == chain.chain_id and isinstance(previous.get("factory"), dict):
        factory = previous["factory"]
        implementations = factory.get("implementations")
        implementations = implementations if isinstance(implementations, dict) else {}
        found.update({k: v for k, v in implementations.items() if isinstance(v, str)})
        for label, key in (("BondSeries", "series_implementation"), ("CommuneFactory", "address")):
            if isinstance(factory.get(key), str):
                found[label] = factory[key]
    data = _read_factory_file(factory_path(network))
    if data.get("chain_id") == chain.chain_id and isinstance(data.get("pieces"), dict):
        found.update({label: entry["address"] for label, entry in data["pieces"].items()
                      if isinstance(entry, dict) and isinstance(entry.get("address"), str)})
    current = {}
    for label, address in found.items():
        try:
            address = require_address(address, label)
        except InputError:
            continue
        if label in FACTORY_PIECES and piece_is_current(chain, label, address, artifacts):
            current[label] = address
    return _wired(chain, current, artifacts)


def _wired(chain: Chain, pieces: dict[str, str], artifacts: CompileResult) -> dict[str, str]:
    """``pieces`` less those whose immutables name code that is not this build's. The code
    comparison sets immutables aside, so a factory whose own code is unchanged still clones the
    implementations it was made with, and a CommonStock implementation still runs its modules: a
    factory is reused only with the pieces it names (as the chain has them), when every one is this
    build's; a stock implementation only with its own modules, likewise. Else it is dropped, to be
    deployed again with the others."""
    pieces = dict(pieces)

    def named_by(label: str) -> dict[str, str] | None:
        try:
            if label == "CommuneFactory":
                named = {**factory_implementations(chain, pieces[label], artifacts),
                         "BondSeries": CommuneFactoryClient(chain, pieces[label], artifacts).series_implementation()}
            else:
                stock = CommonStockClient(chain, pieces[label], artifacts)
                named = {name: stock.call(getter) for name, getter in MODULE_GETTERS.items()}
        except Exception:  # noqa: BLE001 - it does not answer as the piece does: nothing to reuse
            return None
        named = {name: to_checksum_address(at) for name, at in named.items()}
        return named if all(piece_is_current(chain, name, at, artifacts) for name, at in named.items()) else None

    if "CommuneFactory" in pieces:
        named = named_by("CommuneFactory")
        if named is not None:
            return {**named, "CommuneFactory": pieces["CommuneFactory"]}
        del pieces["CommuneFactory"]
    if "CommonStock" in pieces:
        named = named_by("CommonStock")
        if named is None:
            del pieces["CommonStock"]
        else:
            pieces.update(named)
    return {label: pieces[label] for label in FACTORY_PIECES if label in pieces}


def _read_factory_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def open_deployment(chain: Chain, network: str, artifacts: CompileResult, commune: str | None = None) -> Deployment:
    """Clients for the commune recorded for ``network`` (or the one at ``commune``), checked to exist."""
    if commune is not None:
        commune_client = CommuneClient(chain, require_address(commune, "--commune"), artifacts)
        treasury_at, stock_at = _check_commune(chain, commune_client, network)
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
                              f"`vc deploy --network {network}` (the old record is kept as a dated backup)")
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


def _view(chain: Chain, address: str, signature: str, returns: str) -> Any:
    """``signature()`` read from ``address`` as ``returns``, or None if it reverts, returns nothing
    or returns something else (probing a contract of unknown kind)."""
    from eth_abi import decode
    from eth_utils import function_signature_to_4byte_selector

    try:
        out = chain.w3.eth.call({**chain.call_defaults, "to": to_checksum_address(address),
                                 "data": "0x" + function_signature_to_4byte_selector(signature).hex()})
        value = decode([returns], bytes(out))[0]
    except Exception:  # a revert, an empty or malformed answer: not this view
        return None
    return to_checksum_address(value) if returns == "address" else value


def _check_commune(chain: Chain, commune: CommuneClient, network: str) -> tuple[str, str]:
    """The treasury and common stock of the commune at ``--commune``, or InputError saying what
    the address is instead: an account without code, a commune's treasury or common stock, a
    token, or another contract."""
    address = commune.address
    where = f"on network {network!r}"
    if not chain.w3.eth.get_code(address):
        raise InputError(f"--commune {address} has no code on this chain ({where}): it is an account, not a "
                         f"commune's membership contract; is it the right network?")
    treasury_at, stock_at = _view(chain, address, "treasury()", "address"), _view(chain, address, "stock()", "address")
    wired = (treasury_at is not None and stock_at is not None
             and (ZERO_ADDRESS in (treasury_at, stock_at)
                  or (_view(chain, stock_at, "commune()", "address") == address
                      and _view(chain, treasury_at, "commune()", "address") == address))
             and _view(chain, address, "labourThreshold()", "uint256") is not None)
    if wired:
        if ZERO_ADDRESS in (treasury_at, stock_at):
            raise InputError(f"commune {address} is membership only: it has no treasury or common stock")
        return to_checksum_address(treasury_at), to_checksum_address(stock_at)
    owner = _view(chain, address, "commune()", "address")
    if owner is not None and owner != ZERO_ADDRESS:
        raise InputError(f"--commune {address} is not a commune's membership contract: it belongs to the commune "
                         f"{to_checksum_address(owner)} (its treasury or common stock); pass --commune "
                         f"{to_checksum_address(owner)}")
    symbol = _view(chain, address, "symbol()", "string")
    if symbol is not None and _view(chain, address, "decimals()", "uint8") is not None:
        raise InputError(f"--commune {address} is an ERC-20 token ({symbol}), not a commune's membership contract "
                         f"(`Commune` in deployments/{network}.json)")
    raise InputError(f"--commune {address} is a contract but not a commune's membership contract (it does not "
                     f"answer treasury() and stock() as a commune does); pass the `Commune` address of "
                     f"deployments/{network}.json")


def _require_code(chain: Chain, address: str, what: str, network: str) -> None:
    if chain.w3.eth.get_code(address):
        return
    if network == "tester":
        hint = ("The embedded 'tester' chain lives only inside the process that deployed it: every shell "
                "command starts a new, empty one. For a chain that persists between commands, start a node "
                "with `vc node start` and use `--network local` (`vc deploy --network local ...`).")
    else:
        hint = (f"The node may have been restarted without its state file, or the network's URL reaches "
                f"another node. Deploy again with `vc deploy --network {network} ...` (the stale record is "
                f"kept as a dated backup).")
    raise StaleDeployment(f"{what} ({address}) has no code on network {network!r}: the record is stale. {hint}")
