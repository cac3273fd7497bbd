"""Risk 6: the join-before-prepayment skim.

The finding: member income was divided at once, among whoever was a member when the rent arrived. A
worker with counted labour could join just before a renter prepaid many periods, take an equal share
of all of it, and leave right after: an 8-period prepayment of 2,400 with 4 members gave the
worker 600 for a few seconds of membership.

The fix (Treasury): the member income of a payment for k rental periods is cut into k equal parts,
the part of rental period i released when the grid period containing that period's start begins
(grid period g = [origin + g*P, origin + (g+1)*P), origin = the treasury's creation); the remainder
of the cut is divided at once. A renter who returns early is refunded the parts not yet begun; bond
service paid ahead stays with the bonds.

Setting: the asset costs 100 at 2%, rent 300 x 12 by accounts[0]; at settlement (time S) period 0's 300
pays interest 2 and principal 100, so the bonds are redeemed at once and 198 is member income, 66 for
each founder. Every later rent is member income in full. S - origin is under one period, so rental
period i starts in grid period i (S + i*P lies in [origin + i*P, origin + (i+1)*P)).
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    PERIOD, UNIT, World, arts, assert_books_exact, at, block_time, deploy, finance, module_chain,
    series_of,
)

FOUNDERS = 3
WORKER = 5


@pytest.fixture(scope="module")
def owned_world(module_chain, arts):
    """The fully owned asset above; accounts[5] has 10 units counted (accounts[0] and [1] attested)
    but has not joined."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, fund=6, quorum_cap=2)
    asset = finance(d, a[0], a[3:4], price=100 * UNIT, rent=300 * UNIT, periods=12)
    assert d.stock.is_fully_owned(asset)
    claim = d.commune.submit_labour(10, "ipfs://timesheet", sender=a[WORKER]).claim_id
    d.commune.attest(claim, sender=a[0])
    assert d.commune.attest(claim, sender=a[1]).counted
    start, origin = d.stock.rental(asset).start, d.treasury.grid_origin()
    assert 0 < start - origin < PERIOD - 10
    return World(d, asset=asset, start=start, origin=origin)


@pytest.fixture
def owned(owned_world):
    return owned_world.reset()


def claimable(d, accounts):
    return [d.treasury.claimable(x.address) for x in accounts]


def test_joining_just_before_an_8_period_prepayment_earns_one_periods_share(owned):
    """Old code: the worker joined, the renter paid periods 1..8 (2,400) at once, all of it was divided
    among the 4 members (600 each) and the worker left with 600. Now, with the payment at S + P + 1
    (rental period 1 has begun, in grid period 1; periods 2..8 start in grid periods 2..8, not begun):
    part = 2,400 / 8 = 300, remainder 0; period 1's part is divided at once, 300 / 4 = 75 each; the
    worker leaves at S + P + 2 with 75. The 7 other parts go to the three founders as their grid
    periods begin: 7 x 300 / 3 = 700 each, so 66 + 75 + 700 = 841 each, and the worker keeps 75."""
    w = owned
    d, a = w.d, w.chain.accounts
    founders, worker = a[:FOUNDERS], a[WORKER]
    at(w.chain, w.start + PERIOD)
    d.commune.join(sender=worker)
    paid = d.stock.pay_rent(w.asset, 8, sender=a[0], approve=False)
    assert (paid.amount, paid.to_bonds, paid.to_members) == (2_400 * UNIT, 0, 2_400 * UNIT)
    assert block_time(w.chain, paid.tx) == w.start + PERIOD + 1
    d.commune.leave(sender=worker)
    assert d.treasury.claimable(worker.address) == 75 * UNIT
    assert claimable(d, founders) == [141 * UNIT] * 3
    assert d.treasury.scheduled_income() == 2_100 * UNIT
    assert_books_exact(d)
    at(w.chain, w.origin + 9 * PERIOD)  # grid period 9 begins: periods 2..8 have all begun
    d.treasury.release(64, sender=a[9])
    assert claimable(d, founders) == [841 * UNIT] * 3
    assert d.treasury.claimable(worker.address) == 75 * UNIT
    assert d.treasury.scheduled_income() == 0 and d.treasury.carry() == 0
    assert d.treasury.claim_payout(sender=worker).amount == 75 * UNIT
    assert_books_exact(d)


