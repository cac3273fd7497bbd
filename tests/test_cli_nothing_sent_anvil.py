"""On a node other clients use (a `vc.toml` network, not this process's own chain), a paying
command is simulated by `eth_estimateGas` with the token's allowance slot overridden (found with
`eth_createAccessList`): a refusal sends nothing, an accepted call approves exactly what it takes.
On a network that is not local, a command that may cost more than VC_CONFIRM_ABOVE_ETH asks first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from vcengine.chains import ANVIL_MNEMONIC, AnvilChain, local_accounts

pytestmark = pytest.mark.anvil

VC = Path(sys.executable).parent / "vc"
ALLOWANCE = "0xdd62ed3e"  # allowance(address,address)


def test_refused_and_accepted_paying_commands_on_a_shared_node(tmp_path: Path):
    node = AnvilChain()
    try:
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "{node.url}"\nchain_id = 31337\n'
                                          f'[networks.staging]\nurl = "{node.url}"\nchain_id = 31337\n')
        env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
               "VC_STATE_DIR": str(tmp_path / ".vc"), "VC_PASSWORD": "correct horse"}
        for var in ("VC_NETWORK", "VC_ACCOUNT", "VC_DEPLOYMENTS_DIR", "VC_SIMULATION"):
            env.pop(var, None)

        def vc(*argv: str, expect: int = 0) -> dict:
            proc = subprocess.run([str(VC), *argv, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=120)
            assert proc.returncode == expect, f"{argv}\n{proc.stdout}\n{proc.stderr}"
            return json.loads(proc.stdout.strip().splitlines()[-1])

        w3 = Web3(Web3.HTTPProvider(node.url))
        accounts = local_accounts(6, ANVIL_MNEMONIC)
        vc("deploy", "--network", "local", "--account", "0", "--founder", "0", "--founder", "1")
        for i in ("0", "3"):
            vc("faucet", "5000", "--network", "local", "--account", i)
        vc("assets", "request", "ipfs://x", "--price", "1000", "--vendor", "5", "--rent", "120", "--periods", "12",
           "--closes-in", "1h", "--network", "local", "--account", "0")
        record = json.loads((tmp_path / "deployments" / "local.json").read_text())["contracts"]
        token, stock = record["SettlementToken"]["address"], record["CommonStock"]["address"]

        def allowance(owner: str) -> int:
            data = ALLOWANCE + owner[2:].lower().rjust(64, "0") + stock[2:].lower().rjust(64, "0")
            return int(w3.eth.call({"to": token, "data": data}).hex(), 16)

        bidder = accounts[3].address
        before = (w3.eth.block_number, w3.eth.get_transaction_count(bidder), allowance(bidder))
        refused = vc("assets", "bid", "1", "100", "--rate-bps", "4000", "--network", "local", "--account", "3",
                     expect=1)  # above the rate cap of 1,000 bps
        assert refused["revert"]["name"] == "BidRateAboveCap" and refused["transactions"] == []
        assert (w3.eth.block_number, w3.eth.get_transaction_count(bidder), allowance(bidder)) == before

        accepted = vc("assets", "bid", "1", "100", "--rate-bps", "100", "--network", "local", "--account", "3")
        assert [t["action"] for t in accepted["transactions"]] == ["approve", "bid"]
        assert accepted["simulations"] == [{"call": "CommonStock.bid", "mode": "override"}]  # no fallback
        assert w3.eth.block_number == before[0] + 2 and allowance(bidder) == 0  # exact, and spent

        # staging: the same node as a network that is not local; a keystore account signs
        key = tmp_path / "key"
        key.write_text(accounts[3].key.hex())
        vc("accounts", "import", "lender", "--private-key-file", str(key))
        (tmp_path / "deployments" / "staging.json").write_text(
            (tmp_path / "deployments" / "local.json").read_text().replace('"network": "local"', '"network": "staging"'))
        env["VC_CONFIRM_ABOVE_ETH"] = "0"
        block = w3.eth.block_number
        asked = vc("assets", "bid", "1", "100", "--rate-bps", "100", "--network", "staging", "--account", "lender",
                   expect=2)
        assert "Pass --yes to confirm" in asked["error"] and "may cost up to" in asked["error"]
        assert w3.eth.block_number == block and allowance(bidder) == 0
        confirmed = vc("assets", "bid", "1", "100", "--rate-bps", "100", "--network", "staging", "--account",
                       "lender", "--yes")
        assert [t["action"] for t in confirmed["transactions"]] == ["approve", "bid"]
    finally:
        node.close()
