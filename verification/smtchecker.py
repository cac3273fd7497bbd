"""Solidity's own model checker (SMTChecker, CHC engine) as a second line beside the Z3 models.

solc-js runs the checker with the `smtlib2` solver interface; its queries go through the SMT
callback of `solc/smtchecker` to `solc/smtsolver`, which runs the `z3` executable that the
z3-solver wheel puts in the virtual environment's `bin` (put on PATH here). The harnesses in
`verification/smt/` hold in-source assertions about the arithmetic the contracts execute. Each
assertion is reported as proved, unproved or timeout, exactly as the checker says.

The checker cannot decide the membership invariants over mappings in reasonable time (tried: a
`CommuneSMT` asserting one share per address answered "might happen" after 44 s), so those stay
with the Z3 induction proofs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from vcengine.compiler import EVM_VERSION, collect_sources
from vcengine.paths import NODE_MODULES, PROJECT_ROOT

HARNESS_DIR = Path(__file__).resolve().parent / "smt"
#: The harness contracts checked, in source order.
CONTRACTS = ["InterestSMT", "DivisionSMT", "FillSMT"]
TIMEOUT_MS = 20_000

_DRIVER = (
    "const p = process.argv[1];"
    "const solc = require(p + '/solc');"
    "const smtchecker = require(p + '/solc/smtchecker');"
    "const smtsolver = require(p + '/solc/smtsolver');"
    "let input = '';"
    "process.stdin.setEncoding('utf8');"
    "process.stdin.on('data', c => input += c);"
    "process.stdin.on('end', () => {"
    "  const solver = smtsolver.availableSolvers.length ? smtsolver.availableSolvers[0] : undefined;"
    "  process.stdout.write(solc.compile(input, {smtSolver: smtchecker.smtCallback(smtsolver.smtSolver, solver)}));"
    "});"
)


@dataclass(frozen=True)
class SmtResult:
    contract: str
    line: int
    status: str  # proved | unproved | timeout | error
    message: str


def _line(text: str, start: int) -> int:
    return text.count("\n", 0, start) + 1


def run_smtchecker(harness: Path = HARNESS_DIR / "ArithmeticSMT.sol") -> list[SmtResult]:
    """Run the CHC engine on every contract of `harness`; one result per assertion."""
    unit = "smt/" + harness.name
    text = harness.read_text()
    sources = {k: {"content": v} for k, v in collect_sources().items()}
    sources[unit] = {"content": text}
    std = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": EVM_VERSION,
            "modelChecker": {"engine": "chc", "solvers": ["smtlib2"], "targets": ["assert"], "timeout": TIMEOUT_MS,
                             "contracts": {unit: CONTRACTS}, "showProvedSafe": True, "showUnproved": True},
            "outputSelection": {"*": {"*": []}},
        },
    }
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if shutil.which("z3", path=env["PATH"]) is None:
        return [SmtResult(harness.name, 0, "error", "no z3 executable on PATH (it comes with the z3-solver wheel)")]
    proc = subprocess.run(["node", "-e", _DRIVER, str(NODE_MODULES)], input=json.dumps(std), capture_output=True,
                          text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    if proc.returncode != 0:
        return [SmtResult(harness.name, 0, "error", proc.stderr.strip()[:300])]
    results = []
    for err in json.loads(proc.stdout).get("errors", []):
        loc = err.get("sourceLocation", {})
        if loc.get("file") != unit:
            continue
        message = err["message"].splitlines()[0]
        if "is safe" in message:
            status = "proved"
        elif "timeout" in message.lower():
            status = "timeout"
        elif err["severity"] == "error":
            status = "error"
        else:
            status = "unproved"
        start = loc.get("start", 0)
        # the harness contract whose declaration is the last one before the assertion
        contract = max(CONTRACTS, key=lambda c: text.rfind(f"contract {c}", 0, start))
        results.append(SmtResult(contract, _line(text, start), status, message))
    return sorted(results, key=lambda r: r.line)
