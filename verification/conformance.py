"""Conformance: the same random call sequences on the deployed membership contract and on its model.

Each step picks a caller, a function (including every transfer and approval entry point, plain
ETH, and calls that carry value) and arguments; the call is sent to the contract on the embedded
chain and applied to `verification/commune_model.py` with the same concrete values. The call must
revert on chain exactly when the model says it reverts, and after every step the state read from
the chain (views) must equal the model's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import z3

from verification import commune_model as cm
from verification.terms import step

ACTORS = 6
FOUNDERS = 3
THRESHOLD = 10
QUORUM_CAP = 2


@dataclass
class Divergence(Exception):
    step: int
    call: str
    what: str

    def __str__(self) -> str:
        return f"step {self.step}: {self.call}: {self.what}"


def concrete(term: Any) -> Any:
    """A closed Z3 term's Python value (int, address as int, bool)."""
    value = z3.simplify(term)
    if z3.is_int_value(value) or z3.is_bv_value(value):
        return value.as_long()
    if z3.is_true(value):
        return True
    if z3.is_false(value):
        return False
    raise ValueError(f"not concrete: {value}")


@dataclass
class Concrete:
    """One model at a concrete state: applies calls with concrete arguments, reads values back.

    `fixed` substitutes the model's symbolic parameters, `funs` its uninterpreted functions that
    have a closed definition (the calls out of the contract), `py_funs` those computed in Python
    (e.g. `Amortization.repays`, a loop: each application is evaluated once its arguments are
    concrete), and `args` of each call its arguments and inputs.
    """

    transitions: list
    s: Any
    fixed: list = field(default_factory=list)
    funs: list = field(default_factory=list)
    py_funs: dict = field(default_factory=dict)

    def apply(self, name: str, caller: int, value: int, args: dict[z3.ExprRef, Any]) -> bool:
        """Apply the call; returns whether the model reverts (a reverting call changes nothing)."""
        t = next(t for t in self.transitions if t.name == name)
        reverts, s2 = step(t, self.s, z3.BitVecVal(caller, 160), z3.IntVal(value))
        subs = list(self.fixed)
        for var, raw in args.items():
            if var.sort() == cm.Addr:
                subs.append((var, z3.BitVecVal(raw, 160)))
            elif var.sort() == z3.BoolSort():
                subs.append((var, z3.BoolVal(bool(raw))))
            else:
                subs.append((var, z3.IntVal(raw)))

        def fix(term: z3.ExprRef) -> z3.ExprRef:
            term = z3.substitute(term, *subs)
            if self.funs:  # definitions may mention the model's parameters: substitute them again
                term = z3.substitute(z3.substitute_funs(term, *self.funs), *subs)
            term = z3.simplify(term)
            return self._evaluate_py_funs(term) if self.py_funs else term

        reverted = concrete(fix(reverts))
        if not reverted:
            self.s = s2.map(lambda _, v: fix(v))
        return reverted

    def read(self, term: z3.ExprRef) -> Any:
        return concrete(term)

    def _evaluate_py_funs(self, term: z3.ExprRef) -> z3.ExprRef:
        """Replace every application of a `py_funs` function whose arguments are concrete by its value."""
        found: dict[z3.ExprRef, z3.ExprRef] = {}
        seen: set[int] = set()
        todo = [term]
        while todo:
            t = todo.pop()
            if t.get_id() in seen:
                continue
            seen.add(t.get_id())
            if z3.is_app(t) and t.decl() in self.py_funs and t.num_args() > 0:
                args = [z3.simplify(t.arg(i)) for i in range(t.num_args())]
                if all(z3.is_int_value(x) for x in args):
                    value = self.py_funs[t.decl()](*[x.as_long() for x in args])
                    found[t] = z3.BoolVal(value) if isinstance(value, bool) else z3.IntVal(value)
                    continue
            if z3.is_app(t):
                todo.extend(t.children())
        if not found:
            return term
        return self._evaluate_py_funs(z3.simplify(z3.substitute(term, *found.items())))


