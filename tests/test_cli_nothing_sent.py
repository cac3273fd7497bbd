"""A refused command sends nothing: not its call, not the approval before it.

Each refusal the review found (a non-renter paying rent, a bid above the rate cap, a bid on a closed
auction, rental bids from a non-member, below the leader and not repaying the bonds, a liquidation
bid below the leader, rent after the term is paid) is run through `vc` by an account that holds
the tokens but has approved nothing, in each of the three ways a paying call is simulated
(`snapshot`, `override`, `views`: vcengine.preflight). Each must exit 1 naming the custom error,
and leave the block number, the account's nonce and its allowance exactly as they were. The same
commands by the right account send the exact approval and the call, both listed in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adversarial import DAY, HOUR, UNIT, World, at, finance, request, to_liquidation, to_rental_auction
from cli_helpers import last_json, sandbox, vc
from vcengine import networks
from vcengine.compiler import load_artifacts
from vcengine.deploy import CommuneParams, deploy_commune
from vcengine.stock import AssetState

MAX = 2**256 - 1
FUNDS = 100_000 * UNIT


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Founders 0, 1, 2, 3 (2 has approved nothing; 3 has no commitments); 3 and 4 are lenders; 5 and 6 outsiders with tokens
    and no allowance; 10 the vendor. Assets:

    rented    (0's, 4 periods, 1 paid)      open      (1's, bond auction open for a day)
    closed    (1's, auction closed, unsettled)   auction  (1's, returned: rental auction, 1 leads)
    sale      (0's, in liquidation, 3 leads at 100)   paid_up (2's, 1 period, paid at settlement)"""
    tmp = tmp_path_factory.mktemp("nothing-sent")
    with sandbox(tmp):
        chain = networks.tester_chain()
        a = chain.accounts
        arts = load_artifacts()
        d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:4]]), artifacts=arts)
        token = d.token
        from vcengine.token import TestStablecoinClient

        faucet = TestStablecoinClient(chain, token.address, arts)
        for i in (0, 1, 2, 3, 4, 5, 6):
            faucet.faucet(a[i].address, FUNDS, sender=a[i])
        for i in (0, 1, 3, 4):
            token.approve(d.stock.address, MAX, a[i])
        rented = finance(d, a[0], a[3:5])
        sale = finance(d, a[0], a[3:5])
        auction = finance(d, a[1], a[3:5])
        paid_up_request = d.stock.request_asset("ipfs://paid-up", 200 * UNIT, a[10].address, 300 * UNIT, 1,
                                                chain.now() + HOUR, sender=a[2])  # exact approval, consumed
        paid_up = paid_up_request.asset_id
        d.stock.bid(paid_up, 200 * UNIT, 100, sender=a[3], approve=False)
        to_liquidation(d, sale, a[0])  # three days pass
        d.stock.bid_liquidation(sale, 100 * UNIT, sender=a[3], approve=False)
        assert d.stock.settle(paid_up, sender=a[9]).cleared
        to_rental_auction(d, auction, a[1])
        d.stock.bid_rent(auction, 400 * UNIT, 4, sender=a[1], approve=False)
        open_ = request(d, a[1], 1_000 * UNIT, 300 * UNIT, 4, closes_in=DAY)
        closed = request(d, a[1], 1_000 * UNIT, 300 * UNIT, 4, closes_in=HOUR)
        at(chain, d.stock.asset(closed).auction_closes_at + 1)
        assert d.stock.asset(open_).state == AssetState.AUCTION
        assert d.stock.asset(closed).state == AssetState.AUCTION
        assert token.allowance(a[2].address, d.stock.address) == 0
        w = World(d, rented=rented, open_=open_, closed=closed, auction=auction, sale=sale,
                              paid_up=paid_up, tmp=tmp)
        yield w


REFUSALS = [
    # (actor, command, the error named)
    (5, ["assets", "pay-rent", "{rented}"], "NotRenter"),
    (5, ["assets", "bid", "{open_}", "100", "--rate-bps", "5000"], "BidRateAboveCap"),
    (5, ["assets", "bid", "{closed}", "100", "--rate-bps", "100"], "AuctionClosed"),
    (5, ["assets", "rental", "bid", "{auction}", "--rent", "500", "--periods", "4"], "StockNotMember"),
    (2, ["assets", "rental", "bid", "{auction}", "--rent", "300", "--periods", "4"], "RentBidTooLow"),
    (2, ["assets", "rental", "bid", "{auction}", "--rent", "401", "--periods", "1"], "RentBidDoesNotRepay"),
    (5, ["assets", "liquidation", "bid", "{sale}", "50"], "LiquidationBidTooLow"),
    (2, ["assets", "pay-rent", "{paid_up}"], "RentInvalidPeriods"),
    (5, ["assets", "pay-rent", "{open_}"], "AssetNotRented"),
]


