"""Network configuration (built-ins, user config, ./vc.toml), the example scripts, the factory's
wiring and the NatSpec that wallets and explorers show."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from cli_helpers import ok, sandbox, vc
from eth_utils import to_checksum_address

from vcengine import networks
from vcengine.chains import LazyMnemonicAccounts, local_accounts
from vcengine.client import ContractReverted, InputError
from vcengine.paths import CONTRACTS_DIR, PROJECT_ROOT


def test_networks_builtin_user_config_and_working_directory(tmp_path: Path):
    with sandbox(tmp_path):
        assert networks.get_network("local").url == "http://127.0.0.1:8545"
        assert networks.get_network("local").chain_id == 31337
        user = tmp_path / "config" / "vc" / "config.toml"
        user.parent.mkdir(parents=True)
        user.write_text('[networks.sepolia]\nurl = "https://rpc.example/a"\nchain_id = 11155111\n'
                        '[networks.other]\nurl = "http://10.0.0.1:8545"\nchain_id = 5\n')
        (tmp_path / "vc.toml").write_text('[networks.sepolia]\nurl = "https://rpc.example/b"\nchain_id = 11155111\n')
        sepolia = networks.get_network("sepolia")
        assert (sepolia.url, sepolia.chain_id, sepolia.kind) == ("https://rpc.example/b", 11155111, "rpc")
        assert networks.get_network("other").source == str(user)
        assert not sepolia.has_test_accounts
        with pytest.raises(InputError, match="known networks are local, other, sepolia, tester"):
            networks.get_network("mainnet")
        (tmp_path / "vc.toml").write_text('[networks.broken]\nurl = "https://rpc.example"\n')
        with pytest.raises(InputError, match=r"\[networks.broken\] needs chain_id"):
            networks.get_network("broken")
        (tmp_path / "vc.toml").write_text("[networks.tester]\nurl='http://x'\nchain_id=1\n")
        with pytest.raises(InputError, match="reserved"):
            networks.get_network("tester")


def test_unreachable_local_node_is_exit_2_with_a_hint(tmp_path: Path, monkeypatch):
    with sandbox(tmp_path, network="local"):
        (tmp_path / "vc.toml").write_text('[networks.local]\nurl = "http://127.0.0.1:9"\nchain_id = 31337\n')
        result = vc("status", "--json")
        assert result.exit_code == 2 and "vc node start" in result.stderr


def test_lazy_test_accounts_are_anvils_accounts():
    lazy = LazyMnemonicAccounts()
    eager = local_accounts(4)
    assert [a.address for a in lazy[:4]] == [a.address for a in eager] and len(lazy) == 20
    assert lazy[3].key == eager[3].key


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts_deploy_run_a_members_month_and_the_keeper(tmp_path: Path, capsys):
    with sandbox(tmp_path):
        _script("deploy_commune").main("tester")
        record = json.loads((tmp_path / "deployments" / "tester.json").read_text())
        commune = record["contracts"]["Commune"]["address"]
        assert f"commune {commune} created" in capsys.readouterr().out
        # the record names the code every commune clones, and each clone its implementation, as the chain has them
        factory = networks.tester_chain().w3.eth.contract(address=record["factory"]["address"], abi=[
            {"type": "function", "name": n, "inputs": [], "stateMutability": "view",
             "outputs": [{"name": "", "type": "address"}]}
            for n in ("communeImplementation", "treasuryImplementation", "stockImplementation")])
        implementations = record["factory"]["implementations"]
        assert list(implementations) == ["BondAuction", "RentalMarket", "Liquidation", "CommonStock", "Commune",
                                         "Treasury"]
        for name, getter in (("Commune", "communeImplementation"), ("Treasury", "treasuryImplementation"),
                             ("CommonStock", "stockImplementation")):
            assert record["contracts"][name]["clone_of"] == implementations[name] == getattr(factory.functions, getter)().call()
        # the CLI finds the script's commune, and the member's month and the keeper run on it
        ok("faucet", "2000", "--account", "1")
        ok("assets", "request", "ipfs://drill", "--price", "1000", "--vendor", "5", "--rent", "200", "--periods", "6",
           "--closes-in", "1h", "--account", "1")
        ok("assets", "bid", "1", "1000", "--rate-bps", "100", "--account", "1")
        ok("node", "advance", "2h")
        _script("run_keeper").main("tester", "0", "0", "1")
        assert ok("status")["assets"][0]["state"] == "rented"
        assert ok("assets", "claim", "1", "--account", "1")["bonds"] == "1000"
        _script("member_month").main("tester", "1")
        out = capsys.readouterr().out
        # the first period was paid from the request's escrow at settlement (10 interest, 190 principal);
        # this month's 200 (ceil(810 x 1%) = 9 interest, then principal) goes to the bondholder
        # (account 1) too, who collects both
        assert "asset 1: rent 200 (200 to bonds)" in out and "asset 1: bond payments 400 collected" in out
        assert "net position 200 before" in out and "net position 400 after" in out


def test_factory_creates_wired_communes_and_refuses_a_token_without_code(tmp_path: Path):
    from vcengine.deploy import CommuneFactoryClient, CommuneParams, create_commune, deploy_factory
    from vcengine.token import TestStablecoinClient

    with sandbox(tmp_path):
        chain = networks.tester_chain()
        a, b = chain.accounts[:2]
        made = deploy_factory(chain, a)
        token = TestStablecoinClient.deploy(chain, a)
        factory = CommuneFactoryClient(chain, made.factory)
        predicted = factory.predict()
        d, tx = create_commune(chain, b, CommuneParams(founders=[a.address]), made.factory, token.address)
        assert (d.commune.address, d.treasury.address, d.stock.address) == predicted
        assert tx.event("CommuneCreated").args["creator"] == b.address  # anyone may create; no rights follow
        assert d.commune.call("treasury") == d.treasury.address and d.treasury.call("stock") == d.stock.address
        assert d.stock.call("seriesImplementation") == made.series_implementation
        second, _ = create_commune(chain, a, CommuneParams(founders=[b.address]), made.factory, token.address)
        assert second.commune.address not in predicted  # fresh addresses for every commune
        config = ("n", "s", [a.address], 10, 3, "0x" + "11" * 20, (1, 0, 1, 1000, 0), False)
        with pytest.raises(ContractReverted) as info:
            factory.transact("create", config, sender=a)
        assert info.value.name == "FactoryTokenNotContract"
        # The factory creates nothing but clones, so its account nonce is its count of creations
        # plus one: the next three addresses follow from CREATE's formula at that nonce.
        from web3.utils.address import get_create_address

        nonce = chain.w3.eth.get_transaction_count(made.factory)
        assert nonce == factory.call("created") + 1
        assert factory.predict() == tuple(get_create_address(made.factory, nonce + k) for k in range(3))
        # Each contract of the commune is an EIP-1167 clone of the implementation the factory names,
        # initialised once: a second initialisation, by anyone, reverts.
        for client, getter, name in ((d.commune, "communeImplementation", "Commune"),
                                     (d.treasury, "treasuryImplementation", "Treasury"),
                                     (d.stock, "stockImplementation", "CommonStock")):
            code = bytes(chain.w3.eth.get_code(client.address))
            assert code[:10].hex() == "363d3d373d3d3d363d73" and code[30:45].hex() == "5af43d82803e903d91602b57fd5bf3"
            assert "0x" + code[10:30].hex() == factory.call(getter).lower() == made.implementations[name].lower()
            assert len(code) == 45 + 154
            # the immutable arguments, by CommuneArgs' table: seven addresses, uint64, uint32, uint8, bool
            args = code[45:]
            words = [to_checksum_address(args[i:i + 20]) for i in range(0, 140, 20)]
            assert words == [made.factory, *predicted, token.address, made.series_implementation, "0x" + "00" * 20]
            created_at = chain.w3.eth.get_block(tx.block_number)["timestamp"]
            assert int.from_bytes(args[140:148], "big") == created_at
            assert int.from_bytes(args[148:152], "big") == 30 * 24 * 3600  # CommuneParams' default period
            assert (args[152], args[153]) == (token.decimals(), 0) == (6, 0)
        with pytest.raises(ContractReverted) as again:
            d.commune.transact("initialize", "n", "s", [b.address], 1, 1, sender=a)
        assert again.value.name == "InvalidInitialization"
        with pytest.raises(ContractReverted) as again:
            d.stock.transact("initialize", (30 * 24 * 3600, 1, 1, 0, 0), sender=a)
        assert again.value.name == "InvalidInitialization"
        # The implementations themselves can never be initialised (their constructors disable it),
        # and the treasury has no initialiser at all (nothing to set: its wiring is its arguments).
        implementation = ContractClient_for(chain, "Commune", made.implementations["Commune"])
        with pytest.raises(ContractReverted) as never:
            implementation.transact("initialize", "n", "s", [b.address], 1, 1, sender=a)
        assert never.value.name == "InvalidInitialization"
        implementation = ContractClient_for(chain, "CommonStock", made.implementations["CommonStock"])
        with pytest.raises(ContractReverted) as never:
            implementation.transact("initialize", (30 * 24 * 3600, 1, 1, 0, 0), sender=a)
        assert never.value.name == "InvalidInitialization"
        assert "initialize" not in {i.get("name") for i in d.treasury.artifact.abi}


def ContractClient_for(chain, name: str, address: str):  # noqa: N802 - a client class made on the fly
    from vcengine.client import ContractClient

    return type(f"{name}Client", (ContractClient,), {"CONTRACT": name})(chain, address)


def test_deploy_refuses_an_inexact_token_and_a_founder_with_code_before_sending(tmp_path: Path):
    """`vc deploy --token` probes the token by eth_call (nothing sent, no balance needed) and refuses a
    fee-on-transfer token; `--eoa-only` refuses a founder with code; an exact token deploys."""
    from vcengine.client import ContractClient

    with sandbox(tmp_path):
        chain = networks.tester_chain()
        a = chain.accounts
        mock = lambda name, *args: type(f"{name}Client", (ContractClient,), {"CONTRACT": name}).deploy(  # noqa: E731
            chain, a[0], *args)
        fee = mock("FeeOnTransferToken", a[9].address)
        fee.transact("setFeeBps", 100, sender=a[0])  # 1%
        wallet = mock("ContractWallet", a[0].address)
        block = chain.w3.eth.block_number
        refused = vc("deploy", "--founder", "0", "--token", fee.address, "--account", "0")
        assert refused.exit_code == 2, refused.output
        # 1% of the probe's one whole token (10**6 base units) is kept: 990,000 of 1,000,000 arrive
        assert "delivers 990000 of 1000000 base units" in refused.stderr and "--token" in refused.stderr
        eoa = vc("deploy", "--founder", "0", "--founder", wallet.address, "--eoa-only", "--account", "0")
        assert eoa.exit_code == 2 and f"founder {wallet.address} has code" in eoa.stderr, eoa.output
        assert chain.w3.eth.block_number == block  # nothing was sent for either
        fee.transact("setFeeBps", 0, sender=a[0])  # the fee off: an exact token again
        deployed = vc("deploy", "--founder", "0", "--founder", "1", "--token", fee.address, "--eoa-only",
                      "--account", "0", "--json")
        assert deployed.exit_code == 0, deployed.output
        assert "settlement token checked" in deployed.stdout
        record = json.loads((tmp_path / "deployments" / "tester.json").read_text())
        assert record["params"]["eoa_only"] is True
        commune = ContractClient_for(chain, "Commune", record["contracts"]["Commune"]["address"])
        assert commune.call("eoaOnly") is True


def test_every_external_function_and_custom_error_carries_natspec(artifacts):
    sources = "\n".join(p.read_text() for p in CONTRACTS_DIR.rglob("*.sol"))
    for name, art in artifacts.artifacts.items():
        if "/mocks/" in art.source:
            continue
        documented = set(art.userdoc.get("methods", {})) | set(art.devdoc.get("methods", {}))
        missing = [sig for sig in art.method_identifiers if sig not in documented]
        assert not missing, f"{name}: functions without NatSpec: {missing}"
        for item in art.abi:
            if item["type"] != "error" or not re.search(rf"\berror {item['name']}\(", sources):
                continue  # errors declared by OpenZeppelin carry its own documentation
            sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            notice = (art.userdoc.get("errors", {}).get(sig) or [{}])[0].get("notice", "")
            assert notice, f"{name}: error {sig} has no @notice"
