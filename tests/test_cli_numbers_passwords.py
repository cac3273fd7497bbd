"""Numbers, passwords and keystores, `vc accounts list`, an unreachable node, and the scripts'
arguments: each refusal is exit 2 with a message naming the rule and the accepted form, and sends
nothing (the block number, the token balances and the escrow allowance are unchanged)."""

from __future__ import annotations

import functools
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from cli_helpers import last_json, ok, sandbox, vc
from eth_account import Account
from test_cli_bad_input import VENDOR, commune  # noqa: F401 - the fixture: asset 1 in auction, account 3 holds 100

from vcengine import networks
from vcengine.chains import free_port
from vcengine.cli import main
from vcengine.paths import PROJECT_ROOT

VC = Path(sys.executable).parent / "vc"
PASSWORD = "correct horse battery staple"
MNEMONIC = "test test test test test test test test test test test junk"  # anvil's, derived here again


@functools.cache
def anvil_account(index: int) -> Account:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def erc20_read(chain, token: str, selector: str, *addresses: str) -> int:
    """balanceOf / allowance by raw eth_call (independent of the engine's token client)."""
    data = selector + "".join(a[2:].lower().rjust(64, "0") for a in addresses)
    return int.from_bytes(chain.w3.eth.call({"to": token, "data": data}), "big")


NOT_AN_AMOUNT = "must be a number of tokens written as digits with at most one '.', such as 12.5 or 1000"
NOT_AN_INTEGER = "is not a valid integer: write it in plain digits, such as 12"
REQUEST = ["assets", "request", "ipfs://x", "--vendor", VENDOR, "--account", "0"]
NUMBERS = [
    # (id, argv, what the message must say)
    ("negative bid amount", ["assets", "bid", "1", "-5", "--rate-bps", "1", "--account", "3"],
     "AMOUNT must be more than zero, got '-5'"),
    ("negative bid amount after --", ["assets", "bid", "1", "--rate-bps", "1", "--account", "3", "--", "-5"],
     "AMOUNT must be more than zero, got '-5'"),
    ("negative labour units", ["labour", "submit", "-3", "--evidence", "x", "--account", "0"],
     "UNITS (labour units) must be 1 or more, got -3"),
    ("negative asset id", ["assets", "bid", "-1", "5", "--rate-bps", "1", "--account", "3"],
     "ASSET_ID must be 1 or more, got -1"),
    ("negative rate", ["assets", "bid", "1", "5", "--rate-bps", "-1", "--account", "3"],
     "--rate-bps must be zero or more, got -1"),
    ("negative bid id", ["assets", "claim", "-2", "--account", "3"], "BID_ID must be 1 or more, got -2"),
    ("negative claim id", ["labour", "attest", "-1", "--account", "0"], "CLAIM_ID must be 1 or more, got -1"),
    ("negative periods to pay", ["assets", "pay-rent", "1", "--periods", "-2", "--account", "0"],
     "--periods must be 1 or more, got -2"),
    ("negative price", [*REQUEST, "--price", "-5", "--rent", "1", "--periods", "1"],
     "--price must be more than zero, got '-5'"),
    ("negative rent", [*REQUEST, "--price", "5", "--rent", "-1", "--periods", "1"],
     "--rent must be more than zero, got '-1'"),
    ("negative term", [*REQUEST, "--price", "5", "--rent", "1", "--periods", "-3"], "--periods must be 1 or more, got -3"),
    ("negative rental rent", ["assets", "rental", "bid", "1", "--rent", "-0.5", "--periods", "1", "--account", "3"],
     "--rent must be more than zero, got '-0.5'"),
    ("negative liquidation bid", ["assets", "liquidation", "bid", "1", "-.5", "--account", "3"],
     "AMOUNT must be more than zero, got '-.5'"),
    ("negative faucet", ["faucet", "-5", "--account", "3"], "AMOUNT must be more than zero, got '-5'"),
    ("negative duration", ["node", "advance", "-5m"], "DURATION must be zero or more, got '-5m'"),
    ("NaN amount", ["assets", "bid", "1", "NaN", "--rate-bps", "1", "--account", "3"], NOT_AN_AMOUNT),
    ("inf amount", ["faucet", "inf", "--account", "3"], NOT_AN_AMOUNT),
    ("-inf amount", ["faucet", "-inf", "--account", "3"], NOT_AN_AMOUNT),
    ("exponent amount", ["assets", "bid", "1", "1e3", "--rate-bps", "1", "--account", "3"], NOT_AN_AMOUNT),
    ("underscore amount", [*REQUEST, "--price", "1_000", "--rent", "1", "--periods", "1"], NOT_AN_AMOUNT),
    ("exponent asset id", ["assets", "bid", "1e3", "5", "--rate-bps", "1", "--account", "3"], f"'1e3' {NOT_AN_INTEGER}"),
    ("underscore units", ["labour", "submit", "1_000", "--evidence", "x", "--account", "0"], f"'1_000' {NOT_AN_INTEGER}"),
    ("NaN bid id", ["assets", "claim", "NaN", "--account", "3"], f"'NaN' {NOT_AN_INTEGER}"),
    ("decimal periods", [*REQUEST, "--price", "5", "--rent", "1", "--periods", "1.0"], f"'1.0' {NOT_AN_INTEGER}"),
    ("underscore rate", ["assets", "bid", "1", "5", "--rate-bps", "1_000", "--account", "3"], f"'1_000' {NOT_AN_INTEGER}"),
]


