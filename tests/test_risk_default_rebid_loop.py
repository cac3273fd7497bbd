"""Risk 2: the default-and-rebid loop.

The finding: a renter could default, let the asset be reclaimed, and win it back in the rental
auction with a rent of one period's interest plus one base unit (the old `RentBelowBondService`
minimum), pay that single period from the escrow and default again. Each cycle (grace, then the sale,
then a period: 40 days with the default 30-day period) accrues more interest than the one payment,
so the debt grew cycle after cycle while the member used the asset for almost nothing.

The fix: the renter reclaimed for default may not bid in that asset's next rental auction
(RentBidByDefaulter), and while bonds are outstanding a rental bid must repay principal + interest
owed at the auction's close within its own term, by the amortisation rule of requests
(RentBidDoesNotRepay(rent, periods, owed)).

Setting (by hand): 1,000 at 2% a period, rent 300 x 4 by accounts[0]. At settlement (time S) period 0's
rent is paid from the escrow: interest 20, principal 280, so 720 is left and period 0's interest is
accrued. Nothing more is paid; the asset is reclaimed at S + 30 + 7 days and its rental auction closes
at S + 40 days, in the series' period 1: owed = 720 + ceil(720 * 2%) = 720 + 14.4 = 734.4.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    GRACE, PERIOD, SALE, UNIT, World, arts, at, deploy, expect_revert, finance,
    least_repaying_rent, module_chain, repays,
)
from vcengine.stock import AssetState, RentalEnd

RATE = 200
PRINCIPAL = 720 * UNIT  # after period 0 at settlement: 1,000 - (300 - 20)
INTEREST = 14_400_000  # ceil(720 * 200 / 10_000) in base units: one period's interest on 720
OWED = PRINCIPAL + INTEREST  # 734.4: owed at the rental auction's close (S + 40 days, the series' period 1)
OLD_MINIMUM = INTEREST + 1  # what the old RentBelowBondService rule let anyone bid


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
    RentBidDoesNotRepay(14_400_001, periods, 734_400_000), owed = 720 + 14.4 accrued to the close. It does
    not even cover the first period's interest on 734.4 (14.688), so no term helps."""
    d, a = w.d, w.chain.accounts
    expect_revert(lambda: d.stock.bid_rent(w.asset, OLD_MINIMUM, periods, sender=a[1], approve=False),
                  "RentBidDoesNotRepay", rentPerPeriod=OLD_MINIMUM, periods=periods, owed=OWED)


def test_the_finding_loop_cannot_start_the_asset_goes_to_liquidation(w):
    """Old code: the defaulter rebid interest + 1, won, paid one period from the escrow and defaulted
    again, nine times over, the debt rising every 40-day cycle. Now neither the defaulter nor the
    interest-only bid gets in; with no valid bid the auction closes empty and the asset goes to
    liquidation, bondholders first."""
    d, a = w.d, w.chain.accounts
    expect_revert(lambda: d.stock.bid_rent(w.asset, OLD_MINIMUM, 6, sender=a[0], approve=False),
                  "RentBidByDefaulter", assetId=w.asset, account=a[0].address)
    expect_revert(lambda: d.stock.bid_rent(w.asset, OLD_MINIMUM, 6, sender=a[2], approve=False),
                  "RentBidDoesNotRepay", rentPerPeriod=OLD_MINIMUM, periods=6, owed=OWED)
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
                  "RentBidDoesNotRepay", rentPerPeriod=least - 1, periods=1, owed=OWED)
    d.stock.bid_rent(w.asset, least, 1, sender=a[1], approve=False)
    at(w.chain, w.closes)
    tx = d.stock.transact("settleRental", w.asset, sender=a[9])
    paid = tx.event("RentPaid").args
    assert (paid["amount"], paid["toBonds"], paid["toMembers"]) == (least, OWED, 14_688_000)
    assert d.stock.is_fully_owned(w.asset) and d.stock.debt_owed(w.asset) == (0, 0)


def test_a_six_period_bid_at_the_least_repaying_rent_repays_within_its_term(w):
    """Six periods: the least rent by the rule is 131.109357 (the annuity 734.4 * 0.02 / (1 - 1.02^-6) =
    131.10935658, rounded up); 131.109356 is refused. The winner pays on each due date and the bonds are
    redeemed by the term's last payment. Each payment's bond part is worked out below from the
    rule (interest on the principal of each period started, paid first), not read from the contract."""
    d, a = w.d, w.chain.accounts
    rent = 131_109_357
    assert least_repaying_rent(OWED, RATE, 6) == rent and not repays(OWED, RATE, rent - 1, 6)
    expect_revert(lambda: d.stock.bid_rent(w.asset, rent - 1, 6, sender=a[1], approve=False),
                  "RentBidDoesNotRepay", rentPerPeriod=rent - 1, periods=6, owed=OWED)
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
    for k, paid in enumerate(payments):
        interest += ceil_interest(principal)
        to_bonds = min(rent, interest + principal)
        principal -= to_bonds - min(to_bonds, interest)
        interest -= min(to_bonds, interest)
        assert (paid["toBonds"], paid["toMembers"]) == (to_bonds, rent - to_bonds), k
    assert principal == interest == 0
    assert d.stock.is_fully_owned(w.asset) and d.stock.debt_owed(w.asset) == (0, 0)


