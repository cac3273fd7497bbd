"""Induction and two-state rules over a transition system, with readable counterexamples.

`prove_invariant(inv, init, transitions)` proves `Init => Inv` and, for every transition, every
caller, value and argument, `Inv(s) and Tr(s, s') => Inv(s')`. An invariant is a list of clauses,
each universally quantified over a witness (an address or an id): the pre-state assumes every
clause for all witnesses, the post-state is checked clause by clause at a fresh witness, so a
failure names the clause and the witness that broke it.

`prove_rule(rule, transitions)` proves a two-state statement about every transition from every
state satisfying the invariant (e.g. "no call moves a share between two addresses").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import z3

from verification.terms import ProofFailure, ProofUnknown, State, Transition

#: Per-query time limit, milliseconds.
TIMEOUT_MS = 20_000
#: Time limit of the fully quantified query, tried only when the instantiated one finds a model.
QUANTIFIED_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class Clause:
    """One conjunct of an invariant: `holds(state, witness)` for every witness of `sort`."""

    name: str
    sort: z3.SortRef | None  # None: not quantified
    holds: Callable[[State, Any], z3.BoolRef]
    meaning: str = ""

    def forall(self, s: State) -> z3.BoolRef:
        if self.sort is None:
            return self.holds(s, None)
        w = z3.Const(f"all_{self.name}", self.sort)
        return z3.ForAll([w], self.holds(s, w))


@dataclass
class Result:
    prop: str
    statement: str
    proved: bool
    seconds: float
    obligations: int
    detail: str = ""
    counterexample: str = ""

    def line(self) -> str:
        status = "proved" if self.proved else "FAILED"
        return f"{self.prop:<4} {status:<7} {self.obligations:>3} obligations {self.seconds:6.2f}s  {self.statement}"


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.proved for r in self.results)


def _solver() -> z3.Solver:
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    return solver


def _check(solver: z3.Solver) -> z3.CheckSatResult:
    result = solver.check()
    if result == z3.unknown:
        raise ProofUnknown(solver.reason_unknown())
    return result


def _instances(clauses: Sequence[Clause], s: State, terms: dict[z3.SortRef, list[Any]]) -> list[z3.BoolRef]:
    """The invariant assumed at the given terms only (quantifier-free, weaker than the `forall`)."""
    out = []
    for c in clauses:
        if c.sort is None:
            out.append(c.holds(s, None))
        else:
            out += [c.holds(s, t) for t in terms.get(c.sort, [])]
    return out


def _terms(t: Transition, s: State, caller: Any, witness: Any, extra: Callable[[State, list], list] | None
           ) -> dict[z3.SortRef, list[Any]]:
    terms: dict[z3.SortRef, list[Any]] = {}
    for v in [caller, witness, *t.params.values()]:
        if v is not None:
            terms.setdefault(v.sort(), []).append(v)
    if extra is not None:
        for v in extra(s, terms.get(caller.sort(), [])):
            terms.setdefault(v.sort(), []).append(v)
    return terms


def _decide(base: list[z3.BoolRef], quantified: list[z3.BoolRef], instantiated: list[z3.BoolRef]
            ) -> tuple[z3.CheckSatResult, z3.ModelRef | None, bool]:
    """(result, model, exact). Tries the invariant instantiated at the terms involved first: unsat
    there is a proof (those assumptions are weaker); otherwise the full quantified query decides; if
    that gives up, the instantiated model is returned as a counterexample marked inexact."""
    solver = _solver()
    solver.add(*base, *instantiated)
    if _check(solver) == z3.unsat:
        return z3.unsat, None, True
    weak_model = solver.model()
    solver = _solver()
    solver.set("timeout", QUANTIFIED_TIMEOUT_MS)
    solver.add(*base, *quantified)
    try:
        result = _check(solver)
    except ProofUnknown:
        return z3.sat, weak_model, False
    return result, solver.model() if result == z3.sat else None, True


def prove_invariant(
    prop: str,
    clauses: Sequence[Clause],
    init_states: Sequence[tuple[str, Callable[[], tuple[State, z3.BoolRef]]]],
    transitions: Sequence[Transition],
    fresh: Callable[[str], State],
    step: Callable[[Transition, State, z3.BitVecRef, z3.ArithRef], tuple[z3.BoolRef, State]],
    assumptions: z3.BoolRef,
    describe: Callable[[z3.ModelRef, State, State, Any], str],
    extra_terms: Callable[[State, list], list] | None = None,
) -> tuple[int, float]:
    """Prove every clause inductive. Returns (obligations discharged, seconds); raises ProofFailure."""
    start = time.monotonic()
    obligations = 0
    # Base cases: each initial construction satisfies every clause.
    for label, build in init_states:
        for clause in clauses:
            s0, pre = build()
            solver = _solver()
            solver.add(assumptions, pre)
            w = z3.Const(f"w_{clause.name}", clause.sort) if clause.sort is not None else None
            solver.add(z3.Not(clause.holds(s0, w)))
            obligations += 1
            if _check(solver) == z3.sat:
                raise ProofFailure(prop, f"initial state ({label}) breaks {clause.name}: {clause.meaning}")
    # Inductive steps: every transition preserves every clause.
    caller = z3.BitVec("msg.sender", 160)
    value = z3.Int("msg.value")
    for t in transitions:
        s = fresh("pre")
        reverts, s2 = step(t, s, caller, value)
        if _all_clauses_hold(t, s, s2, clauses, caller, value, assumptions, extra_terms):
            obligations += len(clauses)  # one query discharged them all
            continue
        for clause in clauses:
            w = z3.Const(f"w_{clause.name}", clause.sort) if clause.sort is not None else None
            base = [assumptions, value >= 0, caller != 0, z3.Not(clause.holds(s2, w))]
            inst = _instances(clauses, s, _terms(t, s, caller, w, extra_terms))
            obligations += 1
            result, model, exact = _decide(base, [c.forall(s) for c in clauses], inst)
            if result == z3.sat:
                broken = (f"  broken clause: {clause.name} ({clause.meaning})"
                          + (f" at witness {_show(model, w)}" if w is not None else "") + "\n")
                raise ProofFailure(prop, _story(model, t, caller, value, reverts, exact, broken)
                                   + describe(model, s, s2, w))
    return obligations, time.monotonic() - start


def _all_clauses_hold(t: Transition, s: State, s2: State, clauses: Sequence[Clause], caller: Any, value: Any,
                      assumptions: z3.BoolRef, extra_terms: Callable[[State, list], list] | None) -> bool:
    """Fast path: every clause after the call, at one witness per sort, from the invariant
    instantiated at the terms involved. Unsat proves them all (the same obligations, conjoined);
    anything else sends the caller to the clause-by-clause proof, which finds the story."""
    witnesses = {c.sort: z3.Const(f"w_all_{c.sort}", c.sort) for c in clauses if c.sort is not None}
    terms = _terms(t, s, caller, None, extra_terms)
    for sort, w in witnesses.items():
        terms.setdefault(sort, []).append(w)
    solver = _solver()
    solver.add(assumptions, value >= 0, caller != 0, *_instances(clauses, s, terms),
               z3.Not(z3.And(*[c.holds(s2, witnesses.get(c.sort)) for c in clauses])))
    return solver.check() == z3.unsat


def prove_rule(
    prop: str,
    rule: Callable[[Transition, State, State, z3.BitVecRef, z3.ArithRef, z3.BoolRef], tuple[z3.BoolRef, Any]],
    clauses: Sequence[Clause],
    transitions: Sequence[Transition],
    fresh: Callable[[str], State],
    step: Callable[[Transition, State, z3.BitVecRef, z3.ArithRef], tuple[z3.BoolRef, State]],
    assumptions: z3.BoolRef,
    describe: Callable[[z3.ModelRef, State, State, Any], str],
    extra_terms: Callable[[State, list], list] | None = None,
) -> tuple[int, float]:
    """Prove a two-state rule for every transition from every state satisfying the invariant."""
    start = time.monotonic()
    caller = z3.BitVec("msg.sender", 160)
    value = z3.Int("msg.value")
    obligations = 0
    for t in transitions:
        s = fresh("pre")
        reverts, s2 = step(t, s, caller, value)
        statement, witness = rule(t, s, s2, caller, value, reverts)
        base = [assumptions, value >= 0, caller != 0, z3.Not(statement)]
        inst = _instances(clauses, s, _terms(t, s, caller, witness, extra_terms))
        obligations += 1
        result, model, exact = _decide(base, [c.forall(s) for c in clauses], inst)
        if result == z3.sat:
            raise ProofFailure(prop, _story(model, t, caller, value, reverts, exact, "") + describe(model, s, s2, witness))
    return obligations, time.monotonic() - start


def _story(model: z3.ModelRef, t: Transition, caller: Any, value: Any, reverts: Any, exact: bool, extra: str) -> str:
    """The call that breaks a property, in addresses and units."""
    args = ", ".join(f"{k}={_show(model, v)}" for k, v in t.params.items()) or "none"
    return (("" if exact else "(the invariant assumed at the accounts and shares involved)\n")
            + f"function {t.name}, caller {_show(model, caller)}, msg.value {_show(model, value)}\n"
            + f"  arguments: {args}\n  reverts: {_show(model, reverts)}\n" + extra)


def prove_valid(prop: str, statement: z3.BoolRef, variables: Sequence[z3.ExprRef]) -> tuple[int, float]:
    """Prove a closed statement valid for every value of `variables` (no transition system)."""
    start = time.monotonic()
    solver = _solver()
    solver.add(z3.Not(statement))
    if _check(solver) == z3.sat:
        model = solver.model()
        values = ", ".join(f"{v}={_show(model, v)}" for v in variables)
        raise ProofFailure(prop, f"counterexample: {values}")
    return 1, time.monotonic() - start


def _show(model: z3.ModelRef, term: Any) -> str:
    if term is None:
        return "-"
    value = model.eval(term, model_completion=True)
    if z3.is_bv_value(value):
        return "0x%040x" % value.as_long()
    if z3.is_int_value(value):
        return str(value.as_long())
    if z3.is_true(value):
        return "true"
    if z3.is_false(value):
        return "false"
    return str(value)


show = _show
