"""The inspection commands on the embedded chain: `vc assets list|show`, `vc labour list`, `vc bids`,
`vc tx` and `vc status`, each read-only (the block number and balances do not move), every figure
worked out by hand from the rules, and `vc status` within 80 columns."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from cli_helpers import last_json, ok, sandbox, vc
from rich.console import Console

from vcengine import networks
from vcengine.client import ContractReverted
from vcengine.compiler import load_artifacts
from vcengine.deployments import open_deployment
from vcengine.logs import get_logs

UNIT = 10**6  # the test stablecoin's 6 decimals
DAY = 86_400
PERIOD, GRACE, SALE = 30 * DAY, 7 * DAY, 3 * DAY


def chain():
    return networks.tester_chain()


def address(index: int) -> str:
    return chain().accounts[index].address


def read_only(*args: str) -> dict:
    """``vc ARGS --json``, asserting that nothing was sent: the block number and the transaction
    count of every test account are the same after it."""
    w3 = chain().w3
    before = (w3.eth.block_number, [w3.eth.get_transaction_count(a.address) for a in chain().accounts[:10]])
    out = ok(*args)
    after = (w3.eth.block_number, [w3.eth.get_transaction_count(a.address) for a in chain().accounts[:10]])
    assert after == before, f"vc {' '.join(args)} sent something"
    assert out["transactions"] == []
    return out


def human(*args: str) -> str:
    """``vc ARGS``'s output for people, its wrapped lines joined (one space between words)."""
    result = vc(*args)
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def deploy_with_members() -> None:
    """Founders 0 and 1 (quorum cap 2); account 2 joins by 10 attested units; tokens for 2, 3, 4."""
    ok("deploy", "--founder", "0", "--founder", "1", "--quorum-cap", "2", "--period", "30d", "--grace", "7d",
       "--sale", "3d", "--account", "0")
    ok("labour", "submit", "10", "--evidence", "ipfs://timesheet-week-1", "--account", "2")
    ok("labour", "attest", "1", "--account", "0")
    ok("labour", "attest", "1", "--account", "1")
    ok("labour", "join", "--account", "2")
    for index, amount in (("3", "20000"), ("4", "20000"), ("2", "15000"), ("5", "5000")):
        ok("faucet", amount, "--account", index)


