"""Translation validation (verification/bytecode): the membership clone's bytecode against its model.

A fixed, fast subset runs here; the whole of `Commune` takes a few minutes (verification/README.md).
"""

from __future__ import annotations

import dataclasses

import pytest
import z3

pytest.importorskip("halmos")

from vcengine.compiler import load_artifacts  # noqa: E402
from vcengine.paths import PROJECT_ROOT  # noqa: E402
from verification import commune_model as cm  # noqa: E402
from verification.bytecode import commune_spec  # noqa: E402
from verification.bytecode.common import selector  # noqa: E402
from verification.bytecode.validate import validate_function  # noqa: E402


def _spec(wired: bool = True):
    return commune_spec.spec(load_artifacts()["Commune"], PROJECT_ROOT, wired=wired)


def _validate(spec, fn):
    return validate_function(spec, fn, selector(fn.signature).to_bytes(4, "big"))


@pytest.mark.parametrize("signature", ["setParameters(uint256,uint256)", "leave()", "approve(address,uint256)",
                                       "<receive or fallback>"])
def test_commune_functions_agree_with_their_model_on_the_bytecode(signature):
    spec, fns = _spec()
    [fn] = [f for f in fns if f.signature == signature]
    out = _validate(spec, fn)
    assert out.validated, "\n".join(f.describe() for f in out.failures)
    assert out.paths >= 2  # at least one path that reverts and one that does not (or two ways to revert)


def test_a_model_that_forgets_a_field_is_refuted_by_the_bytecode_with_a_witness():
    """A model of setParameters that leaves the quorum cap as it was disagrees with the code: the
    validator names the field, both values and a concrete caller and calldata."""
    spec, fns = _spec()
    [fn] = [f for f in fns if f.signature == "setParameters(uint256,uint256)"]
    forgetful = dataclasses.replace(fn.transition, post=lambda s, caller, value: s.replace(labourThreshold=cm.THRESHOLD))
    out = _validate(spec, dataclasses.replace(fn, transition=forgetful))
    assert not out.validated
    failure = out.failures[0]
    assert failure.kind == "field" and "quorumCap" in failure.detail
    assert failure.model_value != failure.code_value
    w = failure.witness
    assert w.calldata.startswith("0x884870c7")  # setParameters' selector, then the two arguments
    assert int(w.calldata[10 + 64:10 + 128], 16) == int(failure.code_value)  # the cap the bytecode stored


def test_a_model_with_the_wrong_revert_condition_is_refuted():
    """A leave() model that lets the last member leave: the bytecode reverts where the model succeeds."""
    spec, fns = _spec()
    [fn] = [f for f in fns if f.signature == "leave()"]
    wrong = dataclasses.replace(fn.transition, reverts=lambda s, caller, value: z3.Or(
        value != 0, s.shareOf[caller] == 0, cm.COMMITTED(caller), cm.HOOK_REFUSES))
    out = _validate(spec, dataclasses.replace(fn, transition=wrong))
    assert not out.validated
    assert any(f.kind == "revert" for f in out.failures)


def test_the_lemmas_about_the_evms_mul_and_div_are_proved_and_a_false_one_is_not():
    """The facts the validator assumes of halmos' uninterpreted MUL and DIV hold of the EVM's
    semantics (proved over the integers); a bound that would let a product overflow is refused."""
    from verification.bytecode import validate

    assert validate.prove_mul_div_lemmas() == []
    original = validate.MUL_LEMMA_BITS
    try:
        validate.MUL_LEMMA_BITS = ((129, 128, 256),)  # 2**129 * 2**128 overflows a word
        assert validate.prove_mul_div_lemmas() != []
    finally:
        validate.MUL_LEMMA_BITS = original


def test_one_division_of_a_sum_equals_two_divisions_with_the_carry():
    from verification.bytecode.treasury_spec import split_division_lemma

    assert split_division_lemma()


def _series():
    from verification.bytecode import bondseries_spec

    return bondseries_spec.spec(load_artifacts()["BondSeries"], PROJECT_ROOT)


@pytest.mark.parametrize("signature", ["pay(uint256)", "approve(address,uint256)", "<receive or fallback>"])
def test_bond_series_functions_agree_with_their_model_on_the_bytecode(signature):
    spec, fns = _series()
    [fn] = [f for f in fns if f.signature == signature]
    out = _validate(spec, fn)
    assert out.validated, "\n".join(f.describe() for f in out.failures)
    assert out.paths >= 2


def test_a_series_model_that_pays_twice_is_refuted():
    """A pay() model that adds the payment twice to totalPaid disagrees with the bytecode."""
    from verification import money_model as mm

    spec, fns = _series()
    [fn] = [f for f in fns if f.signature == "pay(uint256)"]
    [variant] = fn.variants

    def twice(s, env):
        reverts, post = variant.step(s, env)
        return reverts, post.replace(totalPaid=post.totalPaid + mm.AMOUNT)

    wrong = dataclasses.replace(fn, variants=(dataclasses.replace(variant, step=twice),))
    out = _validate(spec, wrong)
    assert not out.validated
    failure = out.failures[0]
    assert failure.kind == "field" and "totalPaid" in failure.detail
    assert int(failure.model_value) != int(failure.code_value)
