"""Risk 5: the shortest grace, and every duration at its limits.

The finding: with graceSeconds = 0 a rental started with no period paid (`paidPeriods = 0`), so it was
reclaimable at `start + 0 * period + 0 = start`: anyone could take the asset from its renter in the
block after settlement. And durations were bounded differently in the contract and in the Python
deployer, and a bond auction could close at any time up to 2**64 - 1.

The fix: every rental starts with its first period paid from escrow (paidPeriods = 1), so the first
reclaim is due at start + 1 period + grace; and the constitution (issue 13) now requires a grace
period of at least one second. Periods are checked by the factory (FactoryInvalidPeriod), grace and
sales by the common stock's initialiser (StockInvalidParameter) against MAX_DURATION_SECONDS (100
years), and by vcengine.deploy.check_params (InputError, before anything is sent); a bond auction may
close at most MAX_DURATION_SECONDS after its request (AuctionCloseTooLate(closesAt, latest)).
"""

from __future__ import annotations

import dataclasses

import pytest

from adversarial import (  # noqa: F401
    DAY, PERIOD, UNIT, World, arts, at, block_time, deploy, expect_revert, finance, module_chain,
    vendor,
)
from vcengine.client import InputError
from vcengine.deploy import MAX_DURATION_SECONDS, CommuneFactoryClient, CommuneParams, _create_config, chain_factory, check_params
from vcengine.stock import CommonStockClient, RentalEnd

MAX = 100 * 365 * DAY  # CommonStock.MAX_DURATION_SECONDS: 3,153,600,000 seconds
GRACE = 1  # the shortest grace the constitution allows


@pytest.fixture(scope="module")
def zero_grace_world(module_chain, arts):
    """grace_seconds = 1 (the least); accounts[0] rents 1,000 at 2%, rent 300 x 4, settled at time S."""
    d = deploy(module_chain, arts, fund=5, grace_seconds=GRACE)
    asset = finance(d, module_chain.accounts[0], module_chain.accounts[3:5])
    return World(d, asset=asset, start=d.stock.rental(asset).start)


@pytest.fixture
def zero_grace(zero_grace_world):
    return zero_grace_world.reset()


def test_with_the_least_grace_the_asset_cannot_be_reclaimed_right_after_settlement(zero_grace):
    """Old code: reclaimable at S (paidPeriods 0, grace 0): the next block after settlement. Now period
    0 is paid at settlement (paidPeriods 1), so the reclaim is due at S + 30 days + 1 s exactly: refused
    in the next block and one second before with ReclaimNotDue(asset, due), accepted at due (period 1
    unpaid: Defaulted)."""
    w = zero_grace
    d, a = w.d, w.chain.accounts
    due = w.start + PERIOD + GRACE
    assert d.stock.rental(w.asset).grace_seconds == GRACE
    rental = d.stock.rental(w.asset)
    assert (rental.paid_periods, rental.renter) == (1, a[0].address)
    assert d.stock.reclaimable_at(w.asset) == (due, RentalEnd.DEFAULTED)
    expect_revert(lambda: d.stock.reclaim(w.asset, sender=a[9]), "ReclaimNotDue", assetId=w.asset, reclaimableAt=due)
    at(w.chain, due - 1)
    expect_revert(lambda: d.stock.reclaim(w.asset, sender=a[9]), "ReclaimNotDue", assetId=w.asset, reclaimableAt=due)
    at(w.chain, due)
    tx = d.stock.reclaim(w.asset, sender=a[9])
    assert block_time(w.chain, tx) == due
    assert tx.event("RentalEnded").args["reason"] == RentalEnd.DEFAULTED


def test_with_the_least_grace_rent_paid_on_its_due_date_keeps_the_asset(zero_grace):
    """Period 1 falls due at S + 30 days; paid at that very second, the next reclaim is due at S + 60 days + 1 s."""
    w = zero_grace
    d, a = w.d, w.chain.accounts
    at(w.chain, w.start + PERIOD)
    d.stock.pay_rent(w.asset, 1, sender=a[0], approve=False)
    due = w.start + 2 * PERIOD + GRACE
    assert d.stock.reclaimable_at(w.asset) == (due, RentalEnd.DEFAULTED)
    at(w.chain, due - 1)
    expect_revert(lambda: d.stock.reclaim(w.asset, sender=a[9]), "ReclaimNotDue", assetId=w.asset, reclaimableAt=due)


# ------------------------------------------------------- the factory and the initialiser


def raw_create(w, arts, period: int, grace: int, sale: int):
    """A commune created through the factory as deploy_commune does, without check_params."""
    chain, deployer = w.chain, w.chain.accounts[0]
    factory = CommuneFactoryClient(chain, chain_factory(chain, deployer, arts).factory, arts)
    params = CommuneParams(founders=[deployer.address], period_seconds=period, grace_seconds=grace, sale_seconds=sale)
    tx = factory.transact("create", _create_config(params, [deployer.address], w.d.token.address), sender=deployer)
    return CommonStockClient(chain, tx.event("CommuneCreated").args["stock"], arts)


