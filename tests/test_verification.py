"""The verification layer: proofs hold, fail readably on broken models, and catch broken contracts."""

from __future__ import annotations

import json

import pytest
import z3
from click.testing import CliRunner

from verification import commune_model as cm
from verification.conformance import run_conformance
from verification.coverage import check_coverage
from verification.mutants import MUTANTS, run_mutants
from verification.properties import prove_all, prove_membership
from verification.prove import Report
from verification.terms import Transition


def test_every_property_is_proved():
    report = prove_all()
    assert [r.prop for r in report.results] == [f"P{i}" for i in range(1, 13)]
    assert all(r.proved for r in report.results), [(r.prop, r.counterexample, r.detail) for r in report.results]
    assert all(r.obligations >= 1 for r in report.results)


def _broken_model(name: str, reverts=None, post=None):
    """The membership model with one transition replaced (a bug in the rules, for the prover to find)."""
    class Broken:
        pass

    broken = Broken()
    for attr in ("CommuneState", "step", "PARAMS"):
        setattr(broken, attr, getattr(cm, attr))
    broken.TRANSITIONS = [
        Transition(t.name, t.params, reverts or t.reverts, post or t.post) if t.name == name else t
        for t in cm.TRANSITIONS
    ]
    return broken


def test_a_join_without_the_labour_check_is_a_readable_counterexample():
    broken = _broken_model("join", reverts=lambda s, caller, value: z3.Or(value != 0, s.shareOf[caller] != 0,
                                                                          cm.admit_reverts(s, caller)))
    report = Report()
    prove_membership(report, broken)
    p3 = next(r for r in report.results if r.prop == "P3")
    assert not p3.proved
    assert "function join" in p3.counterexample and "counted labour" in p3.counterexample
    assert "labourThreshold" in p3.counterexample
    # and the invariant notices what the missing check does to the books: labour spent below zero
    assert "labourNonNegative" in next(r for r in report.results if r.prop == "P1").counterexample


def test_a_second_share_breaks_one_share_per_member():
    def twice(s, caller, value):  # mint without checking for an existing share
        return cm.admit(s.replace(countedLabour=z3.Store(s.countedLabour, caller, s.countedLabour[caller] - s.labourThreshold)),
                        caller)

    broken = _broken_model("join", reverts=lambda s, caller, value: z3.Or(value != 0,
                                                                          s.countedLabour[caller] < s.labourThreshold),
                           post=twice)
    report = Report()
    prove_membership(report, broken)
    p1 = next(r for r in report.results if r.prop == "P1")
    assert not p1.proved and "function join" in p1.counterexample and "broken clause" in p1.counterexample


def test_a_transfer_that_moves_a_share_breaks_non_transferability():
    def move(s, caller, value):
        return s.replace(owners=z3.Store(s.owners, cm.TOKEN, cm.TO))

    broken = _broken_model("transferFrom", reverts=lambda s, caller, value: z3.BoolVal(False), post=move)
    report = Report()
    prove_membership(report, broken)
    p2 = next(r for r in report.results if r.prop == "P2")
    assert not p2.proved and "function transferFrom" in p2.counterexample


def test_coverage_is_complete_and_notices_an_unmodelled_function(artifacts):
    assert all(r.ok for r in check_coverage(artifacts))
    models = {"Commune": {t.name for t in cm.TRANSITIONS} - {"approve"}}
    (result,) = check_coverage(artifacts, models)
    assert result.missing == ["approve"]


def test_chain_and_model_agree(artifacts):
    assert run_conformance(seed=11, steps=30, artifacts=artifacts) > 30


@pytest.mark.parametrize("mutant_id", ["M04", "M06"])
def test_deleting_a_guard_or_making_join_payable_is_caught(mutant_id):
    """The issue's acceptance check: a deleted `if (...) revert` on a share, and a payable membership path."""
    (result,) = run_mutants([m for m in MUTANTS if m.id == mutant_id], workers=1)
    assert result.caught, result.detail
    assert "join" in result.detail


def test_a_bug_the_models_describe_correctly_is_caught_by_validation_alone():
    """M60: `leave` asks the stock about `tx.origin` instead of the caller. The membership model has no
    `tx.origin`, so proofs and conformance (whose caller is the origin) cannot see it; the bytecode
    check refutes it on the mutant's own bytecode."""
    (mutant,) = [m for m in MUTANTS if m.id == "M60"]
    assert mutant.checks == ("validation",)
    (result,) = run_mutants([mutant], workers=1)
    assert result.caught_by == "validation", result.detail
    assert "leave()" in result.detail and "the stock is asked about the caller" in result.detail


def test_there_are_at_least_fifteen_mutants_each_named_for_a_property():
    assert len(MUTANTS) >= 15
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assert {m.prop for m in MUTANTS} >= {"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P9", "P10", "P11", "P12"}


