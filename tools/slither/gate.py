"""Slither over contracts/, gated by slither-triage.toml: `make slither` and tests/test_slither.py.

    .venv/bin/python tools/slither/gate.py          # Slither's text report, then the gate's verdict
    .venv/bin/python tools/slither/gate.py --toml   # every High/Medium finding as a triage line

What Slither analyses is exactly what the project compiles: the standard-JSON input of
``vcengine.compiler`` (every source embedded, OpenZeppelin included, the project's settings), with
only the output selection widened to what crytic-compile reads (ASTs and source maps). It is
compiled by solc-js through ``tools/slither/solc`` and analysed by the Slither of
``.venv-slither`` (``make .venv-slither/.installed``, pinned in ``tools/slither/requirements.txt``).

Results are kept when one of their elements lies in the project's own ``contracts/`` outside
``contracts/mocks/`` (Slither's ``--include-paths``): a finding only in OpenZeppelin or only in
the benchmark mocks is dropped, one in a commune contract that also touches OpenZeppelin code is
kept. (``--filter-paths node_modules`` would drop the latter too: Slither filters a result as soon
as any one element matches.) ``--show-ignored-findings`` makes Slither disregard
``// slither-disable`` comments and any ``slither.db.json``, so the triage file is the one place
where a finding is accepted.

The gate: every finding of impact High or Medium must have an entry in ``slither-triage.toml``
with a non-empty reason, and every entry must match a current High/Medium finding. A finding's key
is its detector and the names of its elements, never a line number (see ``finding_key``).
Exit status: 0 the gate passes, 1 it fails, 2 Slither itself failed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vcengine import compiler, paths  # noqa: E402  (needs ROOT on sys.path first)

SLITHER = ROOT / ".venv-slither" / "bin" / "slither"
SOLC = ROOT / "tools" / "slither" / "solc"
TRIAGE_FILE = ROOT / "slither-triage.toml"
GATED_IMPACTS = ("High", "Medium")

# What crytic-compile reads from solc's output: every source's AST, and per contract the ABI, the
# NatSpec and both bytecodes with their source maps (it fails on a contract without them).
SLITHER_OUTPUT_SELECTION = {
    "*": {
        "*": ["abi", "devdoc", "userdoc", "evm.bytecode.object", "evm.bytecode.sourceMap",
              "evm.deployedBytecode.object", "evm.deployedBytecode.sourceMap"],
        "": ["ast"],
    }
}


class SlitherFailed(Exception):
    """Slither (or the compiler behind it) did not produce a report."""


@dataclass
class Report:
    text: str  # Slither's own text report (what it prints on stderr)
    results: list[dict[str, Any]]  # Slither's JSON detector results


@dataclass
class Verdict:
    findings: dict[str, list[dict[str, Any]]]  # key -> the High/Medium results with that key
    untriaged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    no_reason: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.untriaged or self.stale or self.no_reason)


# ------------------------------------------------------------------------------ running


def slither_input() -> dict[str, Any]:
    """The project's own standard-JSON compiler input, with the outputs crytic-compile needs."""
    if paths.PROJECT_ROOT.resolve() != ROOT:
        raise SlitherFailed(f"vcengine is imported from {paths.PROJECT_ROOT}, not from {ROOT}")
    std_input = compiler.standard_json_input(compiler.collect_sources(ROOT / "contracts"))
    std_input["settings"]["outputSelection"] = SLITHER_OUTPUT_SELECTION
    return std_input


def slither_command(input_file: Path, json_file: Path) -> list[str]:
    include = "^" + re.escape(ROOT.as_posix()) + "/contracts/(?!mocks/)"
    return [
        str(SLITHER), str(input_file),
        "--compile-force-framework", "solc-json",
        "--solc", str(SOLC),
        "--include-paths", include,
        "--show-ignored-findings",
        "--fail-none",  # exit status 0 with findings; non-zero only when Slither itself failed
        "--disable-color",
        "--json", str(json_file),
    ]


