"""Deployment safety: a dry run sends nothing and lists every transaction with its gas and cost, a
replaced record is kept as a dated backup, `--force` and non-local networks ask for `--yes`, an
interrupted deployment does not pay for the factory twice, a stale embedded-chain record points to
`local`; and the node, ETH-for-gas and `--commune` checks around it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import last_json, ok, sandbox, vc
from eth_utils import to_checksum_address
from web3.utils.address import get_create_address

from vcengine import networks
from vcengine.chains import free_port

FOUNDERS = ("--founder", "0", "--founder", "1", "--account", "0")
ETHER = 10**18
#: Every transaction of a first deployment on a chain, in order (the code every commune clones: the
#: common stock's three modules, the four implementations and the factory; the test stablecoin;
#: then the factory's create).
FIRST_DEPLOYMENT = ["BondAuction", "RentalMarket", "Liquidation", "CommonStock", "Commune", "Treasury", "BondSeries",
                    "CommuneFactory", "TestStablecoin", "CommuneFactory.create"]


def chain_view(address: str) -> tuple[int, int, int]:
    """Block number, nonce and ETH balance of ``address`` on the embedded chain."""
    w3 = networks.tester_chain().w3
    return w3.eth.block_number, w3.eth.get_transaction_count(address), w3.eth.get_balance(address)


def max_fee() -> int:
    """maxFeePerGas as a client sets it for the next transaction: twice the base fee, plus the tip."""
    w3 = networks.tester_chain().w3
    return 2 * w3.eth.get_block("latest")["baseFeePerGas"] + w3.eth.max_priority_fee


# --------------------------------------------------------------------------------- dry run


def test_dry_run_lists_every_transaction_with_gas_and_cost_and_sends_nothing(tmp_path: Path):
    with sandbox(tmp_path):
        deployer = networks.tester_chain().accounts[0].address
        before = chain_view(deployer)
        fee = max_fee()
        human = vc("deploy", *FOUNDERS, "--dry-run")
        assert human.exit_code == 0, human.output
        plan = ok("deploy", *FOUNDERS, "--dry-run")
        assert chain_view(deployer) == before  # no block, no nonce, no wei moved
        assert not (tmp_path / "deployments" / "tester.json").exists()
        assert "dry run: nothing is sent" in human.stdout and "total:" in human.stdout
        assert all(label in human.stdout for label in FIRST_DEPLOYMENT)

        steps = plan["steps"]
        assert [s["label"] for s in steps] == FIRST_DEPLOYMENT and plan["dry_run"] is True
        # the stock implementation checks its modules have code, the factory its implementations, and
        # create needs the factory and the token: those are rehearsed; the others the node estimates
        assert [s["estimated_by"] for s in steps] == ["eth_estimateGas"] * 3 + ["rehearsal"] + [
            "eth_estimateGas"] * 3 + ["rehearsal", "eth_estimateGas", "rehearsal"]
        assert plan["max_fee_per_gas_wei"] == fee
        for s in steps:
            assert s["cost_wei"] == s["gas"] * fee and Decimal(s["cost_eth"]) * ETHER == s["cost_wei"]
        assert plan["gas"] == sum(s["gas"] for s in steps) and plan["cost_wei"] == plan["gas"] * fee
        assert plan["deployer"] == deployer and plan["deployer_balance_wei"] == before[2] and plan["enough_eth"]

        # the deployment then sends exactly these transactions, to the predicted addresses, each
        # using at most its estimate and not much less
        done = ok("deploy", *FOUNDERS)
        assert chain_view(deployer)[1] == before[1] + len(FIRST_DEPLOYMENT)
        predicted = {s["label"]: s["address"] for s in steps}
        assert done["factory"] == predicted["CommuneFactory"] == steps[-1]["address"]
        assert done["contracts"]["SettlementToken"] == predicted["TestStablecoin"]
        record = json.loads((tmp_path / "deployments" / "tester.json").read_text())
        assert record["factory"]["implementations"]["CommonStock"] == predicted["CommonStock"]
        for name in ("Commune", "Treasury", "CommonStock"):  # each a clone of the recorded implementation
            assert record["contracts"][name]["clone_of"] == predicted[name]
        used = {**done["gas"], "CommuneFactory.create": done["gas"]["create"]}
        for s in steps:
            if s["label"] in used:
                assert used[s["label"]] <= s["gas"] <= used[s["label"]] * 1.1, s


def test_force_asks_for_yes_keeps_a_dated_backup_and_reuses_the_factory(tmp_path: Path):
    with sandbox(tmp_path):
        first = ok("deploy", *FOUNDERS)
        path = tmp_path / "deployments" / "tester.json"
        old = path.read_bytes()
        deployer = networks.tester_chain().accounts[0].address
        token = first["contracts"]["SettlementToken"]

        # a recorded factory and an existing token: only create is left, estimated by the node itself
        plan = ok("deploy", *FOUNDERS, "--token", token, "--force", "--dry-run")
        assert [(s["label"], s["estimated_by"]) for s in plan["steps"]] == [("CommuneFactory.create", "eth_estimateGas")]
        assert plan["factory"] == first["factory"]

        before = chain_view(deployer)
        refused = vc("deploy", *FOUNDERS, "--token", token, "--force", "--json")
        assert refused.exit_code == 2 and "Pass --yes" in refused.stderr and first["contracts"]["Commune"] in refused.stderr
        assert last_json(refused)["ok"] is False
        assert chain_view(deployer) == before and path.read_bytes() == old

        second = ok("deploy", *FOUNDERS, "--token", token, "--force", "--yes")
        assert second["factory"] == first["factory"] and second["factory_reused"] is True
        assert chain_view(deployer)[1] == before[1] + 1  # create only: no factory, no token
        assert second["gas"]["create"] <= plan["steps"][0]["gas"]
        backup = Path(second["backup"])
        assert re.fullmatch(r"tester\.\d{8}T\d{6}Z\.json", backup.name) and backup.parent == path.parent
        assert backup.read_bytes() == old  # the old record, byte for byte
        assert json.loads(path.read_text())["replaces"] == backup.name
        assert json.loads(path.read_text())["contracts"]["Commune"]["address"] == second["contracts"]["Commune"]


# ----------------------------------------------------------------- interrupted deployments


def test_an_interrupted_deployment_resumes_without_paying_for_the_factory_again(tmp_path: Path, monkeypatch):
    import vcengine.commands.deploy as deploy_command
    import vcengine.deploy as engine

    real_client_class = engine._client_class

    def interrupted_at_bond_series(name: str):
        if name == "BondSeries":
            raise KeyboardInterrupt  # Ctrl-C after the first six pieces were mined
        return real_client_class(name)

    with sandbox(tmp_path):
        deployer = networks.tester_chain().accounts[0].address
        monkeypatch.setattr(engine, "_client_class", interrupted_at_bond_series)
        stopped = vc("deploy", *FOUNDERS)
        assert stopped.exit_code in (1, 130)
        monkeypatch.setattr(engine, "_client_class", real_client_class)
        assert not (tmp_path / "deployments" / "tester.json").exists()
        pieces = json.loads((tmp_path / "deployments" / "tester.factory.json").read_text())["pieces"]
        assert list(pieces) == FIRST_DEPLOYMENT[:6]
        w3 = networks.tester_chain().w3
        assert all(w3.eth.get_code(p["address"]) for p in pieces.values())

        plan = ok("deploy", *FOUNDERS, "--dry-run")
        assert [s["label"] for s in plan["steps"]] == FIRST_DEPLOYMENT[6:]
        nonce = chain_view(deployer)[1]
        done = ok("deploy", *FOUNDERS)
        assert chain_view(deployer)[1] == nonce + 4  # BondSeries, the factory, the token, create
        assert set(done["gas"]) == {"create", "BondSeries", "CommuneFactory"}
        record = json.loads((tmp_path / "deployments" / "tester.json").read_text())
        assert {k: v["address"] for k, v in pieces.items()} == record["factory"]["implementations"]

        # interrupted after the factory: the next deployment reuses it whole
        def create_interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(deploy_command, "create_commune", create_interrupted)
        assert vc("deploy", *FOUNDERS, "--force", "--yes").exit_code in (1, 130)
        monkeypatch.undo()
        nonce = chain_view(deployer)[1]
        again = ok("deploy", *FOUNDERS, "--force", "--yes")
        assert again["factory"] == done["factory"] and again["factory_reused"] is True
        assert chain_view(deployer)[1] == nonce + 2  # the token and create


def test_a_factory_wired_to_code_that_is_not_this_builds_is_not_reused(tmp_path: Path, monkeypatch):
    """The code comparison sets immutables aside: a factory whose own code is unchanged still clones
    the implementations it was made with, and they still run the modules they were made with. After
    a change to one module (here: the recorded BondAuction stops matching this build, as an edit of
    its source makes it), the module, the CommonStock implementation that runs it and the factory
    that clones that are deployed again; the pieces that name nothing stale are reused."""
    import vcengine.deployments as deployments

    with sandbox(tmp_path):
        first = ok("deploy", *FOUNDERS)
        old = json.loads((tmp_path / "deployments" / "tester.json").read_text())["factory"]["implementations"]
        stale = old["BondAuction"]
        real = deployments.piece_is_current
        monkeypatch.setattr(deployments, "piece_is_current",
                            lambda chain, label, address, artifacts: address != stale and real(chain, label, address,
                                                                                                  artifacts))
        plan = ok("deploy", *FOUNDERS, "--force", "--dry-run")
        assert [s["label"] for s in plan["steps"]] == ["BondAuction", "CommonStock", "CommuneFactory",
                                                       "TestStablecoin", "CommuneFactory.create"]
        predicted = {s["label"]: s["address"] for s in plan["steps"]}
        deployer = networks.tester_chain().accounts[0].address
        nonce = chain_view(deployer)[1]
        assert predicted["BondAuction"] == to_checksum_address(get_create_address(deployer, nonce))

        done = ok("deploy", *FOUNDERS, "--force", "--yes")
        assert done["factory_reused"] is False and done["factory"] == predicted["CommuneFactory"] != first["factory"]
        assert set(done["gas"]) == {"create", "BondAuction", "CommonStock", "CommuneFactory"}
        assert chain_view(deployer)[1] == nonce + 5
        # what the chain says the new commune runs: the new module and stock implementation, the rest reused
        w3 = networks.tester_chain().w3
        code = bytes(w3.eth.get_code(done["contracts"]["CommonStock"]))
        assert code[:10].hex() == "363d3d373d3d3d363d73" and to_checksum_address(code[10:30]) == predicted["CommonStock"]
        stock_abi = [{"type": "function", "name": n, "inputs": [], "stateMutability": "view",
                      "outputs": [{"name": "", "type": "address"}]} for n in ("BOND_AUCTION", "RENTAL_MARKET", "LIQUIDATION")]
        stock = w3.eth.contract(address=predicted["CommonStock"], abi=stock_abi)
        assert (stock.functions.BOND_AUCTION().call(), stock.functions.RENTAL_MARKET().call(),
                stock.functions.LIQUIDATION().call()) == (predicted["BondAuction"], old["RentalMarket"],
                                                          old["Liquidation"])
        record = json.loads((tmp_path / "deployments" / "tester.json").read_text())
        assert record["factory"]["implementations"] == {**old, "BondAuction": predicted["BondAuction"],
                                                        "CommonStock": predicted["CommonStock"]}
        assert record["contracts"]["Commune"]["clone_of"] == old["Commune"]  # reused
        assert record["contracts"]["CommonStock"]["clone_of"] == predicted["CommonStock"]


# -------------------------------------------------------------- the embedded chain's records


def test_a_stale_tester_record_points_to_local_instead_of_a_redeploy_loop(tmp_path: Path):
    with sandbox(tmp_path):
        made = vc("deploy", *FOUNDERS)
        assert made.exit_code == 0 and "lives only as long as this process" in made.stdout
        assert "vc node start" in made.stdout and "--network local" in made.stdout
        networks.reset_tester()  # what the next shell command sees: a new, empty embedded chain
        stale = vc("status")
        assert stale.exit_code == 2 and "the record is stale" in stale.stderr
        assert "vc node start" in stale.stderr and "--network local" in stale.stderr and "--force" not in stale.stderr
        old = (tmp_path / "deployments" / "tester.json").read_bytes()
        again = ok("deploy", *FOUNDERS)  # no --force needed: nothing live is replaced
        assert Path(again["backup"]).read_bytes() == old and again["persists"] is False


@pytest.mark.parametrize("what,expected", [
    ("account", "has no code on this chain"),
    ("SettlementToken", "is an ERC-20 token (tUSD)"),
    ("Treasury", "belongs to the commune COMMUNE"),
    ("CommonStock", "belongs to the commune COMMUNE"),
    ("factory", "is a contract but not a commune's membership contract"),
])
def test_commune_option_naming_something_else_says_what_it_is(tmp_path: Path, what: str, expected: str):
    with sandbox(tmp_path):
        done = ok("deploy", *FOUNDERS)
        address = {"account": networks.tester_chain().accounts[5].address, "factory": done["factory"],
                   **done["contracts"]}[what]
        expected = expected.replace("COMMUNE", done["contracts"]["Commune"])
        for argv in (["status"], ["balance", "3"]):
            result = vc(*argv, "--commune", address, "--json")
            assert result.exit_code == 2 and expected in result.stderr, result.output
            assert last_json(result)["kind"] == "bad_input" and "Traceback" not in result.output


# ------------------------------------------------------------------------- ETH for gas


def test_balance_shows_eth_and_the_tester_faucet_sends_test_eth(tmp_path: Path):
    with sandbox(tmp_path):
        w3 = networks.tester_chain().w3
        target = networks.tester_chain().accounts[3].address
        start = w3.eth.get_balance(target)
        alone = ok("balance", "3")  # no commune yet: the ETH alone
        assert (alone["eth_wei"], alone["commune"]) == (start, None) and "vc deploy" in alone["commune_error"]
        funded = ok("faucet", "2.5", "--eth", "--to", "3")
        assert funded["eth_wei"] == start + 2_500_000_000_000_000_000 == w3.eth.get_balance(target)
        assert funded["amount_wei"] == 2_500_000_000_000_000_000 and funded["method"] == "transfer"
        sent = w3.eth.get_transaction(funded["transactions"][0]["hash"])
        assert (sent["from"], sent["to"], sent["value"]) == (funded["from"], target, 2_500_000_000_000_000_000)
        assert funded["from"] != target
        refused = vc("faucet", "1", "--eth")
        assert refused.exit_code == 2 and "whom to fund?" in refused.stderr

        ok("deploy", *FOUNDERS)
        ok("faucet", "12.5", "--account", "3")
        shown = ok("balance", "3")
        assert shown["eth_wei"] == w3.eth.get_balance(target) and Decimal(shown["eth"]) * ETHER == shown["eth_wei"]
        assert (shown["tokens"], shown["tokens_base_units"]) == ("12.5", 12_500_000)
        human = vc("balance", "3")
        assert "(account 3)" in human.stdout and " ETH; 12.5 tUSD" in human.stdout


def test_faucet_is_refused_on_a_network_that_is_not_local(tmp_path: Path):
    with sandbox(tmp_path):
        (tmp_path / "vc.toml").write_text('[networks.sepolia]\nurl = "http://127.0.0.1:9"\nchain_id = 11155111\n')
        for argv in (["faucet", "1", "--eth", "--to", "0x" + "11" * 20], ["faucet", "1", "--account", "x"]):
            refused = vc(*argv, "--network", "sepolia")
            assert refused.exit_code == 2 and "network 'sepolia' is not local: there is no faucet" in refused.stderr


# -------------------------------------------------------------------------------- the node


def test_node_status_exits_3_when_no_node_runs(tmp_path: Path, monkeypatch):
    with sandbox(tmp_path):
        monkeypatch.setenv("VC_NODE_PORT", str(free_port()))
        none = vc("node", "status", "--json")
        assert none.exit_code == 3 and "not running" in none.stdout
        assert last_json(none)["running"] is False and last_json(none)["started_here"] is False
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()  # a pid that has exited
        (tmp_path / ".vc").mkdir()
        (tmp_path / ".vc" / "node.json").write_text(json.dumps({"pid": dead.pid, "url": "http://127.0.0.1:9",
                                                                "log": "x"}))
        stale = vc("node", "status")
        assert stale.exit_code == 3 and f"stale record for pid {dead.pid}" in stale.stdout


@pytest.mark.parametrize("name,content,message", [
    ("folder", None, "is a directory"),  # click refuses it first
    ("missing/s.json", None, "does not exist, so anvil could not write the state there"),
    ("empty.json", "", "is empty, not an anvil state dump"),
    ("text.json", "hello {", "is not JSON (Expecting value at line 1, column 1)"),
    ("list.json", "[1, 2]", "is JSON but not an anvil state dump (no 'block' or 'accounts' object"),
    ("other.json", '{"block": {}}', "is JSON but not an anvil state dump (no 'accounts' object"),
    ("binary.json", b"\xff\xfe\x00", "it is not text"),
])
def test_node_start_refuses_a_bad_state_file_before_starting_anvil(tmp_path: Path, monkeypatch, name, content, message):
    with sandbox(tmp_path):
        monkeypatch.setenv("VC_NODE_PORT", str(free_port()))
        path = tmp_path / name
        if name == "folder":
            path.mkdir()
        elif content is not None:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        result = vc("node", "start", "--state", str(path))
        assert result.exit_code == 2 and message in result.stderr and str(path) in result.stderr
        assert not (tmp_path / ".vc" / "node.json").exists()


# ------------------------------------------------------------------------ with a real node


@pytest.mark.anvil
def test_node_start_shows_anvils_own_reason_when_it_exits_at_start(tmp_path: Path, monkeypatch):
    with sandbox(tmp_path):
        monkeypatch.setenv("VC_NODE_PORT", str(free_port()))
        state = tmp_path / "partial.json"
        state.write_text('{"block": {}, "accounts": {}}')  # passes the shape check; anvil wants more
        result = vc("node", "start", "--state", str(state))
        assert result.exit_code == 2 and "anvil exited with status" in result.stderr
        assert "missing field `best_block_number`" in result.stderr and "full log:" in result.stderr
        # a port held by something that is not a node: anvil's own "address in use" line
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            held.listen()
            monkeypatch.setenv("VC_NODE_PORT", str(held.getsockname()[1]))
            busy = vc("node", "start", "--no-state")
        assert busy.exit_code == 2 and "in use" in busy.stderr.lower()


@pytest.fixture(scope="module")
def anvil_node():
    from vcengine.chains import AnvilChain

    chain = AnvilChain()
    yield chain
    chain.close()


@pytest.mark.anvil
def test_faucet_eth_on_a_local_node_adds_to_the_balance_without_a_transaction(tmp_path: Path, anvil_node):
    with sandbox(tmp_path, network="local"):
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "{anvil_node.url}"\nchain_id = 31337\n')
        target = to_checksum_address("0x" + "5a" * 20)
        w3 = anvil_node.w3
        w3.provider.make_request("anvil_setBalance", [target, hex(3 * ETHER)])
        block = w3.eth.block_number
        funded = ok("faucet", "1.25", "--eth", "--to", target)
        assert funded["eth_wei"] == 4_250_000_000_000_000_000 == w3.eth.get_balance(target)
        assert funded["method"] == "anvil_setBalance" and funded["transactions"] == []
        assert w3.eth.block_number == block
        assert ok("balance", target)["eth_wei"] == 4_250_000_000_000_000_000


@pytest.mark.anvil
def test_a_network_that_is_not_local_asks_for_yes_before_sending(tmp_path: Path, anvil_node):
    from eth_account import Account

    from vcengine.token import TestStablecoinClient

    with sandbox(tmp_path, network="staging"):
        (tmp_path / "vc.toml").write_text(f'[networks.staging]\nurl = "{anvil_node.url}"\nchain_id = 31337\n')
        key = Account.create()
        (tmp_path / "key").write_text(key.key.hex())
        (tmp_path / "pw").write_text("correct horse battery staple\n")
        secret = ("--password-file", str(tmp_path / "pw"))
        assert vc("accounts", "import", "ops", "--private-key-file", str(tmp_path / "key"), *secret).exit_code == 0
        w3 = anvil_node.w3
        w3.provider.make_request("anvil_setBalance", [key.address, hex(10 * ETHER)])
        token = TestStablecoinClient.deploy(anvil_node, anvil_node.accounts[0]).address
        argv = ["deploy", "--founder", anvil_node.accounts[1].address, "--token", token, "--account", "ops", *secret]

        def view() -> tuple[int, int, int]:
            return w3.eth.block_number, w3.eth.get_transaction_count(key.address), w3.eth.get_balance(key.address)

        before = view()
        plan = ok(*argv, "--dry-run")
        assert [s["label"] for s in plan["steps"]] == FIRST_DEPLOYMENT[:8] + ["CommuneFactory.create"]
        refused = vc(*argv)
        assert refused.exit_code == 2 and "Pass --yes" in refused.stderr
        assert "deploy on network 'staging' (chain id 31337)" in refused.stderr and "9 transactions" in refused.stderr
        assert "to be sent on network 'staging'" in refused.stdout  # the plan was shown first
        assert view() == before and not (tmp_path / "deployments" / "staging.json").exists()

        done = ok(*argv, "--yes")
        assert view()[1] == before[1] + 9
        used = {**done["gas"], "CommuneFactory.create": done["gas"]["create"]}
        for s in plan["steps"]:  # the estimates (some rehearsed on py-evm) hold on anvil
            assert used[s["label"]] <= s["gas"] <= used[s["label"]] * 1.15, s
        assert done["factory"] == plan["steps"][-1]["address"]