def test_asset_bid_and_tx_views_through_auction_settlement_and_claim(tmp_path: Path):
    with sandbox(tmp_path):
        deploy_with_members()
        assert read_only("assets", "list")["assets"] == []
        requested = ok("assets", "request", "ipfs://cnc-mill", "--price", "10000", "--vendor", "9", "--rent", "1200",
                       "--periods", "10", "--closes-in", "1h", "--account", "2")
        event = next(e for t in requested["transactions"] for e in t["events"] if e["name"] == "AssetRequested")
        closes = event["args"]["auctionClosesAt"]
        bid1 = ok("assets", "bid", "1", "6000", "--rate-bps", "150", "--account", "3")
        ok("assets", "bid", "1", "4000", "--rate-bps", "200", "--account", "4")
        ok("assets", "bid", "1", "2000", "--rate-bps", "200", "--account", "5")

        # the open auction: the book by rate with totals; 6,000 at 1.50% is short of 10,000, 12,000 up
        # to 2.00% covers it, so it would clear at 200 bps
        shown = read_only("assets", "show", "1")
        assert (shown["state"], shown["description"], shown["vendor"], shown["requester"]) == (
            "Auction", "ipfs://cnc-mill", address(9), address(2))
        assert (shown["price"], shown["price_base_units"], shown["escrowed"]) == ("10000", 10_000 * UNIT, "12000")
        assert shown["auction_closes_at"] == closes
        assert shown["auction_closes_at_iso"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(closes))
        assert [(t["rate_bps"], t["bids"], t["total"], t["depth"]) for t in shown["book"]] == [
            (150, 1, "6000", "6000"), (200, 2, "6000", "12000")]
        assert shown["book"][1]["depth_base_units"] == 12_000 * UNIT
        assert shown["prospective_clearing_rate_bps"] == 200 and shown["clearing_rate_bps"] is None
        assert [(b["bid_id"], b["bidder"], b["amount"]) for b in shown["bids"]] == [
            (1, address(3), "6000"), (2, address(4), "4000"), (3, address(5), "2000")]
        assert shown["rental"] is None and shown["sale"] is None and shown["series"] is None
        text = human("assets", "show", "1")
        assert f"{address(9)} (account 9)" in text and "Auction" in text and "(in 59 min)" in text
        assert re.search(r"2\.00% \(200 bps\)\s+│\s+2 │\s+6,000 tUSD │\s+12,000 tUSD", text), text
        assert "would clear at 2.00% (200 bps)" in text
        listed = read_only("assets", "list")["assets"]
        assert [(a["id"], a["state"], a["description"], a["price"], a["rent_per_period"]) for a in listed] == [
            (1, "Auction", "ipfs://cnc-mill", "10000", "1200")]

        # before settlement a bid is pending: no outcome yet
        (pending,) = read_only("bids", "--account", "4")["bids"]
        assert (pending["bid_id"], pending["asset_id"], pending["amount"], pending["rate_bps"]) == (2, 1, "4000", 200)
        assert pending["settled"] is False and pending["bonds"] is None and pending["state"] == "Auction"
        assert "pending: the auction closes" in human("bids", "--account", "4")

        # the bid transaction, decoded: the call, its arguments, the fee, the events
        bid_hash = bid1["transactions"][-1]["hash"]
        receipt = chain().w3.eth.get_transaction_receipt(bid_hash)
        decoded = read_only("tx", bid_hash)
        assert (decoded["status"], decoded["block"], decoded["from"], decoded["from_name"]) == (
            "success", receipt["blockNumber"], address(3), "account 3")
        assert (decoded["contract"], decoded["function"], decoded["to_name"]) == ("CommonStock", "bid", "CommonStock")
        assert decoded["args"]["assetId"] == 1 and decoded["args"]["rateBps"] == 150
        assert (decoded["args"]["amount"], decoded["args"]["amount_tokens"]) == (6000 * UNIT, "6000")
        assert decoded["gas_used"] == receipt["gasUsed"]
        assert decoded["fee_base_units"] == receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert [(e["contract"], e["name"]) for e in decoded["events"]] == [("CommonStock", "BidPlaced"),
                                                                           ("Token", "Transfer")]
        assert decoded["events"][0]["args"]["bidder"] == address(3) and decoded["revert"] is None
        text = human("tx", bid_hash)
        assert "CommonStock.bid(assetId=1, amount=6,000 tUSD, rateBps=150)" in text
        assert f"{address(3)} (account 3)" in text and "ETH (at " in text

        # a transaction mined and reverted (sent without an estimate): its custom error, replayed

        d = open_deployment(chain(), "tester", load_artifacts())
        with pytest.raises(ContractReverted) as refused:
            d.stock.transact("settle", 1, sender=chain().accounts[0], gas=500_000)
        failed = read_only("tx", refused.value.tx_hash)
        assert failed["status"] == "reverted" and failed["function"] == "settle"
        assert failed["revert"]["name"] == "AuctionStillOpen" and failed["revert"]["args"]["assetId"] == 1
        assert "before the auction's close" in failed["revert"]["why"]
        assert "AuctionStillOpen(assetId=1, closesAt=" in human("tx", refused.value.tx_hash)

        ok("node", "advance", "1h")
        settled = ok("assets", "settle", "1", "--account", "0")
        started = next(e for t in settled["transactions"] for e in t["events"] if e["name"] == "RentalStarted")
        start = started["args"]["start"]

        # settled: 2.00%; bid 1 (below it) filled in full; bids 2 and 3 share the 4,000 still needed pro
        # rata to their 4,000 and 2,000: 2,666.666666 (rounded down) and the rest, 1,333.333334
        shown = read_only("assets", "show", "1")
        assert (shown["state"], shown["clearing_rate_bps"], shown["prospective_clearing_rate_bps"]) == (
            "Rented", 200, None)
        # the first month (1,200) paid 200 interest (2% of 10,000) and 1,000 of principal
        assert (shown["outstanding_principal"], shown["interest_owed"], shown["fully_owned"]) == ("9000", "0", False)
        rental = shown["rental"]
        assert (rental["renter"], rental["paid_periods"], rental["periods"], rental["rent_per_period"]) == (
            address(2), 1, 10, "1200")
        assert rental["start"] == start and rental["next_rent_due"] == start + PERIOD
        assert rental["reclaimable_at"] == start + PERIOD + GRACE and rental["reclaimable_reason"] == "Defaulted"
        assert shown["series"] == chain().w3.eth.contract(address=d.stock.address, abi=d.stock.artifact.abi) \
            .functions.assetInfo(1).call()[10]
        text = human("assets", "show", "1")
        assert f"{shown['series']} (bonds of asset 1)" in text and "next rent due" in text and "(in 30 d)" in text
        outcomes = {b["bid_id"]: (b["bonds"], b["refund"]) for b in read_only("bids", "--account", "5")["bids"]}
        assert outcomes == {3: ("1333.333334", "666.666666")}
        mine = read_only("bids", "--account", "4")
        assert [(b["bid_id"], b["bonds"], b["refund"], b["settled"]) for b in mine["bids"]] == [
            (2, "2666.666666", "1333.333334", True)]
        assert (mine["total_bonds"], mine["total_refund_base_units"]) == ("2666.666666", 1_333_333_334)
        assert "claim 2,666.666666 tUSD in bonds and 1,333.333334 tUSD back" in human("bids", "--account", "4")

        # claimed bids leave the listing (unless --all)
        ok("assets", "claim", "2", "--account", "4")
        assert read_only("bids", "--account", "4")["bids"] == []
        (claimed,) = read_only("bids", "--account", "4", "--all")["bids"]
        assert claimed["claimed"] is True and claimed["bid_id"] == 2