def _state(w, actor: int) -> tuple[int, int, int, int]:
    chain, d = w.chain, w.d
    who = chain.accounts[actor].address
    return (chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(who),
            d.token.allowance(who, d.stock.address), d.token.balance_of(who))


@pytest.mark.parametrize("mode", ["snapshot", "override", "views"])
@pytest.mark.parametrize("actor,command,error", REFUSALS, ids=[r[2] for r in REFUSALS])
def test_a_refused_paying_command_sends_nothing(world, monkeypatch, mode, actor, command, error):
    w = world.reset()
    monkeypatch.setenv("VC_SIMULATION", mode)
    argv = [part.format(**w.__dict__) for part in command]
    before = _state(w, actor)
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", w.chain)  # the world's chain is the CLI's embedded chain
        result = vc(*argv, "--network", "tester", "--commune", w.d.commune.address, "--account", str(actor), "--json")
    assert result.exit_code == 1, result.output
    out = last_json(result)
    assert out["ok"] is False and out["kind"] == "reverted" and out["revert"]["name"] == error, out
    assert out["transactions"] == [] and out["pending"] == []
    assert "sent" not in result.stdout
    assert _state(w, actor) == before  # no block, no nonce used, no allowance left, no token moved


def test_refusals_show_names_and_units(world, monkeypatch):
    """The decoded error reads as people read it: the enum by name, the address with its account."""
    w = world.reset()
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", w.chain)
        result = vc("assets", "pay-rent", str(w.open_), "--network", "tester", "--commune", w.d.commune.address,
                    "--account", "5")
        low = vc("assets", "liquidation", "bid", str(w.sale), "50", "--network", "tester", "--commune",
                 w.d.commune.address, "--account", "5", "--json")
    assert result.exit_code == 1
    assert f"AssetNotRented(assetId={w.open_}, state=Auction)" in result.stderr
    assert "LiquidationBidTooLow(amount=50 tUSD, current=100 tUSD)" in low.stderr
    revert = last_json(low)["revert"]
    assert revert["args"]["amount"] == 50 * UNIT and revert["args"]["amount_tokens"] == "50"