@pytest.mark.parametrize("period, grace, sale, name, value", [
    (PERIOD, MAX + 1, DAY, "graceSeconds", MAX + 1),
    (PERIOD, 0, DAY, "graceSeconds", 0),
    (PERIOD, GRACE, 0, "saleSeconds", 0),
    (PERIOD, GRACE, MAX + 1, "saleSeconds", MAX + 1),
])
def test_the_initialiser_refuses_durations_beyond_their_limits(zero_grace, arts, period, grace, sale, name, value):
    """One second past each limit (and a grace of zero, below the constitution's least):
    StockInvalidParameter(name, value), and no commune is created."""
    expect_revert(lambda: raw_create(zero_grace, arts, period, grace, sale), "StockInvalidParameter",
                  name=name, value=value)


@pytest.mark.parametrize("period", [0, MAX + 1])
def test_a_period_out_of_range_is_refused_by_the_factory(zero_grace, arts, period):
    """periodSeconds = 0 or one second past 100 years: the factory refuses it by name before any clone
    is made (FactoryInvalidPeriod(value))."""
    expect_revert(lambda: raw_create(zero_grace, arts, period, GRACE, DAY), "FactoryInvalidPeriod",
                  periodSeconds=period)


def test_the_initialiser_accepts_every_duration_at_its_limit(zero_grace, arts):
    """period = MAX_DURATION_SECONDS, grace = 1 s and MAX_DURATION_SECONDS, sale = 1 s and MAX_DURATION_SECONDS."""
    for period, grace, sale in ((MAX, GRACE, MAX), (1, MAX, 1)):
        stock = raw_create(zero_grace, arts, period, grace, sale)
        assert (stock.period_seconds(), stock.grace_seconds(), stock.sale_seconds()) == (period, grace, sale)
    assert stock.call("MAX_DURATION_SECONDS") == MAX == MAX_DURATION_SECONDS


@pytest.mark.parametrize("field, value, accepted", [
    ("period_seconds", 0, False), ("period_seconds", 1, True), ("period_seconds", MAX, True),
    ("period_seconds", MAX + 1, False),
    ("grace_seconds", 0, False), ("grace_seconds", 1, True), ("grace_seconds", MAX, True),
    ("grace_seconds", MAX + 1, False),
    ("sale_seconds", 0, False), ("sale_seconds", 1, True), ("sale_seconds", MAX, True),
    ("sale_seconds", MAX + 1, False),
])
def test_check_params_has_the_constructors_bounds_and_refuses_before_sending(zero_grace, field, value, accepted):
    """vcengine.deploy.check_params accepts exactly what the factory and the initialiser accept; a refused value raises
    InputError naming the field and nothing is sent (block number and the deployer's nonce unchanged)."""
    w = zero_grace
    params = dataclasses.replace(CommuneParams(founders=[w.chain.accounts[0].address]), **{field: value})
    block = w.chain.w3.eth.block_number
    nonce = w.chain.w3.eth.get_transaction_count(w.chain.accounts[0].address)
    if accepted:
        check_params(params)
    else:
        words = {"period_seconds": "period length", "grace_seconds": "grace period", "sale_seconds": "sale length"}
        with pytest.raises(InputError, match=words[field]):
            check_params(params)
        from vcengine.deploy import deploy_commune
        with pytest.raises(InputError, match=words[field]):
            deploy_commune(w.chain, w.chain.accounts[0], params)
    assert w.chain.w3.eth.block_number == block
    assert w.chain.w3.eth.get_transaction_count(w.chain.accounts[0].address) == nonce


# ------------------------------------------------------------------ auction close


def test_a_bond_auction_may_close_exactly_max_duration_after_its_request_and_not_a_second_later(zero_grace):
    """Old code: any close up to 2**64 - 1 was accepted, so an auction (and its escrow) could be set to
    close in billions of years. Now the request at block time T may close at T + MAX_DURATION_SECONDS
    (accepted) but not at T + MAX_DURATION_SECONDS + 1: AuctionCloseTooLate(closesAt, latest = T + MAX).
    Closing at T itself is AuctionCloseInPast(T, T)."""
    w = zero_grace
    d, a = w.d, w.chain.accounts

    def request(closes):  # straight to the contract (the Python client may refuse these first)
        return d.stock.transact("requestAsset", "ipfs://far", 100 * UNIT, vendor(d), 60 * UNIT, 2, closes, sender=a[1])

    now = w.chain.now() + 1  # the block time of the next transaction, and of its gas estimate
    expect_revert(lambda: request(now + MAX + 1), "AuctionCloseTooLate", closesAt=now + MAX + 1, latest=now + MAX)
    expect_revert(lambda: request(now), "AuctionCloseInPast", closesAt=now, nowTime=now)
    tx = request(now + MAX)
    assert block_time(w.chain, tx) == now
    assert d.stock.asset(tx.event("AssetRequested").args["assetId"]).auction_closes_at == now + MAX