def test_rental_auction_leader_and_liquidation_title_holder(tmp_path: Path):
    with sandbox(tmp_path):
        deploy_with_members()
        ok("assets", "request", "ipfs://kiln", "--price", "1000", "--vendor", "9", "--rent", "200", "--periods", "6",
           "--closes-in", "1h", "--account", "2")
        ok("assets", "bid", "1", "1000", "--rate-bps", "100", "--account", "3")
        ok("node", "advance", "1h")
        ok("assets", "settle", "1", "--account", "0")
        returned = ok("assets", "return", "1", "--account", "2")
        opened = next(e for t in returned["transactions"] for e in t["events"] if e["name"] == "RentalAuctionOpened")
        sale = read_only("assets", "show", "1")
        assert sale["state"] == "RentalAuction" and sale["sale"]["leader"] is None
        assert sale["sale"]["closes_at"] == opened["args"]["closesAt"] and sale["sale"]["kind"] == "rental_auction"
        assert "nobody has bid yet" in human("assets", "show", "1")
        ok("faucet", "1000", "--account", "1")
        ok("assets", "rental", "bid", "1", "--rent", "250", "--periods", "5", "--account", "1")
        lead = read_only("assets", "show", "1")["sale"]
        assert (lead["leader"], lead["leading"], lead["leading_base_units"], lead["periods"]) == (
            address(1), "250", 250 * UNIT, 5)
        text = human("assets", "show", "1")
        assert f"{address(1)} (account 1)" in text and "250 tUSD a period for 5 periods" in text

        # a second asset nobody rents again goes to a public sale, then to its buyer
        ok("assets", "request", "ipfs://old-van", "--price", "500", "--vendor", "9", "--rent", "100", "--periods", "6",
           "--closes-in", "1h", "--account", "2")
        ok("assets", "bid", "2", "500", "--rate-bps", "100", "--account", "4")
        ok("node", "advance", "1h")
        ok("assets", "settle", "2", "--account", "0")
        ok("assets", "return", "2", "--account", "2")
        ok("node", "advance", "3d")
        ok("assets", "rental", "settle", "2", "--account", "0")
        offered = read_only("assets", "show", "2")
        assert offered["state"] == "Liquidation" and offered["sale"]["kind"] == "liquidation"
        assert offered["sale"]["reserve"] == "0"  # the commune was deployed without a reserve
        ok("assets", "liquidation", "bid", "2", "300", "--account", "5")
        assert read_only("assets", "show", "2")["sale"]["leader"] == address(5)
        ok("node", "advance", "3d")
        ok("assets", "liquidation", "settle", "2", "--account", "0")
        sold = read_only("assets", "show", "2")
        assert sold["state"] == "Liquidated" and sold["title_holder"] == address(5)
        assert f"title holder {address(5)} (account 5)" in human("assets", "show", "2")
        states = {a["id"]: a["state"] for a in read_only("assets", "list")["assets"]}
        assert states == {1: "RentalAuction", 2: "Liquidated"}  # asset 1's auction closed, not yet settled