@pytest.mark.parametrize("mode", ["snapshot", "override", "views"])
def test_an_accepted_paying_command_approves_exactly_and_shows_both_transactions(world, monkeypatch, mode):
    w = world.reset()
    monkeypatch.setenv("VC_SIMULATION", mode)
    d, chain = w.d, w.chain
    renter = chain.accounts[0]
    d.token.approve(d.stock.address, 0, renter)  # the renter starts with no allowance
    rent = d.stock.rental(w.rented).rent_per_period
    block, held = chain.w3.eth.block_number, d.token.balance_of(renter.address)
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        result = vc("assets", "pay-rent", str(w.rented), "--periods", "2", "--network", "tester", "--commune",
                    d.commune.address, "--account", "0", "--json")
    assert result.exit_code == 0, result.output
    out = last_json(result)
    txs = out["transactions"]
    assert [t["action"] for t in txs] == ["approve", "pay rent"]
    assert out["simulations"] == [{"call": "CommonStock.payRent", "mode": mode}]
    assert [t["block"] for t in txs] == [block + 1, block + 2]
    approval = next(e for e in txs[0]["events"] if e["name"] == "Approval")
    assert approval["args"]["value"] == 2 * rent  # exactly what the call pulls, never unlimited
    assert d.token.allowance(renter.address, d.stock.address) == 0  # consumed: nothing left standing
    assert d.token.balance_of(renter.address) == held - 2 * rent
    assert out["amount_base_units"] == 2 * rent and out["amount"] == str(2 * rent // UNIT)
    for t in txs:  # each hash printed when sent, then where it was mined
        assert f"sent {t['hash']}" in result.stdout
        assert f"mined in block {t['block']:,}" in result.stdout


def test_rental_and_liquidation_bids_list_their_approval(world, monkeypatch):
    w = world.reset()
    d, chain = w.d, w.chain
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        rental = vc("assets", "rental", "bid", str(w.auction), "--rent", "500", "--periods", "4", "--network",
                    "tester", "--commune", d.commune.address, "--account", "2", "--json")
        sale = vc("assets", "liquidation", "bid", str(w.sale), "150", "--network", "tester", "--commune",
                  d.commune.address, "--account", "5", "--json")
    for result, amount in ((rental, 500 * UNIT), (sale, 150 * UNIT)):
        assert result.exit_code == 0, result.output
        txs = last_json(result)["transactions"]
        assert [t["action"] for t in txs][0] == "approve" and len(txs) == 2
        assert next(e for e in txs[0]["events"] if e["name"] == "Approval")["args"]["value"] == amount
    assert d.token.allowance(chain.accounts[2].address, d.stock.address) == 0
    assert d.token.allowance(chain.accounts[5].address, d.stock.address) == 0
    assert d.stock.sale(w.auction).leader == chain.accounts[2].address
    assert d.stock.sale(w.sale).leader == chain.accounts[5].address


def test_access_is_checked_before_funds(world, monkeypatch):
    """A non-renter without tokens hears that it is not the renter, not that it needs tokens; the
    renter without enough tokens hears how many it holds and needs; neither sends anything."""
    w = world.reset()
    d, chain = w.d, w.chain
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        stranger = vc("assets", "pay-rent", str(w.rented), "--network", "tester", "--commune", d.commune.address,
                      "--account", "7", "--json")
        renter = chain.accounts[0]
        d.token.approve(d.stock.address, 0, renter)
        d.token.transfer(chain.accounts[8].address, d.token.balance_of(renter.address), renter)
        block = chain.w3.eth.block_number
        broke = vc("assets", "pay-rent", str(w.rented), "--network", "tester", "--commune", d.commune.address,
                   "--account", "0", "--json")
    assert stranger.exit_code == 1 and last_json(stranger)["revert"]["name"] == "NotRenter"
    assert broke.exit_code == 2, broke.output
    assert "holds 0 tUSD, less than the 300 tUSD needed" in broke.stderr
    assert chain.w3.eth.block_number == block
    assert d.token.allowance(renter.address, d.stock.address) == 0


def _as_a_new_account_without_eth(w, monkeypatch, tmp_path, tokens: int, *argv: str):
    """Run ``vc ARGV`` signed by a fresh keystore account holding ``tokens`` and no ETH."""
    from eth_account import Account

    pauper = Account.create()
    if tokens:
        w.d.token.transfer(pauper.address, tokens, w.chain.accounts[5])
    key_file = tmp_path / "key"
    key_file.write_text(pauper.key.hex())
    name = f"pauper-{pauper.address[2:10]}"
    block = w.chain.w3.eth.block_number
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", w.chain)
        mp.setenv("VC_PASSWORD", "correct horse")
        assert vc("accounts", "import", name, "--private-key-file", str(key_file)).exit_code == 0
        result = vc(*argv, "--network", "tester", "--commune", w.d.commune.address, "--account", name, "--json")
    return pauper, result, block


def test_a_signer_without_eth_is_told_before_anything_is_sent(world, monkeypatch, tmp_path):
    w = world.reset()
    d, chain = w.d, w.chain
    pauper, result, block = _as_a_new_account_without_eth(
        w, monkeypatch, tmp_path, 500 * UNIT,
        "assets", "bid", str(w.open_), "100", "--rate-bps", "100")
    assert result.exit_code == 2, result.output
    message = last_json(result)["error"]
    assert pauper.address in message and "holds 0 ETH, less than the" in message and "gas at up to" in message
    assert chain.w3.eth.block_number == block
    assert chain.w3.eth.get_transaction_count(pauper.address) == 0


def test_leaving_asks_for_confirmation(world, monkeypatch):
    w = world.reset()
    d, chain = w.d, w.chain
    block = chain.w3.eth.block_number
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        refused = vc("labour", "leave", "--network", "tester", "--commune", d.commune.address, "--account", "3",
                     "--json")
        assert chain.w3.eth.block_number == block and d.commune.is_member(chain.accounts[3].address)
        stranger = vc("labour", "leave", "--network", "tester", "--commune", d.commune.address, "--account", "5",
                      "--yes", "--json")
        left = vc("labour", "leave", "--network", "tester", "--commune", d.commune.address, "--account", "3",
                  "--yes", "--json")
        committed = vc("labour", "leave", "--network", "tester", "--commune", d.commune.address, "--account", "2",
                       "--json")
    assert refused.exit_code == 2 and "Pass --yes to confirm" in last_json(refused)["error"]
    assert stranger.exit_code == 1 and last_json(stranger)["revert"]["name"] == "CommuneNotMember"
    assert left.exit_code == 0, left.output
    assert not d.commune.is_member(chain.accounts[3].address)


def test_a_hopeless_request_is_refused_and_a_possible_one_names_its_highest_rate(world, monkeypatch):
    from reference import amortises

    w = world.reset()
    d, chain = w.d, w.chain
    block = chain.w3.eth.block_number
    args = ["--network", "tester", "--commune", d.commune.address, "--account", "1", "--vendor", "10", "--json"]
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        hopeless = vc("assets", "request", "ipfs://x", "--price", "1000", "--rent", "83.33", "--periods", "12", *args)
        assert chain.w3.eth.block_number == block
        possible = vc("assets", "request", "ipfs://y", "--price", "1000", "--rent", "90", "--periods", "12", *args)
    assert hopeless.exit_code == 2 and "cannot repay the price of 1,000 tUSD even at a rate of zero" in hopeless.stderr
    assert possible.exit_code == 0, possible.output
    cap = d.stock.rate_cap_bps()
    expected = max(r for r in range(cap + 1) if amortises(1_000 * UNIT, r, 90 * UNIT, 12))
    assert last_json(possible)["highest_rate_bps"] == expected
    assert f"({expected} bps)" in possible.stdout


@pytest.mark.parametrize("mode", ["snapshot", "override", "views"])
def test_each_simulation_mode_is_the_one_used(world, monkeypatch, mode):
    """The mode asked for is the mode that ran (an override that silently fell back to views would
    make the override tests above prove nothing); the gas is known except in views mode."""
    from vcengine.preflight import simulate

    w = world.reset()
    monkeypatch.setenv("VC_SIMULATION", mode)
    renter = w.chain.accounts[2]
    d = w.d
    simulation = simulate(d.stock, d.token, 500 * UNIT, "bidRent", (w.auction, 500 * UNIT, 4), renter)
    assert simulation.mode == mode
    assert (simulation.gas is None) == (mode == "views")
    assert d.token.allowance(renter.address, d.stock.address) == 0


def test_a_keeper_without_eth_stops_with_its_summary(world, monkeypatch, tmp_path):
    """The closed auction is due; a keeper whose signer cannot pay the gas sends nothing, says why
    and which account, prints its summary and exits 2."""
    w = world.reset()
    chain = w.chain
    pauper, result, block = _as_a_new_account_without_eth(w, monkeypatch, tmp_path, 0, "keeper", "run", "--once")
    assert result.exit_code == 2, result.output
    out = last_json(result)
    assert out["ok"] is False and out["stopped_by"] == "bad_input" and out["done"] == []
    assert pauper.address in out["error"] and "holds 0 ETH" in out["error"]
    assert chain.w3.eth.block_number == block


@pytest.mark.parametrize("mode", ["override", "views"])
def test_a_call_refused_after_its_approval_puts_the_allowance_back(world, monkeypatch, mode):
    """The simulation runs on the latest block; the call lands blocks later. A bond auction closing
    in between refuses the bid after its approval was mined: the approval is put back (a third
    transaction, shown), so no allowance is left standing, and the refusal is the answer (exit 1)."""
    w = world.reset()
    monkeypatch.setenv("VC_SIMULATION", mode)
    d, chain = w.d, w.chain
    closes = d.stock.asset(w.open_).auction_closes_at
    chain.tester.time_travel(closes - 1)  # the latest block at closes - 2: the approval at closes - 1
    bidder = chain.accounts[6].address
    with sandbox(w.tmp), monkeypatch.context() as mp:
        mp.setattr(networks, "_TESTER", chain)
        result = vc("assets", "bid", str(w.open_), "100", "--rate-bps", "100", "--network", "tester", "--commune",
                    d.commune.address, "--account", "6", "--json")
    assert result.exit_code == 1, result.output
    out = last_json(result)
    assert out["revert"]["name"] == "AuctionClosed"
    assert [t["action"] for t in out["transactions"]] == ["approve", "approve"]
    values = [next(e for e in t["events"] if e["name"] == "Approval")["args"]["value"] for t in out["transactions"]]
    assert values == [100 * UNIT, 0]
    assert d.token.allowance(bidder, d.stock.address) == 0
