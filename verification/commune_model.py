"""Z3 transition system of `contracts/Commune.sol` (membership).

State variables follow the Solidity names: `shareOf`, ERC-721 `_owners` and `_balances`,
`memberCount`, `_lastShareId`, `claimCount`, the labour claims, `_attested`, `_countedLabour`,
ERC-721 approvals, and the contract's ETH balance. `supply` is a ghost: shares minted minus shares
burned. `labourThreshold` and `quorumCap` are stored (set by `initialize`, changed only by
`setParameters` from `governance`, an immutable argument of the clone like `eoaOnly` and `factory`,
which are symbolic constants, so every proof holds for every commune); `initialized` is
OpenZeppelin `Initializable`'s flag. Inputs from outside the contract: a member's commitments in the
common stock (an uninterpreted predicate), whether the treasury's membership hook refuses (its
income release is pending), `tx.origin`, which accounts have code, and the contract's own balance
of the settlement token (for `sweep`).

`initialize` is its prologue (`initializer`, the factory check, the bounds, the parameters stored)
followed by `_admit` of each founder (any number of them: the loop's body is the transition
`ADMIT_FOUNDER` of `properties.py`; the transition `initialize` admits one symbolic founder).
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from verification.terms import (
    ZERO_ADDR,
    Addr,
    Bool,
    Int,
    State,
    Transition,
    con,
    ite,
    sorted_field,
)
from verification.terms import step as terms_step

#: Arguments of `initialize` and `setParameters`.
THRESHOLD = z3.Int("labourThreshold_")
QUORUM_CAP = z3.Int("quorumCap_")
FOUNDER = z3.BitVec("founder", 160)
#: Immutable arguments of the clone (`CommuneArgs`): who may initialise it, who may change parameters.
FACTORY = z3.BitVec("CommuneArgs.factory", 160)
GOVERNANCE = z3.BitVec("CommuneArgs.governance", 160)
MAX_LABOUR_THRESHOLD = 2**64 - 1
MAX_QUORUM_CAP = 2**24 - 1
COMMITTED = z3.Function("stock_commitments_nonzero", Addr, Bool)
EOA_ONLY = z3.Bool("eoaOnly")
HAS_CODE = z3.Function("account_has_code", Addr, Bool)
ORIGIN = z3.BitVec("tx.origin", 160)
HOOK_REFUSES = z3.Bool("treasury_hook_reverts")  # TreasuryReleasePending, or no treasury never refuses
HAS_TREASURY = z3.Bool("has_treasury")
TOKEN_BALANCE = z3.Int("settlementToken_balanceOf_commune")
PARAMS = z3.And(TOKEN_BALANCE >= 0, THRESHOLD >= 0, THRESHOLD < 2**256, QUORUM_CAP >= 0, QUORUM_CAP < 2**256)


@dataclass
class CommuneState(State):
    shareOf: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    owners: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Addr))
    balances: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    memberCount: z3.ArithRef = sorted_field(Int)
    supply: z3.ArithRef = sorted_field(Int)  # ghost: mints minus burns
    lastShareId: z3.ArithRef = sorted_field(Int)
    claimCount: z3.ArithRef = sorted_field(Int)
    claimWorker: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Addr))
    claimUnits: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    claimAttestations: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    claimCounted: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Bool))
    attested: z3.ArrayRef = sorted_field(z3.ArraySort(Int, z3.ArraySort(Addr, Bool)))
    countedLabour: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    tokenApprovals: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Addr))
    operatorApprovals: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, z3.ArraySort(Addr, Bool)))
    ether: z3.ArithRef = sorted_field(Int)
    labourThreshold: z3.ArithRef = sorted_field(Int)
    quorumCap: z3.ArithRef = sorted_field(Int)
    initialized: z3.BoolRef = sorted_field(Bool)


def empty() -> CommuneState:
    """The state before the constructor admits the founders."""
    return CommuneState(
        shareOf=z3.K(Addr, con(0)), owners=z3.K(Int, ZERO_ADDR), balances=z3.K(Addr, con(0)),
        memberCount=con(0), supply=con(0), lastShareId=con(0), claimCount=con(0),
        claimWorker=z3.K(Int, ZERO_ADDR), claimUnits=z3.K(Int, con(0)), claimAttestations=z3.K(Int, con(0)),
        claimCounted=z3.K(Int, z3.BoolVal(False)), attested=z3.K(Int, z3.K(Addr, z3.BoolVal(False))),
        countedLabour=z3.K(Addr, con(0)), tokenApprovals=z3.K(Int, ZERO_ADDR),
        operatorApprovals=z3.K(Addr, z3.K(Addr, z3.BoolVal(False))), ether=con(0),
        labourThreshold=con(0), quorumCap=con(0), initialized=z3.BoolVal(False),
    )


def params_in_bounds(threshold: z3.ArithRef, quorum_cap: z3.ArithRef) -> z3.BoolRef:
    """`_setParameters`' bounds (the constitution's): a threshold 1..2**64-1, a quorum cap 1..2**24-1."""
    return z3.And(threshold >= 1, threshold <= MAX_LABOUR_THRESHOLD, quorum_cap >= 1, quorum_cap <= MAX_QUORUM_CAP)


def initialize_prologue(s: CommuneState, threshold: z3.ArithRef, quorum_cap: z3.ArithRef) -> CommuneState:
    """`initialize` before its founders' loop: the `initializer` flag set and the parameters stored."""
    return s.replace(initialized=z3.BoolVal(True), labourThreshold=threshold, quorumCap=quorum_cap)


