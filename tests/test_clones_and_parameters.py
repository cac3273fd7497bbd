"""Issue 13: communes created as clones, initialised once by their factory, and parameters that only
the commune's governance changes, within the constitution, and only for what starts after the change.

Expected wiring and clone code are built here from EIP-1167's published bytes and CommuneArgs' table
(tests/clone_helpers.py), not read back from the factory. The parameter rules run on a commune whose
clones an ordinary account made (its "factory") with a governance account, because the factory gives
every commune the zero governance until member governance exists.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    DAY, FUNDS, GRACE, MAX_UINT, PERIOD, SALE, UNIT, World, arts, at, expect_revert, finance, module_chain,
    to_liquidation,
)
from clone_helpers import ZERO, clone_args, clone_runtime, deploy_clone, hand_made_commune
from vcengine.deploy import CommuneParams, Deployment, chain_factory, deploy_commune
from vcengine.stock import AssetState
from vcengine.token import ERC20Client, TestStablecoinClient

MAX = 100 * 365 * DAY


@pytest.fixture(scope="module")
def made(module_chain, arts):
    """A commune created by the factory: founders accounts[0..2]."""
    a = module_chain.accounts
    d = deploy_commune(module_chain, a[0], CommuneParams(founders=[x.address for x in a[:3]]), artifacts=arts)
    return d


def test_a_commune_is_three_clones_wired_as_named(module_chain, arts, made):
    """Each of the three contracts is exactly the EIP-1167 proxy of its implementation followed by the
    same 154 bytes: the factory, the three addresses of the CommuneCreated event, the token, the
    series implementation, zero governance, the creation block's time, the period, the decimals."""
    d, chain = made, module_chain
    pieces = chain_factory(chain, chain.accounts[0], arts)
    assert "CommuneFactory.create" in d.gas  # the last transaction deploy_commune sent
    block = chain.w3.eth.get_block(chain.w3.eth.block_number)
    args = clone_args(factory=pieces.factory, commune=d.commune.address, treasury=d.treasury.address,
                      stock=d.stock.address, token=d.token.address, series=pieces.series_implementation,
                      governance=ZERO, grid_origin=d.treasury.call("gridOrigin"), period=PERIOD, decimals=6,
                      eoa_only=False)
    assert d.treasury.call("gridOrigin") == block["timestamp"]
    for client, name in ((d.commune, "Commune"), (d.treasury, "Treasury"), (d.stock, "CommonStock")):
        assert bytes(chain.w3.eth.get_code(client.address)) == clone_runtime(pieces.implementations[name], args), name
    assert (d.commune.call("treasury"), d.commune.call("stock"), d.commune.call("governance")) == (
        d.treasury.address, d.stock.address, ZERO)
    assert (d.treasury.call("commune"), d.treasury.call("stock"), d.treasury.call("token")) == (
        d.commune.address, d.stock.address, d.token.address)
    assert (d.stock.call("commune"), d.stock.call("treasury"), d.stock.call("token"), d.stock.call("factory")) == (
        d.commune.address, d.treasury.address, d.token.address, pieces.factory)


def test_every_initialiser_runs_once(module_chain, made):
    """A second initialisation reverts InvalidInitialization, whoever sends it; so does any
    initialisation of an implementation (its initialisers are disabled at deployment)."""
    d, a = made, module_chain.accounts
    params = (PERIOD, GRACE, SALE, 1_000, 0)
    for sender in (a[0], a[5]):
        expect_revert(lambda: d.commune.transact("initialize", "X", "X", [sender.address], 1, 1, sender=sender),
                      "InvalidInitialization")
        expect_revert(lambda: d.stock.transact("initialize", params, sender=sender), "InvalidInitialization")
    pieces = chain_factory(module_chain, a[0], d.commune.artifacts)
    for name, args in (("Commune", ("X", "X", [a[5].address], 1, 1)), ("CommonStock", (params,))):
        implementation = type(d.commune if name == "Commune" else d.stock)(
            module_chain, pieces.implementations[name], d.commune.artifacts)
        expect_revert(lambda: implementation.transact("initialize", *args, sender=a[5]), "InvalidInitialization")


