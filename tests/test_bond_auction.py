"""Asset requests and the public interest-rate auction: clearing, fills, refunds, and every refusal."""

from __future__ import annotations

import pytest

from conftest import UNIT
from reference import amortises, clear_auction, interest
from test_membership_rules import expect_revert
from vcengine.client import InputError
from vcengine.commune import CommuneClient
from vcengine.stock import AssetState, CommonStockClient, Failure

HOUR = 3600


@pytest.fixture
def parts(deployment, accounts):
    """(stock, token, member, vendor, bidders) of the session commune."""
    return deployment.stock, deployment.test_token, accounts[0], accounts[10], accounts[3:10]


def request(stock, member, vendor, price=1_000 * UNIT, rent=120 * UNIT, periods=12, closes_in=HOUR, **kw):
    return stock.request_asset("ipfs://bafy-lathe", price, vendor.address, rent, periods,
                               stock.chain.now() + closes_in, sender=member, **kw).asset_id


def system_balance_matches(stock, token) -> bool:
    return token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held()


# ------------------------------------------------------------- full auctions


def test_auction_clears_at_the_lowest_fully_subscribed_rate(parts):
    stock, token, member, vendor, bidders = parts
    a, b, c, d, e = bidders[:5]
    member_before = token.balance_of(member.address)
    asset_id = request(stock, member, vendor)
    asset = stock.asset(asset_id)
    assert asset.state == AssetState.AUCTION and asset.requester == member.address
    assert asset.description_hash == stock.chain.w3.keccak(text="ipfs://bafy-lathe")
    assert stock.commitments(member.address) == 1
    # the request escrows the agreement's first period (120) while the auction is open
    assert token.balance_of(member.address) == member_before - 120 * UNIT
    assert stock.escrow_held() == 120 * UNIT and system_balance_matches(stock, token)

    book = [(a, 400, 100), (b, 300, 150), (c, 500, 150), (d, 200, 300), (e, 200, 999)]
    balances = {x.address: token.balance_of(x.address) for x, _, _ in book}
    ids = [stock.bid(asset_id, amount * UNIT, rate, sender=x).bid_id for x, amount, rate in book]
    assert stock.asset(asset_id).escrowed == 1_600 * UNIT
    assert stock.escrow_held() == 1_600 * UNIT + 120 * UNIT  # the bids and the first period
    assert stock.book_depth(asset_id, 149) == 400 * UNIT and stock.book_depth(asset_id, 150) == 1_200 * UNIT
    assert stock.tick_total(asset_id, 150) == 800 * UNIT
    assert system_balance_matches(stock, token)

    stock.chain.advance_time(HOUR)
    settled = stock.settle(asset_id, sender=e)
    # 400 at 1.00% is not enough; with 800 more at 1.50% the 1,000 is covered: r* = 150 bps.
    assert settled.cleared and settled.clearing_rate_bps == 150
    names = [ev.name for ev in settled.tx.events]
    # the rental starts with its first period paid from the requester's escrow, through the waterfall
    assert names == ["AuctionSettled", "Credited", "RentalStarted", "RentPaid"]
    asset = stock.asset(asset_id)
    assert asset.state == AssetState.RENTED and asset.renter == member.address
    rental = stock.rental(asset_id)
    assert rental.start == stock.chain.w3.eth.get_block(settled.tx.block_number)["timestamp"]
    assert (rental.paid_periods, rental.periods) == (1, 12)
    # period 0: interest ceil(1,000 * 1.5%) = 15 first, then 120 - 15 = 105 of principal; nothing to members
    assert interest(1_000 * UNIT, 150) == 15 * UNIT
    assert settled.tx.event("RentPaid").args["toBonds"] == 120 * UNIT
    assert settled.tx.event("RentPaid").args["toMembers"] == 0
    assert stock.debt_owed(asset_id) == (895 * UNIT, 0)
    assert stock.escrow_held() == 1_600 * UNIT - 1_000 * UNIT  # the bids' refunds; the 120 left for the series
    assert system_balance_matches(stock, token)
    # the 600 still needed at 150 bps are split 300:500 -> 225 and 375
    expected = [(400, 0), (225, 75), (375, 125), (0, 200), (0, 200)]
    assert [stock.bid_outcome(i) for i in ids] == [(x * UNIT, y * UNIT) for x, y in expected]

    series = stock.series(asset_id)
    assert (series.face(), series.rate_bps(), series.asset_id(), series.issuer()) == (1_000 * UNIT, 150, asset_id, stock.address)
    assert (series.name(), series.symbol(), series.decimals()) == (f"Venture Commune Bond #{asset_id}", f"VCB{asset_id}", 6)
    for (x, amount, _), bid_id, (bonds, refund) in zip(book, ids, expected):
        got = stock.claim(bid_id, sender=x)
        assert (got.bonds, got.refund) == (bonds * UNIT, refund * UNIT)
        assert series.balance_of(x.address) == bonds * UNIT
        assert token.balance_of(x.address) == balances[x.address] - bonds * UNIT
        assert system_balance_matches(stock, token)
    assert series.total_supply() == 1_000 * UNIT
    assert series.total_paid() == 120 * UNIT and token.balance_of(series.address) == 120 * UNIT
    assert token.balance_of(member.address) == member_before - 120 * UNIT

    assert stock.credits(vendor.address) == 1_000 * UNIT
    before = token.balance_of(vendor.address)
    stock.withdraw(sender=vendor)
    assert token.balance_of(vendor.address) - before == 1_000 * UNIT  # exactly the price
    assert token.balance_of(stock.address) == 0 and stock.escrow_held() == 0 and stock.credits_held() == 0


