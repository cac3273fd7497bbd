"""Risk 1: a settlement token that does not move exactly the amount asked (fee on transfer, rebase).

The finding: the contracts counted what they asked for, not what arrived. With a 1% fee on transfer,
two 600 bids on a 1,000 price escrowed 1,200 in the books but 1,188 in tokens; settlement credited the
vendor 1,000 and the bidders' refunds 200, so the last to withdraw found 12 missing. A positive
rebase left tokens nobody could reach; a negative one left the books promising more than was held.

The fix (libraries/SettlementToken.sol): every transfer into a commune contract is measured by
balanceOf before and after and refused with SettlementTokenInexact(token, expected, actual) when it
is not exact; payouts to accounts only check that the paying contract lost exactly the amount (the
account bears a fee). A surplus (a positive rebase, a stray transfer) can be swept into member income.

All figures by hand: FeeOnTransferToken's fee is floor(value * feeBps / 10_000); RebasingToken's
balance is floor(shares * index / 1e18) and a transfer of v moves floor(v * 1e18 / index) shares.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401 (fixtures are imported to be used by name)
    DAY, FUNDS, UNIT, World, arts, assert_books_exact, at, decode_error, deploy, expect_revert,
    finance, module_chain, request, series_of, to_liquidation, to_rental_auction, vendor,
)
from vcengine.stock import AssetState

COLLECTOR = 19  # accounts[19] receives the fees


# ------------------------------------------------------------------ worlds


@pytest.fixture(scope="module")
def fee_later_world(module_chain, arts):
    """FeeOnTransferToken with its fee dormant (0) while the commune is set up:

    rented:     1,000 at 2% (lenders accounts[3], [4], 500 each), rent 300 x 4 by accounts[0]; period 0
                paid at settlement from the escrow: interest 20, principal 280 (principal left 720).
    liquidated: the same for accounts[2], returned, no rental bid: in liquidation, accounts[6] leads at 100.
    auctioned:  the same for accounts[1], returned: rental auction, accounts[0] leads at 400 x 2.
    open_:      requested by accounts[0] (1,000, rent 300 x 4), bond auction open for a day, no bid.
    income:     300 deposited by accounts[5]: 100 for each of the three founders.
    The vendor (accounts[10]) is credited 3 x 1,000 and has withdrawn nothing."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, token="FeeOnTransferToken", token_args=(a[COLLECTOR].address,))
    rented = finance(d, a[0], a[3:5])
    liquidated = finance(d, a[2], a[3:5])
    to_liquidation(d, liquidated, a[2])
    d.stock.bid_liquidation(liquidated, 100 * UNIT, sender=a[6], approve=False)
    auctioned = finance(d, a[1], a[3:5])
    to_rental_auction(d, auctioned, a[1])
    d.stock.bid_rent(auctioned, 400 * UNIT, 2, sender=a[0], approve=False)
    open_ = request(d, a[0], 1_000 * UNIT, 300 * UNIT, 4, closes_in=DAY)
    d.treasury.deposit_income(300 * UNIT, sender=a[5])
    assert_books_exact(d, (a[COLLECTOR].address,))
    return World(d, rented=rented, liquidated=liquidated, auctioned=auctioned, open_=open_)


@pytest.fixture
def fee_later(fee_later_world):
    return fee_later_world.reset()


@pytest.fixture(scope="module")
def fee_from_start_world(module_chain, arts):
    """FeeOnTransferToken charging 1% from before the commune's first transaction."""
    a = module_chain.accounts
    d = deploy(module_chain, arts, token="FeeOnTransferToken", token_args=(a[COLLECTOR].address,))
    d.tok.transact("setFeeBps", 100, sender=a[0])
    return World(d)


@pytest.fixture
def fee_from_start(fee_from_start_world):
    return fee_from_start_world.reset()


def fee_on(w, bps=100):
    w.d.tok.transact("setFeeBps", bps, sender=w.chain.accounts[0])


def inexact(w, expected, actual):
    return {"token": w.d.token.address, "expected": expected, "actual": actual}


# ---------------------------------------------------------- fee on transfer


