"""The `vc` command line: demo, compile, exit codes and the JSON last line."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from vcengine.cli import main
from vcengine.compiler import load_artifacts


def last_json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_demo_json_reports_every_step_ok():
    load_artifacts()  # so that the demo's own load is the warm one
    result = CliRunner().invoke(main, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2] == "ok: true"  # the narrative ends ok, then the JSON line
    assert "refused with CommuneShareNotTransferable" in result.output
    summary = last_json_line(result.output)
    assert summary["ok"] is True and summary["chain"] == "tester"
    names = [s["name"] for s in summary["steps"]]
    assert "worker joins by labour" in names and "capital: ETH sent to the commune" in names
    assert all(s["ok"] for s in summary["steps"])
    assert {s["name"] for s in summary["steps"] if s["name"].startswith(("capital", "member sells", "member approves"))}
    assert {"deploy", "submitLabour", "attest", "join", "leave", "requestAsset", "bid", "settle", "claim"} <= set(summary["gas"])
    assets = {a["id"]: a for a in summary["assets"]}
    assert assets[1]["state"] == "rented" and assets[1]["clearing_rate_bps"] == 200 and assets[1]["renter"] == "dana"
    assert assets[2]["state"] == "failed" and assets[2]["failure"] == "undersubscribed"
    assert assets[2]["clearing_rate_bps"] is None
    shares = {m["name"]: m["share"] for m in summary["members"]}
    assert shares == {"alice": 1, "bob": 2, "carol": 0, "dana": 4, "erin": 0}
    table = {m["name"]: m for m in summary["members"]}
    for m in table.values():  # the per-member table: net = rent paid - payouts
        assert m["net_position"] == m["rent_paid"] - m["payouts"]
    window = {n: table[n]["window"] for n in ("alice", "bob", "dana")}
    assert window["alice"]["net"] == 0 and window["dana"]["net"] > 0 > window["bob"]["net"]
    assert table["alice"]["payouts"] == table["bob"]["payouts"] == table["dana"]["payouts"]  # equal division
    assert {a["state"] for a in summary["assets"]} == {"rented", "failed", "liquidated"}
    assert summary["compile"]["cached"] is True


def test_unknown_chain_is_exit_2_with_a_clear_message():
    result = CliRunner().invoke(main, ["demo", "--chain", "mainnet-please"])
    assert result.exit_code == 2
    assert "unknown chain 'mainnet-please'" in result.output


def test_compile_json():
    result = CliRunner().invoke(main, ["compile", "--json"])
    assert result.exit_code == 0
    out = last_json_line(result.output)
    assert "Commune" in out["contracts"] and out["cached"] is True


def test_console_script_is_installed():
    proc = subprocess.run([sys.executable, "-m", "vcengine.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "demo" in proc.stdout