def test_bonds_are_ordinary_transferable_erc20(parts):
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor, price=100 * UNIT, rent=50 * UNIT, periods=3)
    bid_id = stock.bid(asset_id, 100 * UNIT, 10, sender=bidders[0]).bid_id
    stock.chain.advance_time(HOUR)
    stock.settle(asset_id, sender=bidders[1])
    stock.claim(bid_id, sender=bidders[0])
    series = stock.series(asset_id)
    series.transfer(bidders[1].address, 40 * UNIT, sender=bidders[0])
    assert series.balance_of(bidders[1].address) == 40 * UNIT
    # a bondholder is not a member: capital buys bonds, never shares
    commune = CommuneClient(stock.chain, stock.call("commune"), stock.artifacts)
    assert not commune.is_member(bidders[0].address) and not commune.is_member(bidders[1].address)


@pytest.mark.parametrize(
    "book, price, rent, periods",
    [
        ([(300, 0), (300, 5), (400, 5)], 700, 100, 12),  # clears at the margin of a tie
        ([(1_000, 42)], 1_000, 200, 6),  # one bid exactly covers
        ([(333, 7), (333, 7), (334, 7)], 500, 100, 12),  # three-way tie, pro rata with rounding
        ([(1, 3), (2, 3), (4, 3), (8, 3)], 7, 5, 2),  # tiny amounts: rounding dominates
        ([(10, 999), (10, 1), (10, 500)], 15, 10, 3),  # bid order is not rate order
    ],
)
def test_clearing_matches_the_reference(parts, book, price, rent, periods):
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor, price=price * UNIT, rent=rent * UNIT, periods=periods)
    ids = [stock.bid(asset_id, amount * UNIT, rate, sender=bidders[i % len(bidders)]).bid_id
           for i, (amount, rate) in enumerate(book)]
    stock.chain.advance_time(HOUR)
    settled = stock.settle(asset_id, sender=member)
    ref = clear_auction(price * UNIT, rent * UNIT, periods, [(a * UNIT, r) for a, r in book])
    assert settled.cleared == ref.cleared and settled.clearing_rate_bps == ref.rate_bps
    assert [stock.bid_outcome(i)[0] for i in ids] == ref.fills
    assert sum(ref.fills) == price * UNIT


def test_pro_rata_rounding_is_deterministic_and_exact(parts):
    """Three equal bids share 100 base units at the margin: 33, 33 and 34 by cumulative rounding."""
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor, price=100, rent=60, periods=2)
    ids = [stock.bid(asset_id, 50, 9, sender=bidders[i]).bid_id for i in range(3)]
    stock.chain.advance_time(HOUR)
    assert stock.settle(asset_id, sender=member).clearing_rate_bps == 9
    # fill_k = floor((C_k + a) * 100 / 150) - floor(C_k * 100 / 150), C = 0, 50, 100
    assert [stock.bid_outcome(i) for i in ids] == [(33, 17), (33, 17), (34, 16)]


# ------------------------------------------------------------ failed auctions