def test_paying_ahead_in_period_zero_gives_a_newcomer_none_of_it(owned):
    """Paid at S + 1 (still rental period 0, grid period 0), periods 1..8 start in grid periods 1..8,
    none begun: nothing is divided at once, and a worker who joins before and leaves after earns 0
    of the 2,400 (old code: 600)."""
    w = owned
    d, a = w.d, w.chain.accounts
    worker = a[WORKER]
    d.commune.join(sender=worker)
    d.stock.pay_rent(w.asset, 8, sender=a[0], approve=False)
    d.commune.leave(sender=worker)
    assert d.treasury.claimable(worker.address) == 0
    assert d.treasury.scheduled_income() == 2_400 * UNIT
    assert claimable(d, a[:FOUNDERS]) == [66 * UNIT] * 3


def test_a_payment_made_after_the_grid_boundary_inside_a_rental_period_releases_two_parts(owned):
    """A limit of the grid rule, pinned: rental period 1 = [S + P, S + 2P) straddles the start of grid
    period 2 (origin + 2P). Paid at origin + 2P + 1, after period 1's due date (within grace), the parts
    of periods 1 (grid period 1) and 2 (grid period 2) have both begun and are divided at once:
    2 x 300 / 4 = 150 for a worker who joined at origin + 2P and leaves right after: two periods' shares,
    never more while the grace is under one period (old code: 600)."""
    w = owned
    d, a = w.d, w.chain.accounts
    worker = a[WORKER]
    at(w.chain, w.origin + 2 * PERIOD)
    d.commune.join(sender=worker)
    d.stock.pay_rent(w.asset, 8, sender=a[0], approve=False)
    d.commune.leave(sender=worker)
    assert d.treasury.claimable(worker.address) == 150 * UNIT
    assert claimable(d, a[:FOUNDERS]) == [(66 + 150) * UNIT] * 3
    assert d.treasury.scheduled_income() == 1_800 * UNIT
    assert_books_exact(d)


def test_a_renter_who_returns_early_is_refunded_the_income_of_periods_not_begun(owned):
    """Old code: `returnAsset` refunded nothing; the prepaid 2,400 had been divided. Now: periods 1..8 paid
    at S + P + 1, returned at S + P + 2 (grid period 1): the parts of periods 2..8, 7 x 300 = 2,100, are
    refunded; period 1's 300 (begun) stays income, 100 for each founder. The renter paid 300 + 2,400 and
    got 2,100 back: rentPaid = 600, and the members' income is 198 + 300 = 498, 166 each."""
    w = owned
    d, a = w.d, w.chain.accounts
    renter = a[0]
    at(w.chain, w.start + PERIOD + 1)
    d.stock.pay_rent(w.asset, 8, sender=renter, approve=False)
    funds = d.token.balance_of(renter.address)
    tx = d.stock.return_asset(w.asset, sender=renter)
    assert d.token.balance_of(renter.address) - funds == 2_100 * UNIT
    assert d.treasury.rent_paid(renter.address) == 600 * UNIT
    assert d.treasury.total_income() == 498 * UNIT
    assert d.treasury.scheduled_income() == 0
    assert claimable(d, a[:FOUNDERS]) == [166 * UNIT] * 3
    assert [e.name for e in tx.events] == ["RentalEnded", "RentalAuctionOpened"]
    assert_books_exact(d)
    at(w.chain, w.origin + 10 * PERIOD)  # nothing more is released: the refunded parts are gone
    d.treasury.release(64, sender=a[9])
    assert claimable(d, a[:FOUNDERS]) == [166 * UNIT] * 3
    assert_books_exact(d)