def test_only_the_factory_named_in_a_clone_initialises_it(module_chain, arts, made):
    """A clone made by anyone else but naming the real factory (its arguments say who initialises it)
    cannot be initialised by its maker: CommuneOnlyFactory / StockOnlyFactory(caller)."""
    chain, a = module_chain, module_chain.accounts
    pieces = chain_factory(chain, a[0], arts)
    args = clone_args(factory=pieces.factory, commune=ZERO, treasury=ZERO, stock=ZERO, token=made.token.address,
                      series=pieces.series_implementation, governance=ZERO, grid_origin=chain.now(), period=PERIOD,
                      decimals=6, eoa_only=False)
    commune = type(made.commune)(chain, deploy_clone(chain, a[5], pieces.implementations["Commune"], args), arts)
    stock = type(made.stock)(chain, deploy_clone(chain, a[5], pieces.implementations["CommonStock"], args), arts)
    expect_revert(lambda: commune.transact("initialize", "X", "X", [a[5].address], 1, 1, sender=a[5]),
                  "CommuneOnlyFactory", caller=a[5].address)
    expect_revert(lambda: stock.transact("initialize", (PERIOD, GRACE, SALE, 1_000, 0), sender=a[5]),
                  "StockOnlyFactory", caller=a[5].address)


def test_nobody_changes_a_factory_communes_parameters(module_chain, made):
    """The factory gives every commune the zero governance: nobody can change anything yet."""
    d, a = made, module_chain.accounts
    for sender in (a[0], a[5]):
        expect_revert(lambda: d.stock.transact("setParameters", (PERIOD, GRACE, SALE, 500, 0), sender=sender),
                      "StockOnlyGovernance", caller=sender.address, governance=ZERO)
        expect_revert(lambda: d.commune.transact("setParameters", 5, 1, sender=sender), "CommuneOnlyGovernance",
                      caller=sender.address)
    assert (d.stock.rate_cap_bps(), d.commune.labour_threshold()) == (1_000, 10)


# ------------------------------------------------------------------ governance's changes


@pytest.fixture(scope="module")
def governed_world(module_chain, arts):
    """A hand-made commune (founders accounts[0..2]) whose governance is accounts[9], on a test token;
    accounts[0..8] funded and approving the stock and the treasury."""
    chain, a = module_chain, module_chain.accounts
    token = TestStablecoinClient.deploy(chain, a[0], artifacts=arts)
    made = hand_made_commune(chain, a[8], arts, token.address, [x.address for x in a[:3]], governance=a[9].address,
                             reserve=4_000)
    params = CommuneParams(founders=[x.address for x in a[:3]], liquidation_reserve_bps=4_000)
    d = Deployment(chain, params, made["commune"], ERC20Client(chain, token.address, arts), made["treasury"],
                   made["stock"], chain_factory(chain, a[0], arts).series_implementation)
    for acct in a[:9]:
        token.transact("faucet", acct.address, FUNDS, sender=acct)
        token.transact("approve", d.stock.address, MAX_UINT, sender=acct)
        token.transact("approve", d.treasury.address, MAX_UINT, sender=acct)
    return World(d)


@pytest.fixture
def governed(governed_world):
    return governed_world.reset().d


def set_stock(d, sender, period=PERIOD, grace=GRACE, sale=SALE, cap=1_000, reserve=4_000):
    return d.stock.transact("setParameters", (period, grace, sale, cap, reserve), sender=sender)