@pytest.mark.parametrize("argv,message", [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_numbers_are_refused_with_the_rule_and_nothing_is_sent(commune: Path, argv, message):
    chain = networks.tester_chain()
    record = json.loads((commune / "deployments" / "tester.json").read_text())["contracts"]
    token, stock = record["SettlementToken"]["address"], record["CommonStock"]["address"]
    holders = [a.address for a in chain.accounts[:4]]

    def state() -> tuple:
        return (chain.w3.eth.block_number, chain.now(),
                [erc20_read(chain, token, "0x70a08231", h) for h in holders],
                [erc20_read(chain, token, "0xdd62ed3e", h, stock) for h in holders])

    before = state()
    cut = argv.index("--") if "--" in argv else len(argv)
    result = vc(*argv[:cut], "--json", *argv[cut:])
    assert result.exit_code == 2, result.output
    assert message in result.stderr.replace("\n", " "), result.stderr
    assert "No such option" not in result.stderr
    assert last_json(result)["ok"] is False and last_json(result)["kind"] == "bad_input"
    assert state() == before  # no block, no clock move, no balance or allowance changed


def _leaves(command: click.Command, path: tuple[str, ...]):
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from _leaves(command.get_command(ctx, name), (*path, name))
    else:
        yield path, command


def test_every_command_reads_a_negative_number_as_a_value_and_integers_as_digits():
    leaves = list(_leaves(main, ()))
    assert len(leaves) > 30 and ("assets", "bid") in [p for p, _ in leaves]
    checked = 0
    for path, command in leaves:
        assert all(p.type is not click.INT for p in command.params), path  # each is the strict whole number
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if not arguments:
            continue
        parser = command.make_parser(click.Context(command))
        opts, rest, _ = parser.parse_args(["-7"] * len(arguments))
        assert [opts[a.name] for a in arguments] == ["-7"] * len(arguments) and rest == [], path
        checked += 1
    assert checked >= 15
    # an unknown option is still refused as one
    result = vc("labour", "submit", "--bogus", "3", "--json")
    assert result.exit_code == 2 and "No such option '--bogus'" in result.stderr
    assert last_json(result)["kind"] == "bad_input"


# ------------------------------------------------------------------ passwords and keystores


def _keystores(tmp: Path) -> list[str]:
    folder = tmp / "config" / "vc" / "keystores"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def test_passwords_empty_missing_and_wrong_are_refused_before_anything_is_written_or_sent(tmp_path, monkeypatch):
    with sandbox(tmp_path):
        (tmp_path / "empty").write_text("")
        (tmp_path / "blank-first-line").write_text("\nsecond line\n")
        (tmp_path / "pw").write_text(PASSWORD + "\n")
        for argv, env, message in [
            (["accounts", "new", "bob"], {"VC_PASSWORD": ""}, "VC_PASSWORD is set but empty"),
            (["accounts", "new", "bob", "--password-file", "empty"], {}, "password file empty is empty"),
            (["accounts", "new", "bob", "--password-file", "blank-first-line"], {}, "is empty"),
            (["accounts", "new", "bob"], {}, "set VC_PASSWORD or --password-file"),
            (["accounts", "import", "bob"], {}, "no terminal to ask on; give --private-key-file"),
        ]:
            with monkeypatch.context() as mp:
                for key, value in env.items():
                    mp.setenv(key, value)
                result = vc(*argv, "--json")
            assert result.exit_code == 2 and message in result.stderr, (argv, result.output)
            assert last_json(result)["kind"] == "bad_input"
            assert _keystores(tmp_path) == []  # nothing written
        ok("accounts", "new", "alice", "--password-file", "pw")
        assert vc("accounts", "new", "alice", "--password-file", "empty").stderr.count("already exists") == 1

        # signing: no password and no terminal, an empty one, a wrong one; nothing is sent
        chain = networks.tester_chain()
        alice = ok("accounts", "show", "alice")["address"]
        ok("deploy", "--founder", "0", "--account", "0")
        block, nonce = chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(alice)
        (tmp_path / "wrong").write_text("not it\n")
        for extra, message in [([], "Password for alice: there is no terminal to ask on; set VC_PASSWORD or "
                                    "--password-file"),
                               (["--password-file", "empty"], "is empty"),
                               (["--password-file", "wrong"], "wrong password for account 'alice'")]:
            result = vc("labour", "submit", "1", "--evidence", "x", "--account", "alice", *extra, "--json")
            assert result.exit_code == 2 and message in result.stderr.replace("\n", " "), result.output
            assert last_json(result)["kind"] == "bad_input"
        assert (chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(alice)) == (block, nonce)
        assert "not it" not in result.output + result.stderr


def test_keystore_import_checks_its_password_and_warns_about_a_known_address(tmp_path, monkeypatch):
    with sandbox(tmp_path):
        carol = Account.create()
        wallet = tmp_path / "wallet.json"
        wallet.write_text(json.dumps(Account.encrypt(carol.key, "carols own", iterations=2**10)))
        monkeypatch.setenv("VC_PASSWORD", "not carols")
        wrong = vc("accounts", "import", "carol", "--keystore", str(wallet), "--json")
        assert wrong.exit_code == 2 and f"wrong password for keystore {wallet}" in wrong.stderr
        assert last_json(wrong)["kind"] == "bad_input" and _keystores(tmp_path) == []
        monkeypatch.setenv("VC_PASSWORD", "carols own")
        first = ok("accounts", "import", "carol", "--keystore", str(wallet))
        assert first["address"] == carol.address and first["warnings"] == []
        # the file is kept as it is: still opened by its own password
        stored = json.loads(Path(first["keystore"]).read_text())
        assert Account.from_key(Account.decrypt(stored, "carols own")).address == carol.address

        again = vc("accounts", "import", "carol2", "--keystore", str(wallet), "--json")
        assert again.exit_code == 0, again.output
        assert f"warning: {carol.address} is already known as account 'carol'" in again.stderr
        assert "'carol2' will be another name for the same key" in again.stderr
        assert len(last_json(again)["warnings"]) == 1
        # a raw key that is one of the local node's well-known test keys
        (tmp_path / "key3").write_text(anvil_account(3).key.hex())
        monkeypatch.setenv("VC_PASSWORD", PASSWORD)
        test_key = vc("accounts", "import", "dave", "--private-key-file", "key3", "--json")
        assert test_key.exit_code == 0, test_key.output
        assert f"{anvil_account(3).address} is already known as test account 3 of local networks" in test_key.stderr
        assert _keystores(tmp_path) == ["carol.json", "carol2.json", "dave.json"]


def _on_a_terminal(argv: list[str], answers: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run the real ``vc`` with a pseudo-terminal as stdin, typing each answer after each prompt;
    returns the exit status and everything the terminal showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(VC), *argv], stdin=slave, stdout=subprocess.PIPE, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    shown, pending, deadline = b"", list(answers), time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                shown += os.read(master, 1024)
            except OSError:
                break
            if pending and shown.rstrip().endswith(b":"):
                os.write(master, pending.pop(0).encode() + b"\n")
                shown += b"<typed>"
    proc.wait(timeout=30)
    out = proc.stdout.read().decode()
    os.close(master)
    return proc.returncode, shown.decode(errors="replace") + out


def test_a_terminal_prompts_for_the_password_without_echoing_it_and_refuses_an_empty_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VC_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), VC_NETWORK="tester")
    status, shown = _on_a_terminal(["accounts", "new", "erin"], [PASSWORD, PASSWORD], env, tmp_path)
    assert status == 0, shown
    assert "Password for new account erin:" in shown and "Repeat for confirmation:" in shown
    assert PASSWORD not in shown  # hidden: the terminal never showed it
    stored = json.loads((tmp_path / "config" / "vc" / "keystores" / "erin.json").read_text())
    assert Account.decrypt(stored, PASSWORD)  # encrypted with what was typed
    status, shown = _on_a_terminal(["accounts", "new", "fay"], ["", ""], env, tmp_path)
    assert status == 2 and "the password must not be empty" in shown, shown
    assert not (tmp_path / "config" / "vc" / "keystores" / "fay.json").exists()


