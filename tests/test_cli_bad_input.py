"""Bad input is caught before any transaction: exit status 2, a message naming what was wrong, and
the chain unchanged (no nonce moved, no block mined)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import last_json, ok, sandbox, vc

from vcengine import networks

VENDOR = "0x00000000000000000000000000000000000000a1"


@pytest.fixture(scope="module")
def commune(tmp_path_factory):
    """A commune on the embedded chain with asset 1 in its bond auction (its requester, account 0,
    escrowed the first period's 120); account 3 holds 100 tokens."""
    tmp = tmp_path_factory.mktemp("bad-input")
    with sandbox(tmp):
        ok("deploy", "--founder", "0", "--founder", "1", "--account", "0")
        ok("faucet", "100", "--account", "3")
        ok("faucet", "120", "--account", "0")
        ok("assets", "request", "ipfs://lathe", "--price", "1000", "--vendor", VENDOR, "--rent", "120",
           "--periods", "12", "--account", "0")
        stale = tmp / "stale"
        stale.mkdir()
        record = json.loads((tmp / "deployments" / "tester.json").read_text())
        record["contracts"]["Commune"]["address"] = "0x" + "ab" * 20  # nothing lives there
        (stale / "tester.json").write_text(json.dumps(record))
        (tmp / "empty").mkdir()
        broken = tmp / "broken"
        broken.mkdir()
        del record["contracts"]["SettlementToken"]  # a record that names no settlement token
        (broken / "tester.json").write_text(json.dumps(record))
        (tmp / "keystore.json").write_text('{"address": "zz", "crypto": {}}')
        (tmp / "password.bin").write_bytes(b"\xff\xfe\x00")
        yield tmp


def _mixed_case_typo(address: str) -> str:
    """The checksummed address with the case of one letter flipped: a wrong EIP-55 checksum."""
    i = next(i for i, ch in enumerate(address) if i > 1 and ch.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1:]


CASES = [
    # (id, argv, environment, what the message must say)
    ("unknown network", ["status", "--network", "nowhere"], {}, "unknown network 'nowhere': known networks are local, tester"),
    ("missing deployment", ["status"], {"VC_DEPLOYMENTS_DIR": "empty"}, "run `vc deploy --network tester` first"),
    ("stale deployment", ["status"], {"VC_DEPLOYMENTS_DIR": "stale"}, "the record is stale"),
    ("malformed address", ["assets", "request", "x", "--price", "1", "--vendor", "0x1234", "--rent", "1",
                           "--periods", "1", "--account", "0"], {}, "--vendor must be a 20-byte hex address"),
    ("wrong checksum", ["assets", "request", "x", "--price", "1", "--vendor", "CHECKSUM_TYPO", "--rent", "1",
                        "--periods", "1", "--account", "0"], {}, "wrong checksum"),
    ("negative amount", ["assets", "bid", "1", "--rate-bps", "100", "--account", "3", "--", "-5"], {},
     "AMOUNT must be more than zero"),
    ("too many decimals", ["assets", "bid", "1", "10.1234567", "--rate-bps", "100", "--account", "3"], {},
     "more than 6 decimal places"),
    ("zero amount", ["assets", "bid", "1", "0", "--rate-bps", "100", "--account", "3"], {}, "AMOUNT must be more than zero"),
    ("not a number", ["assets", "bid", "1", "12,5", "--rate-bps", "100", "--account", "3"], {}, "a number of tokens written as digits"),
    ("unknown asset", ["assets", "bid", "99", "10", "--rate-bps", "100", "--account", "3"], {}, "there is no asset 99"),
    ("more than held", ["assets", "bid", "1", "100.000001", "--rate-bps", "100", "--account", "3"], {},
     "holds 100 tUSD, less than the 100.000001 tUSD needed"),
    ("unknown keystore account", ["labour", "join", "--account", "nobody"], {}, "no account 'nobody'"),
    ("test account out of range", ["labour", "join", "--account", "99"], {}, "test account index must be between 0 and 19"),
    ("bad duration", ["assets", "request", "x", "--price", "1", "--vendor", VENDOR, "--rent", "1", "--periods", "1",
                      "--closes-in", "soon", "--account", "0"], {}, "--closes-in must be a duration"),
    ("zero claim id", ["labour", "attest", "0", "--account", "0"], {}, "CLAIM_ID must be 1 or more"),
    ("malformed --commune", ["status", "--commune", "0xnope"], {}, "--commune must be a 20-byte hex address"),
    ("--commune without code", ["status", "--commune", "0x" + "cd" * 20], {}, "has no code on this chain"),
    ("deploy without founders", ["deploy", "--account", "0", "--force"], {}, "name at least one --founder"),
    ("deploy with a rate cap too high", ["deploy", "--founder", "0", "--rate-cap-bps", "5000", "--account", "0",
                                         "--force"], {}, "rate cap (basis points per period) must be between 0 and 4095"),
    ("no signer", ["labour", "join"], {}, "no signer: pass --account"),
    ("option of the wrong type", ["assets", "bid", "1", "5", "--rate-bps", "abc", "--account", "3"], {},
     "'abc' is not a valid integer"),
    ("deploy with a sale longer than 100 years", ["deploy", "--founder", "0", "--sale", "5300w", "--account", "0",
                                                  "--force"], {}, "sale length (seconds) must be between 1 and 3153600000"),
    ("too many digits", ["assets", "bid", "1", "1.0000000000000000000000000001", "--rate-bps", "100", "--account", "3"],
     {}, "more than 6 decimal places"),
    ("malformed deployment record", ["status"], {"VC_DEPLOYMENTS_DIR": "broken"}, "names no SettlementToken"),
    ("keystore with a bad address", ["accounts", "import", "bad", "--keystore", "keystore.json"], {},
     "its 'address' is not an address"),
    ("password file not text", ["accounts", "new", "alice", "--password-file", "password.bin"], {}, "is not UTF-8 text"),
    ("a private key as the account", ["labour", "join", "--account", "4c" * 32], {}, "a private key: never pass one here"),
]


@pytest.mark.parametrize("argv,env,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_and_sends_nothing(commune: Path, monkeypatch, argv, env, message):
    # the module fixture's sandbox (HOME, config, working directory, embedded chain) is still active
    for key, value in env.items():
        monkeypatch.setenv(key, str(commune / value))
    chain = networks.tester_chain()
    argv = [a if a != "CHECKSUM_TYPO" else _mixed_case_typo(chain.accounts[5].address) for a in argv]
    argv = [str(commune / a) if a in ("keystore.json", "password.bin") else a for a in argv]
    block = chain.w3.eth.block_number
    nonces = [chain.w3.eth.get_transaction_count(a.address) for a in chain.accounts[:4]]
    cut = argv.index("--") if "--" in argv else len(argv)  # options before a "--" that ends them
    result = vc(*argv[:cut], "--json", *argv[cut:])
    assert result.exit_code == 2, result.output
    assert message in result.stderr.replace("\n", " "), result.stderr
    assert last_json(result)["ok"] is False and last_json(result)["kind"] == "bad_input"
    assert chain.w3.eth.block_number == block  # nothing mined
    assert [chain.w3.eth.get_transaction_count(a.address) for a in chain.accounts[:4]] == nonces
    assert "4c4c4c4c" not in result.output + result.stderr  # a secret given by mistake is never echoed
