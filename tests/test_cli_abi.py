"""`vc abi export` reproduces the build for explorers, and the README's command -> contract call
table stays true to the `vc` command tree and the ABIs.

The export is recompiled here with the same solc-js the build uses: every contract's runtime code
and metadata must come out byte for byte as the build's, and the code deployed on the chain must be
that runtime code with only the immutables' bytes differing.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Iterator

import click
import pytest
from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from cli_helpers import ok, sandbox, vc
from vcengine.cli import main
from vcengine.compiler import load_artifacts, select_backend
from vcengine import networks
from vcengine.paths import CONTRACTS_DIR, NODE_MODULES, PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DAY = 24 * 60 * 60


def _masked(code: bytes, immutable_references: dict) -> bytes:
    out = bytearray(code)
    for refs in immutable_references.values():
        for ref in refs:
            out[ref["start"]:ref["start"] + ref["length"]] = bytes(ref["length"])
    return bytes(out)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A commune deployed on the embedded chain, exported with its deployment, and the export
    recompiled with the build's compiler."""
    tmp = tmp_path_factory.mktemp("abi")
    with sandbox(tmp):
        deployed = ok("deploy", "--network", "tester", "--founder", "0", "--founder", "1", "--account", "0",
                      "--labour-threshold", "7", "--quorum-cap", "2", "--period", "30d", "--grace", "5d",
                      "--sale", "2d", "--rate-cap-bps", "900", "--reserve-bps", "250")
        chain = networks.tester_chain()
        block = chain.w3.eth.block_number
        out = ok("abi", "export", "--out", "bundle", "--network", "tester")
        assert chain.w3.eth.block_number == block  # an export sends nothing
        folder = tmp / "bundle"
        std_input = json.loads((folder / "standard-json-input.json").read_text())
        _, compile_ = select_backend()
        recompiled = compile_(std_input)
        assert not [e for e in recompiled.get("errors", []) if e["severity"] == "error"]
        yield SimpleNamespace(tmp=tmp, folder=folder, out=out, deployed=deployed, chain=chain,
                              std_input=std_input, recompiled=recompiled, build=load_artifacts())


def _checksummed(value):
    """eth_abi decodes addresses in lower case; the chain and the record give them checksummed."""
    if isinstance(value, tuple):
        return tuple(_checksummed(v) for v in value)
    return to_checksum_address(value) if isinstance(value, str) and re.fullmatch(r"0x[0-9a-f]{40}", value) else value


def _ours(recompiled: dict) -> dict[str, dict]:
    return {name: data for unit, contracts in recompiled["contracts"].items() if unit.startswith("contracts/")
            for name, data in contracts.items()}


# ------------------------------------------------------------------ the compiler input


def test_the_input_holds_every_source_as_it_is_on_disk_with_the_builds_settings(exported):
    sources = exported.std_input["sources"]
    on_disk = sorted("contracts/" + p.relative_to(CONTRACTS_DIR).as_posix() for p in CONTRACTS_DIR.rglob("*.sol"))
    assert on_disk and set(on_disk) <= set(sources)
    for unit, entry in sources.items():
        file = PROJECT_ROOT / unit if unit.startswith("contracts/") else NODE_MODULES / unit
        assert entry["content"] == file.read_text(encoding="utf-8"), unit
        assert (exported.folder / "sources" / unit).read_text(encoding="utf-8") == entry["content"]
    assert any(u.startswith("@openzeppelin/contracts/") for u in sources)
    settings = exported.std_input["settings"]
    assert settings["evmVersion"] == "cancun" and settings["optimizer"] == {"enabled": True, "runs": 1000}
    assert settings["metadata"] == {"bytecodeHash": "none"} and settings["viaIR"] is False
    assert exported.out["build_key"] == exported.build.key


