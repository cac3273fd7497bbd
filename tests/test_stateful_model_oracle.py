"""The Hypothesis machines of `verification/stateful.py`, whose oracle is the Z3 models, in a short
profile; and a model with one transition broken at a boundary must be caught."""

from __future__ import annotations

import z3

from verification import commune_model as cm
from verification.stateful import MembershipLockstep, run_stateful
from verification.terms import Transition


def test_membership_machine_agrees_with_its_model() -> None:
    run = run_stateful("Commune", 60, examples=3, steps=25)
    assert run.ok, run.failure
    assert run.steps >= 60


def test_economy_machine_agrees_with_its_models() -> None:
    run = run_stateful("CommonStock+Treasury+BondSeries", 30, examples=2, steps=20)
    assert run.ok, run.failure


def _join_refused_at_threshold() -> Transition:
    """`join` as if the rule were `countedLabour <= threshold` (exactly the threshold refused)."""
    join = next(t for t in cm.TRANSITIONS if t.name == "join")
    return Transition("join", join.params,
                      lambda s, caller, value: z3.Or(join.reverts(s, caller, value),
                                                     s.countedLabour[caller] == s.labourThreshold),
                      join.post)


class BrokenJoin(MembershipLockstep):
    replace = {"join": _join_refused_at_threshold()}


def test_a_model_broken_at_the_threshold_is_caught(monkeypatch) -> None:
    monkeypatch.setitem(__import__("verification.stateful", fromlist=["MACHINES"]).MACHINES, "Commune", BrokenJoin)
    run = run_stateful("Commune", 400, examples=8, steps=50, shrink=False)
    assert not run.ok
    assert "join" in run.failure and "chain succeeded, model reverts" in run.failure
