"""`vc verify`: proofs, coverage, conformance and mutants, in one report for auditors."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from verification.coverage import check_coverage
from verification.properties import prove_all


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

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "seconds": round(self.seconds, 1), "proofs": self.proofs, "coverage": self.coverage,
                "conformance": self.conformance, "mutants": self.mutants, "smtchecker": self.smtchecker}


def verify(artifacts: Any, say: Callable[[str], None] = lambda _: None, conformance_runs: int = 3,
           conformance_steps: int = 40, mutants: bool = True, smtchecker: bool = True) -> VerifyReport:
    from verification.conformance import Divergence, run_conformance

    start = time.monotonic()
    report = VerifyReport()
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
    say(f"Conformance (chain and model in lockstep, scripted opening + {conformance_steps} random calls, "
        f"{conformance_runs} runs):")
    calls, divergence = 0, None
    for seed in range(conformance_runs):
        try:
            calls += run_conformance(seed, conformance_steps, artifacts=artifacts)
        except Divergence as exc:
            divergence = str(exc)
            break
    report.conformance = {"ok": divergence is None, "calls": calls, "divergence": divergence}
    say(f"  {'agree' if divergence is None else 'DIVERGE'} after {calls} calls" + (f": {divergence}" if divergence else ""))
    if mutants:
        from verification.mutants import run_mutants

        say("Mutants (each a small edit of the real sources that breaks one property):")
        for r in run_mutants():
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