def test_the_compiler_version_is_the_full_release_of_the_solc_js_that_built_it(exported):
    import subprocess

    proc = subprocess.run(["node", "-e", "process.stdout.write(require(process.argv[1]).version())",
                           str(NODE_MODULES / "solc")], capture_output=True, text=True, check=True)
    version = exported.out["compiler"]["version"]
    assert re.fullmatch(r"0\.8\.30\+commit\.[0-9a-f]{8}", version)
    assert proc.stdout.startswith(version + ".")  # e.g. 0.8.30+commit.73712a01.Emscripten.clang
    assert exported.out["compiler"]["etherscan"] == "v" + version
    assert exported.out["compiler"]["soljson"] == f"soljson-v{version}.js"
    manifest = json.loads((exported.folder / "manifest.json").read_text())
    assert manifest["compiler"] == exported.out["compiler"]


def test_recompiling_the_export_reproduces_every_contracts_runtime_code_and_metadata(exported):
    ours = _ours(exported.recompiled)
    assert set(ours) == set(exported.build.artifacts) == set(exported.out["contracts"])
    for name, data in ours.items():
        art = exported.build[name]
        assert "0x" + data["evm"]["deployedBytecode"]["object"] == art.deployed_bytecode, name
        assert "0x" + data["evm"]["bytecode"]["object"] == art.bytecode, name
        exported_metadata = (exported.folder / "metadata" / f"{name}.json").read_text()
        assert exported_metadata == data["metadata"] == art.metadata, name
        digest = "0x" + keccak(text=data["metadata"]).hex()
        assert exported.out["contracts"][name]["metadata_keccak256"] == digest
        assert json.loads((exported.folder / "abi" / f"{name}.json").read_text()) == json.loads(data["metadata"])["output"]["abi"]
        assert exported.out["contracts"][name]["fully_qualified_name"] == f"{art.source}:{name}"


def test_the_exported_metadata_carries_the_natspec_of_the_sources(exported):
    source = (CONTRACTS_DIR / "Commune.sol").read_text()
    notice = re.search(r"/// @notice ([^\n]*)\n(?:\s*/// [^\n]*\n)*\s*function join\(\)", source).group(1)
    metadata = json.loads((exported.folder / "metadata" / "Commune.json").read_text())
    assert metadata["output"]["userdoc"]["methods"]["join()"]["notice"].startswith(notice.strip())
    assert metadata["output"]["devdoc"]["kind"] == "dev" and metadata["output"]["userdoc"]["kind"] == "user"
    errors_source = (CONTRACTS_DIR / "interfaces" / "ICommuneErrors.sol").read_text()
    error_notice = re.search(r"/// @notice ([^\n]*)\n(?:\s*/// [^\n]*\n)*\s*error CommuneShareNotTransferable\(", errors_source).group(1)
    errors = metadata["output"]["userdoc"]["errors"]
    assert errors["CommuneShareNotTransferable(uint256)"][0]["notice"] == error_notice.strip()
    assert metadata["settings"]["compilationTarget"] == {"contracts/Commune.sol": "Commune"}


# ------------------------------------------------------------------------- the deployment


#: EIP-1167's published runtime code around the implementation's address.
PROXY = ("363d3d373d3d3d363d73", "5af43d82803e903d91602b57fd5bf3")


def test_the_deployed_code_is_the_recompiled_runtime_code_but_for_immutables(exported):
    """Every contract deployed once per chain is the recompiled runtime code (immutables' bytes set
    aside); the stock implementation's immutables are its modules' addresses."""
    ours = _ours(exported.recompiled)
    contracts = exported.out["deployment"]["contracts"]
    expected = {"SettlementToken": "TestStablecoin", "BondSeriesImplementation": "BondSeries",
                "CommuneFactory": "CommuneFactory", "BondAuction": "BondAuction", "RentalMarket": "RentalMarket",
                "Liquidation": "Liquidation", "CommonStockImplementation": "CommonStock",
                "CommuneImplementation": "Commune", "TreasuryImplementation": "Treasury"}
    pieces = {label: c["contract"] for label, c in contracts.items() if c["kind"] == "contract"}
    assert pieces == expected
    for label, name in expected.items():
        entry = contracts[label]
        code = bytes(exported.chain.w3.eth.get_code(entry["address"]))
        runtime = ours[name]["evm"]["deployedBytecode"]
        assert _masked(code, runtime.get("immutableReferences") or {}) == bytes.fromhex(runtime["object"]), label
        assert entry["code_matches"] is True
    assert ours["CommonStock"]["evm"]["deployedBytecode"]["immutableReferences"]  # the masking is exercised