def test_fee_from_deployment_refuses_the_first_inbound_moves(fee_from_start):
    """Old code: requestAsset took no escrow and depositIncome used safeTransferFrom, so a 1% fee left the
    treasury 99 holding against 100 of income divided. Now: the request's escrow of 300 arrives as 297
    (fee 3) and the deposit of 100 as 99 (fee 1); both revert and nothing moves."""
    w = fee_from_start
    d, a = w.d, w.chain.accounts
    closes = w.chain.now() + 1 + 3_600
    expect_revert(lambda: d.stock.request_asset("ipfs://x", 1_000 * UNIT, vendor(d), 300 * UNIT, 4, closes,
                                                sender=a[0], approve=False),
                  "SettlementTokenInexact", **inexact(w, 300 * UNIT, 297 * UNIT))
    expect_revert(lambda: d.treasury.deposit_income(100 * UNIT, sender=a[5]),
                  "SettlementTokenInexact", **inexact(w, 100 * UNIT, 99 * UNIT))
    assert d.stock.asset_count() == 0 and d.stock.escrow_held() == 0 and d.treasury.total_income() == 0
    assert d.token.balance_of(a[0].address) == d.token.balance_of(a[5].address) == FUNDS
    assert d.token.balance_of(a[COLLECTOR].address) == 0


def test_two_600_bids_can_no_longer_leave_1188_held_against_1200(fee_later):
    """The finding's numbers. Old code: each 600 bid was taken with safeTransferFrom and counted as 600,
    though 594 arrived: escrowed 1,200, held 1,188; the vendor's 1,000 and the refunds' 200 could not
    all be paid. Now the first 600 bid reverts (594 arrived) and the stock still holds exactly the
    requester's escrowed first period."""
    w = fee_later
    d, a = w.d, w.chain.accounts
    fee_on(w)
    held, escrow = d.token.balance_of(d.stock.address), d.stock.escrow_held()
    for bidder in (a[3], a[4]):
        expect_revert(lambda: d.stock.bid(w.open_, 600 * UNIT, 100, sender=bidder, approve=False),
                      "SettlementTokenInexact", **inexact(w, 600 * UNIT, 594 * UNIT))
    assert d.stock.asset(w.open_).escrowed == 0
    assert (d.token.balance_of(d.stock.address), d.stock.escrow_held()) == (held, escrow)
    assert_books_exact(d, (a[COLLECTOR].address,))


# (move, expected, actual): each amount's fee is 1%, rounded down.
INBOUND = {
    # accounts[1] requests: its first period's rent, 300, is escrowed: 297 arrive.
    "requestAsset": (300 * UNIT, 297 * UNIT),
    # accounts[3] bids 600 in the open bond auction: 594 arrive.
    "bid": (600 * UNIT, 594 * UNIT),
    # accounts[2] outbids the rental leader at 500 x 2 (500 repays 720 + interest in 2 periods): 495 arrive.
    "bidRent": (500 * UNIT, 495 * UNIT),
    # accounts[7] outbids the liquidation leader at 200: 198 arrive.
    "bidLiquidation": (200 * UNIT, 198 * UNIT),
    # accounts[0] pays period 1 of `rented` during period 0: no new interest, so all 300 go to the
    # principal (720 left): pulled from the renter into the series, 297 arrive there.
    "payRent": (300 * UNIT, 297 * UNIT),
    # accounts[5] deposits 100 of income: 99 arrive.
    "depositIncome": (100 * UNIT, 99 * UNIT),
}


@pytest.mark.parametrize("move", list(INBOUND))
def test_fee_switched_on_later_refuses_every_inbound_move(fee_later, move):
    """Old code: every one of these moves used safeTransferFrom and counted the amount asked, so after
    USDT-style fee switch the books ran ahead of the tokens by 1% of every move. Now each reverts with
    SettlementTokenInexact(token, asked, arrived), and nothing changes."""
    w = fee_later
    d, a = w.d, w.chain.accounts
    fee_on(w)
    moves = {
        "requestAsset": lambda: d.stock.request_asset("ipfs://y", 500 * UNIT, vendor(d), 300 * UNIT, 2,
                                                      w.chain.now() + 3_600, sender=a[1], approve=False),
        "bid": lambda: d.stock.bid(w.open_, 600 * UNIT, 100, sender=a[3], approve=False),
        "bidRent": lambda: d.stock.bid_rent(w.auctioned, 500 * UNIT, 2, sender=a[2], approve=False),
        "bidLiquidation": lambda: d.stock.bid_liquidation(w.liquidated, 200 * UNIT, sender=a[7], approve=False),
        "payRent": lambda: d.stock.pay_rent(w.rented, 1, sender=a[0], approve=False),
        "depositIncome": lambda: d.treasury.deposit_income(100 * UNIT, sender=a[5]),
    }
    before = [d.token.balance_of(x) for x in (d.stock.address, d.treasury.address, series_of(d, w.rented).address)]
    expected, actual = INBOUND[move]
    expect_revert(moves[move], "SettlementTokenInexact", **inexact(w, expected, actual))
    after = [d.token.balance_of(x) for x in (d.stock.address, d.treasury.address, series_of(d, w.rented).address)]
    assert after == before
    assert_books_exact(d, (a[COLLECTOR].address,))


