"""Risk 2: the default-and-rebid loop.

The finding: a renter could default, let the asset be reclaimed, and win it back in the rental
auction with a rent of one period's interest plus one base unit (the old `RentBelowBondService`
minimum), pay that single period from the escrow and default again. Each cycle (grace, then the sale,
then a period: 40 days with the default 30-day period) accrues more interest than the one payment,
so the debt grew cycle after cycle while the member used the asset for almost nothing.

The fix: the renter reclaimed for default may not bid in that asset's next rental auction
(RentBidByDefaulter), and while bonds are outstanding a rental bid must repay principal + interest
owed at the auction's close, by the amortisation rule of requests, within its own term and within
the periods left of the series' schedule (the request's term from settlement, at least 1):
RentBidDoesNotRepay(rent, periods, owed, periodsLeft). Found in review of the first fix: with the
bid's own term alone (up to MAX_PERIODS = 1,200) a renter could return the asset one second before
each due date (no default), rebid the least rent that repays over 1,200 periods (about one period's
interest) and hold the asset while the debt grew (734.4 to 765.39 over 44 cycles).

Setting (by hand): 1,000 at 2% a period, rent 300 x 4 by accounts[0]. At settlement (time S) period 0's
rent is paid from the escrow: interest 20, principal 280, so 720 is left and period 0's interest is
accrued. Nothing more is paid; the asset is reclaimed at S + 30 + 7 days and its rental auction closes
at S + 40 days, in the series' period 1: owed = 720 + ceil(720 * 2%) = 720 + 14.4 = 734.4. One of the
schedule's 4 periods has fully elapsed at the close (40 // 30 = 1): 3 are left.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    DAY, GRACE, PERIOD, SALE, UNIT, World, arts, at, decode_error, deploy, expect_revert, finance,
    least_repaying_rent, module_chain, periods_left, repays,
)
from vcengine.keeper import run_once
from vcengine.stock import AssetState, RentalEnd

RATE = 200
PRINCIPAL = 720 * UNIT  # after period 0 at settlement: 1,000 - (300 - 20)
INTEREST = 14_400_000  # ceil(720 * 200 / 10_000) in base units: one period's interest on 720
OWED = PRINCIPAL + INTEREST  # 734.4: owed at the rental auction's close (S + 40 days, the series' period 1)
OLD_MINIMUM = INTEREST + 1  # what the old RentBelowBondService rule let anyone bid
TERM = 4  # the request's term: the series' schedule
LEFT = 3  # the schedule left at the close, S + 40 days: 4 - 40 // 30


def ceil_interest(balance: int) -> int:
    return -(-balance * RATE // 10_000)


@pytest.fixture(scope="module")
def defaulted_world(module_chain, arts):
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts)
    asset = finance(d, a[0], a[3:5])
    start = d.stock.debt(asset).start
    at(chain, start + PERIOD + GRACE)  # period 1 unpaid, grace over: reclaimable
    tx = d.stock.reclaim(asset, sender=a[9])
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.DEFAULTED
    closes = d.stock.sale(asset).closes_at
    assert closes == start + PERIOD + GRACE + SALE
    assert d.stock.rental(asset).defaulted
    assert periods_left(TERM, start, closes) == LEFT == d.stock.repayment_periods_left(asset)
    return World(d, asset=asset, start=start, closes=closes)


@pytest.fixture
def w(defaulted_world):
    return defaulted_world.reset()


def test_the_defaulter_cannot_bid_in_the_next_rental_auction(w):
    """Old code: the reclaimed renter could bid at once and win the asset back. Now RentBidByDefaulter
    (assetId, account), even with a rent that repays everything in one period (749.088, see below)."""
    d, a = w.d, w.chain.accounts
    expect_revert(lambda: d.stock.bid_rent(w.asset, 749_088_000, 1, sender=a[0], approve=False),
                  "RentBidByDefaulter", assetId=w.asset, account=a[0].address)
    assert d.stock.sale(w.asset).leader is None


@pytest.mark.parametrize("periods", [1, 6, 1_200])
def test_a_bid_of_one_periods_interest_plus_one_is_refused(w, periods):
    """Old code: a bid of interest(720) + 1 = 14.400001 was accepted for any term. Now it is refused:
    RentBidDoesNotRepay(14_400_001, periods, 734_400_000, 3), owed = 720 + 14.4 accrued to the close. It
    does not even cover the first period's interest on 734.4 (14.688), so no term helps."""
    d, a = w.d, w.chain.accounts
    expect_revert(lambda: d.stock.bid_rent(w.asset, OLD_MINIMUM, periods, sender=a[1], approve=False),
                  "RentBidDoesNotRepay", rentPerPeriod=OLD_MINIMUM, periods=periods, owed=OWED, periodsLeft=LEFT)