@pytest.mark.parametrize("field, value, error, args", [
    ("grace", 0, "StockInvalidParameter", {"name": "graceSeconds", "value": 0}),
    ("grace", MAX + 1, "StockInvalidParameter", {"name": "graceSeconds", "value": MAX + 1}),
    ("sale", 0, "StockInvalidParameter", {"name": "saleSeconds", "value": 0}),
    ("sale", MAX + 1, "StockInvalidParameter", {"name": "saleSeconds", "value": MAX + 1}),
    ("cap", 4_096, "StockInvalidParameter", {"name": "rateCapBps", "value": 4_096}),
    ("reserve", 10_001, "StockInvalidParameter", {"name": "liquidationReserveBps", "value": 10_001}),
    ("period", PERIOD + 1, "StockParameterFixed", {"name": "periodSeconds", "value": PERIOD + 1}),
])
def test_not_even_governance_passes_the_constitution(module_chain, governed, field, value, error, args):
    d, gov = governed, module_chain.accounts[9]
    expect_revert(lambda: set_stock(d, gov, **{field: value}), error, **args)
    assert (d.stock.grace_seconds(), d.stock.sale_seconds(), d.stock.rate_cap_bps()) == (GRACE, SALE, 1_000)


def test_governance_changes_each_parameter_up_to_its_bound(module_chain, governed):
    d, a = governed, module_chain.accounts
    tx = set_stock(d, a[9], grace=MAX, sale=1, cap=4_095, reserve=10_000)
    assert tx.event("StockParametersSet").args == {"graceSeconds": MAX, "saleSeconds": 1, "rateCapBps": 4_095,
                                                   "liquidationReserveBps": 10_000}
    assert (d.stock.grace_seconds(), d.stock.sale_seconds(), d.stock.rate_cap_bps(),
            d.stock.call("liquidationReserveBps"), d.stock.period_seconds()) == (MAX, 1, 4_095, 10_000, PERIOD)
    expect_revert(lambda: set_stock(d, a[0]), "StockOnlyGovernance", caller=a[0].address, governance=a[9].address)
    expect_revert(lambda: d.commune.transact("setParameters", 0, 1, sender=a[9]), "CommuneInvalidParameter",
                  name="labourThreshold", value=0)
    expect_revert(lambda: d.commune.transact("setParameters", 2**64, 1, sender=a[9]), "CommuneInvalidParameter",
                  name="labourThreshold", value=2**64)
    expect_revert(lambda: d.commune.transact("setParameters", 1, 2**24, sender=a[9]), "CommuneInvalidParameter",
                  name="quorumCap", value=2**24)
    expect_revert(lambda: d.commune.transact("setParameters", 1, 1, sender=a[0]), "CommuneOnlyGovernance",
                  caller=a[0].address)
    d.commune.transact("setParameters", 2**64 - 1, 2**24 - 1, sender=a[9])
    assert (d.commune.labour_threshold(), d.commune.quorum_cap()) == (2**64 - 1, 2**24 - 1)


def test_an_open_auction_keeps_the_rate_cap_it_was_requested_under(module_chain, governed):
    """Cap 1,000 at the request; governance lowers it to 500: the open auction still takes a bid at
    800 and its book depth still reads up to 1,000, and it clears there (320 a period repays 1,000 at
    8% in 4 periods); an asset requested after the change refuses 800."""
    d, a = governed, module_chain.accounts
    old = d.stock.request_asset("ipfs://old", 1_000 * UNIT, a[10].address, 320 * UNIT, 4, module_chain.now() + DAY,
                                sender=a[0], approve=False).asset_id
    set_stock(d, a[9], cap=500)
    d.stock.bid(old, 1_000 * UNIT, 800, sender=a[3], approve=False)
    assert d.stock.asset(old).rate_cap_bps == 1_000 and d.stock.book_depth(old, 1_000) == 1_000 * UNIT
    new = d.stock.request_asset("ipfs://new", 1_000 * UNIT, a[10].address, 300 * UNIT, 4, module_chain.now() + DAY,
                                sender=a[1], approve=False).asset_id
    assert d.stock.asset(new).rate_cap_bps == 500
    expect_revert(lambda: d.stock.transact("bid", new, UNIT, 800, sender=a[3]), "BidRateAboveCap",
                  rateBps=800, capBps=500)
    at(module_chain, d.stock.asset(old).auction_closes_at)
    settled = d.stock.settle(old, sender=a[0])
    assert settled.cleared and d.stock.asset(old).clearing_rate_bps == 800