class ModelRunner(Concrete):
    """The membership model, from its founders, with arguments given by name."""

    def __init__(self, founders: list[int], factory: int = 0, threshold: int = THRESHOLD,
                 quorum_cap: int = QUORUM_CAP):
        # The clone as `createMembership` leaves it: initialised by its factory, then the founders.
        s = cm.initialize_prologue(cm.empty(), z3.IntVal(threshold), z3.IntVal(quorum_cap))
        for f in founders:
            s = cm.admit(s, z3.BitVecVal(f, 160))
        # Membership-only commune: no common stock and no treasury, so nobody has commitments, no
        # hook refuses, and there is nothing to sweep; any account may join.
        super().__init__(cm.TRANSITIONS, s.map(lambda _, v: z3.simplify(v)),
                         [(cm.FACTORY, z3.BitVecVal(factory, 160)), (cm.GOVERNANCE, z3.BitVecVal(0, 160)),
                          (cm.EOA_ONLY, z3.BoolVal(False)), (cm.HOOK_REFUSES, z3.BoolVal(False)),
                          (cm.HAS_TREASURY, z3.BoolVal(False)), (cm.TOKEN_BALANCE, z3.IntVal(0))],
                         [(cm.COMMITTED, z3.BoolVal(False))])

    def apply(self, name: str, caller: int, value: int, args: dict[str, Any]) -> bool:  # type: ignore[override]
        t = next(t for t in cm.TRANSITIONS if t.name == name)
        return super().apply(name, caller, value, {var: args.get(key, 0) for key, var in t.params.items()})


def random_calls(rng: random.Random, claims: int, model: "ModelRunner | None" = None,
                 ints: list[int] | None = None) -> tuple[str, int, int, dict[str, Any]]:
    """One random call: (function, caller index, value, arguments).

    With the model at hand, some calls are aimed at the edges the rules guard: a worker attesting
    their own claim, a member attesting twice, an owner approving or moving their own share.
    """
    name = rng.choices(
        ["submitLabour", "attest", "join", "leave", "transferFrom", "safeTransferFrom(address,address,uint256)",
         "safeTransferFrom(address,address,uint256,bytes)", "approve", "setApprovalForAll", "<receive or fallback>",
         "sweep"],
        weights=[5, 8, 4, 3, 1, 1, 1, 1, 1, 1, 1])[0]
    caller = rng.randrange(ACTORS)
    value = rng.choice([1, 10**18]) if rng.random() < 0.1 else 0
    args: dict[str, Any] = {}
    if name == "submitLabour":
        args = {"units": rng.choice([0, 1, 5, 10, 10, 12]), "evidenceLength": rng.choice([0, 8, 8, 8, 8])}
        if model is not None and ints is not None and rng.random() < 0.5:  # a member's own labour
            members = [i for i, k in enumerate(ints) if model.read(model.s.shareOf[z3.BitVecVal(k, 160)]) != 0]
            caller = rng.choice(members) if members else caller
    elif name == "attest":
        args = {"claimId": rng.randrange(0, claims + 2)}
        if model is not None and ints is not None and 1 <= args["claimId"] <= claims and rng.random() < 0.5:
            cid = z3.IntVal(args["claimId"])
            if rng.random() < 0.5:  # the claim's own worker
                worker = model.read(model.s.claimWorker[cid])
                caller = ints.index(worker) if worker in ints else caller
            else:  # someone who has already attested it
                done = [i for i, k in enumerate(ints) if model.read(model.s.attested[cid][z3.BitVecVal(k, 160)])]
                caller = rng.choice(done) if done else caller
    elif name in ("transferFrom", "safeTransferFrom(address,address,uint256)",
                  "safeTransferFrom(address,address,uint256,bytes)"):
        args = {"from": rng.randrange(ACTORS), "to": rng.randrange(ACTORS), "tokenId": rng.randrange(0, 6)}
    elif name == "approve":
        args = {"to": rng.randrange(ACTORS), "tokenId": rng.randrange(0, 6)}
    if model is not None and ints is not None and "tokenId" in args and rng.random() < 0.5:
        args["tokenId"] = model.read(model.s.shareOf[z3.BitVecVal(ints[caller], 160)])  # the caller's own share
        if "from" in args:
            args["from"] = caller
    elif name == "setApprovalForAll":
        args = {"operator": rng.randrange(ACTORS), "approved": rng.random() < 0.5}
    return name, caller, value, args


