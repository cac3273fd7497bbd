"""Risk 10: a liquidation nobody bids in, and a token that blocklists a commune contract.

The findings: (a) a liquidation whose reserve nobody would pay reopened at the same reserve forever:
the asset never sold and the bondholders were never paid; (b) with a blocklisting token (USDC's
blacklist), a blocked series or treasury made every settlement that pays escrow on revert, so a
rental auction's leader or a liquidation's buyer could never get their escrow back.

The fixes: (a) each reopening without a bid lowers the reserve by a quarter of the original:
reserve = ceil(price * reserveBps * (4 - r) / (4 * 10_000)) after r reopenings, zero after 4;
(b) settlements that pay escrow on run in a self-call; if the token refuses, SettlementRefused is
emitted, the leader is credited their escrow and the sale reopens (a bond auction fails with
PaymentRefused instead). Rent for an asset whose series is blocked is refused by the token: the
documented limit (the renter cannot pay, and is reclaimed in the end).
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    DAY, SALE, UNIT, World, arts, assert_books_exact, at, block_time, decode_error, deploy, expect_revert, finance,
    module_chain, request, to_liquidation, to_rental_auction,
)
from vcengine.stock import AssetState, Failure

PRICE = 999_999_999  # an odd price, so the reserve's rounding up shows
# interest of period 0: ceil(999_999_999 * 200 / 10_000) = ceil(19_999_999.98) = 20_000_000; the
# escrowed 300 pays it and 280 of principal at settlement
OWED = PRICE - (300 * UNIT - 20_000_000)  # 719_999_999, all within the series' period 0 below
# ceil(999_999_999 * 5_000 * (4 - r) / 40_000) for r = 0..4, by hand:
# 499_999_999.5, 374_999_999.625, 249_999_999.75, 124_999_999.875, 0
RESERVES = [500_000_000, 375_000_000, 250_000_000, 125_000_000, 0]


@pytest.fixture(scope="module")
def reserve_world(module_chain, arts):
    """Reserve 50% of the price; accounts[0]'s asset (999.999999 at 2%, rent 300 x 4) returned and
    unrented: in liquidation, no bid."""
    d = deploy(module_chain, arts, fund=8, liquidation_reserve_bps=5_000)
    a = module_chain.accounts
    asset = finance(d, a[0], a[3:5], price=PRICE)
    to_liquidation(d, asset, a[0])
    return World(d, asset=asset)


@pytest.fixture
def unsold(reserve_world):
    return reserve_world.reset()


def test_the_reserve_steps_down_with_each_reopening_and_reaches_zero_after_four(unsold):
    """Old code: every reopening kept the reserve at 500 and the asset stayed unsold for ever. Now after r
    reopenings a bid of one base unit under RESERVES[r] is refused (LiquidationBelowReserve), the sale
    closes with no bid and reopens with the next reserve (LiquidationOpened(asset, now + SALE, reserve)),
    and after 4 reopenings (the count stops there) a bid of 1 base unit buys the asset: 1 to the bonds,
    the rest of the 719.999999 owed written off."""
    w = unsold
    d, a = w.d, w.chain.accounts
    for r in range(5):
        sale = d.stock.sale(w.asset)
        assert (sale.reopenings, d.stock.liquidation_reserve(w.asset)) == (r, RESERVES[r])
        if RESERVES[r]:
            expect_revert(lambda: d.stock.bid_liquidation(w.asset, RESERVES[r] - 1, sender=a[6], approve=False),
                          "LiquidationBelowReserve", amount=RESERVES[r] - 1, reserve=RESERVES[r])
        at(w.chain, sale.closes_at)
        tx = d.stock.settle_liquidation(w.asset, sender=a[9]).tx
        assert tx.event("LiquidationOpened").args == {
            "assetId": w.asset, "closesAt": block_time(w.chain, tx) + SALE, "reserve": RESERVES[min(r + 1, 4)]}
    assert d.stock.sale(w.asset).reopenings == 4
    d.stock.bid_liquidation(w.asset, 1, sender=a[6], approve=False)
    at(w.chain, d.stock.sale(w.asset).closes_at)
    sold = d.stock.settle_liquidation(w.asset, sender=a[9])
    assert (sold.sold, sold.buyer, sold.proceeds, sold.to_bonds, sold.to_members, sold.shortfall) == (
        True, a[6].address, 1, 1, 0, OWED - 1)
    assert d.stock.asset(w.asset).state == AssetState.LIQUIDATED and d.stock.title_holder(w.asset) == a[6].address
    assert_books_exact(d)


def test_a_bid_at_the_lowered_reserve_is_accepted(unsold):
    """After one reopening the reserve is 375: 374.999999 refused, 375 accepted."""
    w = unsold
    d, a = w.d, w.chain.accounts
    at(w.chain, d.stock.sale(w.asset).closes_at)
    d.stock.settle_liquidation(w.asset, sender=a[9])
    expect_revert(lambda: d.stock.bid_liquidation(w.asset, 374_999_999, sender=a[6], approve=False),
                  "LiquidationBelowReserve", amount=374_999_999, reserve=375_000_000)
    d.stock.bid_liquidation(w.asset, 375_000_000, sender=a[6], approve=False)
    assert d.stock.sale(w.asset).leader == a[6].address


# ---------------------------------------------------------------- blocklist


@pytest.fixture(scope="module")
def block_world(module_chain, arts):
    """BlocklistToken. Each asset 1,000 at 2%, rent 300 x 4 unless said (lenders accounts[3], [4]):

    liquidated: accounts[2]'s, in liquidation, accounts[6] leads at 100 (debt 720 outstanding);
    auctioned:  accounts[1]'s, returned: rental auction, accounts[0] leads at 400 x 2;
    owned:      accounts[2]'s, price 100 (redeemed at settlement: all later rent is member income),
                returned: rental auction, accounts[1] leads at 50 x 1;
    rented:     accounts[0]'s, rented;
    open_:      requested by accounts[1] at price 100, rent 300 x 4, bid in full by accounts[3] at 1%:
                its settlement's first period would pay 101 to the bonds and 199 to the members."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, token="BlocklistToken", fund=8)
    liquidated = finance(d, a[2], a[3:5])
    to_liquidation(d, liquidated, a[2])
    d.stock.bid_liquidation(liquidated, 100 * UNIT, sender=a[6], approve=False)
    auctioned = finance(d, a[1], a[3:5])
    to_rental_auction(d, auctioned, a[1])
    d.stock.bid_rent(auctioned, 400 * UNIT, 2, sender=a[0], approve=False)
    owned = finance(d, a[2], a[3:4], price=100 * UNIT)
    assert d.stock.is_fully_owned(owned)
    to_rental_auction(d, owned, a[2])
    d.stock.bid_rent(owned, 50 * UNIT, 1, sender=a[1], approve=False)
    rented = finance(d, a[0], a[3:5])
    open_ = request(d, a[1], 100 * UNIT, 300 * UNIT, 4, closes_in=DAY)
    open_bid = d.stock.bid(open_, 100 * UNIT, 100, sender=a[3], approve=False).bid_id
    assert_books_exact(d)
    return World(d, liquidated=liquidated, auctioned=auctioned, owned=owned, rented=rented, open_=open_,
                 open_bid=open_bid)