def test_vc_verify_proves_everything_and_catches_every_mutant(tmp_path):
    from vcengine.cli import main

    # Translation validation of all of Commune takes minutes: tests/test_verification_report_validation.py
    # runs a subset of it through `vc verify`.
    result = CliRunner().invoke(main, ["verify", "--json", "--runs", "1", "--steps", "20", "--economy-steps", "0",
                                       "--no-validation", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["ok"] is True
    assert [p["id"] for p in report["properties"]] == [f"P{i}" for i in range(1, 13)]
    assert all(p["status"] == "proved" and p["name"] and p["seconds"] >= 0 for p in report["properties"])
    assert all(c["ok"] and not c["missing"] for c in report["coverage"].values())
    assert set(report["coverage"]) == {"Commune", "Treasury", "BondSeries", "CommonStock", "CommuneFactory",
                                       "BondAuction", "RentalMarket", "Liquidation"}
    assert report["conformance"]["ok"] and report["conformance"]["calls"] > 20
    assert set(report["conformance"]["systems"]) == {"Commune", "CommonStock+Treasury+BondSeries"}
    # Without validation the mutants only it catches are listed as not run; every other one is caught.
    by_validation = {m.id for m in MUTANTS if "validation" in m.checks}
    assert len(by_validation) >= 10
    assert report["mutants"]["total"] == len(MUTANTS)
    assert report["mutants"]["killed"] == len(MUTANTS) - len(by_validation) and report["mutants"]["survived"] == 0
    assert {m["id"] for m in report["mutants"]["list"] if m.get("not_run")} == by_validation
    assert len(report["smtchecker"]) >= 5
    assert report["validation"]["ran"] is False and report["complete"] is False
    # The same report, written for auditors.
    assert json.loads((tmp_path / "verification-report.json").read_text())["properties"] == report["properties"]
    markdown = (tmp_path / "verification-report.md").read_text()
    assert "| P1 | one share per member | Commune (13/13), CommuneFactory (3/3) |" in markdown
    assert "| P6 | bondholders paid first | CommonStock (17/17) | proved |" in markdown


def test_smtchecker_second_line_reports_each_assertion():
    from verification.smtchecker import run_smtchecker

    results = run_smtchecker()
    assert {r.status for r in results} <= {"proved", "unproved", "timeout"}, results
    proved = {(r.contract, r.line) for r in results if r.status == "proved"}
    # the interest rounding and the equal division are decided by the CHC engine
    assert sum(1 for c, _ in proved if c == "InterestSMT") == 2
    assert sum(1 for c, _ in proved if c == "DivisionSMT") == 2
    assert any(r.contract == "FillSMT" for r in results)  # reported, whatever it answers


def test_the_economic_contracts_and_their_models_agree(artifacts):
    from verification.economy_conformance import SCRIPT, run_economy_conformance

    calls = run_economy_conformance(seed=3, steps=8, artifacts=artifacts)
    assert calls >= len([s for s in SCRIPT if s[0] != "wait"])


def test_a_stock_that_pays_members_before_bondholders_is_a_readable_counterexample(monkeypatch):
    from verification import properties, stock_model

    def no_service(c, a, amount):  # the waterfall skipped: every payment goes to the members
        return z3.IntVal(0)

    monkeypatch.setattr(stock_model, "service_debt", no_service)
    report = properties.Report()
    properties.prove_economics(report)
    p6 = next(r for r in report.results if r.prop == "P6")
    assert not p6.proved
    # The first call that pays rent (the first period at a bond sale's settlement, or a rent payment).
    assert any(f"function {fn}," in p6.counterexample for fn in ("settle", "payRent"))
    assert "principal" in p6.counterexample


def _stock_model_with_claim(claim):
    from verification import stock_model as sm

    return [sm._transition("claim", {"bidId": sm.BID}, claim) if t.name == "claim" else t for t in sm.TRANSITIONS]


@pytest.mark.parametrize("bug", ["refund the filled part too", "claim twice"])
def test_a_claim_that_pays_out_more_than_the_bid_is_owed_breaks_conservation(bug):
    from verification import stock_model as sm
    from verification import stock_properties as sp
    from verification.prove import prove_invariant
    from verification.terms import ProofFailure

    def buggy(s, caller, value):
        c = sm.Call(s, caller, value)
        b = sm.BID
        c.revert_if(z3.Or(s.bidder[b] == sm.ZERO_ADDR, s.bidder[b] != caller, s.bidClaimed[b],
                          s.state[s.bidAsset[b]] == sm.S["Auction"]))
        if bug == "claim twice":
            refund = s.bidAmount[b] - sm.fill(s, b)  # the right amount, but the bid stays unclaimed
        else:
            c.store("bidClaimed", b, z3.BoolVal(True))
            refund = s.bidAmount[b]  # the whole bid back, filled or not
        c.sub("escrowHeld", refund)
        c.sub("held", refund)
        return c.done()

    with pytest.raises(ProofFailure) as failure:
        prove_invariant("P5", sp.STOCK_INVARIANT, [("new common stock", sp.initial)], _stock_model_with_claim(buggy),
                        **sp.COMMON)
    assert "function claim" in failure.value.story and "escrowSummed" in failure.value.story