def test_undersubscribed_auction_fails_and_refunds_everyone(parts):
    stock, token, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor)
    balances = [token.balance_of(b.address) for b in bidders[:3]]
    ids = [stock.bid(asset_id, 300 * UNIT, 100 + i, sender=b).bid_id for i, b in enumerate(bidders[:3])]
    stock.chain.advance_time(HOUR)
    settled = stock.settle(asset_id, sender=bidders[4])
    assert not settled.cleared and settled.failure == Failure.UNDERSUBSCRIBED
    assert stock.asset(asset_id).state == AssetState.FAILED and stock.asset(asset_id).series is None
    assert stock.commitments(member.address) == 0
    for b, bid_id, before in zip(bidders, ids, balances):
        got = stock.claim(bid_id, sender=b)
        assert (got.bonds, got.refund) == (0, 300 * UNIT)
        assert token.balance_of(b.address) == before
    # the requester's escrowed first period (120) is credited back, to be withdrawn
    assert stock.credits(vendor.address) == 0 and stock.credits(member.address) == 120 * UNIT
    assert token.balance_of(stock.address) == stock.credits_held() == 120 * UNIT and stock.escrow_held() == 0
    before = token.balance_of(member.address)
    stock.withdraw(sender=member)
    assert token.balance_of(member.address) - before == 120 * UNIT
    assert token.balance_of(stock.address) == 0


def test_rent_too_low_for_the_clearing_rate_fails_and_refunds(parts):
    stock, token, member, vendor, bidders = parts
    # 1,000 over 10 periods at 5%: the first period's interest alone is 50; rent 100 cannot repay in 10.
    assert not amortises(1_000 * UNIT, 500, 100 * UNIT, 10) and amortises(1_000 * UNIT, 100, 110 * UNIT, 10)
    asset_id = request(stock, member, vendor, price=1_000 * UNIT, rent=100 * UNIT, periods=10)
    bid_id = stock.bid(asset_id, 1_000 * UNIT, 500, sender=bidders[0]).bid_id
    stock.chain.advance_time(HOUR)
    settled = stock.settle(asset_id, sender=bidders[0])
    assert not settled.cleared and settled.failure == Failure.RENT_TOO_LOW
    assert stock.claim(bid_id, sender=bidders[0]).refund == 1_000 * UNIT
    assert stock.credits(member.address) == 100 * UNIT  # the escrowed first period, credited back
    assert system_balance_matches(stock, token)


def test_rent_exactly_sufficient_clears(parts):
    """The boundary: the largest rate at which the rent still repays in time clears; one more fails."""
    stock, _, member, vendor, bidders = parts
    price, rent, periods = 1_000 * UNIT, 105 * UNIT, 10
    best = max(r for r in range(0, 1_001) if amortises(price, r, rent, periods))
    assert interest(price, best) < rent
    for rate, clears in ((best, True), (best + 1, False)):
        asset_id = request(stock, member, vendor, price=price, rent=rent, periods=periods)
        stock.bid(asset_id, price, rate, sender=bidders[0])
        stock.chain.advance_time(HOUR)
        assert stock.settle(asset_id, sender=member).cleared is clears


