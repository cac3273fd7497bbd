"""Random sequences of submit / attest / join / leave / transfer attempts against the membership rules.

A plain-Python reference model (written from the rules, not from the contract) predicts whether
each call succeeds or which error it reverts with. After every step the chain must agree with the
model, and the named invariants must hold: every address holds 0 or 1 share, shares outstanding
equal the member count, and nobody became a member without counted labour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from vcengine.chains import TesterChain
from vcengine.client import ContractReverted
from vcengine.commune import CommuneClient
from vcengine.compiler import load_artifacts

THRESHOLD = 10
QUORUM_CAP = 2
ACTORS = 6  # accounts 0..2 found the commune; 3..5 start outside
FOUNDERS = 3

_chain: TesterChain | None = None


def shared_chain() -> TesterChain:
    global _chain
    if _chain is None:
        _chain = TesterChain()
    return _chain


@dataclass
class Claim:
    worker: int
    units: int
    attesters: set[int] = field(default_factory=set)
    counted: bool = False


class MembershipMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.chain = shared_chain()
        self.snapshot = self.chain.snapshot()
        self.acct = self.chain.accounts[:ACTORS]
        self.commune = CommuneClient.deploy(
            self.chain, self.acct[0], founders=[a.address for a in self.acct[:FOUNDERS]],
            labour_threshold=THRESHOLD, quorum_cap=QUORUM_CAP, artifacts=load_artifacts(),
        )
        # reference model
        self.members: set[int] = set(range(FOUNDERS))
        self.labour = [0] * ACTORS
        self.claims: list[Claim] = []

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- helpers

    def outcome(self, action) -> str:
        """'' on success, else the decoded error name ('<empty>' for an empty revert)."""
        try:
            action()
        except ContractReverted as exc:
            return exc.name or "<empty>"
        return ""

    def quorum(self) -> int:
        return min(QUORUM_CAP, len(self.members))

    # ------------------------------------------------------------------ rules

    @rule(who=st.integers(0, ACTORS - 1), units=st.integers(1, 12))
    def submit(self, who: int, units: int) -> None:
        got = self.outcome(lambda: self.commune.submit_labour(units, f"ipfs://work-{len(self.claims)}", sender=self.acct[who]))
        assert got == ""
        self.claims.append(Claim(who, units))

    @rule(who=st.integers(0, ACTORS - 1), pick=st.integers(0, 10**6))
    def attest(self, who: int, pick: int) -> None:
        claim_id = pick % (len(self.claims) + 1) + 1  # sometimes one past the last: unknown
        claim = self.claims[claim_id - 1] if claim_id <= len(self.claims) else None
        if who not in self.members:
            expected = "CommuneNotMember"
        elif claim is None:
            expected = "LabourUnknownClaim"
        elif claim.worker == who:
            expected = "LabourSelfAttestation"
        elif claim.counted:
            expected = "LabourAlreadyCounted"
        elif who in claim.attesters:
            expected = "LabourAlreadyAttested"
        else:
            expected = ""
        got = self.outcome(lambda: self.commune.transact("attest", claim_id, sender=self.acct[who]))
        assert got == expected, (who, claim_id, claim)
        if expected == "":
            claim.attesters.add(who)
            if len(claim.attesters) >= self.quorum():
                claim.counted = True
                self.labour[claim.worker] += claim.units

    @rule(who=st.integers(0, ACTORS - 1))
    def join(self, who: int) -> None:
        counted_before = self.commune.counted_labour(self.acct[who].address)
        if who in self.members:
            expected = "CommuneAlreadyMember"
        elif self.labour[who] < THRESHOLD:
            expected = "LabourBelowThreshold"
        else:
            expected = ""
        got = self.outcome(lambda: self.commune.join(sender=self.acct[who]))
        assert got == expected
        if expected == "":
            assert counted_before >= THRESHOLD  # labour only: nobody joins without counted labour
            self.members.add(who)
            self.labour[who] -= THRESHOLD

    @rule(who=st.integers(0, ACTORS - 1))
    def leave(self, who: int) -> None:
        expected = "" if who in self.members else "CommuneNotMember"
        assert self.outcome(lambda: self.commune.leave(sender=self.acct[who])) == expected
        self.members.discard(who)

    @rule(who=st.integers(0, ACTORS - 1), to=st.integers(0, ACTORS - 1),
          entry=st.sampled_from(["transferFrom", "safeTransferFrom(address,address,uint256)",
                                 "safeTransferFrom(address,address,uint256,bytes)", "approve", "setApprovalForAll"]))
    def move_share(self, who: int, to: int, entry: str) -> None:
        share = self.commune.share_of(self.acct[who].address) or 1
        src, dst = self.acct[who].address, self.acct[to].address
        args = {
            "transferFrom": (src, dst, share),
            "safeTransferFrom(address,address,uint256)": (src, dst, share),
            "safeTransferFrom(address,address,uint256,bytes)": (src, dst, share, b""),
            "approve": (dst, share),
            "setApprovalForAll": (dst, True),
        }[entry]
        expected = "CommuneShareApprovalDisabled" if entry in ("approve", "setApprovalForAll") else "CommuneShareNotTransferable"
        assert self.outcome(lambda: self.commune.transact(entry, *args, sender=self.acct[who])) == expected

    @rule(who=st.integers(0, ACTORS - 1), wei=st.integers(1, 10**20),
          entry=st.sampled_from(["<plain>", "join", "submitLabour"]))
    def pay(self, who: int, wei: int, entry: str) -> None:
        """Capital in any form is refused and changes nothing."""
        sender = self.acct[who]
        if entry == "<plain>":
            got = self.outcome(lambda: self.commune.send_value(sender, wei))
        elif entry == "join":
            got = self.outcome(lambda: self.commune.transact("join", sender=sender, value=wei))
        else:
            got = self.outcome(lambda: self.commune.transact("submitLabour", 5, "cash", sender=sender, value=wei))
        assert got == "<empty>"

    # ------------------------------------------------------------- invariants

    @invariant()
    def one_share_per_member_and_shares_equal_members(self) -> None:
        balances = [self.commune.balance_of(a.address) for a in self.acct]
        assert all(b in (0, 1) for b in balances)
        assert sum(balances) == self.commune.member_count() == len(self.members)
        assert {i for i, b in enumerate(balances) if b} == self.members

    @invariant()
    def labour_matches_model(self) -> None:
        assert [self.commune.counted_labour(a.address) for a in self.acct] == self.labour

    @invariant()
    def contract_holds_no_ether(self) -> None:
        assert self.chain.w3.eth.get_balance(self.commune.address) == 0


TestMembershipMachine = MembershipMachine.TestCase