def initialize_reverts(s: CommuneState, caller: z3.BitVecRef) -> z3.BoolRef:
    """`initialize` reverts when already initialised (InvalidInitialization), for anyone but the
    clone's factory (CommuneOnlyFactory), or for parameters out of bounds."""
    return z3.Or(s.initialized, caller != FACTORY, z3.Not(params_in_bounds(THRESHOLD, QUORUM_CAP)))


def admit(s: CommuneState, member: z3.BitVecRef) -> CommuneState:
    """`_admit`: mint the next share id to `member`."""
    new_id = s.lastShareId + 1
    return s.replace(
        shareOf=z3.Store(s.shareOf, member, new_id),
        owners=z3.Store(s.owners, new_id, member),
        balances=z3.Store(s.balances, member, s.balances[member] + 1),
        memberCount=s.memberCount + 1,
        supply=s.supply + 1,
        lastShareId=new_id,
    )


def admit_reverts(s: CommuneState, member: z3.BitVecRef) -> z3.BoolRef:
    """`_admit` reverts for the zero address (ERC721InvalidReceiver) or an existing member."""
    return z3.Or(member == ZERO_ADDR, s.shareOf[member] != 0)


def quorum(s: CommuneState) -> z3.ArithRef:
    return ite(s.quorumCap < s.memberCount, s.quorumCap, s.memberCount)


def quorum_for(s: CommuneState, worker: z3.BitVecRef) -> z3.ArithRef:
    """`quorumFor`: a member's own claim has one attester fewer (the worker never attests)."""
    attesters = s.memberCount - ite(s.shareOf[worker] != 0, con(1), con(0))
    return ite(s.quorumCap < attesters, s.quorumCap, attesters)


# ------------------------------------------------------------------ transitions

UNITS = z3.Int("units")
EVIDENCE_LEN = z3.Int("evidenceLength")
CLAIM = z3.Int("claimId")
FROM = z3.BitVec("from", 160)
TO = z3.BitVec("to", 160)
TOKEN = z3.Int("tokenId")
APPROVED = z3.Bool("approved")


def _submit(s: CommuneState, caller, value) -> CommuneState:
    cid = s.claimCount + 1
    return s.replace(
        claimCount=cid,
        claimWorker=z3.Store(s.claimWorker, cid, caller),
        claimUnits=z3.Store(s.claimUnits, cid, UNITS),
        claimAttestations=z3.Store(s.claimAttestations, cid, con(0)),
        claimCounted=z3.Store(s.claimCounted, cid, z3.BoolVal(False)),
    )


def _attest(s: CommuneState, caller, value) -> CommuneState:
    worker = s.claimWorker[CLAIM]
    att = s.claimAttestations[CLAIM] + 1
    counts = att >= quorum_for(s, worker)
    return s.replace(
        attested=z3.Store(s.attested, CLAIM, z3.Store(s.attested[CLAIM], caller, z3.BoolVal(True))),
        claimAttestations=z3.Store(s.claimAttestations, CLAIM, att),
        claimCounted=z3.Store(s.claimCounted, CLAIM, counts),
        countedLabour=ite(counts, z3.Store(s.countedLabour, worker, s.countedLabour[worker] + s.claimUnits[CLAIM]),
                          s.countedLabour),
    )


def _join(s: CommuneState, caller, value) -> CommuneState:
    spent = s.replace(countedLabour=z3.Store(s.countedLabour, caller, s.countedLabour[caller] - s.labourThreshold))
    return admit(spent, caller)


