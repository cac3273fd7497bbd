"""``vc abi export``: ABIs, metadata and the exact compiler input, for wallets and explorers.

The folder it writes holds everything Etherscan-style verification (standard-JSON input, compiler
version, contract name, constructor arguments) and Sourcify (metadata JSON and the sources it
names) ask for; once a contract is verified, wallets and explorers show its NatSpec. The input is
the build's own (:func:`vcengine.compiler.build_input`), so recompiling it reproduces the build's
runtime code and metadata byte for byte. With ``--network`` the deployed addresses of
``deployments/NETWORK.json`` are added, each checked against this build on the chain, with how it
was created and its ABI-encoded constructor arguments.

Example::

    vc abi export --out abi-export --network local
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import click
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from rich.table import Table

from vcengine.cli import emit_json, handle_errors, json_option
from vcengine.client import InputError
from vcengine.compiler import Artifact, CompileResult, build_input, cache_key, load_artifacts

#: Marks a folder as written by this command (an earlier export may be replaced, nothing else).
FORMAT = "vc-abi-export/1"

#: A commune's three contracts: EIP-1167 clones of the implementations the factory names.
CLONES = ("Commune", "Treasury", "CommonStock")


@click.group()
def abi() -> None:
    """ABIs, compiler metadata and the standard-JSON input, for wallets and source verification."""


@abi.command()
@click.option("--out", "out_dir", default="abi-export", show_default=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write (replaced if it holds an earlier export; refused if it holds anything else).")
@click.option("--network", "network_name", default=None, metavar="NAME",
              help="Add the contracts deployed on NAME (deployments/NAME.json), checked against this build on the chain.")
@click.option("--no-check", is_flag=True,
              help="With --network: take the record's addresses without reaching the node to compare their code.")
@click.option("--contract", "only", multiple=True, metavar="NAME",
              help="Export only this contract (repeat for several); default: every contract under contracts/.")
@json_option
@handle_errors
def export(out_dir: Path, network_name: str | None, no_check: bool, only: tuple[str, ...], as_json: bool) -> None:
    """Write ABIs, metadata, sources and the exact standard-JSON compiler input to DIR."""
    if no_check and network_name is None:
        raise InputError("--no-check applies to --network: name the network whose deployment to add")
    _check_out_dir(out_dir)
    result = load_artifacts()
    std_input = build_input()
    if cache_key(std_input) != result.key:  # a source changed between the two reads
        raise InputError("the sources changed while exporting: run `vc abi export` again")
    names = _selected(result, only)
    deployment = _deployed(network_name, result, check=not no_check) if network_name else None
    deployed = deployment["contracts"] if deployment else {}

    from vcengine.commands.common import _console

    console = _console()
    version = next(a.compiler_version for a in result.artifacts.values() if a.metadata)
    manifest = _manifest(result, std_input, names, version, deployment)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".abi-export-", dir=parent))
    try:
        files = _write(staging, result, std_input, names, manifest)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.replace(out_dir)  # the folder appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    table = Table(title=f"{len(names)} contracts, solc {version}")
    columns = ["contract", "source", "ABI entries", "NatSpec notices"] + (["deployed at", "code"] if deployment else [])
    for column in columns:
        table.add_column(column)
    for name in names:
        art = result[name]
        here = [d for d in deployed.values() if d["contract"] == name]
        row = [name, art.source, str(len(art.abi)), str(_notices(art))]
        if deployment:
            row += ["\n".join(d["address"] for d in here), "\n".join(_code_word(d) for d in here)]
        table.add_row(*row)
    if not as_json:
        console.print(table)
        for label in CLONES:
            if label in deployed:
                console.print(f"{label} {deployed[label]['address']}: {_code_word(deployed[label])} "
                              f"({deployed[label]['notes']})")
    console.print(f"wrote {files} files to {out_dir}: standard-json-input.json (compiler v{version}), "
                  f"abi/, metadata/, sources/, manifest.json, VERIFY.md")
    if as_json:
        emit_json({"ok": True, "out": str(out_dir), "files": files, **manifest})


# ---------------------------------------------------------------------------------- pieces


def _check_out_dir(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is a file, not a folder")
    manifest = out_dir / "manifest.json"
    if not any(out_dir.iterdir()):
        return
    try:
        earlier = json.loads(manifest.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        earlier = False
    if not earlier:
        raise InputError(f"--out {out_dir} is not empty and holds no earlier `vc abi export`: "
                         f"choose another folder (nothing was written)")


def _selected(result: CompileResult, only: tuple[str, ...]) -> list[str]:
    unknown = [n for n in only if n not in result.artifacts]
    if unknown:
        raise InputError(f"--contract {unknown[0]}: no such contract; known: {', '.join(sorted(result.artifacts))}")
    return sorted(set(only) or set(result.artifacts))


def _notices(art: Artifact) -> int:
    """NatSpec notices of the contract: on the contract itself, its functions, events and errors."""
    doc = art.userdoc
    count = 1 if doc.get("notice") else 0
    for kind in ("methods", "events"):
        count += sum(1 for entry in (doc.get(kind) or {}).values() if entry.get("notice"))
    count += sum(1 for entries in (doc.get("errors") or {}).values() for e in entries if e.get("notice"))
    return count


def _code_word(entry: dict[str, Any]) -> str:
    return {True: "matches this build", False: "DIFFERS from this build", None: "not checked"}[entry["code_matches"]]


def _manifest(result: CompileResult, std_input: dict[str, Any], names: list[str], version: str,
              deployed: dict[str, Any] | None) -> dict[str, Any]:
    contracts = {}
    for name in names:
        art = result[name]
        contracts[name] = {
            "source": art.source,
            "fully_qualified_name": f"{art.source}:{name}",
            "abi": f"abi/{name}.json",
            "metadata": f"metadata/{name}.json",
            "metadata_keccak256": "0x" + keccak(text=art.metadata).hex(),
            "has_code": art.deployed_bytecode not in ("", "0x"),
            "natspec_notices": _notices(art),
        }
    return {
        "format": FORMAT,
        "compiler": {"language": std_input["language"], "version": version, "etherscan": f"v{version}",
                     "soljson": f"soljson-v{version}.js"},
        "build_key": result.key,
        "standard_json_input": "standard-json-input.json",
        "settings": {k: v for k, v in std_input["settings"].items() if k != "outputSelection"},
        "contracts": contracts,
        "deployment": deployed,
    }


def _write(folder: Path, result: CompileResult, std_input: dict[str, Any], names: list[str],
           manifest: dict[str, Any]) -> int:
    written = 0

    def put(relative: str, text: str) -> None:
        nonlocal written
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written += 1

    put("standard-json-input.json", json.dumps(std_input, indent=1) + "\n")
    for unit, source in std_input["sources"].items():
        parts = PurePosixPath(unit).parts
        if ".." in parts or PurePosixPath(unit).is_absolute():  # pragma: no cover - units are normalised
            raise InputError(f"source unit {unit!r} would be written outside the export")
        put(f"sources/{unit}", source["content"])
    for name in names:
        art = result[name]
        put(f"abi/{name}.json", json.dumps(art.abi, indent=1) + "\n")
        put(f"metadata/{name}.json", art.metadata)  # byte for byte: its hash is what Sourcify checks
    put("manifest.json", json.dumps(manifest, indent=1) + "\n")
    put("VERIFY.md", _verify_text(manifest))
    return written


def _verify_text(manifest: dict[str, Any]) -> str:
    c = manifest["compiler"]
    lines = [
        "# Verifying these contracts",
        "",
        f"Compiler: solc {c['version']} (Etherscan: `{c['etherscan']}`, solc-js: `{c['soljson']}`), "
        f"settings: `{json.dumps(manifest['settings'], sort_keys=True)}`.",
        "",
        "- **Etherscan and Blockscout**: compiler type *Solidity (Standard-Json-Input)*, the version above, "
        "the file `standard-json-input.json`, the contract name `contracts/File.sol:Name` "
        "(`fully_qualified_name` in manifest.json) and, for a deployed contract, the ABI-encoded "
        "constructor arguments (`deployment.NAME.constructor.encoded` in manifest.json, without `0x`).",
        "- **Sourcify**: the contract's `metadata/Name.json` and the `sources/` folder (the metadata "
        "names each source by path and keccak256). The build sets `bytecodeHash: none`, so the code "
        "carries no metadata hash: Sourcify reports a partial match, with the same sources and NatSpec.",
        "- A commune's membership contract, treasury and common stock are EIP-1167 clones of the "
        "implementations its factory names, with the commune's wiring appended as immutable arguments, and "
        "each asset's bonds are a clone of the BondSeries implementation, its terms appended likewise: "
        "verify the implementations (and the common stock's modules); explorers show the clones as "
        "proxies of them.",
        "",
    ]
    deployment = (manifest.get("deployment") or {}).get("contracts") or {}
    if deployment:
        lines += ["| contract | address | created | constructor arguments |", "|---|---|---|---|"]
        for label, entry in deployment.items():
            args = (entry.get("constructor") or {}).get("encoded") or "none"
            what = entry["contract"] or entry["kind"]
            lines.append(f"| {label} ({what}) | `{entry['address']}` | {entry['notes']} | `{args}` |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- deployments


def _deployed(network_name: str, result: CompileResult, check: bool) -> dict[str, Any]:
    """Every contract of ``deployments/NETWORK.json``: address, compiled contract, constructor
    arguments, how it was created and (unless ``check`` is off) whether its code is this build's.
    A commune's three contracts are clones: their code must be exactly the EIP-1167 proxy of the
    recorded implementation followed by the wiring the record implies (``CommuneArgs``)."""
    from vcengine.deployments import ABI_OF, load_record, record_path

    path = record_path(network_name)
    if not path.is_file():
        raise InputError(f"no deployment for network {network_name!r} ({path} does not exist): "
                         f"export without --network, or deploy first with `vc deploy --network {network_name}`")
    record = load_record(network_name)
    try:
        address = {label: to_checksum_address(entry["address"]) for label, entry in record["contracts"].items()}
        factory = record.get("factory") or {}
        implementations = {name: to_checksum_address(a) for name, a in (factory.get("implementations") or {}).items()}
        int(record["params"]["period_seconds"]), bool(record["params"]["eoa_only"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path} is not a deployment record ({exc}): redeploy with `vc deploy --force`") from None
    # The implementations are listed under their own labels (the clones keep the contracts' names).
    pieces = {f"{name}Implementation" if name in CLONES else name: at for name, at in implementations.items()}
    address.update(pieces)
    contract_of = {**ABI_OF, **{label: label.removesuffix("Implementation") if label.removesuffix("Implementation")
                                in CLONES else label for label in pieces}}
    test_token = bool((record.get("token") or {}).get("test_token"))
    tx = record.get("tx_hash", "?")
    direct = "deployed by a transaction of the deployer's account (the first `vc deploy` on the network)"
    notes_of = {
        "SettlementToken": direct + " (the test stablecoin of a local network)",
        "BondSeriesImplementation": direct + "; every asset's bonds are EIP-1167 clones of it",
        **{label: direct + "; every commune's " + label.removesuffix("Implementation") + " is an EIP-1167 clone "
           "of it" for label in pieces if label.endswith("Implementation")},
        **{label: direct + "; every common stock clone runs its code by DELEGATECALL"
           for label in ("BondAuction", "RentalMarket", "Liquidation")},
    }
    chain = None
    if check:
        from vcengine.networks import get_network, open_chain

        chain = open_chain(get_network(network_name))
        if record.get("chain_id") != chain.chain_id:
            raise InputError(f"{path} was made on chain id {record.get('chain_id')}, but network {network_name!r} "
                             f"is chain id {chain.chain_id}: export without --network, or redeploy")
    out: dict[str, dict[str, Any]] = {}
    for label, at in address.items():
        if label == "SettlementToken" and not test_token:
            out[label] = {"contract": None, "kind": "external", "address": at, "code_matches": None,
                          "notes": "the settlement token named by `vc deploy --token`: not built here, "
                                   "verified (or not) by its issuer"}
            continue
        name = contract_of.get(label)
        if name is None or name not in result.artifacts:
            continue  # an entry added by a newer `vc deploy`: nothing to say about it
        if label in CLONES:
            implementation = implementations.get(label) or _clone_target(chain, at)
            out[label] = {"contract": name, "kind": "clone", "address": at, "implementation": implementation,
                          "code_matches": _clone_matches(chain, at, implementation, record, address),
                          "notes": f"an EIP-1167 clone of the {name} implementation {implementation}, made and "
                                   f"initialised inside CommuneFactory.create (transaction {tx}); explorers show "
                                   f"it as a proxy of the implementation: verify that",
                          "constructor": None}
            continue
        art = result[name]
        values = _piece_args(name, implementations, address, chain, result)
        matches = _code_matches(chain, at, art) if chain is not None else None
        if matches and values:
            # the immutables' bytes were set aside: they must name the pieces the record names
            matches = _named_on_chain(name, at, chain, result) == {k: to_checksum_address(v) for k, v in values.items()}
        out[label] = {"contract": name, "kind": "contract", "address": at, "code_matches": matches,
                      "notes": notes_of.get(label, direct), "constructor": _constructor(art, values)}
    mismatched = [label for label, entry in out.items() if entry["code_matches"] is False]
    if mismatched:
        raise InputError(f"the code deployed on {network_name!r} at {', '.join(out[m]['address'] for m in mismatched)} "
                         f"({', '.join(mismatched)}) is not this build's: the sources or settings changed since "
                         f"`vc deploy`, so explorers would refuse this input (nothing was written; export the "
                         f"build that was deployed, or --no-check to write the addresses anyway)")
    return {"network": network_name, "chain_id": record.get("chain_id"), "record": str(path),
            "block": record.get("block"), "tx_hash": record.get("tx_hash"), "code_checked": chain is not None,
            "contracts": out}


def _piece_args(name: str, implementations: dict[str, str], address: dict[str, str], chain: Any,
                result: CompileResult) -> dict[str, Any]:
    """Constructor arguments of a piece that names others (the stock implementation its modules, the
    factory its implementations): from the record, else from the chain."""
    from vcengine.deploy import PIECE_ARGS

    needs = PIECE_ARGS.get(name)
    if not needs:
        return {}
    ctor = next(item for item in result[name].abi if item.get("type") == "constructor")
    known = {**implementations, "BondSeries": address.get("BondSeriesImplementation")}
    values = {i["name"]: known.get(n) for i, n in zip(ctor["inputs"], needs)}
    if all(values.values()):
        return values
    if chain is None:
        return {}
    return _named_on_chain(name, address.get(f"{name}Implementation") or address[name], chain, result) or {}


def _named_on_chain(name: str, at: str, chain: Any, result: CompileResult) -> dict[str, str] | None:
    """The constructor arguments of piece ``name`` at ``at`` as its immutables hold them (None if it
    does not answer as that piece does)."""
    from vcengine.deployments import MODULE_GETTERS

    getters = {"CommonStock": tuple(MODULE_GETTERS.values()),
               "CommuneFactory": ("communeImplementation", "treasuryImplementation", "stockImplementation",
                                  "seriesImplementation")}[name]
    ctor = next(item for item in result[name].abi if item.get("type") == "constructor")
    contract = chain.w3.eth.contract(address=at, abi=result[name].abi)
    try:
        return {i["name"]: to_checksum_address(getattr(contract.functions, g)().call())
                for i, g in zip(ctor["inputs"], getters)}
    except Exception:  # noqa: BLE001 - a revert or no answer: not the piece
        return None


def _clone_target(chain: Any, address: str) -> str | None:
    if chain is None:
        return None
    from vcengine.deployments import clone_implementation

    return clone_implementation(chain, address)


def _clone_matches(chain: Any, address: str, implementation: str | None, record: dict[str, Any],
                   named: dict[str, str]) -> bool | None:
    """Whether ``address`` holds exactly the clone of ``implementation`` with the wiring the record
    implies: its factory, the commune's three addresses, the token, the bond series
    implementation, no governance, the creation block's time, the period, decimals and EOA flag."""
    if chain is None:
        return None
    if implementation is None:
        return False
    from vcengine.deploy import clone_code, commune_args

    params = record["params"]
    created_at = chain.w3.eth.get_block(record["block"])["timestamp"]
    args = commune_args(factory=named["CommuneFactory"], commune=named["Commune"], treasury=named["Treasury"],
                        stock=named["CommonStock"], token=named["SettlementToken"],
                        series=named["BondSeriesImplementation"], governance="0x" + "00" * 20,
                        grid_origin=created_at, period=params["period_seconds"],
                        decimals=(record.get("token") or {}).get("decimals", 0), eoa_only=params["eoa_only"])
    return bytes(chain.w3.eth.get_code(address)) == clone_code(implementation, args)