def test_labour_list_sorts_claims_by_what_an_account_must_do(tmp_path: Path):
    with sandbox(tmp_path):
        ok("deploy", "--founder", "0", "--founder", "1", "--quorum-cap", "2", "--account", "0")
        ok("labour", "submit", "10", "--evidence", "ipfs://week-1", "--account", "2")  # claim 1
        ok("labour", "attest", "1", "--account", "0")
        ok("labour", "submit", "4", "--evidence", "ipfs://week-2", "--account", "5")  # claim 2
        ok("labour", "submit", "3", "--evidence", "ipfs://repairs", "--account", "0")  # claim 3: a member's own

        def groups(*who: str) -> tuple:
            out = read_only("labour", "list", *who)
            return tuple(out.get(k) for k in ("awaiting_attestation", "mine", "attested", "open", "counted"))

        everything = read_only("labour", "list")
        # a non-member's claim needs min(cap 2, 2 members) = 2; a member's own min(2, 2 - 1) = 1
        assert [(c["claim_id"], c["worker"], c["units"], c["attestations"], c["quorum"], c["evidence"])
                for c in everything["claims"]] == [(1, address(2), 10, 1, 2, "ipfs://week-1"),
                                                  (2, address(5), 4, 0, 2, "ipfs://week-2"),
                                                  (3, address(0), 3, 0, 1, "ipfs://repairs")]
        assert groups() == (None, None, None, [1, 2, 3], [])
        assert groups("--account", "0") == ([2], [3], [1], [], [])
        assert groups("--account", "1") == ([1, 2, 3], [], [], [], [])
        assert groups("--account", "2") == ([], [1], [], [2, 3], [])  # not a member: attests nothing
        text = human("labour", "list", "--account", "1")
        assert "Awaiting your attestation (3)" in text and f"{address(5)} (account 5)" in text
        assert "claim 2: 4 units, 0 of 2 attestations" in text and "vc labour attest 1 --account 1" in text

        ok("labour", "attest", "3", "--account", "1")  # reaches its quorum of 1: counted
        assert groups("--account", "1") == ([1, 2], [], [], [], [3])
        assert groups("--account", "0") == ([2], [3], [1], [], [])
        assert "claim 3: 3 units, counted" in human("labour", "list")


def forced_terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """Make every rich console believe it writes to a terminal of ``columns`` columns, without colour."""
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("NO_COLOR", "1")