@pytest.fixture
def blocked(block_world):
    return block_world.reset()


def block(w, address):
    w.d.tok.transact("setBlocked", address, True, sender=w.chain.accounts[9])


def refused_reason(w, tx, asset_id):
    args = tx.event("SettlementRefused").args
    assert args["assetId"] == asset_id
    return decode_error(w.d.stock, args["reason"])


def test_a_blocked_series_cannot_trap_the_rental_auction_leaders_escrow(blocked):
    """Old code: settleRental reverted (BlocklistTokenBlocked(series)) every time; the leader's 400 could
    never be withdrawn (neither settled nor outbid). Now: SettlementRefused carries
    BlocklistTokenBlocked(series), accounts[0] is credited 400 and withdraws it, the auction reopens for
    SALE seconds with no leader."""
    w = blocked
    d, a = w.d, w.chain.accounts
    series = d.stock.asset(w.auctioned).series
    block(w, series)
    at(w.chain, d.stock.sale(w.auctioned).closes_at)
    tx = d.stock.transact("settleRental", w.auctioned, sender=a[9])
    assert refused_reason(w, tx, w.auctioned) == ("BlocklistTokenBlocked", {"account": series})
    sale = d.stock.sale(w.auctioned)
    assert (sale.leader, sale.amount, sale.closes_at) == (None, 0, block_time(w.chain, tx) + SALE)
    assert d.stock.asset(w.auctioned).state == AssetState.RENTAL_AUCTION
    assert d.stock.credits(a[0].address) == 400 * UNIT
    assert d.stock.commitments(a[0].address) == 1  # accounts[0] still rents `rented`
    funds = d.token.balance_of(a[0].address)
    d.stock.withdraw(sender=a[0])
    assert d.token.balance_of(a[0].address) - funds == 400 * UNIT
    assert_books_exact(d)


