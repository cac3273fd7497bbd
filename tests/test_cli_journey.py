"""A member's and a bidder's whole journey through `vc` on the embedded chain, with every figure
worked out by hand from the rules, and the commands that must refuse."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import last_json, ok, sandbox, vc

from vcengine import networks

UNIT = 10**6  # the test stablecoin's 6 decimals


def test_member_journey_deploy_join_request_bid_settle_rent_and_payouts(tmp_path: Path):
    with sandbox(tmp_path):
        deployed = ok("deploy", "--founder", "0", "--founder", "1", "--quorum-cap", "2", "--account", "0",
                      "--period", "30d", "--grace", "7d")
        record = json.loads((tmp_path / "deployments" / "tester.json").read_text())
        assert record["contracts"]["Commune"]["address"] == deployed["contracts"]["Commune"]
        assert record["chain_id"] == networks.tester_chain().chain_id and record["block"] == deployed["block"]
        assert record["factory"]["address"] == deployed["factory"]
        for entry in record["contracts"].values():  # every ABI file named exists and is an ABI
            assert isinstance(json.loads((tmp_path / "deployments" / entry["abi"]).read_text()), list)
        assert record["params"]["period_seconds"] == 30 * 86400 and record["params"]["quorum_cap"] == 2
        create = deployed["transactions"][-1]
        assert create["action"] == "create commune" and create["gas_used"] > 0
        assert [e["name"] for e in create["events"]].count("MemberJoined") == 2

        # a second deployment without --force is refused before anything is sent
        again = vc("deploy", "--founder", "0", "--account", "0")
        assert again.exit_code == 2 and "already deployed" in again.stderr and "--force" in again.stderr

        # account 2 earns a share: 10 units attested by both founders (quorum min(2, 2) = 2)
        assert ok("labour", "submit", "10", "--evidence", "ipfs://timesheet", "--account", "2")["claim_id"] == 1
        assert ok("labour", "attest", "1", "--account", "0")["counted"] is False
        assert ok("labour", "attest", "1", "--account", "1")["counted"] is True
        joined = ok("labour", "join", "--account", "2")
        assert joined["share_id"] == 3 and joined["members"] == 3

        for index, amount in (("3", "20000"), ("4", "20000"), ("2", "15000")):
            assert ok("faucet", amount, "--account", index)["balance"] == amount

        vendor = networks.tester_chain().accounts[9].address
        # the request escrows the first month's rent: 1,200 of account 2's 15,000
        asset = ok("assets", "request", "ipfs://cnc-mill", "--price", "10000", "--vendor", vendor, "--rent", "1200",
                   "--periods", "10", "--closes-in", "1d", "--account", "2")
        assert asset["asset_id"] == 1 and asset["price"] == "10000"
        assert [t["action"] for t in asset["transactions"]][-1] == "request asset"
        assert ok("balance", "2")["tokens"] == "13800"
        bid1 = ok("assets", "bid", "1", "6000", "--rate-bps", "150", "--account", "3")
        bid2 = ok("assets", "bid", "1", "6000", "--rate-bps", "200", "--account", "4")
        assert (bid1["bid_id"], bid2["bid_id"]) == (1, 2)
        assert [t["action"] for t in bid1["transactions"]] == ["approve", "bid"]

        early = vc("assets", "settle", "1", "--account", "0", "--json")
        assert early.exit_code == 1 and "AuctionStillOpen" in early.stderr
        assert "before the auction's close" in early.stderr  # the error's NatSpec, in plain words
        assert last_json(early)["revert"]["name"] == "AuctionStillOpen"

        ok("node", "advance", "1d")
        # 6,000 at 1.50% cannot cover 10,000; with the 2.00% bid it can: r* = 200 bps
        kept = ok("keeper", "run", "--once", "--account", "1")
        assert [(a["asset_id"], a["action"], a["outcome"]) for a in kept["done"]] == [(1, "settle", "done")]
        assert "cleared at 200 bps" in kept["done"][0]["detail"]
        assert ok("keeper", "run", "--once", "--account", "1")["done"] == []  # idempotent: nothing left

        # bid 1 (below r*) is filled in full; bid 2 (at r*) fills the 4,000 still needed, 2,000 back
        claim1 = ok("assets", "claim", "1", "--account", "3")
        assert (claim1["bonds"], claim1["refund"]) == ("6000", "0")
        claim2 = ok("assets", "claim", "2", "--account", "4")
        assert (claim2["bonds"], claim2["refund"]) == ("4000", "2000")

        # the first month was paid at settlement from the escrow: interest ceil(10,000 x 2%) = 200, then
        # 1,000 of principal; 9,000 is left
        assert ok("status")["assets"][0]["outstanding_principal"] == "9000"
        # a month later interest ceil(9,000 x 2%) = 180 accrues; the nine months left, paid at once
        # (10,800), pay 180 and the 9,000 principal to the bondholders; 1,620 is member income, 180
        # for each of the nine months, released as each begins: the second month's has, so right
        # after the payment each of 3 members is owed 60, one month's share
        ok("node", "advance", "30d")
        rent = ok("assets", "pay-rent", "1", "--periods", "9", "--account", "2")
        assert (rent["amount"], rent["to_bonds"], rent["to_members"], rent["redeemed"]) == ("10800", "9180", "1620", True)
        # bondholders pro rata to their bonds: (1,200 + 9,180) x 6/10 and x 4/10
        assert ok("bonds", "claim", "1", "--account", "3")["amount"] == "6228"
        assert ok("bonds", "claim", "1", "--account", "4")["amount"] == "4152"
        assert ok("payout", "claim", "--account", "0")["amount"] == "60"
        assert ok("assets", "withdraw", "--account", "9")["amount"] == "10000"  # the vendor is paid

        status = ok("status", "--account", "2")
        assert status["member_count"] == 3
        by_share = {m["share"]: m for m in status["members"]}
        assert {s: (m["rent_paid"], m["payouts"], m["net_position"]) for s, m in by_share.items()} == {
            1: ("0", "60", "-60"), 2: ("0", "60", "-60"), 3: ("12000", "60", "11940")}
        (a,) = status["assets"]
        assert (a["state"], a["rate_bps"], a["outstanding_principal"], a["fully_owned"]) == ("rented", 200, "0", True)
        assert a["renter"] == networks.tester_chain().accounts[2].address and a["paid_periods"] == 10
        you = status["you"]
        assert you["member"] and you["share"] == 3 and you["tokens"] == "3000"  # 15,000 - 12,000
        bidder = ok("balance", "3")
        # 20,000 - 6,000 escrowed + 6,228 repaid; the 6,000 bonds are still held (fully paid)
        assert bidder["tokens"] == "20228" and bidder["bonds"] == [
            {"asset_id": 1, "bonds": "6000", "bonds_base_units": 6_000 * 10**6, "payments_due": "0",
             "payments_due_base_units": 0}]

        human = vc("status", "--account", "2")
        assert human.exit_code == 0 and "Members" in human.stdout and "2.00% (200 bps)" in human.stdout