def test_status_parameters_former_members_and_80_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with sandbox(tmp_path):
        deploy_with_members()
        ok("assets", "request", "ipfs://cnc-mill", "--price", "10000", "--vendor", "9", "--rent", "1200",
           "--periods", "10", "--closes-in", "1h", "--account", "2")
        ok("assets", "bid", "1", "6000", "--rate-bps", "150", "--account", "3")
        ok("assets", "bid", "1", "6000", "--rate-bps", "200", "--account", "4")
        ok("node", "advance", "1h")
        ok("assets", "settle", "1", "--account", "0")
        ok("node", "advance", "30d")
        # nine months at once: 180 of the 10,800 is member income for each month, released as each
        # begins; the second month has begun, so 180 / 3 = 60 is each member's now
        ok("assets", "pay-rent", "1", "--periods", "9", "--account", "2")
        ok("payout", "claim", "--account", "0")
        ok("labour", "leave", "--account", "1", "--yes")  # gone, still owed its 60

        status = read_only("status", "--account", "2")
        assert status["parameters"] == {"period_seconds": PERIOD, "grace_seconds": GRACE, "sale_seconds": SALE,
                                        "rate_cap_bps": 1000, "liquidation_reserve_bps": 0, "labour_threshold": 10,
                                        "quorum_cap": 2, "max_periods": 1200}
        # the keys that were there keep their values; exact base units beside each amount
        assert status["member_count"] == 2 and status["quorum"] == 2 and status["labour_threshold"] == 10
        assert [(m["share"], m["address"], m["rent_paid"], m["payouts"], m["claimed"], m["claimable"],
                 m["net_position"]) for m in status["members"]] == [
            (1, address(0), "0", "60", "60", "0", "-60"), (3, address(2), "12000", "60", "0", "60", "11940")]
        assert status["members"][1]["net_position_base_units"] == 11_940 * UNIT
        assert status["members"][0]["net_position_base_units"] == -60 * UNIT
        (former,) = status["former_members"]
        assert (former["address"], former["share"], former["claimable"], former["claimable_base_units"]) == (
            address(1), 2, "60", 60 * UNIT)
        (asset,) = status["assets"]
        assert (asset["state"], asset["state_name"], asset["price"], asset["price_base_units"]) == (
            "rented", "Rented", "10000", 10_000 * UNIT)
        assert (asset["outstanding_principal"], asset["outstanding_principal_base_units"], asset["fully_owned"]) == (
            "0", 0, True)
        assert (asset["paid_periods"], asset["rent_per_period_base_units"]) == (10, 1200 * UNIT)
        # income 1,620 scheduled, 180 released so far; 60 claimed by account 0
        assert (status["treasury"]["total_claimed"], status["treasury"]["total_claimed_base_units"]) == ("60", 60 * UNIT)
        you = status["you"]
        assert (you["tokens"], you["tokens_base_units"], you["claimable"]) == ("3000", 3000 * UNIT, "60")
        monkeypatch.setenv("VC_LOG_CHUNK", "1")  # one block a request: the same members
        chunked = read_only("status", "--account", "2")
        assert (chunked["members"], chunked["former_members"]) == (status["members"], status["former_members"])
        monkeypatch.delenv("VC_LOG_CHUNK")

        # an 80-column terminal: no line longer, and every address whole
        forced_terminal(monkeypatch, 80)
        result = vc("status", "--account", "2")
        assert result.exit_code == 0, result.output
        lines = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines()
        assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
        text = "\n".join(lines)
        for who in (address(0), address(2), address(1), asset["series"], status["commune"], status["token"]["address"]):
            assert who in text
        assert f"share 2  {address(1)} (account 1)" in text and "Former members still owed payouts (1)" in text
        assert "rate cap      10.00% (1000 bps) a period" in text and "rent period   30 d" in text
        assert "claimable 60 tUSD, net position 11,940 tUSD" in text and "fully owned by the commune" in text


def test_bad_input_is_refused_before_any_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with sandbox(tmp_path):
        ok("deploy", "--founder", "0", "--account", "0")
        for args, env, message in (
            (["assets", "show", "0"], {}, "ASSET_ID must be 1 or more, got 0"),
            (["assets", "show", "7"], {}, "no asset 7: the commune has 0 asset(s)"),
            (["tx", "0x1234"], {}, "HASH must be a transaction hash: 0x and 64 hex digits, got '0x1234'"),
            (["tx", "0x" + "ab" * 32], {}, f"no transaction 0x{'ab' * 32} on network 'tester'"),
            (["bids"], {}, "whose bids? pass --account"),
            (["bids", "--account", "nobody"], {}, "nobody"),
            (["status"], {"VC_LOG_CHUNK": "0"}, "VC_LOG_CHUNK must be a whole number of blocks, 1 or more, got '0'"),
            (["labour", "list"], {"VC_LOG_CHUNK": "many"}, "VC_LOG_CHUNK must be a whole number"),
        ):
            with monkeypatch.context() as mp:
                for key, value in env.items():
                    mp.setenv(key, value)
                result = vc(*args, "--json")
            assert result.exit_code == 2, (args, result.output)
            assert message in " ".join(result.stderr.split()), (args, result.stderr)
            assert last_json(result)["kind"] == "bad_input"


