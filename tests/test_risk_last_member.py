"""Risk 4: the last member leaving, so that income would be owed to nobody.

The finding: the last member could leave. memberCount fell to 0, every later income (rent, a
liquidation's surplus, a deposit) went to the treasury's carry, divided among nobody, and with no
member left nobody could attest labour, so nobody could ever join to claim it: the tokens were stuck
for good. The fix: `leave` reverts CommuneLastMember(member) when memberCount is 1.
"""

from __future__ import annotations

import pytest

from adversarial import UNIT, World, arts, assert_books_exact, deploy, expect_revert, module_chain  # noqa: F401
from vcengine.commune import CommuneClient


@pytest.fixture(scope="module")
def pair_world(module_chain, arts):
    """A commune of accounts[0] and accounts[1] with its treasury; 300 deposited: 150 each."""
    d = deploy(module_chain, arts, founders=2, fund=4)
    d.treasury.deposit_income(300 * UNIT, sender=module_chain.accounts[3])
    return World(d)


@pytest.fixture
def pair(pair_world):
    return pair_world.reset()


def test_the_last_member_cannot_leave_and_later_income_is_never_owed_to_nobody(pair):
    """Old code: after accounts[1] left, accounts[0] could leave too; the next 100 deposited went to the
    carry of a commune without members (owed to nobody, forever). Now accounts[0]'s leave reverts
    CommuneLastMember(accounts[0]) and the 100 is all accounts[0]'s: 150 + 100 = 250, while accounts[1]
    keeps the 150 that accrued before it left. Nothing is carried."""
    w = pair
    d, a = w.d, w.chain.accounts
    d.commune.leave(sender=a[1])
    assert d.commune.member_count() == 1
    expect_revert(lambda: d.commune.leave(sender=a[0]), "CommuneLastMember", member=a[0].address)
    assert d.commune.is_member(a[0].address) and d.commune.member_count() == 1
    d.treasury.deposit_income(100 * UNIT, sender=a[3])
    assert (d.treasury.claimable(a[0].address), d.treasury.claimable(a[1].address)) == (250 * UNIT, 150 * UNIT)
    assert d.treasury.carry() == 0
    assert_books_exact(d)
    assert d.treasury.claim_payout(sender=a[1]).amount == 150 * UNIT
    assert d.treasury.claim_payout(sender=a[0]).amount == 250 * UNIT
    assert d.token.balance_of(d.treasury.address) == 0 and d.treasury.owed_tokens() == 0


def test_a_founder_alone_cannot_leave_even_a_membership_only_commune(pair, arts):
    """Old code: a sole founder could leave a membership-only commune (no treasury), leaving it with no
    member and no way to admit one (nobody to attest). Now CommuneLastMember(founder)."""
    w = pair
    a = w.chain.accounts
    solo = CommuneClient.deploy(w.chain, a[2], founders=[a[2].address], artifacts=arts)
    expect_revert(lambda: solo.leave(sender=a[2]), "CommuneLastMember", member=a[2].address)
    assert solo.member_count() == 1 and solo.is_member(a[2].address)


def test_the_last_member_is_whoever_is_left_after_a_newcomer_joined_and_others_left(pair):
    """A worker joins (accounts[0] and [1] attest: the default quorum cap is 3, so both are needed),
    then the two founders leave: the worker is the last member and cannot leave. 90 deposited while
    the three were members is 30 each; 60 after both founders left is all the worker's."""
    w = pair
    d, a = w.d, w.chain.accounts
    claim = d.commune.submit_labour(10, "ipfs://work", sender=a[2]).claim_id
    d.commune.attest(claim, sender=a[0])
    assert d.commune.attest(claim, sender=a[1]).counted
    d.commune.join(sender=a[2])
    d.treasury.deposit_income(90 * UNIT, sender=a[3])
    d.commune.leave(sender=a[0])
    d.commune.leave(sender=a[1])
    expect_revert(lambda: d.commune.leave(sender=a[2]), "CommuneLastMember", member=a[2].address)
    d.treasury.deposit_income(60 * UNIT, sender=a[3])
    assert [d.treasury.claimable(x.address) for x in a[:3]] == [180 * UNIT, 180 * UNIT, 90 * UNIT]
    assert d.treasury.carry() == 0
    assert_books_exact(d)