@pytest.fixture(scope="module")
def indebted_world(owned_world):
    """On top of the owned world: accounts[1] rents a second asset, 1,000 at 2%, rent 300 x 4 (lender
    accounts[3]); period 0 at settlement pays interest 20 and principal 280: 720 left."""
    w = owned_world.reset()
    a = w.chain.accounts
    asset = finance(w.d, a[1], a[3:4])
    return World(w.d, asset=asset, start=w.d.stock.rental(asset).start, origin=w.origin)


@pytest.fixture
def indebted(indebted_world):
    return indebted_world.reset()


def test_bond_service_paid_ahead_stays_with_the_bonds_on_early_return(indebted):
    """accounts[1] pays periods 1..3 (900) in period 0: no new interest, so 720 redeems the principal and
    180 is member income, 60 for each of the 3 periods (none begun). Returned at once: the 180 is refunded,
    the 720 stays with the bonds (which received 300 + 720 = 1,020: principal 1,000, interest 20); the
    renter's net cost is 300 + 900 - 180 = 1,020, all bond service."""
    w = indebted
    d, a = w.d, w.chain.accounts
    renter = a[1]
    funds = d.token.balance_of(renter.address)
    paid = d.stock.pay_rent(w.asset, 3, sender=renter, approve=False)
    assert (paid.to_bonds, paid.to_members, paid.redeemed) == (720 * UNIT, 180 * UNIT, True)
    d.stock.return_asset(w.asset, sender=renter)
    assert funds - d.token.balance_of(renter.address) == 720 * UNIT
    assert d.treasury.rent_paid(renter.address) == 1_020 * UNIT
    assert series_of(d, w.asset).call("totalPaid") == 1_020 * UNIT
    assert d.stock.is_fully_owned(w.asset)
    assert_books_exact(d)


def test_a_part_is_released_exactly_when_its_grid_period_begins(owned):
    """Periods 1..8 prepaid at S + P + 1: period 2's part (300, 100 per founder) waits for grid period 2,
    which begins at origin + 2P: a release at origin + 2P - 1 divides nothing, one at origin + 2P divides
    exactly that part."""
    w = owned
    d, a = w.d, w.chain.accounts
    at(w.chain, w.start + PERIOD + 1)
    d.stock.pay_rent(w.asset, 8, sender=a[0], approve=False)
    assert claimable(d, a[:FOUNDERS]) == [166 * UNIT] * 3  # 66 + period 1's 300 / 3
    at(w.chain, w.origin + 2 * PERIOD - 1)
    d.treasury.release(64, sender=a[9])
    assert d.treasury.released_through() == 1 and claimable(d, a[:FOUNDERS]) == [166 * UNIT] * 3
    at(w.chain, w.origin + 2 * PERIOD)
    tx = d.treasury.release(64, sender=a[9])
    assert tx.event("IncomeReleased").args == {"throughPeriod": 2, "amount": 300 * UNIT}
    assert claimable(d, a[:FOUNDERS]) == [266 * UNIT] * 3
    assert_books_exact(d)


def test_a_join_at_a_period_boundary_leaves_the_begun_periods_to_the_members_before_it(owned):
    """Found in review: `join` counted the new member before the treasury released the begun periods,
    so their income was divided among four while the joiner's checkpoint skipped it: a quarter of it
    was owed to nobody, for ever. Now the treasury releases first, among the members before the join.

    Periods 1..8 paid a few seconds after S (still grid period 0: none begun); at origin + P (grid period
    1 begins, its 300 pending) the worker joins before any other call: the 300 goes to the three
    founders, 100 each; the joiner gets nothing of it; and every token the treasury holds is owed."""
    d, a, w = owned.d, owned.d.chain.accounts, owned
    assert d.treasury.current_period() == 0
    d.stock.pay_rent(w.asset, 8, sender=a[0])
    before = claimable(d, a[:FOUNDERS])
    at(d.chain, w.origin + PERIOD)
    d.commune.join(sender=a[WORKER])
    assert claimable(d, a[:FOUNDERS]) == [x + 100 * UNIT for x in before]
    assert d.treasury.claimable(a[WORKER].address) == 0
    assert_books_exact(d)
