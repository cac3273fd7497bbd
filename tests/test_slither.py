"""Static analysis: Slither over contracts/, every High/Medium finding triaged in slither-triage.toml.

Slither comes from .venv-slither (created by `make test` from tools/slither/requirements.txt) and
compiles through tools/slither/solc (solc-js). See tools/slither/gate.py for the scope and the keys.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("slither_gate", ROOT / "tools" / "slither" / "gate.py")
gate = importlib.util.module_from_spec(_spec)
sys.modules["slither_gate"] = gate
_spec.loader.exec_module(gate)


@pytest.fixture(scope="module")
def report():
    try:
        return gate.run_slither()
    except gate.SlitherFailed as exc:
        pytest.fail(str(exc), pytrace=False)


def test_every_high_and_medium_finding_is_triaged(report):
    verdict = gate.judge(report.results, gate.load_triage())
    print(report.text)  # shown by pytest with the failure: Slither's whole report
    if not verdict.ok:
        pytest.fail(gate.explain(verdict), pytrace=False)
    assert report.results, "Slither reported nothing at all: is the scope (--include-paths) still right?"


def test_scope_is_the_commune_contracts(report):
    files = {e["source_mapping"]["filename_relative"] for r in report.results for e in r["elements"]
             if "source_mapping" in e}
    ours = {f for f in files if f.startswith("contracts/") and not f.startswith("contracts/mocks/")}
    assert ours, files
    # every result has an element in a commune contract (mocks and OpenZeppelin alone are out)
    for result in report.results:
        assert any(e.get("source_mapping", {}).get("filename_relative", "") in ours for e in result["elements"]), \
            result["description"]


def test_solc_wrapper_answers_like_native_solc():
    out = subprocess.run([str(gate.SOLC), "--version"], capture_output=True, text=True, check=True).stdout
    assert out == "solc, the solidity compiler commandline interface\nVersion: 0.8.30+commit.73712a01.Linux.g++\n"
    refused = subprocess.run([str(gate.SOLC), "--combined-json", "abi", "x.sol"], capture_output=True, text=True)
    assert refused.returncode == 2 and "only --version and --standard-json" in refused.stderr


# ------------------------------------------------------------- the gate's rules, on made-up results


def _result(check: str, impact: str, function: str = "f(uint256)", contract: str = "C") -> dict:
    fn = {"type": "function", "name": function.split("(")[0],
          "type_specific_fields": {"parent": {"type": "contract", "name": contract}, "signature": function}}
    node = {"type": "node", "name": "x = a / b", "type_specific_fields": {"parent": fn}}
    return {"check": check, "impact": impact, "confidence": "High", "elements": [fn, node],
            "description": f"{contract}.{function} (contracts/C.sol#10-20) does {check}\n"}


def test_keys_name_detector_and_elements_never_lines():
    assert gate.finding_key(_result("divide-before-multiply", "Medium")) == "divide-before-multiply: C.f(uint256)"
    local = {"type": "variable", "name": "to_", "type_specific_fields": {"parent": _result("x", "Low")["elements"][0]}}
    assert gate.finding_key({"check": "missing-zero-check", "elements": [local]}) == "missing-zero-check: C.f(uint256).to_"


def test_gate_fails_on_an_untriaged_finding():
    verdict = gate.judge([_result("reentrancy-no-eth", "Medium"), _result("timestamp", "Low")], {})
    assert not verdict.ok and verdict.untriaged == ["reentrancy-no-eth: C.f(uint256)"]
    assert '"reentrancy-no-eth: C.f(uint256)" = ' in gate.explain(verdict)


def test_gate_fails_on_a_stale_entry_and_on_an_empty_reason():
    results = [_result("incorrect-equality", "Medium")]
    stale = gate.judge(results, {"incorrect-equality: C.f(uint256)": "ok", "arbitrary-send-eth: C.g()": "was ok"})
    assert not stale.ok and stale.stale == ["arbitrary-send-eth: C.g()"]
    empty = gate.judge(results, {"incorrect-equality: C.f(uint256)": "  "})
    assert not empty.ok and empty.no_reason == ["incorrect-equality: C.f(uint256)"]
    assert gate.judge(results, {"incorrect-equality: C.f(uint256)": "accounting, not a balance"}).ok


def test_gate_ignores_low_and_informational_findings():
    verdict = gate.judge([_result("timestamp", "Low"), _result("pragma", "Informational")], {})
    assert verdict.ok and not verdict.findings