def owed_at(d, asset_id: int, time: int) -> int:
    """principal + interest owed at `time`, from the stored debt record and the accrual rule."""
    debt = d.stock.debt(asset_id)
    started = (time - debt.start) // PERIOD + 1
    return debt.principal + debt.interest_owed + (started - debt.accrued_periods) * ceil_interest(debt.principal)


def test_two_members_alternating_defaults_cannot_grow_the_debt(w):
    """Old code, and the first fix (the defaulter barred from the NEXT rental auction only): two members
    could take turns. The repayment rule is met by a long term: over 240 periods (20 years) the least
    rent that repays 734.4 at 2% is 14.815846, about one period's interest on the owed amount (14.688;
    over MAX_PERIODS = 1,200 it is 14.688001). accounts[1] and accounts[2] each win at that rent, pay the
    one escrowed period and default; each 40-day cycle accrues 4/3 of a period's interest (19.2) against
    one payment of about 15, so over nine cycles the amount owed at the auction's close grew from 734.4
    to about 770.

    Now no member who defaulted on an asset may bid for it while its bonds are outstanding: after each
    member's one default they are refused with RentBidByDefaulter, the loop stops after two cycles, and
    the debt has grown by at most those two cycles' shortfall (bounded by the members, never unbounded)."""
    d, a = w.d, w.chain.accounts
    TERM, GAS = 240, 3_000_000
    first = owed_at(d, w.asset, w.closes)
    assert first == OWED
    owed_history = []
    for cycle in range(2):
        bidder = a[1 + cycle]
        closes = d.stock.sale(w.asset).closes_at
        at(w.chain, closes - 1)
        owed = owed_at(d, w.asset, closes)
        rent = least_repaying_rent(owed, RATE, TERM)
        if cycle == 0:
            assert (rent, least_repaying_rent(OWED, RATE, 1_200)) == (14_815_846, 14_688_001)
            expect_revert(lambda: d.stock.bid_rent(w.asset, rent - 1, TERM, sender=bidder, approve=False),
                          "RentBidDoesNotRepay", rentPerPeriod=rent - 1, periods=TERM, owed=owed)
        d.stock.transact("bidRent", w.asset, rent, TERM, sender=bidder, gas=GAS)  # no estimate: half the time
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
        expect_revert(lambda: d.stock.bid_rent(w.asset, owed, 1, sender=defaulter, approve=False),
                      "RentBidByDefaulter", assetId=w.asset, account=defaulter.address)
    # The growth is the two cycles' alone: each 40-day cycle sees at most two period starts, so at most
    # two periods' interest (2 x ceil(734.4 x 2%) = 29.376) accrues against the one period paid.
    assert owed_history[-1] - first < 2 * 2 * 14_688_000, owed_history


def test_returning_an_asset_with_a_period_due_and_unpaid_is_a_default(w):
    """Found in review: a renter could return the asset just before it was reclaimed (rent due and unpaid,
    within the grace period) and was never marked a defaulter, then bid again at the least repaying
    rent: the same loop as a default, one base unit of principal at a time. Now a return with a period
    due and unpaid ends the rental by default (RentalEnded reason 1), the renter is remembered as a
    defaulter, and cannot bid while the bonds are outstanding."""
    d, a = w.d, w.chain.accounts
    closes = d.stock.sale(w.asset).closes_at
    at(w.chain, closes - 1)
    rent = least_repaying_rent(owed_at(d, w.asset, closes), RATE, 240)
    d.stock.transact("bidRent", w.asset, rent, 240, sender=a[1], gas=3_000_000)
    at(w.chain, closes)
    assert d.stock.settle_rental(w.asset, sender=a[9]) is True
    start = d.stock.rental(w.asset).start
    at(w.chain, start + PERIOD)  # period 1 is due and unpaid (the grace period has not run out)
    ended = d.stock.return_asset(w.asset, sender=a[1]).event("RentalEnded").args
    assert (ended["renter"], ended["reason"]) == (a[1].address, RentalEnd.DEFAULTED)
    assert d.stock.has_defaulted(w.asset, a[1].address) and d.stock.rental(w.asset).defaulted
    expect_revert(lambda: d.stock.bid_rent(w.asset, rent, 240, sender=a[1], approve=False),
                  "RentBidByDefaulter", assetId=w.asset, account=a[1].address)
