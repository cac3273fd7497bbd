"""The README's journey, command by command, through the real `vc` entry point against a real anvil
node started by `vc node start` in a temporary folder; then the README's JSON-RPC calls."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from vcengine.chains import free_port
from vcengine.paths import PROJECT_ROOT

pytestmark = pytest.mark.anvil

README = PROJECT_ROOT / "README.md"
VC = Path(sys.executable).parent / "vc"


def readme_journey() -> list[str]:
    """The commands of the README's journey block, comments stripped."""
    text = README.read_text()
    block = text.split("<!-- journey:start -->", 1)[1].split("<!-- journey:end -->", 1)[0]
    lines = block.strip().removeprefix("```sh").removesuffix("```").strip().splitlines()
    return [line.split("  #")[0].strip() for line in lines if line.strip()]


def readme_rpc_calls() -> list[str]:
    """The ``data`` of each eth_call the README shows."""
    return re.findall(r'"data":"(0x[0-9a-f]+)"', README.read_text())


def test_readme_journey_on_a_real_node(tmp_path: Path):
    commands = readme_journey()
    assert commands[0] == "vc node start" and commands[-1] == "vc node stop" and len(commands) > 20
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "VC_NODE_PORT": str(port), "COLUMNS": "200"}
    for var in ("VC_NETWORK", "VC_ACCOUNT", "VC_PASSWORD", "VC_STATE_DIR", "VC_KEYSTORE_DIR", "VC_DEPLOYMENTS_DIR"):
        env.pop(var, None)
    outputs: list[str] = []

    def run(line: str, expect: int = 0) -> str:
        argv = shlex.split(line)
        assert argv[0] == "vc"
        proc = subprocess.run([str(VC), *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == expect, f"$ {line}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr

    try:
        for line in commands[:-1]:
            outputs.append(run(line))
        url = f"http://127.0.0.1:{port}"
        # the README's JSON-RPC calls, against the restarted node
        commune = json.loads((tmp_path / "deployments" / "local.json").read_text())["contracts"]["Commune"]["address"]
        answers = []
        for data in readme_rpc_calls():
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                               "params": [{"to": commune, "data": data}, "latest"]}).encode()
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            answers.append(int(json.loads(urllib.request.urlopen(request, timeout=10).read())["result"], 16))
        assert answers == [3, 1]  # three members; account 2 is one
        # a configured network whose node reports another chain id is refused before anything is sent
        (tmp_path / "vc.toml").write_text(f'[networks.wrong]\nurl = "{url}"\nchain_id = 1\n')
        refused = run("vc status --network wrong", expect=2)
        assert "reports chain id 31337" in refused and "configures 1" in refused
        outputs.append(run(commands[-1]))
    finally:
        record = tmp_path / ".vc" / "node.json"
        if record.is_file():  # a failed step left the node running
            os.kill(json.loads(record.read_text())["pid"], signal.SIGKILL)

    out = dict(zip(commands, outputs))
    assert "chain id 31337" in out["vc node start"]
    assert "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC is a member with share 3" in out["vc labour join --account 2"]
    assert "cleared at 200 bps" in out["vc keeper run --once --account 0"]
    assert "4,000 tUSD in bonds, 2,000 tUSD refunded" in out["vc assets claim 2 --account 4"]
    assert "withdrew 10,000 tUSD" in out["vc assets withdraw --account 9"]
    # the first month was paid at settlement (200 interest, 1,000 principal); a month later 180
    # interest accrued on the 9,000 left; the nine months paid at once leave 1,620 of member income,
    # released month by month: one month's 180, divided by three, right away
    assert "paid 10,800 tUSD: 9,180 tUSD to the bondholders, 1,620 tUSD to the members" in out[
        "vc assets pay-rent 1 --periods 9 --account 2"]
    assert "6,228 tUSD paid" in out["vc bonds claim 1 --account 3"] and "4,152 tUSD paid" in out["vc bonds claim 1 --account 4"]
    assert "payout of 60 tUSD" in out["vc payout claim --account 0"]
    # every transaction is shown: the approval before the rent, each with its hash as it was sent
    rent = out["vc assets pay-rent 1 --periods 9 --account 2"].strip().splitlines()
    sample = README.read_text().split("<!-- sample:pay-rent:start -->", 1)[1].split("<!-- sample:pay-rent:end -->")[0]
    sample = sample.strip().removeprefix("```text").removesuffix("```").strip().splitlines()
    assert len(rent) == len(sample), rent
    for got, shown in zip(rent, sample):  # the README's sample is the real output, elisions aside
        pattern = re.escape(shown).replace("0x…", "0x[0-9a-fA-F]+").replace(r"block\ N", r"block\ [\d,]+")
        pattern = pattern.replace(r"used\ N", r"used\ [\d,]+")
        assert re.fullmatch(pattern, got), (got, shown)
    # after the restart the commune is still there, with the same figures
    status = out["vc status --account 2"]
    assert "3 members" in status
    flat = " ".join(status.split())  # one block per member and asset, wrapped within 80 columns
    for block in ("share 1 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (account 0) rent paid 0 tUSD, payouts 60 tUSD "
                  "claimable 0 tUSD, net position -60 tUSD",
                  "share 2 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (account 1) rent paid 0 tUSD, payouts 60 tUSD "
                  "claimable 60 tUSD, net position -60 tUSD",
                  "share 3 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC (account 2) rent paid 12,000 tUSD, payouts 60 "
                  "tUSD claimable 60 tUSD, net position 11,940 tUSD",
                  "asset 1 Rented, price 10,000 tUSD, rate 2.00% (200 bps) renter "
                  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC (account 2) rent 1,200 tUSD a period, 10 of 10 periods paid",
                  "outstanding 0 tUSD principal, 0 tUSD interest fully owned by the commune",
                  "membership member, share 3 tokens 3,000 tUSD position rent paid 12,000 tUSD, payouts 60 tUSD "
                  "claimable 60 tUSD, net position 11,940 tUSD"):
        assert block in flat, status
    assert max(len(line) for line in status.splitlines()) <= 80
    assert "node stopped" in outputs[-1]