def test_the_finding_loop_cannot_start_the_asset_goes_to_liquidation(w):
    """Old code: the defaulter rebid interest + 1, won, paid one period from the escrow and defaulted
    again, nine times over, the debt rising every 40-day cycle. Now neither the defaulter nor the
    interest-only bid gets in; with no valid bid the auction closes empty and the asset goes to
    liquidation, bondholders first."""
    d, a = w.d, w.chain.accounts
    expect_revert(lambda: d.stock.bid_rent(w.asset, OLD_MINIMUM, 6, sender=a[0], approve=False),
                  "RentBidByDefaulter", assetId=w.asset, account=a[0].address)
    expect_revert(lambda: d.stock.bid_rent(w.asset, OLD_MINIMUM, 6, sender=a[2], approve=False),
                  "RentBidDoesNotRepay", rentPerPeriod=OLD_MINIMUM, periods=6, owed=OWED, periodsLeft=LEFT)
    at(w.chain, w.closes)
    assert d.stock.settle_rental(w.asset, sender=a[9]) is False
    assert d.stock.asset(w.asset).state == AssetState.LIQUIDATION


def test_the_least_rent_that_repays_in_one_period_is_exact(w):
    """One period: the rent must cover ceil(734.4 * 2%) = 14.688 of interest and the 734.4, so the least
    is 749.088000. One base unit less is refused with the owed amount; 749.088000 is accepted. Settled at
    the close (still the series' period 1, nothing more accrued) the escrowed period pays 734.4 to the
    bonds, which are redeemed, and 14.688 to the members."""
    d, a = w.d, w.chain.accounts
    least = 749_088_000
    assert least == OWED + ceil_interest(OWED) == least_repaying_rent(OWED, RATE, 1)
    expect_revert(lambda: d.stock.bid_rent(w.asset, least - 1, 1, sender=a[1], approve=False),
                  "RentBidDoesNotRepay", rentPerPeriod=least - 1, periods=1, owed=OWED, periodsLeft=LEFT)
    d.stock.bid_rent(w.asset, least, 1, sender=a[1], approve=False)
    at(w.chain, w.closes)
    tx = d.stock.transact("settleRental", w.asset, sender=a[9])
    paid = tx.event("RentPaid").args
    assert (paid["amount"], paid["toBonds"], paid["toMembers"]) == (least, OWED, 14_688_000)
    assert d.stock.is_fully_owned(w.asset) and d.stock.debt_owed(w.asset) == (0, 0)