def run_slither() -> Report:
    """Runs Slither once over the project's contracts: its text report and its JSON results."""
    if not SLITHER.is_file():
        raise SlitherFailed(f"{SLITHER} is missing: run `make .venv-slither/.installed` in {ROOT}")
    with tempfile.TemporaryDirectory(prefix="slither-") as tmp:
        input_file, json_file = Path(tmp, "input.json"), Path(tmp, "slither.json")
        input_file.write_text(json.dumps(slither_input()))
        proc = subprocess.run(
            slither_command(input_file, json_file), cwd=ROOT, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        text = proc.stderr.replace(str(input_file), "contracts/")
        if proc.returncode != 0 or not json_file.is_file():
            raise SlitherFailed(f"slither exited with status {proc.returncode}:\n{text}{proc.stdout}")
        report = json.loads(json_file.read_text())
    if not report.get("success"):
        raise SlitherFailed(f"slither reported an error: {report.get('error')}\n{text}")
    return Report(text=text, results=report.get("results", {}).get("detectors", []))


# ------------------------------------------------------------------------------ keys


def _qualified(element: dict[str, Any]) -> str:
    """An element's name qualified by its parents: ``Contract.function(types)``, ``Contract.var``,
    ``Contract.function(types).local``; a node (a statement) stands for its enclosing function."""
    fields = element.get("type_specific_fields", {})
    parent = fields.get("parent")
    if element.get("type") == "node":
        return _qualified(parent) if parent else element.get("name", "")
    name = fields.get("signature") or element.get("name", "")
    if element.get("type") == "function" and parent and "." not in name.split("(")[0]:
        return f"{parent.get('name')}.{name}"  # free functions have no contract parent
    if parent and element.get("type") != "function":
        return f"{_qualified(parent)}.{name}"
    return name


def finding_key(result: dict[str, Any]) -> str:
    """``detector: primary[, other...]``: stable across edits that do not rename what it names.

    The primary element is Slither's first (the function, variable or contract the finding is
    about; a statement counts as its function). The others are the result's further named
    elements (a shadowed variable, another contract), never its statements, which carry only
    line-level detail. Results that differ only in statements (two strict equalities in one
    function) share a key, and one triage entry covers them all.
    """
    elements = result.get("elements", [])
    names: list[str] = []
    for i, element in enumerate(elements):
        if i > 0 and element.get("type") == "node":
            continue
        name = _qualified(element)
        if name and name not in names:
            names.append(name)
    return f"{result['check']}: " + ", ".join(names)


def gated_findings(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    findings: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        if result.get("impact") in GATED_IMPACTS:
            findings.setdefault(finding_key(result), []).append(result)
    return dict(sorted(findings.items()))


# ------------------------------------------------------------------------------ triage


def load_triage(path: Path = TRIAGE_FILE) -> dict[str, str]:
    """The ``[accepted]`` table of the triage file: finding key -> one-line reason."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    unknown = set(data) - {"accepted"}
    if unknown:
        raise ValueError(f"{path.name}: unknown tables {sorted(unknown)}; entries go under [accepted]")
    accepted = data.get("accepted", {})
    bad = [k for k, v in accepted.items() if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{path.name}: the reason of {bad} is not a string")
    return accepted


def judge(results: list[dict[str, Any]], triage: dict[str, str]) -> Verdict:
    findings = gated_findings(results)
    return Verdict(
        findings=findings,
        untriaged=[k for k in findings if k not in triage],
        stale=sorted(k for k in triage if k not in findings),
        no_reason=sorted(k for k, reason in triage.items() if k in findings and not reason.strip()),
    )


def toml_line(key: str, reason: str = "") -> str:
    return f"{json.dumps(key)} = {json.dumps(reason)}"


def explain(verdict: Verdict) -> str:
    """What is wrong with the triage, with Slither's own text for each untriaged finding."""
    out: list[str] = []
    if verdict.untriaged:
        out.append(f"{len(verdict.untriaged)} High/Medium finding(s) not in {TRIAGE_FILE.name}; fix the "
                   "code, or add the line below under [accepted] with a one-line reason:")
        for key in verdict.untriaged:
            for result in verdict.findings[key]:
                out.append(f"\n[{result['impact']}/{result['confidence']}] {result['description'].rstrip()}")
            out.append(toml_line(key, "WHY THIS IS SAFE OR ACCEPTED"))
    if verdict.no_reason:
        out.append(f"\n{TRIAGE_FILE.name}: entries without a reason (give each a one-line reason):")
        out.extend(f"  {key}" for key in verdict.no_reason)
    if verdict.stale:
        out.append(f"\n{TRIAGE_FILE.name}: entries matching no current High/Medium finding (remove them):")
        out.extend(f"  {key}" for key in verdict.stale)
    return "\n".join(out)


def summary(results: list[dict[str, Any]]) -> str:
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        counts[(result["impact"], result["check"])] = counts.get((result["impact"], result["check"]), 0) + 1
    order = {"High": 0, "Medium": 1, "Low": 2, "Informational": 3, "Optimization": 4}
    return "\n".join(f"  {impact:<13} {check:<28} {n}"
                     for (impact, check), n in sorted(counts.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0][1])))


def main(argv: list[str]) -> int:
    try:
        report = run_slither()
    except SlitherFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    if "--toml" in argv:
        triage = load_triage()
        for key in gated_findings(report.results):
            print(toml_line(key, triage.get(key, "")))
        return 0
    verdict = judge(report.results, load_triage())
    print(report.text.rstrip())
    print(f"\nFindings by impact and detector (mocks and OpenZeppelin excluded):\n{summary(report.results)}")
    if verdict.ok:
        print(f"\nGate passed: {len(verdict.findings)} High/Medium finding key(s), each triaged in {TRIAGE_FILE.name}.")
        return 0
    print("\nGate FAILED:\n" + explain(verdict))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
