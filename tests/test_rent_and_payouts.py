"""Rent redeems bonds first; return, default, rental re-auction, liquidation; equal payouts.

Expected figures come from `tests/reference.py` (written from the rules) or by hand in comments.

The rules since the hardening (issue 11): the requester escrows the first period with the request
and it is paid at settlement (so a 4-period agreement has 3 periods left to pay); member income is
released period by period on the treasury's grid (a prepayment's parts wait for their periods to
begin, and an early return refunds the parts not begun); a rental bid must repay the debt owed at
the auction's close within its term, and the defaulter may not bid; a liquidation's reserve falls a
quarter with each reopening; strays are swept into member income.
"""

from __future__ import annotations

import pytest

from conftest import UNIT
from reference import DebtModel, amortises, interest, liquidation_reserve
from test_membership_rules import earn_share, expect_revert
from vcengine.keeper import due_actions, run_once
from vcengine.stock import AssetState, RentalEnd

HOUR = 3600
DAY = 24 * HOUR
PERIOD = 30 * DAY  # CommuneParams default
GRACE = 7 * DAY
SALE = 3 * DAY


@pytest.fixture
def d(deployment):
    return deployment


def finance(d, renter, lenders, price=1_000 * UNIT, rent=300 * UNIT, periods=4, rate=200, split=None):
    """Request an asset for `renter` and have `lenders` buy the whole series at `rate`. Returns its id."""
    stock = d.stock
    asset_id = stock.request_asset("ipfs://asset", price, d.chain.accounts[10].address, rent, periods,
                                   d.chain.now() + HOUR, sender=renter).asset_id
    split = split or [price // len(lenders)] * len(lenders)
    split[-1] += price - sum(split)
    bids = [(lender, stock.bid(asset_id, amount, rate, sender=lender).bid_id) for lender, amount in zip(lenders, split)]
    d.chain.advance_time(HOUR)
    assert stock.settle(asset_id, sender=renter).cleared
    for lender, bid_id in bids:
        stock.claim(bid_id, sender=lender)
    return asset_id


def settled_at(d, asset_id) -> int:
    return d.stock.debt(asset_id).start


def grid_start(d, g: int) -> int:
    """When grid period g begins."""
    return d.treasury.grid_origin() + g * PERIOD


def to_grid_start(d, offset: int = HOUR) -> int:
    """Advance to `offset` seconds into the next grid period (so that what follows stays inside one
    grid period); returns that grid period."""
    g = (d.chain.now() - d.treasury.grid_origin()) // PERIOD + 1
    d.chain.advance_time(grid_start(d, g) + offset - d.chain.now())
    return g


def advance_to(d, time: int) -> None:
    d.chain.advance_time(time - d.chain.now())
    assert d.chain.now() == time


def claimables(d, members) -> list[int]:
    return [d.treasury.claimable(m.address) for m in members]


def conservation(d) -> None:
    """Every token the system holds is owed to someone: the stock its escrow + credits; the treasury
    owedTokens() = totalIncome - totalClaimed (= claimable + carry + scheduled income); each series its
    payments not yet withdrawn."""
    stock, treasury, token = d.stock, d.treasury, d.token
    assert token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held()
    owed = treasury.owed_tokens()
    assert owed == treasury.total_income() - treasury.total_claimed()
    assert token.balance_of(treasury.address) == owed
    if treasury.call("pendingIncome") == 0:  # else claimable already counts a share of scheduled income
        claimable = sum(treasury.claimable(a.address) for a in d.chain.accounts[:12])
        assert claimable + treasury.carry() + treasury.scheduled_income() == owed
    for asset_id in range(1, stock.asset_count() + 1):
        series = stock.asset(asset_id).series
        if series:
            s = stock.series(asset_id)
            assert token.balance_of(series) == s.total_paid() - s.total_withdrawn()


# ------------------------------------------------------------------- rent


def test_rent_pays_interest_then_principal_until_redeemed(d, accounts):
    """Period 0 is paid at settlement from the requester's escrow; periods 1 to 3 one per period."""
    renter, lenders = accounts[0], accounts[3:5]
    asset_id = finance(d, renter, lenders)  # 1,000 at 2% a period, rent 300 x 4
    start = settled_at(d, asset_id)
    model = DebtModel(1_000 * UNIT, 200, start, PERIOD)
    assert model.service(300 * UNIT, start) == 300 * UNIT  # period 0: interest 20, principal 280
    assert d.stock.debt_owed(asset_id) == (720 * UNIT, 0) == model.owed(start)
    assert d.stock.rental(asset_id).paid_periods == 1 and d.treasury.rent_paid(renter.address) == 300 * UNIT
    members = d.commune.member_count()
    for k in range(1, 4):
        d.chain.advance_time(PERIOD)
        paid = d.stock.pay_rent(asset_id, 1, sender=renter)
        now = d.chain.w3.eth.get_block(paid.tx.block_number)["timestamp"]
        assert (now - start) // PERIOD == k  # paid in the debt period it is for
        to_bonds = model.service(300 * UNIT, now)
        assert (paid.amount, paid.to_bonds, paid.to_members) == (300 * UNIT, to_bonds, 300 * UNIT - to_bonds)
        assert d.stock.debt_owed(asset_id) == model.owed(now)
        assert paid.redeemed == (k == 3) == d.stock.is_fully_owned(asset_id)
        conservation(d)
    # by hand, in tUSD: interest 20 on 1,000; 14.4 on 720; 8.688 on 434.4; 2.86176 on 143.088:
    # 45.94976 in all, so the last rent leaves 1,200 - 1,045.94976 = 154.05024 for the members
    assert d.stock.series(asset_id).total_paid() == 1_045_949_760
    assert d.treasury.total_income() == 154_050_240
    assert d.stock.debt(asset_id).redeemed and d.stock.debt_owed(asset_id) == (0, 0)
    # the two bondholders (500 each) share principal and interest equally
    series = d.stock.series(asset_id)
    assert series.pay_withdrawable(lenders[0].address) == series.pay_withdrawable(lenders[1].address) == 522_974_880
    # the members' income, divided equally: 154.05024 / 3 = 51.35008 each, nothing carried (the last
    # payment was for a period that had begun, so it was divided at once)
    assert members == 3 and d.treasury.scheduled_income() == 0
    assert all(d.treasury.claimable(m.address) == 51_350_080 for m in accounts[:3])
    assert d.treasury.carry() == 0
    # rent after redemption is all member income
    rent = d.stock.rental(asset_id)
    assert rent.paid_periods == rent.periods == 4


def test_paying_ahead_redeems_early_with_less_interest(d, accounts):
    """Settlement paid period 0 (300: interest 20, principal 280); the 3 periods left, paid at once in
    debt period 0, owe no more interest: bonds get the 720 left, members 180. The members' 180 is
    released 60 a grid period as periods 1, 2, 3 begin: right after the prepayment nothing is claimable."""
    renter, members = accounts[0], accounts[:3]
    g = to_grid_start(d)
    asset_id = finance(d, renter, accounts[3:4])
    paid = d.stock.pay_rent(asset_id, 3, sender=renter)
    assert (paid.amount, paid.to_bonds, paid.to_members, paid.redeemed) == (900 * UNIT, 720 * UNIT, 180 * UNIT, True)
    assert [e.name for e in paid.tx.events].count("SeriesRedeemed") == 1
    assert d.stock.series(asset_id).total_paid() == 1_020 * UNIT  # 300 at settlement + 720
    assert d.treasury.total_income() == d.treasury.scheduled_income() == 180 * UNIT
    assert claimables(d, members) == [0, 0, 0]
    conservation(d)
    for k in (1, 2, 3):  # agreement period k lies in grid period g + k: 60 / 3 = 20 each as it begins
        advance_to(d, grid_start(d, g + k))
        assert claimables(d, members) == [20 * UNIT * k] * 3
    assert d.treasury.claim_payout(sender=members[1]).amount == 60 * UNIT
    assert d.treasury.scheduled_income() == 0 and d.treasury.released_through() == g + 3
    conservation(d)


def test_prepaid_income_is_released_by_grid_period_with_the_remainder_at_once(d, accounts):
    """Base units, so that the cuts show. 100 at 0%, rent 60 x 4: settlement pays 60 to the bonds (40
    left); the 3 periods left, 180, give the bonds 40 and the members 140 = 3 parts of 46 + 2. The 2 is
    divided at once (0 each among 3, 2 carried), each 46 when its grid period begins."""
    members, lender = accounts[:3], accounts[3]
    g = to_grid_start(d)
    asset_id = finance(d, members[0], [lender], price=100, rent=60, periods=4, rate=0)
    start = d.stock.rental(asset_id).start
    paid = d.stock.pay_rent(asset_id, 3, sender=members[0])
    assert (paid.to_bonds, paid.to_members, paid.redeemed) == (40, 140, True)
    assert claimables(d, members) == [0, 0, 0] and d.treasury.carry() == 2
    assert d.treasury.scheduled_income() == 138 and d.treasury.owed_tokens() == 140
    # agreement period k's part belongs to the grid period its start falls in, g + k: it is released
    # when that grid period begins, before the agreement period itself does
    assert grid_start(d, g + 1) < start + PERIOD
    advance_to(d, grid_start(d, g + 1) - 1)
    assert claimables(d, members) == [0, 0, 0] and d.treasury.call("pendingIncome") == 0
    advance_to(d, grid_start(d, g + 1))
    assert d.treasury.current_period() == g + 1 and d.treasury.call("pendingIncome") == 46
    assert claimables(d, members) == [16] * 3  # (46 + 2) // 3, before anyone releases it
    d.treasury.release(64, sender=accounts[9])
    assert (d.treasury.released_through(), d.treasury.release_rate()) == (g + 1, 46)
    assert (d.treasury.income_per_share(), d.treasury.carry(), d.treasury.scheduled_income()) == (16, 0, 92)
    advance_to(d, grid_start(d, g + 3))  # two more grid periods, released together by the claim: 92 // 3 = 30
    assert claimables(d, members) == [46] * 3
    assert d.treasury.claim_payout(sender=members[2]).amount == 46
    assert (d.treasury.released_through(), d.treasury.carry(), d.treasury.scheduled_income()) == (g + 3, 2, 0)
    conservation(d)


def test_release_matches_the_reference_model(d, accounts):
    """The same kind of schedule as above, on tUSD amounts, step by step against `reference.TreasuryModel`."""
    from reference import TreasuryModel

    members = accounts[:3]
    model = TreasuryModel(members=[m.address for m in members], origin=d.treasury.grid_origin(), period=PERIOD)
    g = to_grid_start(d, offset=5 * DAY)
    asset_id = finance(d, members[1], accounts[3:4], price=500 * UNIT, rent=301 * UNIT, periods=5, rate=100)
    rental = d.stock.rental(asset_id)
    settled = d.stock.debt(asset_id).start
    # settlement: 301 = interest 5 + principal 296 to the bonds, nothing to the members
    model.record_rent(asset_id, members[1].address, 301 * UNIT, 0, rental.start, 0, 1, settled)
    paid = d.stock.pay_rent(asset_id, 4, sender=members[1])  # 204 to the bonds, 1,000 to the members
    assert (paid.to_bonds, paid.to_members) == (204 * UNIT, 1_000 * UNIT)
    now = d.chain.w3.eth.get_block(paid.tx.block_number)["timestamp"]
    model.record_rent(asset_id, members[1].address, paid.amount, paid.to_members, rental.start, 1, 4, now)
    for step in (PERIOD // 2, PERIOD, PERIOD // 3, 2 * PERIOD):
        d.chain.advance_time(step)
        now = d.chain.now()
        assert claimables(d, members) == [model.claimable(m.address, now) for m in members]
        assert d.treasury.call("pendingIncome") == model.pending(now)[0]
    got = d.treasury.claim_payout(sender=members[0]).amount
    assert got == model.claim(members[0].address, d.chain.now())
    assert (d.treasury.income_per_share(), d.treasury.carry()) == (model.income_per_share, model.carry)
    assert (d.treasury.scheduled_income(), d.treasury.released_through()) == (model.scheduled, model.released_through)
    assert d.treasury.released_through() > g
    conservation(d)


def test_interest_accrues_while_nobody_pays(d, accounts):
    renter = accounts[0]
    asset_id = finance(d, renter, accounts[3:4])
    start = settled_at(d, asset_id)
    # settlement paid period 0's interest (20) and 280 of principal: 720 left
    d.chain.advance_time(2 * PERIOD + HOUR)  # periods 0, 1 and 2 have started
    now = d.chain.now()
    assert (now - start) // PERIOD + 1 == 3
    # periods 1 and 2 accrue 14.4 each on the 720
    assert d.stock.debt_owed(asset_id) == (720 * UNIT, 2 * interest(720 * UNIT, 200)) == (720 * UNIT, 28_800_000)


def test_rent_refusals(d, accounts):
    renter, other = accounts[0], accounts[1]
    asset_id = finance(d, renter, accounts[3:4])
    d.test_token.approve(d.stock.address, 10**30, sender=other)
    expect_revert(lambda: d.stock.pay_rent(asset_id, 1, sender=other), "NotRenter",
                  assetId=asset_id, caller=other.address, renter=renter.address)
    # period 0 was paid at settlement: 3 of the 4 periods are left
    expect_revert(lambda: d.stock.transact("payRent", asset_id, 0, sender=renter), "RentInvalidPeriods",
                  periods=0, remaining=3)
    expect_revert(lambda: d.stock.pay_rent(asset_id, 4, sender=renter), "RentInvalidPeriods", periods=4, remaining=3)
    expect_revert(lambda: d.stock.pay_rent(99, 1, sender=renter), "AssetNotRented", assetId=99, state=0)


# --------------------------------------------------------- return and default


def test_return_opens_a_rental_auction_and_only_the_renter_returns(d, accounts):
    renter = accounts[0]
    asset_id = finance(d, renter, accounts[3:4])
    expect_revert(lambda: d.stock.return_asset(asset_id, sender=accounts[1]), "NotRenter")
    tx = d.stock.return_asset(asset_id, sender=renter)
    assert [e.name for e in tx.events] == ["RentalEnded", "RentalAuctionOpened"]
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.RETURNED
    assert d.stock.asset(asset_id).state == AssetState.RENTAL_AUCTION
    assert d.stock.sale(asset_id).closes_at == d.chain.now() + SALE
    expect_revert(lambda: d.stock.return_asset(asset_id, sender=renter), "AssetNotRented",
                  assetId=asset_id, state=int(AssetState.RENTAL_AUCTION))
    assert d.stock.commitments(renter.address) == 0


def test_early_return_refunds_the_member_income_of_periods_not_begun(d, accounts):
    """100 at 2%, rent 300 x 4: settlement redeems the bonds (102) and leaves 198 to the members at once
    (66 each). Periods 1-3 paid ahead are all member income, 300 a grid period. Returned in grid
    period g + 1: its 300 is released (100 each), periods 2 and 3 (600) are refunded."""
    renter, members = accounts[0], accounts[:3]
    g = to_grid_start(d)
    asset_id = finance(d, renter, accounts[3:4], price=100 * UNIT, rent=300 * UNIT, periods=4)
    assert d.stock.is_fully_owned(asset_id) and claimables(d, members) == [66 * UNIT] * 3
    d.stock.pay_rent(asset_id, 3, sender=renter)
    assert d.treasury.scheduled_income() == 900 * UNIT
    advance_to(d, grid_start(d, g + 1) + HOUR)
    before = d.token.balance_of(renter.address)
    tx = d.stock.return_asset(asset_id, sender=renter)
    assert [e.name for e in tx.events] == ["RentalEnded", "RentalAuctionOpened"]
    refunded = [e for e in d.treasury.decode_events(d.chain.w3.eth.get_transaction_receipt(tx.tx_hash))
                if e.name == "IncomeRefunded"]
    assert [e.args for e in refunded] == [{"renter": renter.address, "amount": 600 * UNIT}]
    assert d.token.balance_of(renter.address) - before == 600 * UNIT
    assert d.treasury.rent_paid(renter.address) == (300 + 900 - 600) * UNIT
    assert d.treasury.total_income() == (198 + 900 - 600) * UNIT and d.treasury.scheduled_income() == 0
    assert claimables(d, members) == [166 * UNIT] * 3
    advance_to(d, grid_start(d, g + 3))  # nothing more is released: it was refunded
    assert claimables(d, members) == [166 * UNIT] * 3
    conservation(d)


def test_early_return_leaves_bond_service_paid_ahead_with_the_bonds(d, accounts):
    """1,000 at 2%, rent 300 x 4: the 3 periods paid ahead in debt period 0 give the bonds the 720 left
    and the members 180 (60 a period). Returned at once, in the same grid period: the 180 comes back,
    the 720 stays with the bonds (the series is redeemed)."""
    renter = accounts[0]
    to_grid_start(d)
    asset_id = finance(d, renter, accounts[3:4])
    d.stock.pay_rent(asset_id, 3, sender=renter)
    before = d.token.balance_of(renter.address)
    d.stock.return_asset(asset_id, sender=renter)
    assert d.token.balance_of(renter.address) - before == 180 * UNIT
    assert d.stock.is_fully_owned(asset_id) and d.stock.series(asset_id).total_paid() == 1_020 * UNIT
    assert d.treasury.rent_paid(renter.address) == 1_020 * UNIT  # 300 + 900 - 180: what the bonds got
    assert d.treasury.total_income() == 0 and d.treasury.owed_tokens() == 0
    conservation(d)


def test_returning_with_a_period_due_and_unpaid_is_a_default(d, accounts):
    """A renter cannot dodge the defaulter bar by returning the asset once rent is due: returned at
    the due time of period 1 (unpaid), the rental ends as a default, nothing is refunded, and the
    renter may not bid for the asset while its bonds are outstanding."""
    a, b = accounts[:2]
    asset_id = finance(d, a, accounts[3:4])
    start = settled_at(d, asset_id)
    advance_to(d, start + PERIOD - 2)  # the return is mined a second before period 1 falls due
    snapshot = d.chain.snapshot()
    tx = d.stock.return_asset(asset_id, sender=a)
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.RETURNED
    d.chain.revert(snapshot)
    advance_to(d, start + PERIOD - 1)  # mined at the due time
    rent_paid = d.treasury.rent_paid(a.address)
    tx = d.stock.return_asset(asset_id, sender=a)
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.DEFAULTED
    assert [e.name for e in tx.events] == ["RentalEnded", "RentalAuctionOpened"]
    assert d.stock.rental(asset_id).defaulted and d.stock.call("hasDefaulted", asset_id, a.address)
    assert d.treasury.rent_paid(a.address) == rent_paid and d.stock.commitments(a.address) == 0
    expect_revert(lambda: d.stock.bid_rent(asset_id, 300 * UNIT, 10, sender=a), "RentBidByDefaulter",
                  assetId=asset_id, account=a.address)
    # another member may: 300 a period repays the 734.4 owed at the close within the 3 periods left
    # of the 4-period schedule (734.4 -> 449.088 -> 158.07 -> 0)
    d.stock.bid_rent(asset_id, 300 * UNIT, 10, sender=b)


def test_reclaim_only_after_grace(d, accounts):
    renter, keeper = accounts[0], accounts[8]
    asset_id = finance(d, renter, accounts[3:4])
    start = d.stock.rental(asset_id).start
    # period 0 was paid at settlement: period 1 is due at start + PERIOD
    assert d.stock.reclaimable_at(asset_id) == (start + PERIOD + GRACE, RentalEnd.DEFAULTED)
    d.stock.pay_rent(asset_id, 1, sender=renter)  # period 1 paid; period 2 due at start + 2 PERIOD
    due = start + 2 * PERIOD + GRACE
    assert d.stock.reclaimable_at(asset_id) == (due, RentalEnd.DEFAULTED)
    d.chain.advance_time(due - d.chain.now() - 10)
    expect_revert(lambda: d.stock.reclaim(asset_id, sender=keeper), "ReclaimNotDue", assetId=asset_id, reclaimableAt=due)
    d.chain.advance_time(20)
    rent_paid = d.treasury.rent_paid(renter.address)
    tx = d.stock.reclaim(asset_id, sender=keeper)
    assert tx.event("RentalEnded").args == {"assetId": asset_id, "renter": renter.address, "reason": RentalEnd.DEFAULTED}
    assert d.stock.rental(asset_id).defaulted
    assert d.treasury.rent_paid(renter.address) == rent_paid  # a reclaim refunds nothing
    expect_revert(lambda: d.stock.reclaim(asset_id, sender=keeper), "AssetNotRented")


def test_term_end_lets_anyone_reclaim(d, accounts):
    renter = accounts[0]
    asset_id = finance(d, renter, accounts[3:4])
    d.stock.pay_rent(asset_id, 3, sender=renter)  # the 3 periods left after settlement
    at, reason = d.stock.reclaimable_at(asset_id)
    assert reason == RentalEnd.TERM_ENDED and at == d.stock.rental(asset_id).start + 4 * PERIOD
    d.chain.advance_time(at - d.chain.now())
    assert d.stock.reclaim(asset_id, sender=accounts[9]).event("RentalEnded").args["reason"] == RentalEnd.TERM_ENDED
    assert not d.stock.rental(asset_id).defaulted


# ------------------------------------------------------------ rental auction


def test_rental_auction_among_members(d, accounts):
    """RentBelowBondService is gone: while bonds are outstanding a bid must repay what is owed at the
    auction's close within its term (RentBidDoesNotRepay) and the series' 12-period schedule."""
    a, b, c = accounts[:3]
    # 1,000 at 2% over 12 periods; settlement paid period 0: 720 owed, no interest
    asset_id = finance(d, a, accounts[3:4], periods=12)
    d.stock.return_asset(asset_id, sender=a)
    # the auction closes 3 days on, still in debt period 0 (whose interest is paid): 720 owed at the
    # close, and none of the schedule's 12 periods has fully elapsed
    assert (d.stock.sale(asset_id).closes_at - settled_at(d, asset_id)) // PERIOD == 0
    assert d.stock.repayment_periods_left(asset_id) == 12
    owed = 720 * UNIT
    expect_revert(lambda: d.stock.bid_rent(asset_id, 100 * UNIT, 6, sender=accounts[5]), "StockNotMember",
                  account=accounts[5].address)
    # 20 a period is more than a period's interest (14.4) but cannot repay 720 in 6 periods
    assert interest(owed, 200) == 14_400_000 and not amortises(owed, 200, 20 * UNIT, 6)
    expect_revert(lambda: d.stock.bid_rent(asset_id, 20 * UNIT, 6, sender=b), "RentBidDoesNotRepay",
                  rentPerPeriod=20 * UNIT, periods=6, owed=owed, periodsLeft=12)
    # 100 a period repays 720 at 2% in 8 periods, not in 7 (by hand: 720 -> 634.4 -> 547.088 -> ... -> 83.62 -> 0)
    assert not amortises(owed, 200, 100 * UNIT, 7) and amortises(owed, 200, 100 * UNIT, 8)
    expect_revert(lambda: d.stock.bid_rent(asset_id, 100 * UNIT, 7, sender=b), "RentBidDoesNotRepay",
                  rentPerPeriod=100 * UNIT, periods=7, owed=owed, periodsLeft=12)
    expect_revert(lambda: d.stock.transact("bidRent", asset_id, 100 * UNIT, 0, sender=b), "AssetInvalidTerm")
    balance_b = d.token.balance_of(b.address)
    d.stock.bid_rent(asset_id, 100 * UNIT, 8, sender=b)
    assert d.stock.commitments(b.address) == 1
    expect_revert(lambda: d.stock.bid_rent(asset_id, 100 * UNIT, 8, sender=c), "RentBidTooLow",
                  rentPerPeriod=100 * UNIT, leading=100 * UNIT)
    expect_revert(lambda: d.commune.leave(sender=b), "CommuneMemberCommitted", member=b.address, commitments=1)
    d.stock.bid_rent(asset_id, 150 * UNIT, 10, sender=c)
    assert d.stock.commitments(b.address) == 0 and d.stock.credits(b.address) == 100 * UNIT
    expect_revert(lambda: d.stock.settle_rental(asset_id, sender=a), "AuctionStillOpen")
    d.chain.advance_time(SALE)
    expect_revert(lambda: d.stock.bid_rent(asset_id, 200 * UNIT, 6, sender=b), "AuctionClosed")
    income_before = d.treasury.total_income()
    paid_before = d.stock.series(asset_id).total_paid()
    assert d.stock.settle_rental(asset_id, sender=a) is True
    rental = d.stock.rental(asset_id)
    assert (rental.renter, rental.rent_per_period, rental.periods, rental.paid_periods) == (c.address, 150 * UNIT, 10, 1)
    assert d.stock.asset(asset_id).state == AssetState.RENTED
    # the first period came from the escrow, through the waterfall: period 0's interest (already paid
    # at the bond auction's settlement), then principal: all 150 to the bonds, 570 left
    assert d.stock.series(asset_id).total_paid() - paid_before == 150 * UNIT
    assert d.stock.debt_owed(asset_id) == (570 * UNIT, 0)
    assert d.treasury.total_income() == income_before
    assert d.treasury.rent_paid(c.address) == 150 * UNIT
    d.stock.withdraw(sender=b)
    assert d.token.balance_of(b.address) == balance_b
    conservation(d)


def test_rental_bid_must_repay_the_interest_projected_to_the_close(d, accounts):
    """The debt a rental bid must repay is the one owed when the auction closes: returned 3 days before
    debt period 1 begins, the close falls in period 1, whose interest (14.4 on 720) is owed too."""
    a, b = accounts[:2]
    asset_id = finance(d, a, accounts[3:4], periods=12)
    start = settled_at(d, asset_id)
    advance_to(d, start + PERIOD - SALE + HOUR)
    d.stock.return_asset(asset_id, sender=a)
    closes = d.stock.sale(asset_id).closes_at
    assert (closes - start) // PERIOD == 1 and (d.chain.now() - start) // PERIOD == 0
    owed = 720 * UNIT + interest(720 * UNIT, 200)  # 734.4
    # 100 x 8 would repay today's 720, not the 734.4 owed at the close; 101 x 8 does
    assert amortises(720 * UNIT, 200, 100 * UNIT, 8) and not amortises(owed, 200, 100 * UNIT, 8)
    assert amortises(owed, 200, 101 * UNIT, 8)
    expect_revert(lambda: d.stock.bid_rent(asset_id, 100 * UNIT, 8, sender=b), "RentBidDoesNotRepay",
                  rentPerPeriod=100 * UNIT, periods=8, owed=owed, periodsLeft=11)
    d.stock.bid_rent(asset_id, 101 * UNIT, 8, sender=b)
    assert d.stock.sale(asset_id).leader == b.address


def test_a_defaulter_cannot_bid_in_the_next_rental_auction(d, accounts):
    """The renter reclaimed for default may not bid in the asset's next rental auction, nor in any
    later one while its bonds are outstanding; once they are redeemed the bar is lifted. (A 12-period
    series, so that the schedule left at the close, 11 periods, holds b's 10-period bid.)"""
    a, b, c = accounts[:3]
    asset_id = finance(d, a, accounts[3:4], periods=12)
    start = settled_at(d, asset_id)
    advance_to(d, start + PERIOD + GRACE)  # period 1 unpaid past grace
    d.stock.reclaim(asset_id, sender=accounts[9])
    rental = d.stock.rental(asset_id)
    assert rental.defaulted and rental.renter == a.address
    assert d.stock.call("hasDefaulted", asset_id, a.address) and not d.stock.call("hasDefaulted", asset_id, b.address)
    expect_revert(lambda: d.stock.bid_rent(asset_id, 200 * UNIT, 10, sender=a), "RentBidByDefaulter",
                  assetId=asset_id, account=a.address)
    d.stock.bid_rent(asset_id, 150 * UNIT, 10, sender=b)  # anyone else may
    d.chain.advance_time(SALE)
    assert d.stock.settle_rental(asset_id, sender=accounts[9])
    assert not d.stock.rental(asset_id).defaulted  # the new agreement is not a default
    # b's first period (150) went to the bonds: 720 + 14.4 (period 1's interest) - 150 = 584.4 still owed
    assert d.stock.debt_owed(asset_id) == (584_400_000, 0)
    d.stock.return_asset(asset_id, sender=b)
    expect_revert(lambda: d.stock.bid_rent(asset_id, 200 * UNIT, 10, sender=a), "RentBidByDefaulter",
                  assetId=asset_id, account=a.address)  # not the next auction, but the bonds are outstanding
    d.stock.bid_rent(asset_id, 600 * UNIT, 10, sender=c)  # c's first period redeems them: 584.4 to the bonds
    d.chain.advance_time(SALE)
    assert d.stock.settle_rental(asset_id, sender=accounts[9]) and d.stock.is_fully_owned(asset_id)
    d.stock.return_asset(asset_id, sender=c)
    d.stock.bid_rent(asset_id, 200 * UNIT, 10, sender=a)  # redeemed: a may bid again
    assert d.stock.sale(asset_id).leader == a.address


def test_no_rental_bid_sends_the_asset_to_liquidation(d, accounts):
    a = accounts[0]
    asset_id = finance(d, a, accounts[3:4])
    d.stock.return_asset(asset_id, sender=a)
    d.chain.advance_time(SALE)
    assert d.stock.settle_rental(asset_id, sender=accounts[9]) is False
    assert d.stock.asset(asset_id).state == AssetState.LIQUIDATION


# -------------------------------------------------------------- liquidation


def to_liquidation(d, renter, lenders, **kw) -> int:
    asset_id = finance(d, renter, lenders, **kw)
    d.stock.return_asset(asset_id, sender=renter)
    d.chain.advance_time(SALE)
    d.stock.settle_rental(asset_id, sender=renter)
    return asset_id


def test_liquidation_pays_bondholders_first_and_divides_the_surplus(d, accounts):
    lenders = accounts[3:5]
    asset_id = to_liquidation(d, accounts[0], lenders)
    buyer, rival = accounts[6], accounts[7]
    d.stock.bid_liquidation(asset_id, 900 * UNIT, sender=rival)
    expect_revert(lambda: d.stock.bid_liquidation(asset_id, 900 * UNIT, sender=buyer), "LiquidationBidTooLow",
                  amount=900 * UNIT, current=900 * UNIT)
    d.stock.bid_liquidation(asset_id, 1_300 * UNIT, sender=buyer)
    assert d.stock.credits(rival.address) == 900 * UNIT
    expect_revert(lambda: d.stock.settle_liquidation(asset_id, sender=buyer), "AuctionStillOpen")
    d.chain.advance_time(SALE)
    principal, accrued = d.stock.debt_owed(asset_id)
    started = (d.chain.now() - d.stock.debt(asset_id).start) // PERIOD + 1  # one: six days have passed
    # settlement paid period 0's interest (20) and 280 of principal: 720 owed, no interest accrued since
    assert started == 1 and (principal, accrued) == (720 * UNIT, 0)
    sold = d.stock.settle_liquidation(asset_id, sender=accounts[9])
    debt = principal + accrued
    assert (sold.sold, sold.buyer, sold.proceeds) == (True, buyer.address, 1_300 * UNIT)
    assert (sold.to_bonds, sold.to_members, sold.shortfall) == (720 * UNIT, 580 * UNIT, 0)
    assert d.stock.asset(asset_id).state == AssetState.LIQUIDATED and d.stock.title_holder(asset_id) == buyer.address
    assert d.stock.is_fully_owned(asset_id)  # the debt was paid in full before the sale closed the asset's books
    series = d.stock.series(asset_id)
    # the bonds got 300 at settlement and 720 now: 1,020, half each
    assert series.total_paid() == 300 * UNIT + debt == 1_020 * UNIT
    assert series.pay_withdrawable(lenders[0].address) == series.pay_withdrawable(lenders[1].address) == 510 * UNIT
    # the surplus is divided at once: 580 / 3 = 193.333333 each, 1 base unit carried
    assert d.treasury.total_income() == 580 * UNIT and d.treasury.scheduled_income() == 0
    assert claimables(d, accounts[:3]) == [193_333_333] * 3 and d.treasury.carry() == 1
    expect_revert(lambda: d.stock.bid_liquidation(asset_id, 2_000 * UNIT, sender=rival), "LiquidationNotOpen")
    conservation(d)


def test_liquidation_shortfall_is_the_bondholders_loss_pro_rata(d, accounts):
    lenders = accounts[3:5]
    asset_id = to_liquidation(d, accounts[0], lenders, split=[300 * UNIT, 700 * UNIT])
    d.stock.bid_liquidation(asset_id, 400 * UNIT, sender=accounts[6])
    d.chain.advance_time(SALE)
    principal, accrued = d.stock.debt_owed(asset_id)
    assert (principal, accrued) == (720 * UNIT, 0)  # after the 300 paid at settlement
    sold = d.stock.settle_liquidation(asset_id, sender=accounts[9])
    assert (sold.to_bonds, sold.to_members, sold.shortfall) == (400 * UNIT, 0, 320 * UNIT)
    assert d.stock.debt(asset_id).written_off == sold.shortfall and not d.stock.is_fully_owned(asset_id)
    series = d.stock.series(asset_id)
    # the bonds were paid 300 at settlement and 400 now: 700, shared 300:700
    assert series.pay_withdrawable(lenders[0].address) == 210 * UNIT
    assert series.pay_withdrawable(lenders[1].address) == 490 * UNIT
    assert d.treasury.total_income() == 0
    conservation(d)


def test_liquidation_without_bids_reopens_and_respects_the_reserve(chain, accounts, artifacts):
    from vcengine.deploy import CommuneParams, deploy_commune

    founder = accounts[0]
    d = deploy_commune(chain, founder, CommuneParams(founders=[founder.address], liquidation_reserve_bps=5_000),
                       artifacts=artifacts)
    for a in accounts[:8]:
        d.test_token.faucet(a.address, 100_000 * UNIT, sender=a)
    asset_id = to_liquidation(d, founder, accounts[3:4])
    assert d.stock.liquidation_reserve(asset_id) == 500 * UNIT == liquidation_reserve(1_000 * UNIT, 5_000, 0)
    expect_revert(lambda: d.stock.bid_liquidation(asset_id, 499 * UNIT, sender=accounts[6]), "LiquidationBelowReserve",
                  amount=499 * UNIT, reserve=500 * UNIT)
    # each reopening without a bid lowers the reserve by a quarter: 500, 375, 250, 125, then 0
    for reopenings, reserve in ((1, 375), (2, 250), (3, 125), (4, 0), (4, 0)):
        d.chain.advance_time(SALE)
        reopened = d.stock.settle_liquidation(asset_id, sender=accounts[9])
        assert not reopened.sold and [e.name for e in reopened.tx.events] == ["LiquidationOpened"]
        assert reopened.tx.event("LiquidationOpened").args["reserve"] == reserve * UNIT
        sale = d.stock.sale(asset_id)
        assert sale.closes_at == d.chain.now() + SALE and sale.reopenings == reopenings
        assert d.stock.liquidation_reserve(asset_id) == reserve * UNIT
        assert liquidation_reserve(1_000 * UNIT, 5_000, reopenings) == reserve * UNIT
    d.stock.bid_liquidation(asset_id, 1, sender=accounts[6])  # any bid above zero
    d.chain.advance_time(SALE)
    sold = d.stock.settle_liquidation(asset_id, sender=accounts[9])
    assert (sold.sold, sold.proceeds, sold.to_bonds, sold.shortfall) == (True, 1, 1, 720 * UNIT - 1)


def test_liquidation_reserve_is_rounded_up(chain, accounts, artifacts):
    """ceil(price * bps * steps / 40,000): a 1,001-unit asset at a 33.33% reserve."""
    assert liquidation_reserve(1_001, 3_333, 0) == 334  # 333.6333 -> 334
    assert liquidation_reserve(1_001, 3_333, 1) == 251  # 250.2249 -> 251
    assert liquidation_reserve(1_001, 3_333, 3) == 84  # 83.4083 -> 84
    assert liquidation_reserve(1_001, 3_333, 4) == 0


# ------------------------------------------------------------------ payouts


def test_income_is_divided_equally_with_the_remainder_carried(d, accounts):
    a, b, c = accounts[:3]
    d.treasury.deposit_income(100, sender=accounts[6])  # 100 base units among 3
    assert [d.treasury.claimable(m.address) for m in (a, b, c)] == [33, 33, 33] and d.treasury.carry() == 1
    d.treasury.deposit_income(2, sender=accounts[6])  # (2 + 1) / 3
    assert [d.treasury.claimable(m.address) for m in (a, b, c)] == [34, 34, 34] and d.treasury.carry() == 0
    assert not d.commune.is_member(accounts[6].address)  # paying members buys nothing
    conservation(d)


def test_a_later_member_gets_nothing_of_earlier_income_and_a_leaver_keeps_theirs(d, accounts):
    a, b, c, worker = accounts[:4]
    d.treasury.deposit_income(300 * UNIT, sender=accounts[6])
    earn_share(d.commune, worker, [a, b])
    assert d.treasury.claimable(worker.address) == 0
    d.treasury.deposit_income(400 * UNIT, sender=accounts[6])
    assert d.treasury.claimable(worker.address) == 100 * UNIT and d.treasury.claimable(a.address) == 200 * UNIT
    d.commune.leave(sender=c)
    d.treasury.deposit_income(300 * UNIT, sender=accounts[6])  # three members now
    assert d.treasury.claimable(c.address) == 200 * UNIT  # kept, not growing
    assert d.treasury.claimable(worker.address) == 200 * UNIT
    before = d.token.balance_of(c.address)
    assert d.treasury.claim_payout(sender=c).amount == 200 * UNIT
    assert d.token.balance_of(c.address) - before == 200 * UNIT
    expect_revert(lambda: d.treasury.claim_payout(sender=c), "TreasuryNothingToClaim", account=c.address)
    assert d.treasury.claim_payout(sender=a).amount == 300 * UNIT
    expect_revert(lambda: d.treasury.claim_payout(sender=a), "TreasuryNothingToClaim")
    conservation(d)


def test_membership_waits_until_every_begun_period_is_released(d, accounts):
    """More than 64 begun grid periods unreleased: join and leave revert (TreasuryReleasePending, with
    the state after the 64 the call released itself) until someone releases; the worker who then joins
    gets nothing of the periods before."""
    a, b, c, worker = accounts[:4]
    g = to_grid_start(d)
    asset_id = finance(d, a, accounts[5:6], price=100 * UNIT, rent=300 * UNIT, periods=4)
    d.stock.pay_rent(asset_id, 3, sender=a)  # 900 for grid periods g+1..g+3
    start = d.treasury.released_through()
    assert start == g
    claim = d.commune.submit_labour(10, "ipfs://w", sender=worker).claim_id
    d.commune.attest(claim, sender=b)
    d.commune.attest(claim, sender=c)
    advance_to(d, grid_start(d, g + 65))
    assert d.treasury.pending_periods() == 65
    expect_revert(lambda: d.commune.join(sender=worker), "TreasuryReleasePending",
                  releasedThrough=g + 64, current=g + 65)
    expect_revert(lambda: d.commune.leave(sender=c), "TreasuryReleasePending", releasedThrough=g + 64, current=g + 65)
    # the claimable view counts the 64 periods the next call releases: 66 + 300 each
    assert claimables(d, (a, b, c)) == [366 * UNIT] * 3
    d.treasury.release(64, sender=accounts[9])
    assert d.treasury.released_through() == g + 64
    d.commune.join(sender=worker)  # releases the 65th itself
    assert d.treasury.released_through() == g + 65
    assert d.treasury.claimable(worker.address) == 0
    assert claimables(d, (a, b, c)) == [366 * UNIT] * 3
    d.commune.leave(sender=c)
    conservation(d)


def test_strays_are_swept_into_member_income(d, accounts):
    """30 tUSD sent by mistake to each of the stock, a series, the commune and the treasury is swept
    into member income: 10 each per sweep among 3 members. Escrow, credits and owed payments stay."""
    members, stranger = accounts[:3], accounts[6]
    asset_id = finance(d, members[0], accounts[3:4])
    pending = d.stock.request_asset("ipfs://open", 100 * UNIT, accounts[10].address, 60 * UNIT, 2,
                                    d.chain.now() + HOUR, sender=members[1]).asset_id  # escrow held: 60
    series = d.stock.series(asset_id)
    sweeps = [(d.stock, "NothingToSweep"), (series, "BondSeriesNothingToSweep"),
              (d.commune, "CommuneNothingToSweep"), (d.treasury, "TreasuryNothingToSweep")]
    for contract, error in sweeps:
        expect_revert(lambda: contract.sweep(sender=stranger), error)
    base = claimables(d, members)
    for k, (contract, _) in enumerate(sweeps, start=1):
        d.token.transfer(contract.address, 30 * UNIT, sender=stranger)
        assert d.treasury.surplus() == (30 * UNIT if contract is d.treasury else 0)
        contract.sweep(sender=stranger)
        assert claimables(d, members) == [b + 10 * UNIT * k for b in base]
        conservation(d)
    assert d.stock.escrow_held() == 60 * UNIT and d.stock.asset(pending).state == AssetState.AUCTION
    assert d.token.balance_of(series.address) == series.total_paid() == 300 * UNIT
    assert d.token.balance_of(d.commune.address) == 0 and d.treasury.total_income() == 120 * UNIT


def test_treasury_hooks_are_only_for_the_commune(d, accounts):
    x = accounts[5]
    for hook in ("onJoin", "onLeave"):
        expect_revert(lambda: d.treasury.transact(hook, x.address, sender=x), "TreasuryUnauthorized",
                      caller=x.address, expected=d.commune.address)
    stock_only = [("recordRent", (1, x.address, 1, 1, d.chain.now(), 0, 1)), ("recordIncome", (1,)),
                  ("refundRental", (1, x.address, 2, 1))]
    for hook, args in stock_only:
        expect_revert(lambda: d.treasury.transact(hook, *args, sender=x), "TreasuryUnauthorized",
                      caller=x.address, expected=d.stock.address)
    expect_revert(lambda: d.treasury.transact("depositIncome", 0, sender=x), "TreasuryZeroIncome")


def test_leaving_while_renting_is_refused(d, accounts):
    renter = accounts[0]
    asset_id = finance(d, renter, accounts[3:4])
    expect_revert(lambda: d.commune.leave(sender=renter), "CommuneMemberCommitted", member=renter.address, commitments=1)
    d.stock.return_asset(asset_id, sender=renter)
    d.commune.leave(sender=renter)


def test_a_pending_request_is_a_commitment(d, accounts):
    member = accounts[1]
    d.stock.request_asset("ipfs://x", 100, accounts[10].address, 60, 2, d.chain.now() + HOUR, sender=member)
    expect_revert(lambda: d.commune.leave(sender=member), "CommuneMemberCommitted")


def test_net_positions(d, accounts):
    """Three members; after redemption one rents twice the per-capita share, one exactly it, one nothing.

    Each settlement redeems its series from the escrowed first period (330 = 300 + 6 interest + 24 to
    the members). The window of pure member income is then paid ahead: its income is released as
    its periods begin, so the net positions show once those periods have begun, not right after."""
    a, b, c = accounts[:3]
    g = to_grid_start(d)
    first = finance(d, a, accounts[3:4], price=300 * UNIT, rent=330 * UNIT, periods=3)
    second = finance(d, b, accounts[3:4], price=300 * UNIT, rent=330 * UNIT, periods=3)
    for asset_id in (first, second):
        assert d.stock.is_fully_owned(asset_id)
    # each settlement left 24 to the members, at once (its period had begun): 16 each in all
    assert claimables(d, (a, b, c)) == [16 * UNIT] * 3
    before = {m.address: (d.treasury.rent_paid(m.address), d.treasury.income_of(m.address)) for m in (a, b, c)}

    def delta(m):
        return (d.treasury.rent_paid(m.address) - before[m.address][0],
                d.treasury.income_of(m.address) - before[m.address][1])

    # a pays periods 1 and 2 of hers (660), b period 1 of his (330): all member income, none begun yet
    d.stock.pay_rent(first, 2, sender=a)
    d.stock.pay_rent(second, 1, sender=b)
    assert d.treasury.scheduled_income() == 990 * UNIT
    assert [delta(m) for m in (a, b, c)] == [(660 * UNIT, 0), (330 * UNIT, 0), (0, 0)]
    advance_to(d, grid_start(d, g + 1))  # both period 1s: 660 / 3 = 220 each
    assert [delta(m)[1] for m in (a, b, c)] == [220 * UNIT] * 3
    advance_to(d, grid_start(d, g + 2))  # a's period 2: 110 more each
    assert delta(a) == (660 * UNIT, 330 * UNIT)  # above per-capita: net cost 330
    assert delta(b) == (330 * UNIT, 330 * UNIT)  # exactly per-capita: net zero
    assert delta(c) == (0, 330 * UNIT)  # below: net gain 330
    for m in (a, b, c):
        assert d.treasury.net_position(m.address) == d.treasury.rent_paid(m.address) - d.treasury.income_of(m.address)
    assert d.treasury.net_position(c.address) == -(16 + 330) * UNIT


# ---------------------------------------------------------------- bonds


def test_bond_transfer_moves_future_payments_only(d, accounts):
    renter, alice_l, bob_l = accounts[0], accounts[3], accounts[4]
    asset_id = finance(d, renter, [alice_l], price=1_000 * UNIT, rent=300 * UNIT, periods=4)
    series = d.stock.series(asset_id)
    assert series.pay_withdrawable(alice_l.address) == 300 * UNIT  # the settlement's 300, all alice's
    series.transfer(bob_l.address, 400 * UNIT, sender=alice_l)
    d.stock.pay_rent(asset_id, 1, sender=renter)  # next 300 (within period 0, no new interest): 60/40
    assert series.pay_withdrawable(alice_l.address) == 300 * UNIT + 180 * UNIT
    assert series.pay_withdrawable(bob_l.address) == 120 * UNIT
    series.withdraw_payments(sender=bob_l)
    expect_revert(lambda: series.withdraw_payments(sender=bob_l), "BondSeriesNothingToWithdraw", holder=bob_l.address)
    expect_revert(lambda: series.transact("pay", 1, sender=bob_l), "BondSeriesOnlyIssuer")
    conservation(d)


def test_late_claimed_bonds_carry_their_history(d, accounts):
    renter, lender = accounts[0], accounts[3]
    stock = d.stock
    asset_id = stock.request_asset("ipfs://a", 1_000 * UNIT, accounts[10].address, 300 * UNIT, 4, d.chain.now() + HOUR,
                                   sender=renter).asset_id
    bid_id = stock.bid(asset_id, 1_000 * UNIT, 100, sender=lender).bid_id
    d.chain.advance_time(HOUR)
    stock.settle(asset_id, sender=renter)  # period 0 paid from escrow: 300 to the bonds
    stock.pay_rent(asset_id, 1, sender=renter)  # 300 more, before the lender has claimed the bonds
    series = stock.series(asset_id)
    assert series.unclaimed_payments() == 600 * UNIT
    stock.claim(bid_id, sender=lender)
    assert series.pay_withdrawable(lender.address) == 600 * UNIT


# ------------------------------------------------------------------- keeper


def test_keeper_settles_and_reclaims_once_and_tolerates_races(d, accounts):
    renter, keeper, other = accounts[0], accounts[8], accounts[9]
    asset_id = finance(d, renter, accounts[3:4])
    assert due_actions(d.stock) == []
    # period 0 was paid at settlement; period 1 (due a period later) is never paid
    d.chain.advance_time(PERIOD + GRACE + 10)
    assert due_actions(d.stock) == [(asset_id, "reclaim")]
    done = run_once(d.stock, keeper)
    assert [(a.asset_id, a.action, a.outcome) for a in done] == [(asset_id, "reclaim", "done")]
    assert "defaulted" in done[0].detail
    assert run_once(d.stock, other) == []  # nothing left to do
    d.chain.advance_time(SALE)
    first = run_once(d.stock, keeper)
    assert [(a.action, a.outcome, a.detail) for a in first] == [
        ("settleRental", "done", "no bid: offered for liquidation")]
    # A keeper whose clock runs ahead (or that lost a race) tries a sale that has not closed on
    # chain: the revert is recorded as skipped, not raised, and nothing changes.
    early = run_once(d.stock, other, now=d.chain.now() + 10 * SALE)
    assert [(a.action, a.outcome) for a in early] == [("settleLiquidation", "skipped")]
    assert "AuctionStillOpen" in early[0].detail
    assert d.stock.asset(asset_id).state == AssetState.LIQUIDATION
    d.chain.advance_time(SALE)
    late = run_once(d.stock, other)
    assert [(a.action, a.outcome, a.detail) for a in late] == [("settleLiquidation", "done", "no bid: sale reopened")]


def test_keeper_settles_a_closed_bond_auction(d, accounts):
    member = accounts[0]
    asset_id = d.stock.request_asset("ipfs://k", 100 * UNIT, accounts[10].address, 60 * UNIT, 2, d.chain.now() + HOUR,
                                     sender=member).asset_id
    d.stock.bid(asset_id, 100 * UNIT, 50, sender=accounts[3])
    assert due_actions(d.stock) == []
    d.chain.advance_time(HOUR)
    (action,) = run_once(d.stock, accounts[9])
    assert (action.action, action.outcome, action.detail) == ("settle", "done", "cleared at 50 bps")
