"""Risk 8: a member's own labour claim in a small commune.

The finding: the quorum was min(quorumCap, memberCount) for every claim, but a worker may not attest
their own claim. In a 2-member commune a member's claim needed 2 attestations and only the other
member could give one: it could never be counted. The fix counts a claim's quorum among those who
may attest it: quorumFor(worker) = min(quorumCap, memberCount - (worker is a member ? 1 : 0)).
In a 1-member commune that is 0 for the member, whose claim still can never be counted: nobody else
may attest it and counting only happens on an attestation.
"""

from __future__ import annotations

import pytest

from adversarial import arts, expect_revert, module_chain  # noqa: F401
from vcengine.commune import CommuneClient


@pytest.fixture(scope="module")
def small_world(module_chain, arts):
    """Membership-only communes (no treasury or stock): accounts[0] and [1]; accounts[2] alone."""
    a = module_chain.accounts
    pair = CommuneClient.deploy(module_chain, a[0], founders=[a[0].address, a[1].address], labour_threshold=10,
                                quorum_cap=3, artifacts=arts)
    solo = CommuneClient.deploy(module_chain, a[0], founders=[a[2].address], labour_threshold=10, quorum_cap=3,
                                artifacts=arts)
    return {"pair": pair, "solo": solo, "snap": module_chain.snapshot()}


@pytest.fixture
def small(small_world, module_chain):
    module_chain.revert(small_world["snap"])
    return small_world


def test_in_a_two_member_commune_the_other_members_single_attestation_counts_a_members_claim(small, module_chain):
    """Old code: quorum() = min(3, 2) = 2 for accounts[0]'s own claim, but accounts[0] may not attest it:
    one attestation, never counted. Now quorumFor(accounts[0]) = min(3, 2 - 1) = 1: accounts[0]'s own
    attestation is refused (LabourSelfAttestation) and accounts[1]'s single one counts the 10 units."""
    pair, a = small["pair"], module_chain.accounts
    assert (pair.quorum(), pair.quorum_for(a[0].address), pair.quorum_for(a[5].address)) == (2, 1, 2)
    claim = pair.submit_labour(10, "ipfs://own-work", sender=a[0]).claim_id
    expect_revert(lambda: pair.attest(claim, sender=a[0]), "LabourSelfAttestation", claimId=claim, attester=a[0].address)
    counted = pair.attest(claim, sender=a[1])
    assert (counted.attestations, counted.counted) == (1, True)
    assert counted.tx.event("LabourCounted").args == {"claimId": claim, "worker": a[0].address, "units": 10,
                                                      "countedLabour": 10, "quorum": 1}
    assert pair.counted_labour(a[0].address) == 10


def test_in_a_two_member_commune_an_outsiders_claim_still_needs_both(small, module_chain):
    """A non-member's claim: quorumFor = min(3, 2) = 2; one attestation does not count it, the second does."""
    pair, a = small["pair"], module_chain.accounts
    claim = pair.submit_labour(10, "ipfs://outsider", sender=a[5]).claim_id
    assert pair.attest(claim, sender=a[0]).counted is False
    assert pair.counted_labour(a[5].address) == 0
    assert pair.attest(claim, sender=a[1]).counted is True
    assert pair.join(sender=a[5]).share_id == 3


def test_in_a_one_member_commune_the_members_own_claim_can_never_be_counted(small, module_chain):
    """quorumFor(accounts[2]) = min(3, 1 - 1) = 0, but a claim is only counted by an attestation, and the
    only member may not attest its own (LabourSelfAttestation) while nobody else may attest
    (CommuneNotMember). The claim stays uncounted; an outsider's claim (quorum 1) is counted by the member."""
    solo, a = small["solo"], module_chain.accounts
    assert (solo.quorum(), solo.quorum_for(a[2].address)) == (1, 0)
    claim = solo.submit_labour(10, "ipfs://alone", sender=a[2]).claim_id
    expect_revert(lambda: solo.attest(claim, sender=a[2]), "LabourSelfAttestation", claimId=claim, attester=a[2].address)
    expect_revert(lambda: solo.attest(claim, sender=a[6]), "CommuneNotMember", account=a[6].address)
    c = solo.labour_claim(claim)
    assert (c.attestations, c.counted) == (0, False) and solo.counted_labour(a[2].address) == 0
    other = solo.submit_labour(10, "ipfs://newcomer", sender=a[6]).claim_id
    assert solo.attest(other, sender=a[2]).counted
