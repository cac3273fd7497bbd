"""A translation-validation witness is a real counterexample: replayed on the embedded chain, the
bytecode does what the validator said it does, and not what the (deliberately wrong) model said.

The wrong model is `setParameters` forgetting the quorum cap (it keeps the old one). Two replays:

- `verification/bytecode/replay.py` (generic): the witness' own caller, value, time, calldata and
  pre-state storage words, in a py-evm state of the embedded chain with the validated scene's code
  (the clone's governance set to the witness' caller, which the model's success needs);
- by hand, as an ordinary transaction: a commune made on the chain with a governance account that
  plays the witness caller's role, sent the witness' calldata. Its pre-state is that commune's,
  not the witness' (the quorum cap after the call depends on the calldata alone).
"""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("halmos")

from adversarial import arts, module_chain  # noqa: E402,F401
from clone_helpers import hand_made_commune  # noqa: E402
from vcengine.client import ErrorDecoder, _send  # noqa: E402
from vcengine.paths import PROJECT_ROOT  # noqa: E402
from vcengine.token import TestStablecoinClient  # noqa: E402
from verification import commune_model as cm  # noqa: E402
from verification.bytecode import common as c  # noqa: E402
from verification.bytecode import commune_spec  # noqa: E402
from verification.bytecode.layout import Place  # noqa: E402
from verification.bytecode.replay import Replayed, commune_scene, decode, replay, slot, witness_of  # noqa: E402
from verification.bytecode.validate import validate_function  # noqa: E402


@pytest.fixture(scope="module")
def refuted(arts):
    """The forgetful model's first failure, and the places of the fields (setParameters: about 2 s)."""
    spec, fns = commune_spec.spec(arts["Commune"], PROJECT_ROOT, wired=True)
    [fn] = [f for f in fns if f.signature == "setParameters(uint256,uint256)"]
    forgetful = dataclasses.replace(fn.transition, post=lambda s, caller, value: s.replace(labourThreshold=cm.THRESHOLD))
    out = validate_function(spec, dataclasses.replace(fn, transition=forgetful),
                            c.selector(fn.signature).to_bytes(4, "big"))
    assert not out.validated
    failure = out.failures[0]
    assert failure.kind == "field" and failure.detail == "field quorumCap" and failure.witness is not None
    return failure, spec.places


def test_the_witness_replayed_with_its_own_caller_and_storage_shows_the_bytecodes_value(module_chain, arts, refuted):
    failure, places = refuted
    w = failure.witness
    roll: Place = places["quorumCap"]
    # the model's value is the pre-state's cap: the witness' storage word read through the layout
    assert decode(roll, w.storage[f"slot {slot(roll)}"]) == int(failure.model_value)
    out = replay(module_chain, w.as_dict(), to=c.CLONE, code=commune_scene(arts["Commune"], governance=w.caller, wired=True),
                 read={"quorumCap": (roll, ()), "labourThreshold": (places["labourThreshold"], ()),
                       "memberCount": (places["memberCount"], ())})
    assert isinstance(out, Replayed) and not out.reverted
    # the pre-state was the witness': the member count in the same word is kept as the witness had it
    members = places["memberCount"]
    assert out.fields["memberCount"] == decode(members, w.storage[f"slot {slot(members)}"])
    assert out.fields["quorumCap"] == int(failure.code_value) != int(failure.model_value)
    assert out.fields["labourThreshold"] == int(w.calldata[10:74], 16)
    # caller, value, time, calldata and the storage words are the witness'; neighbours are not called here
    assert not any("neighbour" in u for u in out.unreproduced)
    assert out.unreproduced == ([] if w.origin == w.caller else [u for u in out.unreproduced if "tx.origin" in u])


def test_the_replay_reverts_for_a_caller_that_is_not_governance(module_chain, arts, refuted):
    """The same witness from another caller: the bytecode refuses it, as the model does (so the
    scene's governance is what the witness' success depends on, not an accident of the replay)."""
    failure, places = refuted
    w = failure.witness
    other = dataclasses.replace(witness_of(w.as_dict()), caller=w.caller ^ 1)
    out = replay(module_chain, other, to=c.CLONE, code=commune_scene(arts["Commune"], governance=w.caller, wired=True),
                 read={"quorumCap": (places["quorumCap"], ())})
    assert out.reverted
    assert out.fields["quorumCap"] == int(failure.model_value)  # unchanged: the pre-state's


def test_the_witness_calldata_sent_by_governance_to_a_commune_on_the_chain(module_chain, arts, refuted):
    failure, _ = refuted
    w = failure.witness
    chain, a = module_chain, module_chain.accounts
    token = TestStablecoinClient.deploy(chain, a[0], artifacts=arts)
    cap = 1 if int(failure.code_value) != 1 else 2  # a cap the witness' call changes
    made = hand_made_commune(chain, a[8], arts, token.address, [x.address for x in a[:3]], governance=a[9].address,
                             cap=cap)
    commune = made["commune"]
    assert commune.call("quorumCap") == cap
    _send(chain, {"to": commune.address, "data": w.calldata}, a[9], w.value, ErrorDecoder([]), "Commune",
          "setParameters")
    after = commune.call("quorumCap")
    assert after == int(failure.code_value)  # the bytecode's value
    assert after != cap  # the forgetful model, from this pre-state, keeps the old cap
    assert commune.call("labourThreshold") == int(w.calldata[10:74], 16)