def test_a_rental_keeps_the_grace_it_started_with(module_chain, governed):
    """Grace 7 days at the start; governance shortens it to 1 second: the rental is still reclaimable
    only 7 days after its unpaid period falls due. A rental starting after the change has 1 second."""
    d, a = governed, module_chain.accounts
    asset = finance(d, a[0], a[3:5])
    start = d.stock.rental(asset).start
    set_stock(d, a[9], grace=1)
    assert d.stock.rental(asset).grace_seconds == GRACE
    assert d.stock.reclaimable_at(asset)[0] == start + PERIOD + GRACE
    at(module_chain, start + PERIOD + 1)
    expect_revert(lambda: d.stock.reclaim(asset, sender=a[9]), "ReclaimNotDue", assetId=asset,
                  reclaimableAt=start + PERIOD + GRACE)
    later = finance(d, a[1], a[3:5])
    assert d.stock.rental(later).grace_seconds == 1
    assert d.stock.reclaimable_at(later)[0] == d.stock.rental(later).start + PERIOD + 1


def test_a_liquidation_keeps_its_reserve_and_a_sale_its_close(module_chain, governed):
    """Reserve 40% and sale length 3 days when the liquidation opens; governance then sets 0% and 1 day:
    the open sale still closes 3 days after opening and its reserve is 400 (of a price of 1,000), then
    300 after one reopening without a bid (a quarter of the opening reserve off), while the reopening
    itself runs for the sale length in force when it reopens (1 day)."""
    d, a = governed, module_chain.accounts
    asset = finance(d, a[0], a[3:5])
    to_liquidation(d, asset, a[0])
    opened = module_chain.w3.eth.get_block("latest")["timestamp"]
    assert d.stock.asset(asset).state == AssetState.LIQUIDATION
    assert (d.stock.sale(asset).reserve_bps, d.stock.liquidation_reserve(asset)) == (4_000, 400 * UNIT)
    set_stock(d, a[9], sale=DAY, reserve=0)
    sale = d.stock.sale(asset)
    assert sale.closes_at == opened + SALE and d.stock.liquidation_reserve(asset) == 400 * UNIT
    expect_revert(lambda: d.stock.transact("bidLiquidation", asset, 399 * UNIT, sender=a[5]),
                  "LiquidationBelowReserve", amount=399 * UNIT, reserve=400 * UNIT)
    at(module_chain, d.stock.sale(asset).closes_at)
    reopened = d.stock.settle_liquidation(asset, sender=a[9])
    assert not reopened.sold
    now = module_chain.w3.eth.get_block("latest")["timestamp"]
    assert d.stock.sale(asset).closes_at == now + DAY
    assert d.stock.liquidation_reserve(asset) == 300 * UNIT


def test_a_claim_is_counted_under_the_quorum_in_force_when_counted_and_a_join_spends_the_threshold_then(
        module_chain, governed):
    """Quorum cap 2 and threshold 10 at the claim's submission; governance sets cap 1 and threshold 4:
    the next attestation counts it (quorum 1, said in LabourCounted), and the worker's 10 units buy a
    share at 4, keeping 6."""
    d, a = governed, module_chain.accounts
    claim = d.commune.submit_labour(10, "ipfs://work", sender=a[6]).claim_id
    d.commune.transact("setParameters", 4, 1, sender=a[9])
    counted = d.commune.attest(claim, sender=a[0])
    assert counted.counted and counted.tx.event("LabourCounted").args["quorum"] == 1
    d.commune.join(sender=a[6])
    assert d.commune.counted_labour(a[6].address) == 6 and d.commune.is_member(a[6].address)