def test_a_blocked_treasury_cannot_trap_the_rental_auction_leaders_escrow(blocked):
    """The fully owned asset: the winner's 50 would all go to the treasury, which is blocked. Old code:
    settleRental reverted for ever. Now refused with BlocklistTokenBlocked(treasury); accounts[1] is
    credited 50."""
    w = blocked
    d, a = w.d, w.chain.accounts
    block(w, d.treasury.address)
    at(w.chain, d.stock.sale(w.owned).closes_at)
    tx = d.stock.transact("settleRental", w.owned, sender=a[9])
    assert refused_reason(w, tx, w.owned) == ("BlocklistTokenBlocked", {"account": d.treasury.address})
    assert d.stock.credits(a[1].address) == 50 * UNIT and d.stock.sale(w.owned).leader is None
    assert_books_exact(d)


def test_a_blocked_series_cannot_trap_a_liquidation_buyers_escrow(blocked):
    """Old code: settleLiquidation reverted for ever (the proceeds go to the bonds first). Now refused with
    BlocklistTokenBlocked(series): the buyer accounts[6] is credited its 100 and withdraws it; the sale
    reopens with its reopenings (and reserve) unchanged."""
    w = blocked
    d, a = w.d, w.chain.accounts
    series = d.stock.asset(w.liquidated).series
    block(w, series)
    at(w.chain, d.stock.sale(w.liquidated).closes_at)
    tx = d.stock.transact("settleLiquidation", w.liquidated, sender=a[9])
    assert refused_reason(w, tx, w.liquidated) == ("BlocklistTokenBlocked", {"account": series})
    sale = d.stock.sale(w.liquidated)
    assert (sale.leader, sale.amount, sale.reopenings, sale.closes_at) == (None, 0, 0, block_time(w.chain, tx) + SALE)
    assert d.stock.asset(w.liquidated).state == AssetState.LIQUIDATION
    funds = d.token.balance_of(a[6].address)
    d.stock.withdraw(sender=a[6])
    assert d.token.balance_of(a[6].address) - funds == 100 * UNIT
    assert_books_exact(d)


def test_a_blocked_treasury_fails_the_bond_auction_and_refunds_everyone(blocked):
    """The first period at settlement would pay 199 of member income into the blocked treasury. Old code:
    settle had no payment to make. Now the sale fails with PaymentRefused (3): the lender's 100 is
    refunded in full by claim and the requester accounts[1] is credited its escrowed 300."""
    w = blocked
    d, a = w.d, w.chain.accounts
    block(w, d.treasury.address)
    at(w.chain, d.stock.asset(w.open_).auction_closes_at)
    settled = d.stock.settle(w.open_, sender=a[9])
    assert (settled.cleared, settled.failure) == (False, Failure.PAYMENT_REFUSED)
    assert refused_reason(w, settled.tx, w.open_) == ("BlocklistTokenBlocked", {"account": d.treasury.address})
    assert d.stock.credits(a[1].address) == 300 * UNIT
    claimed = d.stock.claim(w.open_bid, sender=a[3])
    assert (claimed.bonds, claimed.refund) == (0, 100 * UNIT)
    assert_books_exact(d)


def test_rent_for_an_asset_whose_series_is_blocked_is_refused_by_the_token(blocked):
    """The documented limit: the renter's rent goes to the series first, and the token refuses it:
    BlocklistTokenBlocked(series). Nothing moves."""
    w = blocked
    d, a = w.d, w.chain.accounts
    series = d.stock.asset(w.rented).series
    block(w, series)
    expect_revert(lambda: d.stock.pay_rent(w.rented, 1, sender=a[0], approve=False),
                  "BlocklistTokenBlocked", account=series)
    assert d.stock.rental(w.rented).paid_periods == 1
    assert_books_exact(d)