def test_a_six_period_bid_must_repay_within_the_three_periods_left(w):
    """A six-period bid counts only on the 3 periods left of the series' schedule. The least rent that
    repays 734.4 at 2% in six periods (the annuity 734.4 * 0.02 / (1 - 1.02^-6) = 131.10935658, so
    131.109357) is refused; over three it is the annuity 734.4 * 0.02 / (1 - 1.02^-3) = 254.65663155,
    so 254.656632. One base unit less is refused; the least is accepted for a six-period
    term. The winner pays on each due date: the bonds are redeemed by the third payment (the
    schedule's last period) and the three after go to the members. Each payment's bond part is
    worked out below from the rule (interest on the principal of each period started, paid first)."""
    d, a = w.d, w.chain.accounts
    six, rent = least_repaying_rent(OWED, RATE, 6), least_repaying_rent(OWED, RATE, 3)
    assert six == 131_109_357 and not repays(OWED, RATE, six, 3)
    assert rent == 254_656_632 and not repays(OWED, RATE, rent - 1, 3)
    for low in (six, rent - 1):
        expect_revert(lambda: d.stock.bid_rent(w.asset, low, 6, sender=a[1], approve=False),
                      "RentBidDoesNotRepay", rentPerPeriod=low, periods=6, owed=OWED, periodsLeft=LEFT)
    d.stock.bid_rent(w.asset, rent, 6, sender=a[1], approve=False)
    at(w.chain, w.closes)
    tx = d.stock.transact("settleRental", w.asset, sender=a[9])
    # The rental starts at the close, S + 40 days: its period k falls in the series' period k + 1, so each
    # payment on its due date accrues exactly one more period of interest on the principal left.
    principal, interest = PRINCIPAL, 0
    payments = [tx.event("RentPaid").args]
    start = d.stock.rental(w.asset).start
    for k in range(1, 6):
        at(w.chain, start + k * PERIOD)
        payments.append(d.stock.pay_rent(w.asset, 1, sender=a[1], approve=False).tx.event("RentPaid").args)
        if k == 2:  # the schedule's last period (the series' period 3) is paid: redeemed
            assert d.stock.is_fully_owned(w.asset) and d.stock.debt_owed(w.asset) == (0, 0)
    for k, paid in enumerate(payments):
        interest += ceil_interest(principal)
        to_bonds = min(rent, interest + principal)
        principal -= to_bonds - min(to_bonds, interest)
        interest -= min(to_bonds, interest)
        assert (paid["toBonds"], paid["toMembers"]) == (to_bonds, rent - to_bonds), k
        assert (to_bonds == 0) == (k >= 3), k
    assert principal == interest == 0


def owed_at(d, asset_id: int, time: int) -> int:
    """principal + interest owed at `time`, from the stored debt record and the accrual rule."""
    debt = d.stock.debt(asset_id)
    started = (time - debt.start) // PERIOD + 1
    return debt.principal + debt.interest_owed + (started - debt.accrued_periods) * ceil_interest(debt.principal)