def test_a_communes_contracts_are_clones_of_the_recorded_implementations_with_its_wiring(exported):
    """Commune, Treasury and CommonStock: exactly EIP-1167 around the implementation, then 154 bytes:
    the factory, the three clones, the token, the series implementation, zero governance, the
    creation block's time (8 bytes), the period (4), the token's decimals and the EOA flag."""
    contracts = exported.out["deployment"]["contracts"]
    addr = {label: c["address"] for label, c in contracts.items()}
    w3 = exported.chain.w3
    created = w3.eth.get_block(exported.deployed["block"])["timestamp"]
    args = "".join(addr[k][2:].lower() for k in ("CommuneFactory", "Commune", "Treasury", "CommonStock",
                                                 "SettlementToken", "BondSeriesImplementation"))
    args += "00" * 20 + f"{created:016x}{30 * DAY:08x}" + "06" + "00"
    for label in ("Commune", "Treasury", "CommonStock"):
        entry = contracts[label]
        implementation = addr[f"{label}Implementation"]
        assert (entry["kind"], entry["contract"], entry["implementation"], entry["code_matches"]) == (
            "clone", label, implementation, True)
        code = bytes(w3.eth.get_code(entry["address"])).hex()
        assert code == PROXY[0] + implementation[2:].lower() + PROXY[1] + args, label
        assert "CommuneFactory.create" in entry["notes"] and entry["constructor"] is None
    assert (exported.tmp / "bundle" / "abi" / "Commune.json").is_file()  # a clone is shown with its implementation's ABI


def test_constructor_arguments_are_the_pieces_each_piece_names(exported):
    contracts = exported.out["deployment"]["contracts"]
    addr = {label: c["address"] for label, c in contracts.items()}

    def args(label: str) -> tuple:
        ctor = contracts[label]["constructor"]
        types = ctor["signature"][len("constructor("):-1]
        return _checksummed(decode(re.findall(r"\([^)]*\)|[^,]+", types), bytes.fromhex(ctor["encoded"][2:])))

    assert args("CommonStockImplementation") == (addr["BondAuction"], addr["RentalMarket"], addr["Liquidation"])
    assert args("CommuneFactory") == (addr["CommuneImplementation"], addr["TreasuryImplementation"],
                                      addr["CommonStockImplementation"], addr["BondSeriesImplementation"])
    assert contracts["SettlementToken"]["constructor"] == {"signature": "constructor()", "args": {}, "encoded": ""}
    assert contracts["CommuneImplementation"]["constructor"]["encoded"] == ""


