"""`vc verify`: proofs, coverage, conformance, translation validation and mutants, in one report for auditors.

Translation validation (`verification/bytecode/`) checks the compiled bytecode of each function
against its model transition; a function without a specification yet is listed as not validated,
and counts against `ok` unless `verify(allow_unvalidated=True)` (`vc verify --allow-unvalidated`),
in which case the report says how many were allowed and `complete` is false.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
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
    #: One row a state-changing function (`verification.bytecode.run.Row` as a dict): status
    #: "validated", "failed", "not validated" (no specification yet) or "skipped" (not in the subset).
    validation: list[dict[str, Any]] = field(default_factory=list)
    validation_ran: bool = False  # False: `verify(validation=False)`, and the report says so
    #: The subset asked for (contract -> functions), or None for every specified function.
    validation_subset: dict[str, tuple[str, ...]] | None = None
    allow_unvalidated: bool = False
    seconds: float = 0.0

    @property
    def unvalidated(self) -> list[dict[str, Any]]:
        """Rows neither validated nor failed: no specification yet, or skipped."""
        return [r for r in self.validation if r["status"] not in ("validated", "failed")]

    @property
    def complete(self) -> bool:
        """Translation validation ran and validated every state-changing function."""
        return self.validation_ran and all(r["status"] == "validated" for r in self.validation)

    @property
    def ok(self) -> bool:
        validated = (not any(r["status"] == "failed" for r in self.validation)
                     and (self.allow_unvalidated or not self.unvalidated))
        return (all(p["proved"] for p in self.proofs) and all(c["ok"] for c in self.coverage)
                and self.conformance.get("ok", False) and all(m["caught_by"] or m.get("not_run") for m in self.mutants) and validated)

    def validation_counts(self) -> dict[str, dict[str, int]]:
        """Per contract: functions, and how many of them each status holds."""
        out: dict[str, dict[str, int]] = {}
        for r in self.validation:
            c = out.setdefault(r["contract"], {"functions": 0, "validated": 0, "failed": 0, "not validated": 0,
                                               "skipped": 0})
            c["functions"] += 1
            c[r["status"]] += 1
        return out

    def code(self, contracts: tuple[str, ...] | list[str]) -> str:
        """"n of m functions validated" over the contracts coverage knows, or "not run"."""
        if not self.validation_ran:
            return "not run"
        counts = self.validation_counts()
        known = [c for c in contracts if c in counts]
        n, m = sum(counts[c]["validated"] for c in known), sum(counts[c]["functions"] for c in known)
        return f"{n} of {m} functions validated"

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
                         "contracts": list(contracts), "method_coverage": coverage, "code": self.code(contracts),
                         "obligations": p["obligations"], "statement": p["statement"],
                         "counterexample": p["counterexample"] or p["detail"]})
        return rows

    def to_json(self) -> dict[str, Any]:
        killed = sum(1 for m in self.mutants if m["caught_by"])
        not_run = sum(1 for m in self.mutants if m.get("not_run"))
        return {"ok": self.ok, "seconds": round(self.seconds, 1), "properties": self.properties(),
                "coverage": {c["contract"]: {"functions": c["functions"], "missing": c["missing"], "ok": c["ok"]}
                             for c in self.coverage},
                "conformance": self.conformance,
                "mutants": {"total": len(self.mutants), "killed": killed, "survived": len(self.mutants) - killed - not_run,
                            "not_run": not_run,
                            "list": self.mutants},
                "smtchecker": self.smtchecker,
                "complete": self.complete,
                "validation": {"ran": self.validation_ran, "complete": self.complete,
                               "allow_unvalidated": self.allow_unvalidated,
                               "subset": {c: list(f) for c, f in self.validation_subset.items()}
                               if self.validation_subset is not None else None,
                               "not_validated": len(self.unvalidated),
                               "contracts": self.validation_counts(), "rows": self.validation}}

    def result_line(self) -> str:
        """"ok", "FAILED", or ok with the functions allowed unvalidated."""
        if not self.ok:
            return "FAILED"
        if self.unvalidated:
            return (f"ok with {len(self.unvalidated)} functions not validated (allowed by --allow-unvalidated)")
        return "ok"

    def to_markdown(self) -> str:
        """The report for auditors, as Markdown."""
        lines = ["# Verification report", "", f"Result: **{self.result_line()}** "
                 f"({self.seconds:.1f} s). See `verification/README.md` for what each property means, how it is "
                 "modelled and what is assumed.", ""]
        if self.validation_ran and not self.complete:
            lines += [f"Translation validation is **incomplete**: {len(self.unvalidated)} of {len(self.validation)} "
                      "state-changing functions were not validated against their bytecode"
                      + (" (a subset was run)" if self.validation_subset is not None else "") + ".", ""]
        lines += ["## Properties", "",
                  "| Property | Name | Contracts (methods modelled) | Result | Code (functions validated) | "
                  "Obligations | Time (s) |", "|---|---|---|---|---|---|---|"]
        for r in self.properties():
            cov = ", ".join(f"{c} ({n})" for c, n in r["method_coverage"].items())
            lines.append(f"| {r['id']} | {r['name']} | {cov} | {r['status']} | {r['code']} | {r['obligations']} | "
                         f"{r['seconds']} |")
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
        lines += ["", "## Translation validation", ""] + self._validation_markdown()
        if self.mutants:
            lines += ["", "## Mutants", "", "| Id | Property | File | Mutation | Caught by |", "|---|---|---|---|---|"]
            lines += [f"| {m['id']} | {m['property']} | {m['file']} | {m['description']} | "
                      f"{m['caught_by'] or ('not run: ' + m['not_run'] if m.get('not_run') else '**SURVIVED**')} |"
                      for m in self.mutants]
        if self.smtchecker:
            lines += ["", "## Second line: SMTChecker (not part of the result)", "", "| Line | Contract | Status |",
                      "|---|---|---|"]
            lines += [f"| {r['line']} | {r['contract']} | {r['status']} |" for r in self.smtchecker]
        return "\n".join(lines) + "\n"

    def _validation_markdown(self) -> list[str]:
        if not self.validation_ran:
            return ["Not run (`--no-validation`): the bytecode was not checked against the models."]
        lines = ["Each function's compiled bytecode, run on halmos' symbolic EVM from any storage the "
                 "specification's bounds admit, against its model transition (`verification/bytecode/`)."]
        if self.validation_subset is not None:
            lines += ["", "**A subset was run**: " + "; ".join(f"{c}: {', '.join(f)}" for c, f in
                                                               self.validation_subset.items())
                      + ". The other specified functions are listed as skipped."]
        counts = self.validation_counts()
        for contract, c in counts.items():
            lines += ["", f"### {contract}", "", f"{c['validated']} of {c['functions']} functions validated"
                      + "".join(f", {c[k]} {k}" for k in ("failed", "not validated", "skipped") if c[k]) + ".", "",
                      "| Function | Status | Paths | Time (s) | Reason or failure |", "|---|---|---|---|---|"]
            for r in self.validation:
                if r["contract"] != contract:
                    continue
                why = r["reason"] or (r["failure"].splitlines()[0] if r["failure"] else "")
                status = f"**{r['status'].upper()}**" if r["status"] == "failed" else r["status"]
                lines.append(f"| `{r['function']}` | {status} | {r['paths']} | {r['seconds']:.1f} | "
                             f"{why.replace('|', '/')} |")
        failed = [r for r in self.validation if r["status"] == "failed"]
        if failed:
            lines += ["", "### Failures"]
        for r in failed:
            at = r.get("failed_at") or {}
            lines += ["", f"**{r['contract']}.{r['function']}**"
                      + (f" ({at['configuration']}, {at['variant']})" if at else "") + ":", ""]
            if at:
                lines += [f"- {at['kind']}: {at['detail']}", f"- path: {at['path'] or '(none)'}"]
                if at["model_value"] or at["code_value"]:
                    lines.append(f"- model: `{at['model_value']}`, bytecode: `{at['code_value']}`")
            w = r.get("witness")
            if w:
                lines += [f"- witness: caller `{w['caller']}`, value {w['value']}, origin `{w['origin']}`, "
                          f"time {w['timestamp']}", f"- calldata: `{w['calldata']}`"]
                lines += [f"- pre-state {k} = `{v:#x}`" for k, v in w["storage"].items()]
                lines += [f"- neighbour {o['target']} selector {o['selector']}: "
                          f"{'succeeds' if o['ok'] else 'fails'}, first word {o['word0']:#x}" for o in w["oracles"]]
            lines += ["", "```", r["failure"], "```"]
        return lines

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
           conformance_steps: int = 40, economy_runs: int = 1, economy_steps: int = 10, mutants: bool = True,
           smtchecker: bool = True, validation: bool = True, validation_cache: bool = True,
           validation_workers: int = 1, validation_functions: dict[str, tuple[str, ...]] | None = None,
           allow_unvalidated: bool = False, stateful_steps: int = 0) -> VerifyReport:
    """Run every check and return the report. ``validation_functions`` validates only those
    functions of those contracts (the others of a contract listed are reported as skipped);
    ``allow_unvalidated`` lets functions without a specification (or skipped) pass `ok`;
    `stateful_steps` rules of each system's Hypothesis machine (`verification/stateful.py`, the
    models as the oracle); 0 skips them."""
    from verification.conformance import Divergence, run_conformance
    from verification.economy_conformance import run_economy_conformance

    start = time.monotonic()
    report = VerifyReport(validation_ran=validation, validation_subset=validation_functions,
                          allow_unvalidated=allow_unvalidated)
    if validation:  # in the background while the proofs and conformance run
        from verification.bytecode.run import resolve_subset

        resolve_subset(artifacts, validation_functions)  # a subset that names no specified function fails now
        validation_results = _start_validation(artifacts, validation_cache, validation_workers, validation_functions)
    if mutants:  # likewise, compiled and checked
        from verification.mutants import MUTANTS, start_mutants

        # A mutant only translation validation can catch is not run without it: the report lists it
        # as not run (never as caught, never as survived).
        run_now = [m for m in MUTANTS if validation or "validation" not in m.checks]
        not_run = [m for m in MUTANTS if m not in run_now]
        mutant_results = start_mutants(run_now)
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
    if validation:
        say("Translation validation (each function's bytecode on halmos' symbolic EVM against its model):")
        rows = validation_results()
        report.validation = [asdict(r) for r in rows]
        for contract, c in report.validation_counts().items():
            extra = "".join(f", {c[k]} {k}" for k in ("failed", "not validated", "skipped") if c[k])
            say(f"  {contract:<14} {c['validated']:>3} of {c['functions']:>3} functions validated{extra}")
        for r in rows:
            if r.status == "failed":
                for line in r.failure.splitlines():
                    say("      " + line)
        if report.unvalidated:
            say(f"  {len(report.unvalidated)} functions not validated: "
                + ("allowed by --allow-unvalidated" if allow_unvalidated else "this fails the report "
                   "(--allow-unvalidated lets it pass, marked incomplete)"))
    if mutants:
        say("Mutants (each a small edit of the real sources that breaks one property):")
        for r in mutant_results():
            m = r.mutant
            report.mutants.append({"id": m.id, "property": m.prop, "file": m.file, "description": m.description,
                                   "caught_by": r.caught_by, "detail": r.detail})
            status = f"caught by {r.caught_by}" if r.caught else "SURVIVED"
            say(f"  {m.id} {m.prop:<4} {m.file:<16} {m.description:<58} {status}")
        for m in not_run:
            report.mutants.append({"id": m.id, "property": m.prop, "file": m.file, "description": m.description,
                                   "caught_by": None, "detail": "", "not_run": "translation validation not run"})
            say(f"  {m.id} {m.prop:<4} {m.file:<16} {m.description:<58} not run (--no-validation)")
    if smtchecker:
        from verification.smtchecker import run_smtchecker

        say("Second line: Solidity's SMTChecker (CHC engine, z3 through SMT-LIB) on in-source assertions "
            "(reported as it answers; not part of ok):")
        for r in run_smtchecker():
            report.smtchecker.append({"contract": r.contract, "line": r.line, "status": r.status, "message": r.message})
            say(f"  verification/smt/ArithmeticSMT.sol:{r.line:<4} {r.contract:<12} {r.status:<9} {r.message}")
    report.seconds = time.monotonic() - start
    return report


def _start_validation(artifacts: Any, use_cache: bool, workers: int,
                      functions: dict[str, tuple[str, ...]] | None) -> Callable[[], list[Any]]:
    """Start `validate_all` in a background process and return the function that waits for its
    rows (re-raising what it raised). A process, not a thread: Z3's Python API shares one context,
    which two threads must not use at once, and the proofs run meanwhile. Started before any other
    background work, so the fork copies a process with one thread."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from verification.bytecode.run import validate_all

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(validate_all, artifacts, use_cache=use_cache, workers=workers, functions=functions)

    def results() -> list[Any]:
        try:
            return future.result()
        finally:
            pool.shutdown(cancel_futures=True)

    return results
