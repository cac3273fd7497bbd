"""`vc verify`: proofs, coverage, conformance and mutants, in one report for auditors."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from verification.coverage import check_coverage
from verification.properties import prove_all


#: Property -> (short name, the contracts whose transition systems or arithmetic it is proved over).
PROPERTIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "P1": ("one share per member", ("Commune", "CommuneFactory")),
    "P2": ("non-transferable share", ("Commune",)),
    "P3": ("no share for capital (labour only)", ("Commune",)),
    "P4": ("equal division of income", ("Treasury",)),
    "P5": ("conservation of money", ("Treasury", "BondSeries", "CommonStock")),
    "P6": ("bondholders paid first", ("CommonStock",)),
    "P7": ("asset lifecycle", ("CommonStock",)),
    "P8": ("rent neutrality", ("Treasury",)),
    "P9": ("uniform-rate auction clearing", ("CommonStock",)),
    "P10": ("access control", ("Commune", "CommonStock")),
    "P11": ("terms kept through parameter changes", ("Commune", "CommonStock")),
    "P12": ("parameters within bounds", ("Commune", "CommonStock")),
}


@dataclass
class VerifyReport:
    proofs: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    conformance: dict[str, Any] = field(default_factory=dict)
    mutants: list[dict[str, Any]] = field(default_factory=list)
    smtchecker: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (all(p["proved"] for p in self.proofs) and all(c["ok"] for c in self.coverage)
                and self.conformance.get("ok", False) and all(m["caught_by"] for m in self.mutants))

    def properties(self) -> list[dict[str, Any]]:
        """One row per property: id, name, status, seconds, contracts and their method coverage."""
        covered = {c["contract"]: c for c in self.coverage}
        rows = []
        for p in self.proofs:
            name, contracts = PROPERTIES.get(p["property"], (p["property"], ()))
            coverage = {c: f"{covered[c]['functions'] - len(covered[c]['missing'])}/{covered[c]['functions']}"
                        for c in contracts if c in covered}
            rows.append({"id": p["property"], "name": name, "status": "proved" if p["proved"] else
                         ("failed" if p["counterexample"] else "unknown"), "seconds": p["seconds"],
                         "contracts": list(contracts), "method_coverage": coverage,
                         "obligations": p["obligations"], "statement": p["statement"],
                         "counterexample": p["counterexample"] or p["detail"]})
        return rows

    def to_json(self) -> dict[str, Any]:
        killed = sum(1 for m in self.mutants if m["caught_by"])
        return {"ok": self.ok, "seconds": round(self.seconds, 1), "properties": self.properties(),
                "coverage": {c["contract"]: {"functions": c["functions"], "missing": c["missing"], "ok": c["ok"]}
                             for c in self.coverage},
                "conformance": self.conformance,
                "mutants": {"total": len(self.mutants), "killed": killed, "survived": len(self.mutants) - killed,
                            "list": self.mutants},
                "smtchecker": self.smtchecker}

    def to_markdown(self) -> str:
        """The report for auditors, as Markdown."""
        lines = ["# Verification report", "", f"Result: **{'ok' if self.ok else 'FAILED'}** "
                 f"({self.seconds:.1f} s). See `verification/README.md` for what each property means, how it is "
                 "modelled and what is assumed.", "", "## Properties", "",
                 "| Property | Name | Contracts (methods modelled) | Result | Obligations | Time (s) |",
                 "|---|---|---|---|---|---|"]
        for r in self.properties():
            cov = ", ".join(f"{c} ({n})" for c, n in r["method_coverage"].items())
            lines.append(f"| {r['id']} | {r['name']} | {cov} | {r['status']} | {r['obligations']} | {r['seconds']} |")
        for r in self.properties():
            lines += ["", f"**{r['id']}** {r['statement']}."]
            if r["counterexample"]:
                lines += ["", "```", r["counterexample"], "```"]
        lines += ["", "## Coverage", "", "| Contract | State-changing functions | Missing |", "|---|---|---|"]
        lines += [f"| {c['contract']} | {c['functions']} | {', '.join(c['missing']) or 'none'} |" for c in self.coverage]
        lines += ["", "## Conformance", ""]
        for system, r in self.conformance.get("systems", {}).items():
            lines.append(f"- {system}: {'agree' if r['ok'] else 'DIVERGE'} after {r['calls']} calls"
                         + (f" ({r['divergence']})" if r["divergence"] else ""))
        for system, r in self.conformance.get("stateful", {}).items():
            lines.append(f"- {system}, stateful machine: {'agree' if r['ok'] else 'DIVERGE'} after {r['steps']} "
                         f"rules ({r['seconds']} s)" + (f"\n\n```\n{r['failure']}\n```" if r["failure"] else ""))
        if self.mutants:
            lines += ["", "## Mutants", "", "| Id | Property | File | Mutation | Caught by |", "|---|---|---|---|---|"]
            lines += [f"| {m['id']} | {m['property']} | {m['file']} | {m['description']} | "
                      f"{m['caught_by'] or '**SURVIVED**'} |" for m in self.mutants]
        if self.smtchecker:
            lines += ["", "## Second line: SMTChecker (not part of the result)", "", "| Line | Contract | Status |",
                      "|---|---|---|"]
            lines += [f"| {r['line']} | {r['contract']} | {r['status']} |" for r in self.smtchecker]
        return "\n".join(lines) + "\n"

    def write(self, folder: Any) -> tuple[Any, Any]:
        """Write `verification-report.md` and `verification-report.json` into `folder`."""
        import json
        from pathlib import Path

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        md, js = out / "verification-report.md", out / "verification-report.json"
        md.write_text(self.to_markdown())
        js.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return md, js


def verify(artifacts: Any, say: Callable[[str], None] = lambda _: None, conformance_runs: int = 3,
           conformance_steps: int = 40, economy_runs: int = 1, economy_steps: int = 10, mutants: bool = True, smtchecker: bool = True,
           stateful_steps: int = 0) -> VerifyReport:
    """`stateful_steps` rules of each system's Hypothesis machine (`verification/stateful.py`, the
    models as the oracle); 0 skips them."""
    from verification.conformance import Divergence, run_conformance
    from verification.economy_conformance import run_economy_conformance

    start = time.monotonic()
    report = VerifyReport()
    if mutants:  # compiled and checked in the background while the proofs and conformance run
        from verification.mutants import start_mutants

        mutant_results = start_mutants()
    say("Proofs (Z3, induction over every function, any number of members):")
    for r in prove_all().results:
        report.proofs.append({"property": r.prop, "statement": r.statement, "proved": r.proved,
                              "obligations": r.obligations, "seconds": round(r.seconds, 3),
                              "counterexample": r.counterexample, "detail": r.detail})
        say("  " + r.line())
        for line in (r.counterexample or r.detail).splitlines():
            say("      " + line)
    say("Coverage (every state-changing ABI function has a model transition):")
    for c in check_coverage(artifacts):
        report.coverage.append({"contract": c.contract, "functions": len(c.functions), "missing": c.missing,
                                "ok": c.ok})
        say(f"  {c.contract:<12} {len(c.functions):>3} functions  "
            + ("all modelled" if c.ok else f"MISSING: {', '.join(c.missing)}"))
    say("Conformance (chain and models in lockstep; each run a scripted opening through every branch, then "
        "random calls):")
    report.conformance = {"ok": True, "calls": 0, "divergence": None, "systems": {}}
    systems = (("Commune", run_conformance, conformance_runs, conformance_steps),
               ("CommonStock+Treasury+BondSeries", run_economy_conformance, economy_runs, economy_steps))
    for system, run, runs, steps in systems:
        calls, divergence = 0, None
        for seed in range(runs):
            try:
                calls += run(seed, steps, artifacts=artifacts)
            except Divergence as exc:
                divergence = str(exc)
                break
        report.conformance["systems"][system] = {"ok": divergence is None, "calls": calls, "divergence": divergence}
        report.conformance["calls"] += calls
        if divergence is not None:
            report.conformance.update(ok=False, divergence=f"{system}: {divergence}")
        say(f"  {system:<32} {runs} run(s) x (opening + {steps} random): "
            f"{'agree' if divergence is None else 'DIVERGE'} after {calls} calls"
            + (f": {divergence}" if divergence else ""))
    if stateful_steps:
        from verification.stateful import SYSTEMS, run_stateful

        say(f"Stateful machines (Hypothesis, 20 actors, the Z3 models as the oracle; at least {stateful_steps} "
            "rules each):")
        report.conformance["stateful"] = {}
        for system in SYSTEMS:
            run = run_stateful(system, stateful_steps)
            report.conformance["stateful"][system] = run.to_json()
            if not run.ok:
                report.conformance.update(ok=False, divergence=f"{system} (stateful): {run.failure}")
            say(f"  {system:<32} {run.steps} rules in {run.seconds:.1f} s: "
                + ("agree" if run.ok else f"DIVERGE: {run.failure}"))
    if mutants:
        say("Mutants (each a small edit of the real sources that breaks one property):")
        for r in mutant_results():
            m = r.mutant
            report.mutants.append({"id": m.id, "property": m.prop, "file": m.file, "description": m.description,
                                   "caught_by": r.caught_by, "detail": r.detail})
            status = f"caught by {r.caught_by}" if r.caught else "SURVIVED"
            say(f"  {m.id} {m.prop:<4} {m.file:<16} {m.description:<58} {status}")
    if smtchecker:
        from verification.smtchecker import run_smtchecker

        say("Second line: Solidity's SMTChecker (CHC engine, z3 through SMT-LIB) on in-source assertions "
            "(reported as it answers; not part of ok):")
        for r in run_smtchecker():
            report.smtchecker.append({"contract": r.contract, "line": r.line, "status": r.status, "message": r.message})
            say(f"  verification/smt/ArithmeticSMT.sol:{r.line:<4} {r.contract:<12} {r.status:<9} {r.message}")
    report.seconds = time.monotonic() - start
    return report