#: A scripted opening that walks every guarded edge once (actors 0-2 are founders), before the
#: random calls: labour earned, attested twice by one member, self-attested, counted at the quorum,
#: spent on a share; a member's own claim; every transfer and approval by the share's owner; value
#: sent with a call and plainly; leaving, and trying to come back and to leave again.
SCRIPT: list[tuple[str, int, int, dict[str, Any]]] = [
    ("submitLabour", 3, 0, {"units": 10, "evidenceLength": 8}),
    ("attest", 0, 0, {"claimId": 1}),
    ("attest", 0, 0, {"claimId": 1}),
    ("attest", 3, 0, {"claimId": 1}),
    ("attest", 1, 0, {"claimId": 1}),
    ("attest", 2, 0, {"claimId": 1}),
    ("join", 3, 1, {}),
    ("join", 3, 0, {}),
    ("join", 3, 0, {}),
    ("submitLabour", 0, 0, {"units": 5, "evidenceLength": 8}),
    ("attest", 0, 0, {"claimId": 2}),
    ("approve", 3, 0, {"to": 0, "tokenId": 4}),
    ("transferFrom", 3, 0, {"from": 3, "to": 0, "tokenId": 4}),
    ("safeTransferFrom(address,address,uint256)", 3, 0, {"from": 3, "to": 0, "tokenId": 4}),
    ("safeTransferFrom(address,address,uint256,bytes)", 3, 0, {"from": 3, "to": 0, "tokenId": 4}),
    ("setApprovalForAll", 3, 0, {"operator": 0, "approved": True}),
    ("<receive or fallback>", 4, 10**18, {}),
    ("attest", 1, 1, {"claimId": 2}),
    ("submitLabour", 5, 0, {"units": 0, "evidenceLength": 8}),
    ("submitLabour", 5, 0, {"units": 7, "evidenceLength": 0}),
    ("join", 5, 0, {}),
    ("leave", 3, 0, {}),
    ("join", 3, 0, {}),
    ("leave", 3, 0, {}),
    ("leave", 2, 0, {}),
    ("attest", 2, 0, {"claimId": 2}),
    ("sweep", 4, 0, {}),
    ("submitLabour", 1, 0, {"units": 3, "evidenceLength": 8}),  # a member's claim: only actor 0 may attest it
    ("attest", 0, 0, {"claimId": 3}),
    ("leave", 1, 0, {}),
    ("leave", 0, 0, {}),  # the last member cannot leave
    # Nobody initialises it again (the factory did, once) and nobody changes its parameters (no governance).
    ("initialize", 4, 0, {"labourThreshold_": 5, "quorumCap_": 1, "founder": 4}),
    ("initialize", 0, 0, {"labourThreshold_": 5, "quorumCap_": 1, "founder": 5}),
    ("setParameters", 0, 0, {"labourThreshold_": 5, "quorumCap_": 1}),
    ("setParameters", 4, 0, {"labourThreshold_": 0, "quorumCap_": 1}),
]


def run_conformance(seed: int = 0, steps: int = 40, artifacts: Any = None, chain: Any = None,
                    scripted: bool = True) -> int:
    """Run the scripted opening (if `scripted`) and then `steps` random calls on a fresh
    membership-only commune and on the model; returns the number of calls run.

    Raises Divergence naming the first call where chain and model disagree.
    """
    from vcengine.chains import TesterChain
    from vcengine.commune import CommuneClient

    chain = chain or TesterChain()
    accounts = chain.accounts[:ACTORS]
    addresses = [a.address for a in accounts]
    ints = [int(a, 16) for a in addresses]
    commune = CommuneClient.deploy(chain, accounts[0], founders=addresses[:FOUNDERS], labour_threshold=THRESHOLD,
                                   quorum_cap=QUORUM_CAP, artifacts=artifacts)
    model = ModelRunner(ints[:FOUNDERS], int(commune.call("factory"), 16))
    rng = random.Random(seed)
    opening = list(SCRIPT) if scripted else []
    total = len(opening) + steps
    for step in range(total):
        if step < len(opening):
            name, who, value, args = opening[step]
        else:
            name, who, value, args = random_calls(rng, model.read(model.s.claimCount), model, ints)
        check_call(commune, model, accounts, step, name, who, value, args,
                   full=step % 10 == 9 or step == total - 1)
    return total