# --------------------------------------------------------------------------- accounts list


def test_accounts_list_shows_keystores_and_the_test_accounts_by_index(tmp_path, monkeypatch):
    with sandbox(tmp_path):
        monkeypatch.setenv("VC_PASSWORD", PASSWORD)
        alice = ok("accounts", "new", "alice")["address"]
        chain = networks.tester_chain()
        listed = vc("accounts", "list", "--network", "tester", "--json")
        assert listed.exit_code == 0, listed.output
        out = last_json(listed)
        assert [(a["name"], a["address"]) for a in out["accounts"]] == [("alice", alice)]
        assert out["accounts"][0]["eth_balance"] == "0" and out["accounts"][0]["eth_balance_base_units"] == 0
        tests = out["test_accounts"]
        assert [t["index"] for t in tests] == list(range(20))
        assert [t["address"] for t in tests] == [a.address for a in chain.accounts]
        assert all(t["eth_balance_base_units"] == chain.w3.eth.get_balance(t["address"]) for t in tests)
        assert tests[0]["eth_balance"] == str(chain.w3.eth.get_balance(tests[0]["address"]) // 10**18)
        assert f"19  {chain.accounts[19].address}" in listed.stdout and "alice" in listed.stdout

        # the local network with no node: the addresses all the same, and a plain word about the node
        port = free_port()
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "http://127.0.0.1:{port}"\nchain_id = 31337\n')
        down = vc("accounts", "list", "--network", "local", "--json")
        assert down.exit_code == 0, down.output
        out = last_json(down)
        assert [(t["index"], t["address"]) for t in out["test_accounts"]] == [
            (i, anvil_account(i).address) for i in range(20)]
        assert {t["eth_balance"] for t in out["test_accounts"]} == {None}
        assert out["node"]["running"] is False and out["accounts"][0]["eth_balance"] is None
        assert "the node is not running" in down.stdout and "vc node start" in down.stdout
        assert "urllib3" not in down.stdout and "HTTPConnection" not in down.stdout

        # a network that is not local has no test accounts
        (tmp_path / "vc.toml").write_text(f'[networks.far]\nurl = "http://127.0.0.1:{port}"\nchain_id = 5\n')
        far = last_json(vc("accounts", "list", "--network", "far", "--json"))
        assert far["test_accounts"] == [] and far["node"] is None and far["accounts"][0]["name"] == "alice"


@pytest.mark.anvil
def test_accounts_list_on_a_running_local_node_shows_eth_balances(tmp_path):
    from vcengine.chains import AnvilChain

    with sandbox(tmp_path, network="local"), AnvilChain() as node:
        node.w3.provider.make_request("anvil_setBalance", [anvil_account(4).address, hex(12_345 * 10**17)])
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "{node.url}"\nchain_id = 31337\n')
        result = vc("accounts", "list", "--json")
        assert result.exit_code == 0, result.output
        out = last_json(result)
        assert out["node"]["running"] is True
        four = out["test_accounts"][4]
        assert four["address"] == anvil_account(4).address
        assert (four["eth_balance"], four["eth_balance_base_units"]) == ("1234.5", 12_345 * 10**17)
        assert f"4  {anvil_account(4).address}  1,234.5 ETH" in result.stdout


# ------------------------------------------------------------------------ unreachable node


def test_an_unreachable_node_is_named_plainly(tmp_path):
    from vcengine.chains import ChainError, RpcChain

    with sandbox(tmp_path, network="local"):
        port = free_port()
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "http://127.0.0.1:{port}"\nchain_id = 31337\n')
        result = vc("status", "--json")
        assert result.exit_code == 2
        message = (f"network 'local': cannot reach a JSON-RPC node at http://127.0.0.1:{port}: connection refused. "
                   "Is the node running? Start one with `vc node start`.")
        assert message in result.stderr.replace("\n", " ") and last_json(result)["error"] == message
        for internal in ("urllib3", "HTTPConnection", "Max retries", "object at 0x", "Errno"):
            assert internal not in result.stderr
    for url, words in [("http://nonexistent.invalid:8545", "the host name does not resolve"),
                       (str(tmp_path / "missing.ipc"), "no IPC socket at that path")]:
        with pytest.raises(ChainError) as info:
            RpcChain(url)
        assert str(info.value) == f"cannot reach a JSON-RPC node at {url}: {words}"


def test_an_http_server_that_is_not_a_node_is_named_plainly():
    import http.server
    import threading

    from vcengine.chains import ChainError, RpcChain

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server protocol
            self.send_response(401 if self.path == "/key" else 200)
            self.end_headers()
            if self.path != "/key":
                self.wfile.write(b"<html>a web page</html>")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path, words in [("/key", "the server answered HTTP 401 Unauthorized"),
                            ("/", "the answer is not JSON-RPC (is this the node's RPC URL?)")]:
            with pytest.raises(ChainError) as info:
                RpcChain(base + path)
            assert str(info.value) == f"cannot reach a JSON-RPC node at {base}{path}: {words}"
    finally:
        server.shutdown()


# ----------------------------------------------------------------------------------- scripts


def _script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_script_prints_its_usage_with_help(capsys, monkeypatch):
    scripts = sorted((PROJECT_ROOT / "scripts").glob("*.py"))
    assert {s.stem for s in scripts} == {"bench", "deploy_commune", "member_month", "run_keeper"}
    # the argparse scripts as the shell runs them (their --help imports no engine: fast)
    procs = {s.stem: subprocess.Popen([sys.executable, str(s), "--help"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for s in scripts if s.stem != "bench"}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (name, err)
        assert out.startswith(f"usage: {name}.py"), (name, out)
        assert "NETWORK" in out and "python scripts/" in out  # the arguments, and the examples
    # bench.py is `vc bench all` under its own name (run here: its engine is already imported)
    import runpy

    monkeypatch.setattr(sys, "argv", ["bench.py", "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(PROJECT_ROOT / "scripts" / "bench.py"), run_name="__main__")
    assert info.value.code == 0 and capsys.readouterr().out.startswith("Usage: bench.py [OPTIONS]")


@pytest.mark.parametrize("name,argv,message", [
    ("member_month", ["tester"], "the following arguments are required: ACCOUNT"),
    ("run_keeper", ["tester"], "the following arguments are required: ACCOUNT"),
    ("run_keeper", ["tester", "0", "soon"], "INTERVAL must be a duration such as 3600"),
    ("run_keeper", ["tester", "0", "60", "-1"], "ROUNDS must be a whole number, 0 or more"),
    ("deploy_commune", ["tester", "extra"], "unrecognized arguments: extra"),
])
def test_scripts_refuse_bad_arguments_with_their_usage(name, argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        _script(name).main(*argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and f"usage: {name}.py" in err


def test_scripts_report_engine_errors_as_vc_does(tmp_path, capsys):
    with sandbox(tmp_path, network="local"):
        port = free_port()
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "http://127.0.0.1:{port}"\nchain_id = 31337\n')
        with pytest.raises(SystemExit) as info:
            _script("member_month").main("local", "2")
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "cannot reach a JSON-RPC node" in err and "Traceback" not in err and "urllib3" not in err
        (tmp_path / "vc.toml").write_text(f'[networks.far]\nurl = "http://127.0.0.1:{port}"\nchain_id = 5\n')
        with pytest.raises(SystemExit) as info:
            _script("deploy_commune").main("far")
        assert info.value.code == 2 and "network 'far' is not local" in capsys.readouterr().err