class RangeCappedEvent:
    """An event whose node refuses requests of more than ``cap`` blocks, as public endpoints do."""

    def __init__(self, event, cap: int):
        self.event, self.cap, self.requests, self.w3 = event, cap, [], event.w3

    def get_logs(self, argument_filters=None, from_block=None, to_block=None):
        self.requests.append((from_block, to_block))
        if to_block - from_block + 1 > self.cap:
            raise ValueError({"code": -32005, "message": f"query exceeds max block range {self.cap}"})
        return self.event.get_logs(argument_filters=argument_filters, from_block=from_block, to_block=to_block)


def test_log_reads_split_the_range_and_halve_a_refused_chunk(tmp_path: Path):
    with sandbox(tmp_path):
        ok("deploy", "--founder", "0", "--founder", "1", "--quorum-cap", "1", "--account", "0")
        for worker in ("2", "3", "4", "5", "6"):  # one LabourSubmitted a block
            ok("labour", "submit", "1", "--evidence", f"ipfs://{worker}", "--account", worker)
        d = open_deployment(chain(), "tester", load_artifacts())
        event = d.commune.contract.events.LabourSubmitted
        last = chain().w3.eth.block_number
        whole = [dict(log["args"]) for log in event.get_logs(from_block=0, to_block=last)]
        assert len(whole) == 5

        capped = RangeCappedEvent(event, cap=3)
        assert [dict(log["args"]) for log in get_logs(capped, 0, last, chunk=2)] == whole
        assert len(capped.requests) == -(-(last + 1) // 2)  # ceil(blocks / 2), none refused

        capped = RangeCappedEvent(event, cap=3)
        assert [dict(log["args"]) for log in get_logs(capped, 0, last, chunk=8)] == whole
        # 8 refused, 4 refused, then 2-block requests to the end
        assert capped.requests[:3] == [(0, min(7, last)), (0, min(3, last)), (0, 1)]
        assert all(b - a + 1 <= 2 for a, b in capped.requests[2:]) and len(capped.requests) == 2 + -(-(last + 1) // 2)

        one = RangeCappedEvent(event, cap=0)  # refuses even one block: the node's error, not a loop
        with pytest.raises(ValueError, match="max block range"):
            get_logs(one, 0, last, chunk=4)
        assert len(one.requests) == 3  # 4, 2, 1

        class Down(RangeCappedEvent):
            def get_logs(self, **kwargs):
                self.requests.append(kwargs)
                raise ConnectionError("connection refused")

        down = Down(event, cap=100)
        with pytest.raises(ConnectionError):  # not a range error: raised at once, no halving
            get_logs(down, 0, last, chunk=4)
        assert len(down.requests) == 1


def test_log_chunk_comes_from_the_environment_or_the_network_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from vcengine.logs import DEFAULT_CHUNK, log_chunk
    from vcengine.networks import get_network

    with sandbox(tmp_path):
        (tmp_path / "vc.toml").write_text('[networks.capped]\nurl = "http://127.0.0.1:1"\nchain_id = 5\nlog_chunk = 500\n')
        assert log_chunk(get_network("capped")) == 500
        assert log_chunk(get_network("local")) == DEFAULT_CHUNK == 10_000
        monkeypatch.setenv("VC_LOG_CHUNK", "2_000")
        assert log_chunk(get_network("capped")) == 2000  # the environment wins


def test_a_bad_log_chunk_in_the_network_table_is_refused_when_it_is_read(tmp_path: Path):
    with sandbox(tmp_path):
        (tmp_path / "vc.toml").write_text('[networks.capped]\nurl = "http://127.0.0.1:1"\nchain_id = 5\nlog_chunk = 0\n')
        result = vc("status", "--network", "capped", "--json")
    assert result.exit_code == 2
    assert "[networks.capped] log_chunk must be a whole number of blocks, 1 or more, got 0" in result.stderr
