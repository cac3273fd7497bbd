"""Extra risk: time at every boundary, one second on each side of every deadline.

For each deadline the last second before it and the deadline itself are tried, with the exact error on
the early side: a bond auction's close (bids until closesAt - 1, AuctionClosed from closesAt; settle
AuctionStillOpen until closesAt - 1), the reclaim due time with grace (ReclaimNotDue until due - 1;
rent accepted at due - 1) and at the term's end, and the closes of rental auctions and liquidation
sales. Zero grace is in test_risk_zero_grace_and_durations.py. Every deadline is an exact block time:
`at(chain, t)` makes the next transaction (and its gas estimate) run at t, checked on the mined block.

Old code: the same comparisons, but a rental started with no period paid, so the reclaim due time was
`start + grace`; these pin `start + (paidPeriods) * period + grace` with paidPeriods = 1 at the start.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    DAY, GRACE, PERIOD, SALE, UNIT, World, arts, at, block_time, deploy, expect_revert, finance, module_chain,
    request, to_liquidation, to_rental_auction,
)
from vcengine.stock import AssetState, RentalEnd


@pytest.fixture(scope="module")
def timed_world(module_chain, arts):
    """Default periods (30 days, grace 7 days, sales 3 days); each asset 1,000 at 2%, rent 300 x 4:

    liquidated: accounts[2]'s, in liquidation, no bid;
    auctioned:  accounts[1]'s, returned: rental auction, no bid;
    rented:     accounts[0]'s, rented, period 0 paid at settlement;
    open_:      requested by accounts[1] (100, rent 300 x 4), closing in a day, bid in full by accounts[3]."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, fund=8)
    liquidated = finance(d, a[2], a[3:5])
    to_liquidation(d, liquidated, a[2])
    auctioned = finance(d, a[1], a[3:5])
    to_rental_auction(d, auctioned, a[1])
    rented = finance(d, a[0], a[3:5])
    open_ = request(d, a[1], 100 * UNIT, 300 * UNIT, 4, closes_in=DAY)
    d.stock.bid(open_, 100 * UNIT, 100, sender=a[3], approve=False)
    return World(d, liquidated=liquidated, auctioned=auctioned, rented=rented, open_=open_)


@pytest.fixture
def w(timed_world):
    return timed_world.reset()


def mined_at(w, tx, t):
    assert block_time(w.chain, tx) == t
    return tx


def test_bond_auction_bids_until_the_second_before_its_close(w):
    d, a = w.d, w.chain.accounts
    closes = d.stock.asset(w.open_).auction_closes_at
    at(w.chain, closes - 1)
    mined_at(w, d.stock.bid(w.open_, 1 * UNIT, 50, sender=a[4], approve=False).tx, closes - 1)
    at(w.chain, closes)
    expect_revert(lambda: d.stock.bid(w.open_, 1 * UNIT, 50, sender=a[4], approve=False),
                  "AuctionClosed", assetId=w.open_, closedAt=closes)


def test_bond_auction_settles_from_its_close(w):
    d, a = w.d, w.chain.accounts
    closes = d.stock.asset(w.open_).auction_closes_at
    at(w.chain, closes - 1)
    expect_revert(lambda: d.stock.settle(w.open_, sender=a[9]), "AuctionStillOpen", assetId=w.open_, closesAt=closes)
    at(w.chain, closes)
    settled = d.stock.settle(w.open_, sender=a[9])
    mined_at(w, settled.tx, closes)
    assert settled.cleared and d.stock.rental(w.open_).start == closes


def test_reclaim_with_grace_is_due_at_start_plus_one_period_plus_grace(w):
    d, a = w.d, w.chain.accounts
    due = d.stock.rental(w.rented).start + PERIOD + GRACE
    assert d.stock.reclaimable_at(w.rented) == (due, RentalEnd.DEFAULTED)
    at(w.chain, due - 1)
    expect_revert(lambda: d.stock.reclaim(w.rented, sender=a[9]), "ReclaimNotDue", assetId=w.rented, reclaimableAt=due)
    at(w.chain, due)
    tx = mined_at(w, d.stock.reclaim(w.rented, sender=a[9]), due)
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.DEFAULTED