def check_call(commune: Any, model: ModelRunner, accounts: list[Any], step: int, name: str, who: int, value: int,
               args: dict[str, Any], full: bool = False) -> None:
    """Send one call (actor indices in `args`) to the contract and apply it to the model: the call
    must revert on chain exactly when the model reverts, and then the values it can have touched
    (every value if `full`) must agree. Raises Divergence."""
    from vcengine.client import ContractReverted

    addresses = [a.address for a in accounts]
    ints = [int(a, 16) for a in addresses]
    call = f"{name} by actor {who} with value {value} {args}"
    chain_args = _chain_args(name, args, addresses)
    try:
        if name == "<receive or fallback>":
            commune.send_value(accounts[who], value or 1)
            value = value or 1
        else:
            commune.transact(name, *chain_args, sender=accounts[who], value=value)
        chain_reverted = False
    except ContractReverted:
        chain_reverted = True
    model_args = {k: (ints[v] if k in ("from", "to", "operator", "founder") else v) for k, v in args.items()}
    model_reverted = model.apply(name, ints[who], value, model_args)
    if chain_reverted != model_reverted:
        raise Divergence(step, call, f"chain {'reverted' if chain_reverted else 'succeeded'}, "
                                     f"model {'reverts' if model_reverted else 'succeeds'}")
    touched = {who} | {v for k, v in args.items() if k in ("from", "to", "operator")}
    if name == "attest" and 1 <= args.get("claimId", 0) <= model.read(model.s.claimCount):
        worker = model.read(model.s.claimWorker[z3.IntVal(args["claimId"])])
        touched |= {ints.index(worker)} if worker in ints else set()
    _compare(step, call, commune, model, addresses, ints, None if full else touched)


def _chain_args(name: str, args: dict[str, Any], addresses: list[str]) -> list[Any]:
    if name == "submitLabour":
        return [args["units"], "x" * args["evidenceLength"]]
    if name == "attest":
        return [args["claimId"]]
    if name in ("transferFrom", "safeTransferFrom(address,address,uint256)"):
        return [addresses[args["from"]], addresses[args["to"]], args["tokenId"]]
    if name == "safeTransferFrom(address,address,uint256,bytes)":
        return [addresses[args["from"]], addresses[args["to"]], args["tokenId"], b""]
    if name == "approve":
        return [addresses[args["to"]], args["tokenId"]]
    if name == "initialize":
        return ["Share", "S", [addresses[args["founder"]]], args["labourThreshold_"], args["quorumCap_"]]
    if name == "setParameters":
        return [args["labourThreshold_"], args["quorumCap_"]]
    if name == "setApprovalForAll":
        return [addresses[args["operator"]], args["approved"]]
    return []


def _compare(step: int, call: str, commune: Any, model: ModelRunner, addresses: list[str], ints: list[int],
             actors: set[int] | None = None) -> None:
    """Compare chain and model: every actor and claim (actors None), or only the actors a call touched."""
    s = model.s
    pairs = [("memberCount", commune.member_count(), model.read(s.memberCount)),
             ("claimCount", commune.claim_count(), model.read(s.claimCount)),
             ("ETH balance", commune.chain.w3.eth.get_balance(commune.address), model.read(s.ether)),
             ("labourThreshold", commune.call("labourThreshold"), model.read(s.labourThreshold)),
             ("quorumCap", commune.call("quorumCap"), model.read(s.quorumCap))]
    for i, (address, key) in enumerate(zip(addresses, ints)):
        if actors is not None and i not in actors:
            continue
        k = z3.BitVecVal(key, 160)
        pairs += [(f"shareOf(actor {i})", commune.share_of(address), model.read(s.shareOf[k])),
                  (f"balanceOf(actor {i})", commune.balance_of(address), model.read(s.balances[k])),
                  (f"countedLabour(actor {i})", commune.counted_labour(address), model.read(s.countedLabour[k]))]
    for claim_id in range(1, commune.claim_count() + 1) if actors is None else ():
        claim = commune.labour_claim(claim_id)
        pairs += [(f"claim {claim_id} attestations", claim.attestations,
                   model.read(s.claimAttestations[z3.IntVal(claim_id)])),
                  (f"claim {claim_id} counted", claim.counted, model.read(s.claimCounted[z3.IntVal(claim_id)]))]
    for what, on_chain, in_model in pairs:
        if on_chain != in_model:
            raise Divergence(step, call, f"{what}: chain {on_chain}, model {in_model}")
