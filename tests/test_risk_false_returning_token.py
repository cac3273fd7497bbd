"""Extra risk: a settlement token that says no by returning false instead of reverting.

A caller that ignores the return value believes it was paid. Every move of the commune goes through
OpenZeppelin's SafeERC20 (inside libraries/SettlementToken.sol), which turns `false` into
SafeERC20FailedOperation(token) before the balances are even compared; a settlement whose payment is
refused this way falls back (PaymentRefused) instead of leaving escrow stuck.

Old code: SafeERC20 as well, but requestAsset took no escrow and settle made no payment; these pin that
the new exact-move library kept the false-return check (a plain `transfer` call would have been caught
only as SettlementTokenInexact(token, amount, 0)).
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    DAY, UNIT, World, arts, assert_books_exact, at, decode_error, deploy, expect_revert, finance, module_chain,
    request, vendor,
)
from vcengine.stock import Failure


@pytest.fixture(scope="module")
def false_world(module_chain, arts):
    """FalseReturningToken. accounts[0] rents asset 1 (1,000 at 2%, lenders accounts[3], [4]); the vendor is
    credited 1,000; 300 deposited (100 per founder); asset 2 requested by accounts[1] (100, rent 300 x 4)
    and bid in full by accounts[3] at 1%."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, token="FalseReturningToken", fund=6)
    first = finance(d, a[0], a[3:5])
    d.treasury.deposit_income(300 * UNIT, sender=a[5])
    second = request(d, a[1], 100 * UNIT, 300 * UNIT, 4, closes_in=DAY)
    second_bid = d.stock.bid(second, 100 * UNIT, 100, sender=a[3], approve=False).bid_id
    return World(d, first=first, second=second, second_bid=second_bid)


@pytest.fixture
def w(false_world):
    return false_world.reset()


def failed(w):
    return {"token": w.d.token.address}


def test_a_transfer_from_without_balance_or_allowance_is_refused(w):
    """accounts[11] holds nothing and approved nothing: transferFrom returns false."""
    d, a = w.d, w.chain.accounts
    expect_revert(lambda: d.stock.bid(w.second, 50 * UNIT, 100, sender=a[11], approve=False),
                  "SafeERC20FailedOperation", **failed(w))
    expect_revert(lambda: d.treasury.transact("depositIncome", 50 * UNIT, sender=a[11]),
                  "SafeERC20FailedOperation", **failed(w))


def test_every_move_is_refused_while_the_token_refuses_all_and_nothing_changes(w):
    """With refuseAll on, transfer and transferFrom return false: inbound moves (a request's escrow, a bid,
    rent, a deposit) and payouts (the vendor's withdrawal, a founder's income, a lender's payments) all
    revert SafeERC20FailedOperation(token); the credits and claims stay where they were."""
    d, a = w.d, w.chain.accounts
    d.tok.transact("setRefuseAll", True, sender=a[9])
    series = d.stock.series(w.first)
    moves = [
        lambda: d.stock.request_asset("ipfs://z", 100 * UNIT, vendor(d), 50 * UNIT, 2, w.chain.now() + 3_600,
                                      sender=a[2], approve=False),
        lambda: d.stock.bid(w.second, 10 * UNIT, 100, sender=a[4], approve=False),
        lambda: d.stock.pay_rent(w.first, 1, sender=a[0], approve=False),
        lambda: d.treasury.deposit_income(10 * UNIT, sender=a[5]),
        lambda: d.stock.withdraw(sender=a[10]),
        lambda: d.treasury.claim_payout(sender=a[1]),
        lambda: series.withdraw_payments(sender=a[3]),
    ]
    for move in moves:
        expect_revert(move, "SafeERC20FailedOperation", **failed(w))
    assert d.stock.credits(vendor(d)) == 1_000 * UNIT
    assert d.treasury.claimable(a[1].address) == 100 * UNIT
    assert series.pay_withdrawable(a[3].address) == 150 * UNIT
    assert_books_exact(d)


def test_a_settlement_refused_by_a_false_return_fails_and_every_escrow_comes_back(w):
    """Settling asset 2 while the token refuses: its first period's payment to the series returns false,
    SettlementRefused carries SafeERC20FailedOperation(token), the auction fails with PaymentRefused (3);
    once the token pays again the lender claims its 100 back in full and the requester withdraws its 300."""
    d, a = w.d, w.chain.accounts
    d.tok.transact("setRefuseAll", True, sender=a[9])
    at(w.chain, d.stock.asset(w.second).auction_closes_at)
    settled = d.stock.settle(w.second, sender=a[9])
    assert (settled.cleared, settled.failure) == (False, Failure.PAYMENT_REFUSED)
    reason = settled.tx.event("SettlementRefused").args["reason"]
    assert decode_error(d.stock, reason) == ("SafeERC20FailedOperation", failed(w))
    d.tok.transact("setRefuseAll", False, sender=a[9])
    funds3, funds1 = d.token.balance_of(a[3].address), d.token.balance_of(a[1].address)
    claimed = d.stock.claim(w.second_bid, sender=a[3])
    assert (claimed.bonds, claimed.refund) == (0, 100 * UNIT)
    d.stock.withdraw(sender=a[1])
    assert d.token.balance_of(a[3].address) - funds3 == 100 * UNIT
    assert d.token.balance_of(a[1].address) - funds1 == 300 * UNIT
    assert_books_exact(d)