def _leave(s: CommuneState, caller, value) -> CommuneState:
    share = s.shareOf[caller]
    return s.replace(
        shareOf=z3.Store(s.shareOf, caller, con(0)),
        owners=z3.Store(s.owners, share, ZERO_ADDR),
        balances=z3.Store(s.balances, caller, s.balances[caller] - 1),
        tokenApprovals=z3.Store(s.tokenApprovals, share, ZERO_ADDR),  # ERC-721 `_update` clears it on burn
        memberCount=s.memberCount - 1,
        supply=s.supply - 1,
    )


def _unchanged(s: CommuneState, caller, value) -> CommuneState:
    return s


def _initialize(s: CommuneState, caller, value) -> CommuneState:
    return admit(initialize_prologue(s, THRESHOLD, QUORUM_CAP), FOUNDER)


def _set_parameters(s: CommuneState, caller, value) -> CommuneState:
    return s.replace(labourThreshold=THRESHOLD, quorumCap=QUORUM_CAP)


ALWAYS = lambda s, caller, value: z3.BoolVal(True)  # noqa: E731

TRANSITIONS: list[Transition] = [
    # A list of one founder (`founders.length == 0` reverts; longer lists: `ADMIT_FOUNDER` steps).
    Transition(
        "initialize", {"labourThreshold_": THRESHOLD, "quorumCap_": QUORUM_CAP, "founder": FOUNDER},
        lambda s, caller, value: z3.Or(value != 0, initialize_reverts(s, caller),
                                       admit_reverts(initialize_prologue(s, THRESHOLD, QUORUM_CAP), FOUNDER),
                                       z3.And(EOA_ONLY, HAS_CODE(FOUNDER))),
        _initialize,
    ),
    Transition(
        "setParameters", {"labourThreshold_": THRESHOLD, "quorumCap_": QUORUM_CAP},
        lambda s, caller, value: z3.Or(value != 0, caller != GOVERNANCE, z3.Not(params_in_bounds(THRESHOLD, QUORUM_CAP))),
        _set_parameters,
    ),
    Transition(
        "submitLabour", {"units": UNITS, "evidenceLength": EVIDENCE_LEN},
        # `units <= 0`: zero reverts, and a uint256 is never negative.
        lambda s, caller, value: z3.Or(value != 0, UNITS <= 0, UNITS >= 2**64, EVIDENCE_LEN <= 0),
        _submit,
    ),
    Transition(
        "attest", {"claimId": CLAIM},
        lambda s, caller, value: z3.Or(
            value != 0, s.shareOf[caller] == 0, s.claimWorker[CLAIM] == ZERO_ADDR, s.claimWorker[CLAIM] == caller,
            s.claimCounted[CLAIM], s.attested[CLAIM][caller]),
        _attest,
    ),
    Transition(
        "join", {},
        lambda s, caller, value: z3.Or(value != 0, s.shareOf[caller] != 0, s.countedLabour[caller] < s.labourThreshold,
                                       z3.And(EOA_ONLY, z3.Or(caller != ORIGIN, HAS_CODE(caller))),
                                       admit_reverts(s, caller), HOOK_REFUSES),
        _join,
    ),
    Transition(
        "leave", {},
        # The last member cannot leave (`memberCount == 1`), so the checked `--memberCount` never reaches zero.
        lambda s, caller, value: z3.Or(value != 0, s.shareOf[caller] == 0, s.memberCount <= 1, COMMITTED(caller),
                                       HOOK_REFUSES),
        _leave,
    ),
    # sweep: sends the contract's settlement tokens to the treasury; no membership state changes.
    Transition("sweep", {},
               lambda s, caller, value: z3.Or(value != 0, z3.Not(HAS_TREASURY), TOKEN_BALANCE == 0),
               _unchanged),
    # Every transfer and approval entry point reverts, whoever calls it with whatever arguments.
    Transition("transferFrom", {"from": FROM, "to": TO, "tokenId": TOKEN}, ALWAYS, _unchanged),
    Transition("safeTransferFrom(address,address,uint256)", {"from": FROM, "to": TO, "tokenId": TOKEN}, ALWAYS,
               _unchanged),
    Transition("safeTransferFrom(address,address,uint256,bytes)", {"from": FROM, "to": TO, "tokenId": TOKEN}, ALWAYS,
               _unchanged),
    Transition("approve", {"to": TO, "tokenId": TOKEN}, ALWAYS, _unchanged),
    Transition("setApprovalForAll", {"operator": TO, "approved": APPROVED}, ALWAYS, _unchanged),
    # No receive and no fallback: plain ETH and unknown selectors revert.
    Transition("<receive or fallback>", {}, ALWAYS, _unchanged),
]


step = terms_step  # the shared revert rule of every model