def test_constructor_arguments_of_directly_deployed_contracts_are_the_tail_of_their_creation_input(exported):
    """What Etherscan asks for is the creation input after the compiled creation code: found here in
    the deployment transactions themselves."""
    contracts = exported.out["deployment"]["contracts"]
    w3 = exported.chain.w3
    created = {}
    for number in range(1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            receipt = w3.eth.get_transaction_receipt(tx["hash"])
            if receipt["contractAddress"]:
                created[receipt["contractAddress"]] = bytes(tx.get("input", tx.get("data")))
    for label, name in (("CommuneFactory", "CommuneFactory"), ("CommonStockImplementation", "CommonStock")):
        entry = contracts[label]
        creation = bytes.fromhex(exported.build[name].bytecode[2:])
        sent = created[entry["address"]]
        assert sent[:len(creation)] == creation
        assert "0x" + sent[len(creation):].hex() == entry["constructor"]["encoded"], label


def test_code_that_is_not_this_build_is_refused_and_nothing_is_written(exported):
    record_file = exported.tmp / "deployments" / "tester.json"
    original = record_file.read_text()
    record = json.loads(original)
    record["contracts"]["Treasury"]["address"] = record["contracts"]["Commune"]["address"]
    record_file.write_text(json.dumps(record))
    try:
        result = vc("abi", "export", "--out", "mismatch", "--network", "tester")
        assert result.exit_code == 2
        # the Treasury entry now holds the membership clone, and the other clones name another treasury
        refused = re.search(r"\(([^)]*)\) is not this build's", result.stderr)
        assert refused and "Treasury" in refused.group(1).split(", ")
        assert not (exported.tmp / "mismatch").exists()
        unchecked = ok("abi", "export", "--out", "mismatch", "--network", "tester", "--no-check")
        assert unchecked["deployment"]["code_checked"] is False
        assert {c["code_matches"] for c in unchecked["deployment"]["contracts"].values()} == {None}
    finally:
        record_file.write_text(original)


def test_a_piece_whose_immutables_name_other_pieces_than_the_record_is_refused(exported):
    """The code comparison sets the immutables' bytes aside; they are then read back: a record naming
    another BondAuction (the same code at another address) than the one the stock implementation
    runs would give explorers the wrong constructor arguments, so it is refused, naming the stock
    implementation and not the module."""
    from vcengine.deploy import _client_class

    record_file = exported.tmp / "deployments" / "tester.json"
    original = record_file.read_text()
    record = json.loads(original)
    other = _client_class("BondAuction").deploy(exported.chain, exported.chain.accounts[0]).address
    assert other != record["factory"]["implementations"]["BondAuction"]
    record["factory"]["implementations"]["BondAuction"] = other
    record_file.write_text(json.dumps(record))
    try:
        result = vc("abi", "export", "--out", "rewired", "--network", "tester")
        refused = re.search(r"\(([^)]*)\) is not this build's", result.stderr)
        assert result.exit_code == 2 and refused and refused.group(1).split(", ") == ["CommonStockImplementation"]
        assert not (exported.tmp / "rewired").exists()
    finally:
        record_file.write_text(original)


def test_the_human_output_names_each_deployed_contract_and_its_code_check(exported):
    result = vc("abi", "export", "--out", "shown", "--network", "tester")
    assert result.exit_code == 0, result.output
    commune = exported.out["deployment"]["contracts"]["Commune"]["address"]
    line = next(l for l in result.stdout.splitlines() if " Commune " in l and "contracts/Commune.sol" in l)
    assert commune in line and "matches this build" in line
    assert re.search(r"CommonStock 0x[0-9a-fA-F]{40}: matches this build \(an EIP-1167 clone", result.stdout)
    files = sum(p.is_file() for p in (exported.tmp / "shown").rglob("*"))
    assert f"wrote {files} files to shown" in result.stdout


def test_a_settlement_token_not_built_here_is_named_but_not_compared(exported):
    record_file = exported.tmp / "deployments" / "tester.json"
    original = record_file.read_text()
    record = json.loads(original)
    record["token"]["test_token"] = False  # as after `vc deploy --token ADDRESS` on a public chain
    record_file.write_text(json.dumps(record))
    try:
        out = ok("abi", "export", "--out", "external", "--network", "tester")
    finally:
        record_file.write_text(original)
    token = out["deployment"]["contracts"]["SettlementToken"]
    assert token == {"contract": None, "kind": "external", "address": record["contracts"]["SettlementToken"]["address"],
                     "code_matches": None, "notes": token["notes"]}
    assert "not built here" in token["notes"]
    assert out["deployment"]["contracts"]["Commune"]["code_matches"] is True


# ---------------------------------------------------------------------------- bad input


def test_bad_input_is_refused_before_anything_is_written(exported):
    other = exported.tmp / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    result = vc("abi", "export", "--out", "notes")
    assert result.exit_code == 2 and "--out notes is not empty" in result.stderr
    assert sorted(p.name for p in other.iterdir()) == ["mine.txt"]
    result = vc("abi", "export", "--out", "x", "--contract", "Nope")
    assert result.exit_code == 2 and "--contract Nope: no such contract" in result.stderr
    result = vc("abi", "export", "--out", "x", "--no-check")
    assert result.exit_code == 2 and "--no-check applies to --network" in result.stderr
    result = vc("abi", "export", "--out", "x", "--network", "sepolia-typo")
    assert result.exit_code == 2 and "no deployment for network 'sepolia-typo'" in result.stderr
    assert not (exported.tmp / "x").exists()


def test_an_earlier_export_is_replaced_whole(exported):
    first = ok("abi", "export", "--out", "again", "--contract", "Commune", "--contract", "Treasury")
    assert sorted(first["contracts"]) == ["Commune", "Treasury"]
    stale = exported.tmp / "again" / "abi" / "Stale.json"
    stale.write_text("[]")
    second = ok("abi", "export", "--out", "again", "--contract", "Commune")
    assert sorted(p.name for p in (exported.tmp / "again" / "abi").iterdir()) == ["Commune.json"]
    assert second["deployment"] is None and second["files"] == sum(p.is_file() for p in (exported.tmp / "again").rglob("*"))


# ------------------------------------------------------------ the README's contract call table


def _table() -> dict[str, str]:
    """Command path (`assets pay-rent`) -> its calls cell, from the README's table."""
    text = README.read_text()
    start = text.index("| command | contract calls, in order |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("| `vc "):
            break
        command, calls = line.split(" | ", 1)
        words = command.strip("| `").split()[1:]
        path = []
        for word in words:
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            path.append(word)
        rows[" ".join(path)] = calls
    return rows


def _tree(group: click.Group, ctx: click.Context, prefix: str = "") -> dict[str, click.Command]:
    out = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            out.update(_tree(command, ctx, path + " "))
        else:
            out[path] = command
    return out


def _signs(command: click.Command) -> bool:
    """A command that signs takes the signer options (--account, --account-index, --password-file)."""
    return {"account_index", "password_file"} <= {p.name for p in command.params}


def _calls(cell: str) -> list[tuple[str, str, int]]:
    """(contract, function or 'constructor', argument count) of every `Contract.f(...)` / `new C(...)`."""
    found = []
    for span in re.findall(r"`([^`]*)`", cell):
        match = re.fullmatch(r"(new )?([A-Z]\w*)(?:\(ASSET_ID\))?(?:\.(\w+))?\((.*)\)", span)
        if not match:
            continue
        new, contract, function, args = match.groups()
        if not new and function is None:
            continue
        depth, count = 0, (1 if args.strip() else 0)
        for ch in args:
            depth += ch in "("
            depth -= ch in ")"
            count += ch == "," and depth == 0
        found.append((contract, "constructor" if new else function, count))
    return found


def test_the_call_table_names_every_signing_command_and_only_commands_that_exist():
    ctx = click.Context(main)
    tree = _tree(main, ctx)
    table = _table()
    assert len(table) >= 20
    assert set(table) <= set(tree), set(table) - set(tree)
    signing = {path for path, command in tree.items() if _signs(command)}
    assert signing == set(table), (signing ^ set(table))
    assert {"deploy", "assets pay-rent", "keeper run", "bonds claim"} <= signing


def test_every_call_in_the_table_exists_in_that_contracts_abi_with_that_many_arguments():
    artifacts = load_artifacts()
    abi_of = {"SettlementToken": "TestStablecoin"}  # the ERC-20 interface, which TestStablecoin implements
    table = _table()
    seen = 0
    for command, cell in table.items():
        calls = _calls(cell)
        assert calls, f"{command}: no contract call named"
        for contract, function, count in calls:
            abi = artifacts[abi_of.get(contract, contract)].abi
            if function == "constructor":
                arities = {len(i["inputs"]) for i in abi if i["type"] == "constructor"} or {0}
            else:
                arities = {len(i["inputs"]) for i in abi if i["type"] == "function" and i["name"] == function}
            assert count in arities, f"{command}: {contract}.{function} with {count} arguments; the ABI has {arities}"
            seen += 1
    assert seen >= 30
    assert _calls(table["assets pay-rent"]) == [("SettlementToken", "approve", 2), ("CommonStock", "payRent", 2)]
    approvals = [c for cell in table.values() for c in _calls(cell) if c[1] == "approve"]
    assert approvals and all(c == ("SettlementToken", "approve", 2) for c in approvals)