def test_fee_switched_on_later_payouts_still_work_and_the_account_bears_the_fee(fee_later):
    """Old code: the same payouts worked; the point is that refusing inexact inbound moves did not also
    freeze the money already held. Payouts check only that the payer lost exactly the amount:
    the vendor withdraws 3 x 1,000 = 3,000 and receives 2,970 (fee 30); lender accounts[3] withdraws
    its half of the 300 `rented`'s series received at settlement, 150, and receives 148.5; founder
    accounts[1] claims its 100 of income and receives 99. Each paying contract loses exactly the amount."""
    w = fee_later
    d, a = w.d, w.chain.accounts
    fee_on(w)
    series = series_of(d, w.rented)
    collector = a[COLLECTOR].address
    stock_before, series_before, treasury_before = (d.token.balance_of(x) for x in
                                                    (d.stock.address, series.address, d.treasury.address))
    d.stock.withdraw(sender=a[10])
    assert d.token.balance_of(vendor(d)) == 2_970 * UNIT
    assert d.token.balance_of(d.stock.address) == stock_before - 3_000 * UNIT
    funds3 = d.token.balance_of(a[3].address)
    series.transact("withdrawPayments", sender=a[3])
    assert d.token.balance_of(a[3].address) - funds3 == 148_500_000
    assert d.token.balance_of(series.address) == series_before - 150 * UNIT
    funds1 = d.token.balance_of(a[1].address)
    assert d.treasury.claim_payout(sender=a[1]).amount == 100 * UNIT
    assert d.token.balance_of(a[1].address) - funds1 == 99 * UNIT
    assert d.token.balance_of(d.treasury.address) == treasury_before - 100 * UNIT
    assert d.token.balance_of(collector) == 30 * UNIT + 1_500_000 + 1 * UNIT
    assert_books_exact(d, (collector,))


def test_fee_switched_on_later_settlements_fall_back_and_no_escrow_is_stuck(fee_later):
    """Old code: settleRental paid the winner's escrow on with safeTransfer; with a fee the series
    received 396 of 400 but recorded 400. Now the payment is measured in a self-call: the rental
    auction's settlement sends 400 to the series (the debt, 720 + interest, is larger), 396 arrive,
    SettlementRefused carries SettlementTokenInexact(token, 400, 396), the leader accounts[0] is
    credited 400 and the auction reopens for SALE seconds. The liquidation's 100 likewise (99 arrive):
    the buyer accounts[6] is credited 100 and the sale reopens, its reopenings unchanged."""
    w = fee_later
    d, a = w.d, w.chain.accounts
    fee_on(w)
    close = max(d.stock.sale(w.auctioned).closes_at, d.stock.sale(w.liquidated).closes_at)
    at(w.chain, close)
    tx = d.stock.transact("settleRental", w.auctioned, sender=a[9])
    now = w.chain.now()
    refused = tx.event("SettlementRefused").args
    assert refused["assetId"] == w.auctioned
    assert decode_error(d.stock, refused["reason"]) == ("SettlementTokenInexact", inexact(w, 400 * UNIT, 396 * UNIT))
    assert d.stock.credits(a[0].address) == 400 * UNIT
    sale = d.stock.sale(w.auctioned)
    assert (sale.leader, sale.amount, sale.closes_at) == (None, 0, now + 3 * DAY)
    assert d.stock.asset(w.auctioned).state == AssetState.RENTAL_AUCTION
    tx = d.stock.transact("settleLiquidation", w.liquidated, sender=a[9])
    refused = tx.event("SettlementRefused").args
    assert decode_error(d.stock, refused["reason"]) == ("SettlementTokenInexact", inexact(w, 100 * UNIT, 99 * UNIT))
    assert d.stock.credits(a[6].address) == 100 * UNIT
    sale = d.stock.sale(w.liquidated)
    assert (sale.leader, sale.amount, sale.reopenings) == (None, 0, 0)
    assert d.stock.asset(w.liquidated).state == AssetState.LIQUIDATION
    assert_books_exact(d, (a[COLLECTOR].address,))
    funds = d.token.balance_of(a[6].address)
    d.stock.withdraw(sender=a[6])  # the escrow comes back, less the token's fee on the payout
    assert d.token.balance_of(a[6].address) - funds == 99 * UNIT
    assert_books_exact(d, (a[COLLECTOR].address,))


