"""Random sequences of submit / attest / join / leave / transfer attempts against the membership rules.

A plain-Python reference model (written from the rules, not from the contract) predicts whether
each call succeeds or which error it reverts with. After every step the chain must agree with the
model, and the named invariants must hold: every address holds 0 or 1 share, shares outstanding
equal the member count, and nobody became a member without counted labour.

The rules modelled include: a claim's quorum excludes its worker (min(cap, members - 1) for a
member's own claim), the last member cannot leave, and a commune deployed `eoaOnly` (drawn per
example) refuses a smart-contract wallet's join (the wallet is one more actor, acting through
`ContractWallet.execute`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from vcengine.chains import TesterChain
from vcengine.client import ContractClient, ContractReverted
from vcengine.commune import CommuneClient
from vcengine.compiler import load_artifacts

THRESHOLD = 10
QUORUM_CAP = 2
ACTORS = 6  # accounts 0..2 found the commune; 3..5 start outside
FOUNDERS = 3
WALLET = ACTORS  # actor 6: a ContractWallet owned by account 5, acting through `execute`

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


class Wallet(ContractClient):
    CONTRACT = "ContractWallet"


class MembershipMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.chain = shared_chain()
        self.snapshot = self.chain.snapshot()
        self.acct = self.chain.accounts[:ACTORS]
        self.commune: CommuneClient | None = None
        # reference model
        self.members: set[int] = set(range(FOUNDERS))
        self.labour = [0] * (ACTORS + 1)
        self.claims: list[Claim] = []

    @initialize(eoa_only=st.booleans())
    def deploy(self, eoa_only: bool) -> None:
        artifacts = load_artifacts()
        self.eoa_only = eoa_only
        self.commune = CommuneClient.deploy(
            self.chain, self.acct[0], founders=[a.address for a in self.acct[:FOUNDERS]],
            labour_threshold=THRESHOLD, quorum_cap=QUORUM_CAP, eoa_only=eoa_only, artifacts=artifacts,
        )
        self.wallet = Wallet.deploy(self.chain, self.acct[5], self.acct[5].address, artifacts=artifacts)
        self.addresses = [a.address for a in self.acct] + [self.wallet.address]

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

    def quorum_for(self, worker: int) -> int:
        """Attesters a claim of `worker` needs: every member but the worker, up to the cap."""
        return min(QUORUM_CAP, len(self.members) - (1 if worker in self.members else 0))

    def act(self, who: int, function: str, *args):
        """Call the commune as actor `who` (the wallet acts through `execute`, refusals bubbling up)."""
        if who == WALLET:
            data = bytes.fromhex(self.commune.contract.encode_abi(function, args=list(args))[2:])
            return self.wallet.transact("execute", self.commune.address, data, sender=self.acct[5])
        return self.commune.transact(function, *args, sender=self.acct[who])

    # ------------------------------------------------------------------ rules

    @precondition(lambda self: self.commune is not None)
    @rule(who=st.integers(0, WALLET), units=st.integers(1, 12))
    def submit(self, who: int, units: int) -> None:
        got = self.outcome(lambda: self.act(who, "submitLabour", units, f"ipfs://work-{len(self.claims)}"))
        assert got == ""
        self.claims.append(Claim(who, units))

    @precondition(lambda self: self.commune is not None)
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
            if len(claim.attesters) >= self.quorum_for(claim.worker):
                claim.counted = True
                self.labour[claim.worker] += claim.units

    @precondition(lambda self: self.commune is not None)
    @rule(who=st.integers(0, WALLET))
    def join(self, who: int) -> None:
        counted_before = self.commune.counted_labour(self.addresses[who])
        if who in self.members:
            expected = "CommuneAlreadyMember"
        elif who == WALLET and self.eoa_only:
            expected = "CommuneContractAccount"
        elif self.labour[who] < THRESHOLD:
            expected = "LabourBelowThreshold"
        else:
            expected = ""
        got = self.outcome(lambda: self.act(who, "join"))
        assert got == expected
        if expected == "":
            assert counted_before >= THRESHOLD  # labour only: nobody joins without counted labour
            self.members.add(who)
            self.labour[who] -= THRESHOLD

    @precondition(lambda self: self.commune is not None)
    @rule(who=st.integers(0, WALLET))
    def leave(self, who: int) -> None:
        if who not in self.members:
            expected = "CommuneNotMember"
        elif len(self.members) == 1:
            expected = "CommuneLastMember"
        else:
            expected = ""
        assert self.outcome(lambda: self.act(who, "leave")) == expected
        if expected == "":
            self.members.discard(who)

    @precondition(lambda self: self.commune is not None)
    @rule(who=st.integers(0, WALLET))
    def quorum_view(self, who: int) -> None:
        assert self.commune.quorum_for(self.addresses[who]) == self.quorum_for(who)
        assert self.commune.quorum() == min(QUORUM_CAP, len(self.members))

    @precondition(lambda self: self.commune is not None)
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

    @precondition(lambda self: self.commune is not None)
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

    @precondition(lambda self: self.commune is not None)
    @invariant()
    def one_share_per_member_and_shares_equal_members(self) -> None:
        balances = [self.commune.balance_of(a) for a in self.addresses]
        assert all(b in (0, 1) for b in balances)
        assert sum(balances) == self.commune.member_count() == len(self.members)
        assert {i for i, b in enumerate(balances) if b} == self.members
        assert self.members  # never empty: the last member cannot leave

    @precondition(lambda self: self.commune is not None)
    @invariant()
    def labour_matches_model(self) -> None:
        assert [self.commune.counted_labour(a) for a in self.addresses] == self.labour

    @precondition(lambda self: self.commune is not None)
    @invariant()
    def contract_holds_no_ether(self) -> None:
        assert self.chain.w3.eth.get_balance(self.commune.address) == 0


TestMembershipMachine = MembershipMachine.TestCase