def test_rent_paid_in_the_last_second_of_grace_keeps_the_asset(w):
    d, a = w.d, w.chain.accounts
    start = d.stock.rental(w.rented).start
    at(w.chain, start + PERIOD + GRACE - 1)
    mined_at(w, d.stock.pay_rent(w.rented, 1, sender=a[0], approve=False).tx, start + PERIOD + GRACE - 1)
    due = start + 2 * PERIOD + GRACE
    assert d.stock.reclaimable_at(w.rented) == (due, RentalEnd.DEFAULTED)
    expect_revert(lambda: d.stock.reclaim(w.rented, sender=a[9]), "ReclaimNotDue", assetId=w.rented, reclaimableAt=due)


def test_reclaim_at_the_end_of_a_fully_paid_term(w):
    d, a = w.d, w.chain.accounts
    d.stock.pay_rent(w.rented, 3, sender=a[0], approve=False)
    end = d.stock.rental(w.rented).start + 4 * PERIOD
    assert d.stock.reclaimable_at(w.rented) == (end, RentalEnd.TERM_ENDED)
    at(w.chain, end - 1)
    expect_revert(lambda: d.stock.reclaim(w.rented, sender=a[9]), "ReclaimNotDue", assetId=w.rented, reclaimableAt=end)
    at(w.chain, end)
    tx = mined_at(w, d.stock.reclaim(w.rented, sender=a[9]), end)
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.TERM_ENDED


def test_rental_auction_bids_until_the_second_before_its_close(w):
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.auctioned).closes_at
    at(w.chain, closes - 1)
    mined_at(w, d.stock.bid_rent(w.auctioned, 400 * UNIT, 2, sender=a[0], approve=False), closes - 1)
    at(w.chain, closes)
    expect_revert(lambda: d.stock.bid_rent(w.auctioned, 500 * UNIT, 2, sender=a[2], approve=False),
                  "AuctionClosed", assetId=w.auctioned, closedAt=closes)


def test_rental_auction_settles_from_its_close(w):
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.auctioned).closes_at
    d.stock.bid_rent(w.auctioned, 400 * UNIT, 2, sender=a[2], approve=False)
    at(w.chain, closes - 1)
    expect_revert(lambda: d.stock.settle_rental(w.auctioned, sender=a[9]), "AuctionStillOpen",
                  assetId=w.auctioned, closesAt=closes)
    at(w.chain, closes)
    assert d.stock.settle_rental(w.auctioned, sender=a[9]) is True
    rental = d.stock.rental(w.auctioned)
    assert (rental.renter, rental.start, rental.paid_periods) == (a[2].address, closes, 1)


def test_liquidation_bids_until_the_second_before_its_close(w):
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.liquidated).closes_at
    at(w.chain, closes - 1)
    mined_at(w, d.stock.bid_liquidation(w.liquidated, 100 * UNIT, sender=a[6], approve=False), closes - 1)
    at(w.chain, closes)
    expect_revert(lambda: d.stock.bid_liquidation(w.liquidated, 200 * UNIT, sender=a[7], approve=False),
                  "AuctionClosed", assetId=w.liquidated, closedAt=closes)


def test_liquidation_settles_from_its_close(w):
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.liquidated).closes_at
    d.stock.bid_liquidation(w.liquidated, 100 * UNIT, sender=a[6], approve=False)
    at(w.chain, closes - 1)
    expect_revert(lambda: d.stock.settle_liquidation(w.liquidated, sender=a[9]), "AuctionStillOpen",
                  assetId=w.liquidated, closesAt=closes)
    at(w.chain, closes)
    sold = d.stock.settle_liquidation(w.liquidated, sender=a[9])
    mined_at(w, sold.tx, closes)
    assert (sold.sold, sold.buyer) == (True, a[6].address)
    assert d.stock.asset(w.liquidated).state == AssetState.LIQUIDATED


def test_a_sale_reopened_without_a_bid_closes_exactly_sale_seconds_later(w):
    """Reopened at its close T, the liquidation closes again at T + SALE: bids at T + SALE - 1, not at T + SALE."""
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.liquidated).closes_at
    at(w.chain, closes)
    d.stock.settle_liquidation(w.liquidated, sender=a[9])
    again = d.stock.sale(w.liquidated).closes_at
    assert again == closes + SALE
    at(w.chain, again)
    expect_revert(lambda: d.stock.bid_liquidation(w.liquidated, 1, sender=a[6], approve=False),
                  "AuctionClosed", assetId=w.liquidated, closedAt=again)
