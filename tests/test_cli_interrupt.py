"""Ctrl-C after a transaction was sent: its hash was already printed, the summary names it as
pending, the exit status is 130, and the transaction is real (it is mined afterwards)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web3 import Web3

from vcengine.chains import AnvilChain

pytestmark = pytest.mark.anvil

VC = Path(sys.executable).parent / "vc"


def test_ctrl_c_while_waiting_names_the_pending_transaction(tmp_path: Path):
    node = AnvilChain(block_time=3)  # a slow-block node: each transaction waits up to 3 s
    try:
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "{node.url}"\nchain_id = 31337\n')
        env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
               "VC_STATE_DIR": str(tmp_path / ".vc"), "PYTHONUNBUFFERED": "1"}
        for var in ("VC_NETWORK", "VC_ACCOUNT", "VC_PASSWORD", "VC_DEPLOYMENTS_DIR"):
            env.pop(var, None)
        proc = subprocess.Popen([str(VC), "deploy", "--network", "local", "--account", "0", "--founder", "0"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sent_line = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if ": sent 0x" in line:
                sent_line = line
                break
            assert line or proc.poll() is None, proc.stderr.read()
        assert sent_line, "no transaction hash was printed"
        tx_hash = sent_line.split("sent ", 1)[1].split()[0]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert f"sent and still pending: {sent_line.split(':')[0]} {tx_hash}" in err
        receipt = Web3(Web3.HTTPProvider(node.url)).eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["status"] == 1  # the hash printed is a real transaction that was mined
    finally:
        node.close()