# ------------------------------------------------------------------ rebasing


@pytest.fixture(scope="module")
def rebase_world(module_chain, arts):
    """RebasingToken at index 1e18 (shares = balances) while the commune is set up:

    asset 1: 1,000 at 2% (accounts[3], [4]), rent 300 x 4 by accounts[0]: its series holds 300 (period 0);
             the vendor's 1,000 is credited, not withdrawn.
    asset 2: requested by accounts[1] (rent 300 escrowed), accounts[5] bids 400: the stock holds
             1,000 + 300 + 400 = 1,700.
    income:  300 deposited by accounts[6]: the treasury holds 300, 100 for each founder.
    stray:   30 sent to the membership contract by mistake."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, token="RebasingToken")
    first = finance(d, a[0], a[3:5])
    second = request(d, a[1], 1_000 * UNIT, 300 * UNIT, 4, closes_in=DAY)
    d.stock.bid(second, 400 * UNIT, 100, sender=a[5], approve=False)
    d.treasury.deposit_income(300 * UNIT, sender=a[6])
    d.token.transfer(d.commune.address, 30 * UNIT, sender=a[6])
    assert [d.token.balance_of(x) for x in (d.stock.address, series_of(d, first).address, d.treasury.address,
                                            d.commune.address)] == [1_700 * UNIT, 300 * UNIT, 300 * UNIT, 30 * UNIT]
    return World(d, first=first, second=second)


@pytest.fixture
def rebased(rebase_world):
    return rebase_world.reset()


def test_positive_rebase_surplus_is_swept_into_member_income_and_the_books_are_exact(rebased):
    """Old code: no sweep existed; a rebase's gain sat in the contracts beyond every account's reach.
    rebase(2, 1) doubles every balance: the stock holds 3,400 against 1,700 owed, the series 600 against
    300, the treasury 600 against 300, the Commune 60 against nothing. Anyone sweeps, in turn: the
    treasury's 300 (100 for each founder), the Commune's 60 (sent to the treasury: 20 each), the series'
    300 (100 each), the stock's 1,700 (566.666666 each, 2 base units carried). Every surplus is even,
    so at index 2 each transfer of it is exact. Afterwards P5 holds exactly and nothing is left to sweep."""
    w = rebased
    d, a = w.d, w.chain.accounts
    founders = [m.address for m in a[:3]]
    d.tok.transact("rebase", 2, 1, sender=a[9])
    series = series_of(d, w.first)
    assert d.treasury.surplus() == 300 * UNIT
    d.treasury.sweep(sender=a[9])
    assert [d.treasury.claimable(m) for m in founders] == [200 * UNIT] * 3
    d.commune.sweep(sender=a[9])
    assert [d.treasury.claimable(m) for m in founders] == [220 * UNIT] * 3
    assert series.transact("sweep", sender=a[9]).event("SurplusSwept").args["amount"] == 300 * UNIT
    assert [d.treasury.claimable(m) for m in founders] == [320 * UNIT] * 3
    assert d.stock.sweep(sender=a[9]).event("SurplusSwept").args["amount"] == 1_700 * UNIT
    assert [d.treasury.claimable(m) for m in founders] == [886_666_666] * 3
    assert d.treasury.carry() == 2
    # balances = what is owed: stock 1,700 = escrow 700 + credits 1,000; series 300 paid, none withdrawn;
    # treasury 300 + 300 + 60 + 300 + 1,700 = 2,660 of income; the Commune nothing
    assert d.token.balance_of(d.stock.address) == 1_700 * UNIT == d.stock.escrow_held() + d.stock.credits_held()
    assert d.token.balance_of(series.address) == 300 * UNIT
    assert d.token.balance_of(d.treasury.address) == 2_660 * UNIT == d.treasury.owed_tokens()
    assert d.token.balance_of(d.commune.address) == 0
    assert_books_exact(d)
    expect_revert(lambda: d.stock.sweep(sender=a[9]), "NothingToSweep")
    expect_revert(lambda: series.transact("sweep", sender=a[9]), "BondSeriesNothingToSweep")
    expect_revert(lambda: d.treasury.sweep(sender=a[9]), "TreasuryNothingToSweep")
    expect_revert(lambda: d.commune.sweep(sender=a[9]), "CommuneNothingToSweep")
    # the swept income is paid out in full: 886.666666 is even, so exact at index 2
    assert d.treasury.claim_payout(sender=a[0]).amount == 886_666_666
    assert_books_exact(d)


def test_a_transfer_made_short_by_the_rebase_is_refused(rebased):
    """Old code: a bid of 1.000001 at index 2 moved floor(1_000_001 / 2) = 500_000 shares, worth 1.000000,
    and was counted as 1.000001. Now it reverts: SettlementTokenInexact(token, 1_000_001, 1_000_000). An
    even amount at the same index is exact and accepted."""
    w = rebased
    d, a = w.d, w.chain.accounts
    d.tok.transact("rebase", 2, 1, sender=a[9])
    escrow = d.stock.escrow_held()
    expect_revert(lambda: d.stock.bid(w.second, 1_000_001, 100, sender=a[7], approve=False),
                  "SettlementTokenInexact", **inexact(w, 1_000_001, 1_000_000))
    assert d.stock.escrow_held() == escrow
    d.stock.bid(w.second, 1_000_000, 100, sender=a[7], approve=False)
    assert d.stock.escrow_held() == escrow + 1_000_000


# ------------------------------------------------------------ stray transfers


@pytest.fixture(scope="module")
def stray_world(module_chain, arts):
    """TestStablecoin; asset 1 financed (1,000 at 2%, accounts[0]); the vendor's 1,000 credited."""
    d = deploy(module_chain, arts)
    first = finance(d, module_chain.accounts[0], module_chain.accounts[3:5])
    return World(d, first=first)