def test_two_members_alternating_defaults_cannot_grow_the_debt(w):
    """Old code, and the first fix (the defaulter barred from the NEXT rental auction only): two members
    could take turns. The repayment rule was met by a long term: over 240 periods (20 years) the least
    rent that repays 734.4 at 2% is 14.815846, about one period's interest on the owed amount (14.688).
    accounts[1] and accounts[2] each won at that rent, paid the one escrowed period and defaulted; each
    40-day cycle accrued 4/3 of a period's interest (19.2) against one payment of about 15, so over nine
    cycles the amount owed at the auction's close grew from 734.4 to about 770.

    Now a 240-period bid counts only on the schedule left (3 periods at the first close, S + 40 days;
    2 at the second, S + 80 days), so each winner's one escrowed payment is about a third, then a half,
    of the debt; and no member who defaulted on an asset may bid for it while its bonds are outstanding:
    after each member's one default they are refused with RentBidByDefaulter and the loop stops."""
    d, a = w.d, w.chain.accounts
    LONG, GAS = 240, 3_000_000
    owed_history = [owed_at(d, w.asset, w.closes)]
    assert owed_history == [OWED]
    for cycle, expected_left in enumerate((3, 2)):
        bidder = a[1 + cycle]
        closes = d.stock.sale(w.asset).closes_at
        at(w.chain, closes - 1)
        owed = owed_at(d, w.asset, closes)
        left = periods_left(TERM, w.start, closes)
        assert left == expected_left == d.stock.repayment_periods_left(w.asset)
        rent = least_repaying_rent(owed, RATE, min(LONG, left))
        expect_revert(lambda: d.stock.bid_rent(w.asset, least_repaying_rent(owed, RATE, LONG), LONG, sender=bidder,
                                               approve=False),
                      "RentBidDoesNotRepay", rentPerPeriod=least_repaying_rent(owed, RATE, LONG), periods=LONG,
                      owed=owed, periodsLeft=left)
        expect_revert(lambda: d.stock.bid_rent(w.asset, rent - 1, LONG, sender=bidder, approve=False),
                      "RentBidDoesNotRepay", rentPerPeriod=rent - 1, periods=LONG, owed=owed, periodsLeft=left)
        d.stock.transact("bidRent", w.asset, rent, LONG, sender=bidder, gas=GAS)
        at(w.chain, closes)
        assert d.stock.settle_rental(w.asset, sender=a[9]) is True
        due, reason = d.stock.reclaimable_at(w.asset)
        assert reason == RentalEnd.DEFAULTED
        at(w.chain, due)
        d.stock.reclaim(w.asset, sender=a[9])
        assert d.stock.has_defaulted(w.asset, bidder.address)
        owed_history.append(owed_at(d, w.asset, d.stock.sale(w.asset).closes_at))
    # Both have defaulted once: neither may bid again while the bonds are outstanding.
    closes = d.stock.sale(w.asset).closes_at
    owed = owed_at(d, w.asset, closes)
    for defaulter in (a[1], a[2]):
        expect_revert(lambda: d.stock.bid_rent(w.asset, 2 * owed, 1, sender=defaulter, approve=False),
                      "RentBidByDefaulter", assetId=w.asset, account=defaulter.address)
    # Each cycle's one payment repaid at least a third of the debt: the debt fell every cycle.
    assert owed_history[0] > owed_history[1] > owed_history[2], owed_history
    # The third close is at S + 120 days: the 4-period schedule has run out, one period is left.
    assert periods_left(TERM, w.start, closes) == 1 == d.stock.repayment_periods_left(w.asset)


def test_returning_just_before_each_due_date_cannot_outlive_the_schedule(w):
    """Found in review of the first fix: a renter who returns the asset one second before each rent due
    date never defaults (nothing is overdue), so the defaulter bar never applies; with the bid's own
    term alone they could rebid the least rent that repays over MAX_PERIODS = 1,200 periods (14.688001
    on 734.4, one base unit above a period's interest) every cycle, and the debt grew (734.4 to 765.39
    over 44 cycles) while the asset was never liquidated.

    Now each 1,200-period bid counts only on the schedule left at its auction's close: 3 periods at the
    first close (S + 40 days), 2 at the second (the return at S + 70 days - 1, the close 3 days on), 1 at
    the third (S + 106 days - 1). Each cycle's one escrowed payment is the least rent over those
    periods, computed here by the rule; the third must repay everything in one period, and its
    settlement redeems the bonds. At each close one base unit less is refused with the periods left."""
    d, a = w.d, w.chain.accounts
    renter, LONG = a[1], 1_200
    lefts = []
    for cycle in range(TERM + 1):  # more cycles than the schedule has periods: it must end sooner
        closes = d.stock.sale(w.asset).closes_at
        at(w.chain, closes - 1)
        owed = owed_at(d, w.asset, closes)
        left = periods_left(TERM, w.start, closes)
        assert d.stock.repayment_periods_left(w.asset) == left
        lefts.append(left)
        rent = least_repaying_rent(owed, RATE, min(LONG, left))
        assert rent > least_repaying_rent(owed, RATE, LONG)  # the old rule's least is refused
        expect_revert(lambda: d.stock.bid_rent(w.asset, rent - 1, LONG, sender=renter, approve=False),
                      "RentBidDoesNotRepay", rentPerPeriod=rent - 1, periods=LONG, owed=owed, periodsLeft=left)
        d.stock.bid_rent(w.asset, rent, LONG, sender=renter, approve=False)
        at(w.chain, closes)
        tx = d.stock.transact("settleRental", w.asset, sender=a[9])
        paid = tx.event("RentPaid").args
        if left == 1:  # the least rent over one period covers the whole debt with its interest
            assert paid["toBonds"] == owed and paid["toMembers"] == rent - owed
            break
        assert paid["toBonds"] == rent  # the debt is larger than one payment: all of it to the bonds
        at(w.chain, d.stock.rental(w.asset).start + PERIOD - 1)  # one second before period 1 is due
        ended = d.stock.return_asset(w.asset, sender=renter).event("RentalEnded").args
        assert ended["reason"] == RentalEnd.RETURNED and not d.stock.has_defaulted(w.asset, renter.address)
    assert lefts == [3, 2, 1]
    assert d.stock.is_fully_owned(w.asset) and d.stock.debt_owed(w.asset) == (0, 0)


