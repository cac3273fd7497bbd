"""`vc verify`'s report of translation validation: the code column, the section, and `ok`.

A subset of Commune (setParameters and leave, about 30 s cold) is validated into a fresh cache;
every other state-changing function is skipped or has no specification, so the run is incomplete.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("halmos")

from verification.bytecode import run  # noqa: E402
from verification.report import PROPERTIES, verify  # noqa: E402

SUBSET = {"Commune": ("setParameters(uint256,uint256)", "leave()")}
TINY = dict(mutants=False, smtchecker=False, conformance_runs=1, conformance_steps=5, economy_runs=0)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh validation cache for this module (the first run validates, the later ones read it)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(run, "CACHE_DIR", tmp_path_factory.mktemp("validation"))
    yield run.CACHE_DIR
    mp.undo()


@pytest.fixture(scope="module")
def strict(artifacts, cache):
    return verify(artifacts, validation_functions=SUBSET, **TINY)


def _code(rows: list[dict], contracts: tuple[str, ...]) -> str:
    """The code column, counted from the rows."""
    mine = [r for r in rows if r["contract"] in contracts]
    return f"{sum(r['status'] == 'validated' for r in mine)} of {len(mine)} functions validated"


def test_the_report_lists_each_function_validated_skipped_or_unspecified(strict, tmp_path):
    js = strict.to_json()
    rows = js["validation"]["rows"]
    commune = {r["function"]: r for r in rows if r["contract"] == "Commune"}
    assert commune["setParameters"]["status"] == commune["leave"]["status"] == "validated"
    assert commune["setParameters"]["paths"] >= 2 and commune["leave"]["paths"] >= 2
    assert {r["status"] for f, r in commune.items() if f not in ("setParameters", "leave")} == {"skipped"}
    assert len(commune) == js["coverage"]["Commune"]["functions"]
    treasury = [r for r in rows if r["contract"] == "Treasury"]
    assert treasury and all(r["status"] == "not validated" and r["reason"] for r in treasury)
    # per-contract counts, and the code column of every property, from the rows
    assert js["validation"]["contracts"]["Commune"] == {"functions": len(commune), "validated": 2, "failed": 0,
                                                       "not validated": 0, "skipped": len(commune) - 2}
    for p in js["properties"]:
        assert p["code"] == _code(rows, PROPERTIES[p["id"]][1]), p["id"]
    by_id = {p["id"]: p for p in js["properties"]}
    factory = js["coverage"]["CommuneFactory"]["functions"]  # no specification: all not validated
    assert by_id["P1"]["code"] == f"2 of {len(commune) + factory} functions validated"
    assert by_id["P2"]["code"] == f"2 of {len(commune)} functions validated"
    assert by_id["P4"]["code"] == f"0 of {js['coverage']['Treasury']['functions']} functions validated"
    # incomplete, and not allowed: not ok
    assert js["complete"] is False and js["validation"]["complete"] is False
    assert js["validation"]["subset"] == {"Commune": list(SUBSET["Commune"])}
    assert js["validation"]["not_validated"] == len(rows) - 2
    assert strict.ok is False and js["ok"] is False
    md_path, js_path = strict.write(tmp_path)
    assert json.loads(js_path.read_text())["validation"]["rows"] == rows
    md = md_path.read_text()
    assert "Result: **FAILED**" in md
    assert "| Code (functions validated) |" in md
    assert f"| P1 | one share per member | Commune (13/13), CommuneFactory (3/3) | proved | {by_id['P1']['code']} |" in md
    assert "## Translation validation" in md and "**A subset was run**" in md
    assert "### Commune" in md and "### Treasury" in md
    assert f"2 of {len(commune)} functions validated, {len(commune) - 2} skipped." in md
    assert f"| `setParameters` | validated | {commune['setParameters']['paths']} |" in md
    assert "| `join` | skipped | 0 | 0.0 | not in the subset" in md


def test_allow_unvalidated_passes_and_says_so(artifacts, cache):
    report = verify(artifacts, validation_functions=SUBSET, allow_unvalidated=True, **TINY)
    js = report.to_json()
    n = js["validation"]["not_validated"]
    assert n > 0 and report.ok is True and js["ok"] is True and js["complete"] is False
    md = report.to_markdown()
    assert f"Result: **ok with {n} functions not validated (allowed by --allow-unvalidated)**" in md
    assert "Translation validation is **incomplete**" in md


def test_a_failed_row_fails_the_report_even_when_unvalidated_are_allowed(strict):
    """A failure (here a doctored row) is never allowed: ok is false, and the section shows the
    function, path, field, both values and the witness."""
    import dataclasses

    row = dict(next(r for r in strict.validation if r["function"] == "setParameters"), status="failed",
               failure="setParameters(uint256,uint256) [all]: field: field quorumCap\n  path: path 3 of 14 (succeeds)",
               failed_at={"configuration": "Commune", "variant": "all", "kind": "field", "detail": "field quorumCap",
                          "path": "path 3 of 14 (succeeds)", "model_value": "5", "code_value": "7"},
               witness={"caller": "0x" + "ab" * 20, "value": 0, "origin": "0x" + "cd" * 20, "timestamp": 9,
                        "calldata": "0x884870c7", "storage": {"slot 5": 17}, "oracles": []})
    report = dataclasses.replace(strict, allow_unvalidated=True,
                                 validation=[row if r["function"] == "setParameters" else r for r in strict.validation])
    assert report.ok is False
    md = report.to_markdown()
    assert "| `setParameters` | **FAILED** |" in md and "### Failures" in md
    for text in ("**Commune.setParameters** (Commune, all):", "- field: field quorumCap", "- path: path 3 of 14",
                 "- model: `5`, bytecode: `7`", f"caller `0x{'ab' * 20}`", "time 9", "- calldata: `0x884870c7`",
                 "- pre-state slot 5 = `0x11`"):
        assert text in md, text


def test_no_validation_is_reported_as_not_run(strict):
    import dataclasses

    report = dataclasses.replace(strict, validation=[], validation_ran=False, validation_subset=None)
    assert report.ok is True and report.to_json()["complete"] is False
    assert "Not run (`--no-validation`)" in report.to_markdown()
    assert all(p["code"] == "not run" for p in report.properties())


def test_vc_verify_validates_a_subset_and_prints_the_code_column(cache):
    from vcengine.cli import main

    args = ["verify", "--json", "--no-mutants", "--no-smtchecker", "--runs", "1", "--steps", "5", "--economy-runs",
            "0", "--validation-workers", "1", "--validate", "Commune:setParameters", "--validate", "Commune:leave()"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # unvalidated functions, not allowed
    result = CliRunner().invoke(main, args + ["--allow-unvalidated"])
    assert result.exit_code == 0, result.output
    js = json.loads(result.output.strip().splitlines()[-1])
    assert js["ok"] is True and js["complete"] is False
    assert "code (functions validated)" in result.output
    assert "ok with" in result.output and "allowed by --allow-unvalidated" in result.output
    bad = CliRunner().invoke(main, ["verify", "--validate", "Commune:nope()"])
    assert bad.exit_code == 2 and "nope()" in bad.output


def test_a_real_failure_is_shown_with_its_path_field_values_and_witness(artifacts, monkeypatch, tmp_path):
    """validate_all on a model of setParameters that forgets the quorum cap (about 3 s): the row
    and the report's section carry what the validator found."""
    import dataclasses

    from verification import commune_model as cm
    from verification.report import VerifyReport

    forgetful = [dataclasses.replace(t, post=lambda s, caller, value: s.replace(labourThreshold=cm.THRESHOLD))
                 if t.name == "setParameters" else t for t in cm.TRANSITIONS]
    monkeypatch.setattr(cm, "TRANSITIONS", forgetful)
    monkeypatch.setattr(run, "CACHE_DIR", tmp_path)
    rows = run.validate_all(artifacts, use_cache=False, functions={"Commune": ("setParameters",)})
    [row] = [dataclasses.asdict(r) for r in rows if (r.contract, r.function) == ("Commune", "setParameters")]
    assert row["status"] == "failed"
    at, w = row["failed_at"], row["witness"]
    assert at["kind"] == "field" and at["detail"] == "field quorumCap" and at["model_value"] != at["code_value"]
    report = VerifyReport(validation=[dataclasses.asdict(r) for r in rows], validation_ran=True,
                          validation_subset={"Commune": ("setParameters",)}, allow_unvalidated=True)
    assert report.ok is False  # a failure is never allowed
    md = report.to_markdown()
    for text in ("| `setParameters` | **FAILED** |", "### Failures", "- field: field quorumCap", f"- path: {at['path']}",
                 f"- model: `{at['model_value']}`, bytecode: `{at['code_value']}`", f"caller `{w['caller']}`",
                 f"- calldata: `{w['calldata']}`"):
        assert text in md, text
    assert report.to_json()["validation"]["contracts"]["Commune"]["failed"] == 1