def _constructor(art: Artifact, values: dict[str, Any]) -> dict[str, Any]:
    """The constructor's signature, its arguments by name and their ABI encoding (what Etherscan asks)."""
    ctor = next((item for item in art.abi if item.get("type") == "constructor"), {"inputs": []})
    inputs = ctor["inputs"]
    types = [_abi_type(i) for i in inputs]
    signature = f"constructor({','.join(types)})"
    if not inputs:
        return {"signature": signature, "args": {}, "encoded": ""}
    if set(values) != {i["name"] for i in inputs}:
        return {"signature": signature, "args": None, "encoded": None}  # unknown: only the chain saw them
    ordered = [values[i["name"]] for i in inputs]
    return {"signature": signature, "args": {i["name"]: values[i["name"]] for i in inputs},
            "encoded": "0x" + encode(types, ordered).hex()}


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][len("tuple"):]
    return item["type"]


def masked_runtime(code: bytes, art: Artifact) -> bytes:
    """``code`` with the bytes of ``art``'s immutables zeroed, as the compiler leaves them."""
    out = bytearray(code)
    for refs in art.immutable_references.values():
        for ref in refs:
            out[ref["start"]:ref["start"] + ref["length"]] = bytes(ref["length"])
    return bytes(out)


def _code_matches(chain: Any, address: str, art: Artifact) -> bool:
    code = bytes(chain.w3.eth.get_code(address))
    return masked_runtime(code, art) == bytes.fromhex(art.deployed_bytecode.removeprefix("0x"))