@pytest.fixture
def stray(stray_world):
    return stray_world.reset()


def test_stray_transfers_into_each_contract_are_swept_into_member_income(stray):
    """Old code: tokens sent to the stock, a series, the treasury or the membership contract by mistake
    were lost (no function could move them). Now anyone sweeps each into income, divided equally
    among the three founders: 30 sent to the Commune -> 10 each, 60 to the series -> 20 each, 90 to
    the stock -> 30 each (its 1,000 of vendor credit untouched), 120 to the treasury -> 40 each."""
    w = stray
    d, a = w.d, w.chain.accounts
    founders = [m.address for m in a[:3]]
    series = series_of(d, w.first)
    sweeps = [
        (d.commune.address, 30, lambda: d.commune.sweep(sender=a[9])),
        (series.address, 60, lambda: series.transact("sweep", sender=a[9])),
        (d.stock.address, 90, lambda: d.stock.sweep(sender=a[9])),
        (d.treasury.address, 120, lambda: d.treasury.sweep(sender=a[9])),
    ]
    expected = 0
    for target, amount, sweep in sweeps:
        d.token.transfer(target, amount * UNIT, sender=a[8])
        sweep()
        expected += amount // 3 * UNIT
        assert [d.treasury.claimable(m) for m in founders] == [expected] * 3
        assert_books_exact(d)
    assert expected == 100 * UNIT
    assert d.stock.credits(vendor(d)) == 1_000 * UNIT
    expect_revert(lambda: d.commune.sweep(sender=a[9]), "CommuneNothingToSweep")
    expect_revert(lambda: series.transact("sweep", sender=a[9]), "BondSeriesNothingToSweep")
    expect_revert(lambda: d.stock.sweep(sender=a[9]), "NothingToSweep")
    expect_revert(lambda: d.treasury.sweep(sender=a[9]), "TreasuryNothingToSweep")