@pytest.fixture(scope="module")
def past_maturity_world(module_chain, arts):
    """A commune whose sales last 40 days, longer than a 30-day period: a 2-period series returned one
    second before its period 1 is due has its rental auction close at S + 70 days - 1, after the
    schedule's end (S + 60 days)."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, sale_seconds=40 * DAY)
    asset = finance(d, a[0], a[3:5], rent=600 * UNIT, periods=2)  # 1,000 at 2%: 580 at settlement, 420 left
    start = d.stock.debt(asset).start
    at(chain, start + PERIOD - 1)
    d.stock.return_asset(asset, sender=a[0])
    closes = d.stock.sale(asset).closes_at
    assert closes == start + PERIOD - 1 + 40 * DAY
    return World(d, asset=asset, start=start, closes=closes)


def test_after_the_schedule_has_run_out_a_bid_must_repay_in_one_period(past_maturity_world):
    """At the close, 2 periods of the 2-period schedule have elapsed ((30 + 40) days - 1 s, in days:
    69.99.. // 30 = 2): one period is left, whatever the bid's term. Owed at the close: 420 + interest of
    periods 1 and 2 on 420 (8.4 each) = 436.8; the least rent that repays in one period is
    436.8 + ceil(436.8 x 2%) = 436.8 + 8.736 = 445.536. One base unit less is refused (term 1 or 1,200)."""
    w = past_maturity_world.reset()
    d, a = w.d, w.chain.accounts
    owed = 420 * UNIT + 2 * 8_400_000
    assert owed_at(d, w.asset, w.closes) == owed and periods_left(2, w.start, w.closes) == 1
    assert d.stock.repayment_periods_left(w.asset) == 1
    least = owed + ceil_interest(owed)
    assert least == 445_536_000 == least_repaying_rent(owed, RATE, 1)
    for periods in (1, 1_200):
        expect_revert(lambda: d.stock.bid_rent(w.asset, least - 1, periods, sender=a[1], approve=False),
                      "RentBidDoesNotRepay", rentPerPeriod=least - 1, periods=periods, owed=owed, periodsLeft=1)
    d.stock.bid_rent(w.asset, least, 1_200, sender=a[1], approve=False)
    at(w.chain, w.closes)
    paid = d.stock.transact("settleRental", w.asset, sender=a[9]).event("RentPaid").args
    assert (paid["toBonds"], paid["toMembers"]) == (owed, least - owed)
    assert d.stock.is_fully_owned(w.asset)


def test_returning_an_asset_with_a_period_due_and_unpaid_is_a_default(w):
    """Found in review: a renter could return the asset just before it was reclaimed (rent due and unpaid,
    within the grace period) and was never marked a defaulter, then bid again at the least repaying
    rent: the same loop as a default, one base unit of principal at a time. Now a return with a period
    due and unpaid ends the rental by default (RentalEnded reason 1), the renter is remembered as a
    defaulter, and cannot bid while the bonds are outstanding."""
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.asset).closes_at
    at(w.chain, closes - 1)
    rent = least_repaying_rent(owed_at(d, w.asset, closes), RATE, LEFT)
    d.stock.bid_rent(w.asset, rent, 240, sender=a[1], approve=False)
    at(w.chain, closes)
    assert d.stock.settle_rental(w.asset, sender=a[9]) is True
    start = d.stock.rental(w.asset).start
    at(w.chain, start + PERIOD)  # period 1 is due and unpaid (the grace period has not run out)
    ended = d.stock.return_asset(w.asset, sender=a[1]).event("RentalEnded").args
    assert (ended["renter"], ended["reason"]) == (a[1].address, RentalEnd.DEFAULTED)
    assert d.stock.has_defaulted(w.asset, a[1].address) and d.stock.rental(w.asset).defaulted
    expect_revert(lambda: d.stock.bid_rent(w.asset, rent, 240, sender=a[1], approve=False),
                  "RentBidByDefaulter", assetId=w.asset, account=a[1].address)


def test_a_rental_settled_late_is_checked_again_and_reopened_if_it_no_longer_repays(w):
    """Found in review: the rule was checked at the bid against the auction's close only, and nothing
    bounds how late `settleRental` runs; settled 10 periods late, a rental started past the series'
    maturity on a bid sized for 3 periods. Now the settlement checks the bid again as the debt and
    the schedule stand when it runs. The least 3-period rent (254.656632, see above) for a 6-period
    term leads at the close; settled two periods later, at S + 100 days: 100 // 30 = 3 of the 4
    periods have elapsed (1 left), and 720 + 3 x 14.4 = 763.2 is owed (periods 1 to 3 accrued on
    720). 254.656632 does not repay that in one period: the settlement falls back
    (SettlementRefused carrying RentBidDoesNotRepay(254.656632, 6, 763.2, 1)), the leader is credited
    their escrow and the auction reopens for a sale length from then."""
    d, a = w.d, w.chain.accounts
    rent = 254_656_632
    d.stock.bid_rent(w.asset, rent, 6, sender=a[1], approve=False)
    late = w.closes + 2 * PERIOD
    at(w.chain, late)
    tx = d.stock.transact("settleRental", w.asset, sender=a[9])
    refused = tx.event("SettlementRefused").args
    name, args = decode_error(d.stock, refused["reason"])
    owed = PRINCIPAL + 3 * INTEREST
    assert (name, args) == ("RentBidDoesNotRepay",
                            {"rentPerPeriod": rent, "periods": 6, "owed": owed, "periodsLeft": 1})
    assert owed_at(d, w.asset, late) == owed and periods_left(TERM, w.start, late) == 1
    assert d.stock.asset(w.asset).state == AssetState.RENTAL_AUCTION
    sale = d.stock.sale(w.asset)
    assert sale.leader is None and sale.closes_at == late + SALE
    assert d.stock.credits(a[1].address) == rent and d.stock.commitments(a[1].address) == 0
    assert tx.event("RentalAuctionOpened").args["closesAt"] == late + SALE
    assert not any(e.name == "RentalStarted" for e in tx.events)


def test_the_keeper_reports_a_late_settlement_reopened_not_liquidated(w):
    """The keeper's settleRental line tells the two ways a settlement ends without a rental apart: with no
    bid the asset goes to liquidation; with a bid that no longer repays (settled late) the auction reopens."""
    d, a = w.d, w.chain.accounts
    d.stock.bid_rent(w.asset, 254_656_632, 6, sender=a[1], approve=False)
    at(w.chain, w.closes + 2 * PERIOD)
    actions = [x for x in run_once(d.stock, a[9]) if x.action == "settleRental"]
    assert [(x.asset_id, x.outcome) for x in actions] == [(w.asset, "done")]
    assert "reopened" in actions[0].detail and "liquidation" not in actions[0].detail
    assert d.stock.asset(w.asset).state == AssetState.RENTAL_AUCTION
