"""The README's exit statuses, one table of cases across commands: 0 done, 1 the chain refused,
2 bad input or environment (nothing sent), 130 interrupted (tests/test_cli_interrupt.py), and
`vc node status` 3 when no node runs. Each case also checks the --json last line's ``kind`` and
that a refused or bad command left the block number where it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import last_json, sandbox, vc
from vcengine import networks


@pytest.fixture(scope="module")
def commune(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exit-codes")
    with sandbox(tmp):
        assert vc("deploy", "--network", "tester", "--account", "0", "--founder", "0", "--founder", "1").exit_code == 0
        for i in ("0", "2"):
            assert vc("faucet", "5000", "--network", "tester", "--account", i).exit_code == 0
        assert vc("assets", "request", "ipfs://x", "--price", "1000", "--vendor", "9", "--rent", "120", "--periods",
                  "12", "--closes-in", "1h", "--network", "tester", "--account", "0").exit_code == 0
        (tmp / "vc.toml").write_text('[networks.dead]\nurl = "http://127.0.0.1:1"\nchain_id = 1\n')
        yield tmp, networks.tester_chain()


CASES = [
    # (argv, exit status, --json kind)
    (["status"], 0, None),
    (["balance", "2"], 0, None),
    (["assets", "settle", "1", "--account", "2"], 1, "reverted"),              # AuctionStillOpen
    (["labour", "attest", "1", "--account", "0"], 1, "reverted"),              # no such claim: LabourUnknown...
    (["assets", "settle", "7", "--account", "2"], 2, "bad_input"),             # unknown id
    (["assets", "claim", "3", "--account", "2"], 2, "bad_input"),              # unknown bid
    (["payout", "claim", "--account", "2"], 2, "bad_input"),                   # nothing to claim
    (["bonds", "claim", "1", "--account", "2"], 2, "bad_input"),               # no series: nothing to claim
    (["assets", "withdraw", "--account", "2"], 2, "bad_input"),                # nothing to withdraw
    (["balance", "0x123"], 2, "bad_input"),                                    # malformed address
    (["assets", "bid", "1", "1.0000001", "--rate-bps", "1", "--account", "2"], 2, "bad_input"),  # too precise
    (["assets", "bid", "1", "100000", "--rate-bps", "1", "--account", "2"], 2, "bad_input"),     # too few tokens
    (["status", "--network", "nowhere"], 2, "bad_input"),                      # unknown network
    (["status", "--network", "dead"], 2, "chain"),                             # unreachable node
    (["labour", "leave", "--account", "1"], 2, "bad_input"),                   # irreversible, no terminal, no --yes
    (["assets", "bid", "1", "10", "--rate-bps", "1", "--account", "nobody"], 2, "bad_input"),    # unknown account
]


@pytest.mark.parametrize("argv,status,kind", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_exit_status(commune, monkeypatch, argv, status, kind):
    tmp, chain = commune
    block = chain.w3.eth.block_number
    with sandbox(tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        network = [] if "--network" in argv else ["--network", "tester"]
        result = vc(*argv, *network, "--json")
    assert result.exit_code == status, result.output
    out = last_json(result)
    assert out["ok"] is (status == 0)
    if kind is not None:
        assert out["kind"] == kind, out
    if status:
        assert chain.w3.eth.block_number == block  # nothing was sent


def test_node_status_without_a_node_exits_3(tmp_path: Path):
    with sandbox(tmp_path, network="local"):
        result = vc("node", "status", "--json")
    assert result.exit_code == 3, result.output
