"""Risk 7: the accrued-period counter of a debt (uint32) wrapping around.

The finding: `Debt.accruedPeriods` was stored with a bare `uint32(started)` cast. With a 1-second
period, 2**32 period starts come after 2**32 - 1 seconds (136 years): the counter wrapped to 0 (or a
small number) and the next payment accrued interest again for every period since settlement,
counting all of it twice. The fix stores it with SafeCast.toUint32, so the accrual reverts with
SafeCastOverflowedUintDowncast(32, value) instead.

Setting (by hand): period 1 s, grace 1 s (the least), sale 60 s. accounts[0] rents 1,000 at 1 bp a period, rent 10 x
1,200; at settlement (time S) period 0 pays interest ceil(1,000 * 1 / 10_000) = 0.1 and principal 9.9:
990.1 left, 1 period accrued. Period k starts at S + k, so at time S + t, t + 1 periods have started.
The embedded chain travels in time for free.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    UNIT, World, arts, at, assert_books_exact, decode_error, deploy, expect_revert, finance,
    module_chain,
)
from vcengine.stock import AssetState

PRINCIPAL = 990_100_000  # 1,000 - (10 - 0.1)
PER_PERIOD = 99_010  # ceil(990_100_000 * 1 / 10_000) = ceil(99_010.0)
LAST = 2**32 - 1  # the largest count a uint32 holds


@pytest.fixture(scope="module")
def second_world(module_chain, arts):
    d = deploy(module_chain, arts, fund=5, period_seconds=1, grace_seconds=1, sale_seconds=60)
    asset = finance(d, module_chain.accounts[0], module_chain.accounts[3:4], price=1_000 * UNIT,
                    rent=10 * UNIT, periods=1_200, rate=1)
    debt = d.stock.debt(asset)
    assert (debt.principal, debt.interest_owed, debt.accrued_periods) == (PRINCIPAL, 0, 1)
    return World(d, asset=asset, start=debt.start)


@pytest.fixture
def seconds(second_world):
    return second_world.reset()


def test_the_accrual_reverts_when_the_period_count_would_pass_uint32(seconds):
    """At S + 2**32 - 2 the payment accrues 2**32 - 2 periods of 0.09901 (the count, 2**32 - 1, still fits):
    the rent's 10 pays interest only. At S + 2**32 - 1 the count would be 2**32: the payment reverts
    SafeCastOverflowedUintDowncast(32, 2**32). Old code stored 0 there, and the payment after it accrued
    2**32 + 1 periods again (every period since settlement counted twice)."""
    w = seconds
    d, a = w.d, w.chain.accounts
    at(w.chain, w.start + LAST - 1)
    paid = d.stock.pay_rent(w.asset, 1, sender=a[0], approve=False)
    interest = (LAST - 1) * PER_PERIOD  # periods 1 .. 2**32 - 2 on 990.1
    assert (paid.to_bonds, paid.to_members) == (10 * UNIT, 0)
    debt = d.stock.debt(w.asset)
    assert (debt.principal, debt.interest_owed, debt.accrued_periods) == (PRINCIPAL, interest - 10 * UNIT, LAST)
    at(w.chain, w.start + LAST)
    expect_revert(lambda: d.stock.pay_rent(w.asset, 1, sender=a[0], approve=False),
                  "SafeCastOverflowedUintDowncast", bits=32, value=2**32)
    assert d.stock.debt(w.asset).accrued_periods == LAST
    # the view needs no cast and is not affected: one more period started, 0.09901 more interest
    at(w.chain, w.start + LAST + 1)
    assert d.stock.debt_owed(w.asset) == (PRINCIPAL, interest - 10 * UNIT + PER_PERIOD)
    assert_books_exact(d)


def test_after_the_overflow_a_liquidation_buyer_is_refunded_and_the_sale_reopens(seconds):
    """What the revert means for the asset: past 2**32 periods no payment can reach the debt, so a
    liquidation's settlement (which services the debt from the proceeds) is refused inside its
    self-call: SettlementRefused carries SafeCastOverflowedUintDowncast(32, count), the buyer is credited
    its escrow and the sale reopens. The asset stays in liquidation, nothing is stuck and nothing is
    counted twice (a liveness limit, 136 years into a 1-second-period commune)."""
    w = seconds
    d, a = w.d, w.chain.accounts
    at(w.chain, w.start + LAST)
    d.stock.reclaim(w.asset, sender=a[9])  # rental period 1 was due at S + 1
    closes = d.stock.sale(w.asset).closes_at
    at(w.chain, closes)
    assert d.stock.settle_rental(w.asset, sender=a[9]) is False  # nobody bid: liquidation
    d.stock.bid_liquidation(w.asset, 500 * UNIT, sender=a[4], approve=False)
    closes = d.stock.sale(w.asset).closes_at
    at(w.chain, closes)
    tx = d.stock.transact("settleLiquidation", w.asset, sender=a[9])
    count = closes - w.start + 1
    refused = tx.event("SettlementRefused").args
    assert decode_error(d.stock, refused["reason"]) == ("SafeCastOverflowedUintDowncast", {"bits": 32, "value": count})
    assert d.stock.asset(w.asset).state == AssetState.LIQUIDATION
    assert d.stock.credits(a[4].address) == 500 * UNIT and d.stock.sale(w.asset).leader is None
    assert_books_exact(d)


def test_with_one_second_periods_membership_waits_for_billions_of_releases(seconds):
    """A related bound, pinned: the treasury's grid has the same 1-second periods and every join or leave
    first releases every begun period, at most MAX_RELEASE_PERIODS = 64 per call. The world made one
    treasury call (the settlement's rent: released through grid period 64); at S + 2**32 - 1 a worker's
    join releases 64 more and then reverts TreasuryReleasePending(128, current), current = its block time
    minus the grid's origin: over 2**32 periods are pending, so membership cannot change until someone
    pays for about 2**32 / 64 release calls."""
    w = seconds
    d, a = w.d, w.chain.accounts
    claim = d.commune.submit_labour(10, "ipfs://w", sender=a[5]).claim_id
    for member in a[:3]:
        d.commune.attest(claim, sender=member)
    assert d.treasury.released_through() == 64
    t = w.start + LAST
    at(w.chain, t)
    current = t - d.treasury.grid_origin()
    assert current > 2**32
    expect_revert(lambda: d.commune.join(sender=a[5]), "TreasuryReleasePending", releasedThrough=128, current=current)
    expect_revert(lambda: d.commune.leave(sender=a[1]), "TreasuryReleasePending", releasedThrough=128, current=current)


def test_release_of_any_number_of_periods_saturates_at_what_has_begun(seconds):
    """Found in review: `release(type(uint256).max)` computed releasedThrough + maxPeriods and panicked
    (arithmetic overflow, 0x11). Now the count saturates: any maxPeriods releases at most the grid
    periods that have begun. The settlement released through grid period 64 (MAX_RELEASE_PERIODS);
    100 seconds later one call releases every begun period, up to the current one, and the next call,
    a block (one 1-second period) later, releases exactly one more."""
    w = seconds
    d, a = w.d, w.chain.accounts
    t = w.start + 100
    at(w.chain, t)
    current = t - d.treasury.grid_origin()
    assert current > 64 + 1 and d.treasury.released_through() == 64
    d.treasury.transact("release", 2**256 - 1, sender=a[9])
    assert d.treasury.released_through() == current
    d.treasury.transact("release", 2**256 - 1, sender=a[9])
    assert d.treasury.released_through() == current + 1