# --------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "field, value, error, args",
    [
        ("description", "", "AssetEmptyDescription", {}),
        ("price", 0, "AssetInvalidPrice", {"price": 0}),
        ("price", 2**128, "AssetInvalidPrice", {"price": 2**128}),
        ("vendor", "0x" + "00" * 20, "AssetZeroVendor", {}),
        ("rent", 0, "AssetInvalidRent", {"rentPerPeriod": 0}),
        ("periods", 0, "AssetInvalidTerm", {"periods": 0, "maxPeriods": 1_200}),
        ("periods", 1_201, "AssetInvalidTerm", {"periods": 1_201, "maxPeriods": 1_200}),
        ("closes", -1, "AuctionCloseInPast", {}),
        ("closes", 0, "AuctionCloseInPast", {}),
        ("closes", 100 * 365 * 24 * HOUR + 1, "AuctionCloseTooLate", {}),  # one second past the 100 years
        ("vendor", "requester", "AssetVendorIsRequester", {"vendor": "requester"}),
        ("vendor", "member", "AssetVendorIsMember", {"vendor": "member"}),
    ],
)
def test_request_refusals(parts, field, value, error, args):
    stock, _, member, vendor, _ = parts
    other_member = stock.chain.accounts[1]
    names = {"requester": member.address, "member": other_member.address}
    value = names.get(value, value) if isinstance(value, str) else value
    args = {k: names.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    call = {"description": "ipfs://x", "price": 100, "vendor": vendor.address, "rent": 10, "periods": 12, "closes": HOUR}
    call[field] = value
    stock.token().approve(stock.address, 10, sender=member)  # the first period's escrow
    # The transaction's block is at least one second after the latest: now + 1 is already too early.
    closes = stock.chain.now() + (call["closes"] + 1 if field == "closes" else HOUR)
    expect_revert(lambda: stock.transact("requestAsset", call["description"], call["price"], call["vendor"], call["rent"],
                                         call["periods"], closes, sender=member), error, **args)
    assert stock.asset_count() == 0 and stock.escrow_held() == 0


def test_auction_may_close_exactly_a_hundred_years_ahead(parts):
    """The latest close is now + MAX_DURATION_SECONDS (the transaction is mined one second after `now`)."""
    stock, token, member, vendor, _ = parts
    token.approve(stock.address, 10, sender=member)  # the first period's escrow, so that the request is the next block
    latest = stock.chain.now() + 1 + 100 * 365 * 24 * HOUR
    asset_id = stock.request_asset("ipfs://x", 100, vendor.address, 10, 12, latest, sender=member,
                                   approve=False).asset_id
    assert stock.asset(asset_id).auction_closes_at - stock.chain.now() == 100 * 365 * 24 * HOUR
    assert stock.asset(asset_id).auction_closes_at == latest


def test_request_without_allowance_for_the_first_period_is_refused(parts):
    stock, token, member, vendor, _ = parts
    token.approve(stock.address, 0, sender=member)
    expect_revert(lambda: request(stock, member, vendor, approve=False), "ERC20InsufficientAllowance")
    assert stock.asset_count() == 0 and token.balance_of(stock.address) == 0


def test_request_by_non_member(parts):
    """Refused by the client before anything is sent (no approval either), and by the contract."""
    stock, _, _, vendor, bidders = parts
    block = stock.chain.w3.eth.block_number
    with pytest.raises(InputError, match="not a member"):
        request(stock, bidders[0], vendor)
    assert stock.chain.w3.eth.block_number == block
    stock.token().approve(stock.address, 120 * UNIT, sender=bidders[0])
    expect_revert(lambda: stock.transact("requestAsset", "ipfs://x", 1_000 * UNIT, vendor.address, 120 * UNIT, 12,
                                         stock.chain.now() + HOUR, sender=bidders[0]),
                  "StockNotMember", account=bidders[0].address)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"price": 0}, "price must be between 1"),
        ({"rent": -5}, "rent per period must be between 1"),
        ({"periods": 0}, "term in periods must be between 1"),
        ({"vendor": "0x" + "00" * 20}, "vendor must not be the zero address"),
        ({"vendor": "not-an-address"}, "vendor must be a 20-byte hex address"),
        ({"description": " "}, "description must be a non-empty"),
        ({"vendor": "requester"}, "the vendor must not be the requester"),
    ],
)
def test_request_client_validation_sends_nothing(parts, kwargs, message):
    stock, _, member, vendor, _ = parts
    args = {"description": "ipfs://x", "price": 100, "vendor": vendor.address, "rent": 10, "periods": 12}
    args.update(kwargs)
    if args["vendor"] == "requester":
        args["vendor"] = member.address
    block = stock.chain.w3.eth.block_number
    with pytest.raises(InputError, match=message):
        stock.request_asset(args["description"], args["price"], args["vendor"], args["rent"], args["periods"],
                            stock.chain.now() + HOUR, sender=member)
    assert stock.chain.w3.eth.block_number == block


def test_bid_refusals(parts):
    stock, token, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor)
    bidder = bidders[0]
    token.approve(stock.address, 10**30, sender=bidder)
    expect_revert(lambda: stock.transact("bid", asset_id, 0, 100, sender=bidder), "BidInvalidAmount", amount=0)
    expect_revert(lambda: stock.transact("bid", asset_id, 10, 1_001, sender=bidder), "BidRateAboveCap",
                  rateBps=1_001, capBps=1_000)
    expect_revert(lambda: stock.transact("bid", 99, 10, 100, sender=bidder), "AssetUnknown", assetId=99)
    expect_revert(lambda: stock.transact("bid", asset_id, 2**128, 100, sender=bidder), "BidInvalidAmount")
    closes = stock.asset(asset_id).auction_closes_at
    stock.chain.advance_time(HOUR)
    expect_revert(lambda: stock.transact("bid", asset_id, 10, 100, sender=bidder), "AuctionClosed",
                  assetId=asset_id, closedAt=closes)
    # nothing was escrowed but the requester's first period (120)
    assert stock.bid_count() == 0 and token.balance_of(stock.address) == stock.escrow_held() == 120 * UNIT


def test_bid_without_allowance_reverts_with_the_token_error(parts):
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor)
    expect_revert(lambda: stock.bid(asset_id, 10, 100, sender=bidders[6], approve=False), "ERC20InsufficientAllowance")


def test_settlement_and_claim_refusals(parts):
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor, price=100 * UNIT, rent=50 * UNIT, periods=3)
    bid_id = stock.bid(asset_id, 100 * UNIT, 10, sender=bidders[0]).bid_id
    closes = stock.asset(asset_id).auction_closes_at
    expect_revert(lambda: stock.settle(asset_id, sender=member), "AuctionStillOpen", assetId=asset_id, closesAt=closes)
    expect_revert(lambda: stock.claim(bid_id, sender=bidders[0]), "AuctionNotSettled", bidId=bid_id, assetId=asset_id)
    expect_revert(lambda: stock.bid_outcome(bid_id), "AuctionNotSettled")
    stock.chain.advance_time(HOUR)
    stock.settle(asset_id, sender=member)
    expect_revert(lambda: stock.settle(asset_id, sender=member), "AuctionNotOpen",
                  assetId=asset_id, state=int(AssetState.RENTED))
    expect_revert(lambda: stock.settle(77, sender=member), "AssetUnknown", assetId=77)
    expect_revert(lambda: stock.claim(bid_id, sender=bidders[1]), "BidNotYours", bidId=bid_id, caller=bidders[1].address)
    expect_revert(lambda: stock.claim(55, sender=bidders[1]), "BidUnknown", bidId=55)
    stock.claim(bid_id, sender=bidders[0])
    expect_revert(lambda: stock.claim(bid_id, sender=bidders[0]), "BidAlreadyClaimed", bidId=bid_id)
    expect_revert(lambda: stock.withdraw(sender=bidders[0]), "NothingToWithdraw", account=bidders[0].address)
    stock.withdraw(sender=vendor)
    expect_revert(lambda: stock.withdraw(sender=vendor), "NothingToWithdraw", account=vendor.address)


def test_only_the_issuer_mints_bonds(parts):
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor, price=100, rent=60, periods=2)
    stock.bid(asset_id, 100, 1, sender=bidders[0])
    stock.chain.advance_time(HOUR)
    stock.settle(asset_id, sender=member)
    series = stock.series(asset_id)
    expect_revert(lambda: series.transact("mint", bidders[0].address, 1, sender=bidders[0]), "BondSeriesOnlyIssuer",
                  caller=bidders[0].address)


def test_bid_gas_does_not_depend_on_book_size(parts):
    """The tenth bid at a rate costs what the second costs (a benchmark measures this at scale)."""
    stock, _, member, vendor, bidders = parts
    asset_id = request(stock, member, vendor)
    gas = [stock.bid(asset_id, UNIT, 200, sender=bidders[i % 3]).tx.gas_used for i in range(10)]
    assert len(set(gas[3:])) == 1, gas  # once each of the three bidders has a non-zero escrow history


@pytest.mark.parametrize("field, error, name", [("sale_seconds", "StockInvalidParameter", "saleSeconds"),
                                                ("grace_seconds", "StockInvalidParameter", "graceSeconds"),
                                                ("period_seconds", "FactoryInvalidPeriod", None)])
def test_durations_beyond_a_hundred_years_are_refused(monkeypatch, field, error, name):
    """A sale, grace period or period longer than 100 years would push due and closing times past the
    uint64 they are stored in: the client refuses it before sending, and so does the constructor (for
    the period, the factory's, before any clone is made)."""
    from vcengine import deploy
    from vcengine.chains import TesterChain
    from vcengine.client import ContractReverted

    chain = TesterChain(accounts=2)
    me = chain.accounts[0]
    too_long = deploy.CommuneParams(founders=[me.address], **{field: 100 * 365 * 24 * 3600 + 1})
    block = chain.w3.eth.block_number
    with pytest.raises(InputError, match="between"):
        deploy.deploy_commune(chain, me, too_long)
    assert chain.w3.eth.block_number == block  # nothing sent
    monkeypatch.setattr(deploy, "require_int", lambda value, *args, **kwargs: value)  # skip the client's check
    with pytest.raises(ContractReverted) as refused:
        deploy.deploy_commune(chain, me, too_long)
    too_long_value = 100 * 365 * 24 * 3600 + 1
    expected = {"name": name, "value": too_long_value} if name else {"periodSeconds": too_long_value}
    assert refused.value.name == error and refused.value.args_dict == expected
