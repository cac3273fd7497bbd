"""The main job, as a story: a commune is founded, a worker earns a share, capital cannot buy one,
and the commune acquires assets with bonds sold in a public interest-rate auction.

Each step records what was expected and what the chain did. A refusal step is ``ok`` only when
the chain refused with the expected custom error and nothing changed; an action step is ``ok``
only when its effect is visible on chain afterwards. The expected figures (clearing rates, fills)
were worked out by hand from the rules for this scenario.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from eth_account.signers.local import LocalAccount

from vcengine.chains import Chain
from vcengine.client import ContractReverted
from vcengine.commune import INTERFACE_ERC165, INTERFACE_ERC721, INTERFACE_ERC5192
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.deploy import DAY, CommuneParams, Deployment, deploy_commune
from vcengine.stock import AssetState, Failure
from vcengine.keeper import run_once
from vcengine.units import format_amount

NAMES = ["alice", "bob", "carol", "dana", "erin", "frank", "grace", "victor"]


@dataclass
class Step:
    name: str
    ok: bool
    detail: str


@dataclass
class DemoReport:
    chain: str
    compile: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    commune: str | None = None
    contracts: dict[str, str] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)
    gas: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chain": self.chain,
            "compile": self.compile,
            "commune": self.commune,
            "contracts": self.contracts,
            "steps": [asdict(s) for s in self.steps],
            "members": self.members,
            "assets": self.assets,
            "gas": self.gas,
        }


Say = Callable[[str], None]


class Demo:
    """The demo's chapters, sharing one deployment, one report and the narrative."""

    def __init__(self, chain: Chain, say: Say, artifacts: CompileResult):
        self.chain = chain
        self.say = say
        self.artifacts = artifacts
        self.report = DemoReport(
            chain=chain.name,
            compile={"compiler": artifacts.compiler, "cached": artifacts.cached, "key": artifacts.key},
        )
        self.people = dict(zip(NAMES, chain.accounts))
        self.who = {acct.address: name for name, acct in self.people.items()}
        self.d: Deployment | None = None

    # ------------------------------------------------------------ bookkeeping

    def step(self, name: str, ok: bool, detail: str) -> bool:
        self.report.steps.append(Step(name, ok, detail))
        self.say(f"{'ok ' if ok else 'FAIL'} {name}: {detail}")
        return ok

    def refused(self, name: str, expected: str, action: Callable[[], Any], unchanged: Callable[[], Any]) -> None:
        before = unchanged()
        try:
            action()
        except ContractReverted as exc:
            after = unchanged()
            same = before == after
            shown = exc.error.name or "empty revert"
            self.step(name, exc.name == expected and same, f"refused with {shown}"
                      + ("" if same else f"; but state changed from {before} to {after}")
                      + ("" if exc.name == expected else f" (expected {expected or 'empty revert'})"))
            return
        self.step(name, False, f"NOT refused (expected {expected or 'an empty revert'})")

    def tokens(self, base_units: int) -> str:
        return f"{format_amount(base_units, 6, grouping=True)} tUSD"

    def unit(self, tokens: int) -> int:
        return tokens * 10**6

    # --------------------------------------------------------------- chapters

    def found(self) -> Deployment:
        p = self.people
        self.say(f"Compiled with {self.artifacts.compiler} ({'from cache' if self.artifacts.cached else 'fresh compile'}).")
        self.say("Alice, Bob and Carol found a venture commune: one share each, earned by the work of founding it.")
        params = CommuneParams(founders=[p["alice"].address, p["bob"].address, p["carol"].address],
                               labour_threshold=10, quorum_cap=2, period_seconds=30 * DAY, rate_cap_bps=1_000)
        d = self.d = deploy_commune(self.chain, p["alice"], params, artifacts=self.artifacts)
        commune = d.commune
        self.report.commune = commune.address
        self.report.contracts = d.contracts()
        # The commune itself is one factory call; the code it clones is deployed once per chain.
        self.report.gas["deploy"] = d.gas["CommuneFactory.create"]
        self.report.gas["deployAll"] = sum(d.gas.values())
        self.step("found commune",
                  commune.member_count() == 3 and all(commune.balance_of(p[n].address) == 1 for n in ("alice", "bob", "carol")),
                  f"Commune at {commune.address}: 3 founders, labour threshold {commune.labour_threshold()} units, "
                  f"quorum min({commune.quorum_cap()}, members) = {commune.quorum()}; common stock at {d.stock.address}, "
                  f"settled in {d.token.symbol()}")
        self.step("shares are soulbound ERC-721",
                  all(commune.supports_interface(i) for i in (INTERFACE_ERC165, INTERFACE_ERC721, INTERFACE_ERC5192))
                  and commune.locked(commune.share_of(p["alice"].address)),
                  "supportsInterface answers ERC-165, ERC-721 and ERC-5192; locked(share) is true")
        return d

    def labour(self) -> None:
        assert self.d is not None
        commune, p = self.d.commune, self.people
        alice, bob, dana, erin = p["alice"], p["bob"], p["dana"], p["erin"]
        self.say("Dana works for the commune and submits her labour; two members attest it.")
        submitted = commune.submit_labour(10, "ipfs://bafy-dana-timesheet-2026-11", sender=dana)
        self.report.gas["submitLabour"] = submitted.tx.gas_used
        first = commune.attest(submitted.claim_id, sender=alice)
        self.report.gas["attest"] = first.tx.gas_used
        second = commune.attest(submitted.claim_id, sender=bob)
        self.step("labour attested", not first.counted and second.counted and commune.counted_labour(dana.address) == 10,
                  f"claim {submitted.claim_id}: 10 units, attested by alice and bob, counted at quorum {commune.quorum()}")
        joined = commune.join(sender=dana)
        self.report.gas["join"] = joined.tx.gas_used
        self.step("worker joins by labour", commune.is_member(dana.address) and commune.balance_of(dana.address) == 1
                  and commune.counted_labour(dana.address) == 0,
                  f"dana receives share #{joined.share_id}; her 10 counted units are spent on it")

        self.say("Erin has capital and wants a share. Every way she tries is refused.")
        erin_state = lambda: (commune.balance_of(erin.address), commune.member_count())  # noqa: E731
        self.refused("capital: ETH sent to the commune", "", lambda: commune.send_value(erin, 100 * 10**18), erin_state)
        self.refused("capital: join without attested labour", "LabourBelowThreshold", lambda: commune.join(sender=erin),
                     erin_state)
        claim = commune.submit_labour(1_000, "I paid for this", sender=erin).claim_id
        self.refused("capital: attest her own claim as a non-member", "CommuneNotMember",
                     lambda: commune.attest(claim, sender=erin), erin_state)
        self.refused("capital: join after an unattested claim", "LabourBelowThreshold",
                     lambda: commune.join(sender=erin), erin_state)
        share = commune.share_of(alice.address)
        alice_state = lambda: (commune.owner_of(share), commune.balance_of(erin.address))  # noqa: E731
        self.refused("member sells her share (transferFrom)", "CommuneShareNotTransferable",
                     lambda: commune.transfer_from(alice.address, erin.address, share, sender=alice), alice_state)
        self.refused("member sells her share (safeTransferFrom)", "CommuneShareNotTransferable",
                     lambda: commune.safe_transfer_from(alice.address, erin.address, share, sender=alice), alice_state)
        self.refused("member approves a buyer (approve)", "CommuneShareApprovalDisabled",
                     lambda: commune.approve(erin.address, share, sender=alice), alice_state)
        self.refused("member approves a broker (setApprovalForAll)", "CommuneShareApprovalDisabled",
                     lambda: commune.set_approval_for_all(erin.address, True, sender=alice), alice_state)
        own = commune.submit_labour(5, "ipfs://bafy-dana-more-work", sender=dana).claim_id
        self.refused("member attests her own labour", "LabourSelfAttestation",
                     lambda: commune.attest(own, sender=dana), lambda: commune.labour_claim(own))
        self.refused("member joins twice", "CommuneAlreadyMember", lambda: commune.join(sender=dana),
                     lambda: (commune.balance_of(dana.address), commune.member_count()))
        self.step("capital holds no share", commune.balance_of(erin.address) == 0 and not commune.is_member(erin.address),
                  f"erin holds {commune.balance_of(erin.address)} shares and is not a member after every attempt above")

        carol = p["carol"]
        self.say("Carol leaves the commune; her share is burned, not sold.")
        carol_share = commune.share_of(carol.address)
        left = commune.leave(sender=carol)
        self.report.gas["leave"] = left.gas_used
        self.step("member leaves", not commune.is_member(carol.address) and commune.member_count() == 3,
                  f"share #{carol_share} burned; {commune.member_count()} members remain")

    def bonds(self) -> None:
        assert self.d is not None
        d, p, u = self.d, self.people, self.unit
        stock, token = d.stock, d.test_token
        dana, bob, erin, frank, grace, victor, alice = (p[n] for n in ("dana", "bob", "erin", "frank", "grace", "victor", "alice"))
        for person in (alice, bob, dana, erin, frank, grace, victor):
            token.faucet(person.address, u(50_000), sender=person)

        self.say("Dana needs a CNC mill. She asks the commune to buy it from Victor for 10,000 tUSD and offers "
                 "960 tUSD a month for 12 months, escrowing the first month with the request. The commune "
                 "sells bonds for the price in a public auction.")
        closes = self.chain.now() + DAY
        mill = stock.request_asset("ipfs://bafy-cnc-mill-quote-0412", u(10_000), victor.address, u(960), 12, closes,
                                   sender=dana)
        self.report.gas["requestAsset"] = mill.tx.gas_used
        book = [(erin, 6_000, 200), (frank, 3_000, 120), (grace, 4_000, 200), (bob, 2_000, 350)]
        bids = []
        for lender, amount, rate in book:
            placed = stock.bid(mill.asset_id, u(amount), rate, sender=lender)
            bids.append((lender, placed.bid_id))
            self.say(f"   {self.who[lender.address]:>6} bids {self.tokens(u(amount))} at {rate / 100:.2f}% a month"
                     f"{'' if d.commune.is_member(lender.address) else ' (not a member)'}")
        self.report.gas["bid"] = placed.tx.gas_used
        self.step("bids escrowed", stock.asset(mill.asset_id).escrowed == u(15_000)
                  and stock.escrow_held() == u(15_000 + 960)
                  and token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held(),
                  f"{self.tokens(u(15_000))} escrowed by four bidders, three of them outside the commune, "
                  f"beside dana's first month")
        self.refused("settle before the close", "AuctionStillOpen", lambda: stock.settle(mill.asset_id, sender=frank),
                     lambda: stock.asset(mill.asset_id).state)

        self.chain.advance_time(DAY)
        settled = stock.settle(mill.asset_id, sender=frank)
        self.report.gas["settle"] = settled.tx.gas_used
        # 3,000 at 1.20% is not enough; with 10,000 more at 2.00% the price is covered.
        self.step("auction clears at the lowest fully subscribed rate", settled.cleared and settled.clearing_rate_bps == 200,
                  f"clearing rate {settled.clearing_rate_bps / 100:.2f}% a month, one rate for every winner; "
                  f"960 a month repays 10,000 at that rate within 12 months")
        # 7,000 still needed at 2.00%, split 6,000 : 4,000 -> 4,200 and 2,800; bob's 3.50% is not filled.
        expected = {erin.address: (4_200, 1_800), frank.address: (3_000, 0), grace.address: (2_800, 1_200),
                    bob.address: (0, 2_000)}
        claims_ok = True
        for lender, bid_id in bids:
            got = stock.claim(bid_id, sender=lender)
            self.report.gas["claim"] = got.tx.gas_used
            want = expected[lender.address]
            claims_ok &= (got.bonds, got.refund) == (u(want[0]), u(want[1]))
            self.say(f"   {self.who[lender.address]:>6} claims {self.tokens(got.bonds)} of bonds and "
                     f"{self.tokens(got.refund)} back")
        series = stock.series(mill.asset_id)
        self.step("winners hold bonds, the rest is refunded", claims_ok and series.total_supply() == u(10_000),
                  f"{series.symbol()}: {self.tokens(series.total_supply())} of bonds at {series.rate_bps()} bps; "
                  f"bids at the clearing rate filled pro rata, bids above it refunded in full")
        before = token.balance_of(victor.address)
        stock.withdraw(sender=victor)
        self.step("vendor paid exactly the price", token.balance_of(victor.address) - before == u(10_000),
                  f"victor withdraws {self.tokens(token.balance_of(victor.address) - before)}")
        asset = stock.asset(mill.asset_id)
        rental = stock.rental(mill.asset_id)
        # The first month, paid from dana's escrow at settlement: 2.00% of 10,000 = 200 interest, 760 principal.
        self.step("the member rents the asset, its first month paid", asset.state == AssetState.RENTED
                  and asset.renter == dana.address and rental.paid_periods == 1
                  and series.total_paid() == u(960) and stock.debt(mill.asset_id).principal == u(9_240),
                  f"asset #{mill.asset_id} is in the common stock, rented to dana from block time {rental.start}; "
                  f"her escrowed first month paid the bonds 200 interest and 760 principal at settlement")
        self.step("bondholders are not members", not any(d.commune.is_member(x.address) for x in (erin, frank, grace)),
                  "erin, frank and grace hold bonds and no share: capital buys bonds, never shares")

        self.say("Alice asks for a delivery van at 20,000 tUSD; only 9,000 is bid, so the sale cannot clear.")
        van = stock.request_asset("ipfs://bafy-delivery-van-quote-77", u(20_000), victor.address, u(1_900), 12,
                                  self.chain.now() + DAY, sender=alice)
        balances = {x.address: token.balance_of(x.address) for x in (erin, frank)}
        van_bids = [(erin, stock.bid(van.asset_id, u(5_000), 150, sender=erin).bid_id),
                    (frank, stock.bid(van.asset_id, u(4_000), 300, sender=frank).bid_id)]
        self.chain.advance_time(DAY)
        failed = stock.settle(van.asset_id, sender=erin)
        self.step("undersubscribed auction fails", not failed.cleared and failed.failure == Failure.UNDERSUBSCRIBED,
                  f"asset #{van.asset_id}: {self.tokens(u(9_000))} bid for a price of {self.tokens(u(20_000))}")
        for lender, bid_id in van_bids:
            stock.claim(bid_id, sender=lender)
        refund = stock.credits(alice.address)
        stock.withdraw(sender=alice)
        self.step("every bidder refunded in full", all(token.balance_of(x) == b for x, b in balances.items())
                  and stock.credits(victor.address) == 0 and refund == u(1_900),
                  "erin and frank have every unit back; alice withdraws her escrowed first month (1,900); "
                  "the vendor is owed nothing")
        self.step("nothing created or lost", token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held() == 0,
                  "the common stock holds exactly its escrow plus its credits: zero")

        self.mill, self.mill_bids = mill.asset_id, bids

    def record_assets(self) -> None:
        assert self.d is not None
        stock = self.d.stock
        for asset_id in range(1, stock.asset_count() + 1):
            a = stock.asset(asset_id)
            self.report.assets.append({
                "id": asset_id, "state": a.state.name.lower(), "price": a.price, "vendor": a.vendor,
                "requester": self.who.get(a.requester, a.requester), "renter": self.who.get(a.renter or "", a.renter),
                "rent_per_period": a.rent_per_period, "periods": a.periods,
                "clearing_rate_bps": a.clearing_rate_bps if a.state == AssetState.RENTED else None,
                "failure": a.failure.name.lower() if a.failure != Failure.NONE else None, "series": a.series,
                "fully_owned": stock.is_fully_owned(asset_id), "title_holder": stock.title_holder(asset_id),
            })

    # ----------------------------------------------------------- lifecycle

    def finance(self, requester: LocalAccount, what: str, price: int, rent: int, periods: int,
                bids: list[tuple[LocalAccount, int, int]]) -> int:
        """Request an asset and sell its bonds (settled by the keeper); returns its id."""
        assert self.d is not None
        stock, u = self.d.stock, self.unit
        asset_id = stock.request_asset(what, u(price), self.people["victor"].address, u(rent), periods,
                                       self.chain.now() + DAY, sender=requester).asset_id
        placed = [(lender, stock.bid(asset_id, u(amount), rate, sender=lender).bid_id) for lender, amount, rate in bids]
        self.chain.advance_time(DAY)
        self.keeper_run()
        for lender, bid_id in placed:
            stock.claim(bid_id, sender=lender)
        stock.withdraw(sender=self.people["victor"])
        return asset_id

    def keeper_run(self) -> list[str]:
        assert self.d is not None
        done = [str(a) for a in run_once(self.d.stock, self.people["grace"])]
        for line in done:
            for address, name in self.who.items():
                line = line.replace(address, name)
            self.say(f"   keeper: {line.split(' (0x')[0]}")
        return done

    def rent(self) -> None:
        assert self.d is not None
        d, p, u = self.d, self.people, self.unit
        stock, dana, mill = d.stock, p["dana"], self.mill
        series = stock.series(mill)
        self.say("Dana pays the mill's rent ahead: six months now, four more a month later. Rent pays the "
                 "bondholders first, interest then principal; what is left is member income, released to the "
                 "members month by month as the months it pays for begin.")
        first = stock.pay_rent(mill, 6, sender=dana)
        self.report.gas["payRent"] = first.tx.gas_used
        self.chain.advance_time(d.params.period_seconds)
        second = stock.pay_rent(mill, 4, sender=dana)
        to_bonds = u(960) + first.to_bonds + second.to_bonds
        # By hand: 5,760 now pays 5,760 of the 9,240 principal (month 0's interest was paid at settlement);
        # a month later 2% of the 3,480 left accrues (69.60), and 3,840 pays 3,549.60: 290.40 is left.
        self.step("rent redeems the bonds first", first.to_members == 0 and second.redeemed
                  and second.to_members == 290_400_000 and stock.is_fully_owned(mill)
                  and stock.debt_owed(mill) == (0, 0) and series.total_paid() == to_bonds,
                  f"{self.tokens(u(960) + first.amount + second.amount)} paid in all: {self.tokens(to_bonds)} to the "
                  f"bondholders (10,000 principal and {self.tokens(to_bonds - u(10_000))} interest), "
                  f"{self.tokens(second.to_members)} to the members; the mill is fully owned by the commune")
        ok, lines = True, []
        for lender, _ in self.mill_bids:
            bonds = series.balance_of(lender.address)
            if bonds == 0:
                continue
            expected = series.total_paid() * bonds // series.face()  # the floor of an exact pro-rata share
            withdrawal = series.withdraw_payments(sender=lender)
            self.report.gas["withdrawPayments"] = withdrawal.gas_used
            got = withdrawal.event("PaymentWithdrawn").args["amount"]
            ok &= got == expected
            lines.append(f"{self.who[lender.address]} {self.tokens(got)}")
        self.step("bondholders repaid pro rata", ok, "withdrawn: " + ", ".join(lines))
        members = [p[n] for n in ("alice", "bob", "dana")]
        owed = [d.treasury.claimable(m.address) for m in members]
        # 290.40 over months 7 to 10: 72.60 a month, none of which has begun (nothing is released yet).
        self.step("member income waits for the months it pays for", owed == [0, 0, 0]
                  and d.treasury.scheduled_income() == 290_400_000,
                  f"{self.tokens(d.treasury.scheduled_income())} scheduled as 72.60 tUSD for each of months 7 to 10; "
                  f"a member who joined now and left next month would share none of it")

    def default(self) -> None:
        assert self.d is not None
        d, p, u = self.d, self.people, self.unit
        stock, bob, alice, dana = d.stock, p["bob"], p["alice"], p["dana"]
        self.say("Bob asks for a 3D printer (2,000 tUSD, 400 a month for 6 months); erin lends at 1.50%.")
        printer = self.finance(bob, "ipfs://bafy-3d-printer-quote-9", 2_000, 400, 6, [(p["erin"], 2_000, 150)])
        stock.pay_rent(printer, 1, sender=bob)
        self.say("Bob pays one month, then stops paying.")
        reclaim_at, _ = stock.reclaimable_at(printer)
        self.refused("reclaim before the grace period ends", "ReclaimNotDue",
                     lambda: stock.reclaim(printer, sender=p["grace"]), lambda: stock.asset(printer).state)
        self.chain.advance_time(reclaim_at - self.chain.now())
        done = self.keeper_run()
        self.step("a defaulting renter's asset is reclaimed", any("reclaim -> done" in x for x in done)
                  and stock.asset(printer).state == AssetState.RENTAL_AUCTION,
                  f"the keeper reclaims the printer from bob; the members may bid new rental terms")
        self.refused("a non-member bids for the rental", "StockNotMember",
                     lambda: stock.bid_rent(printer, u(900), 6, sender=p["erin"]), lambda: stock.sale(printer))
        principal, interest = stock.debt_owed(printer)
        one_period = -(-principal * 150 // 10_000)
        self.refused("a rental bid that cannot repay the bonds in time", "RentBidDoesNotRepay",
                     lambda: stock.bid_rent(printer, one_period + 1, 6, sender=alice), lambda: stock.sale(printer))
        self.refused("the defaulter bids again", "RentBidByDefaulter",
                     lambda: stock.bid_rent(printer, u(2_000), 6, sender=bob), lambda: stock.sale(printer))
        stock.bid_rent(printer, u(700), 6, sender=alice)
        stock.bid_rent(printer, u(960), 6, sender=dana)
        self.refused("a member with a leading rental bid leaves", "CommuneMemberCommitted",
                     lambda: d.commune.leave(sender=dana), lambda: d.commune.member_count())
        self.chain.advance_time(d.params.sale_seconds)
        self.keeper_run()
        rental = stock.rental(printer)
        stock.withdraw(sender=alice)
        self.step("re-rented to the highest member bid", stock.asset(printer).state == AssetState.RENTED
                  and rental.renter == dana.address and rental.paid_periods == 1 and stock.credits(alice.address) == 0,
                  f"dana rents the printer at {self.tokens(rental.rent_per_period)} a month, the first month paid "
                  f"from her escrow; alice, outbid, withdrew hers")
        redeemed = stock.pay_rent(printer, 2, sender=dana).redeemed
        self.step("the printer's bonds are redeemed", redeemed and stock.is_fully_owned(printer),
                  "dana pays two months ahead and the printer is fully owned")
        self.printer = printer

    def liquidation(self) -> None:
        assert self.d is not None
        d, p, u = self.d, self.people, self.unit
        stock, alice = d.stock, p["alice"]
        self.say("Alice asks for a kiln (3,000 tUSD, 600 a month for 6 months); frank lends at 2.50%. "
                 "She soon finds she does not need it, and no member bids for it.")
        kiln = self.finance(alice, "ipfs://bafy-kiln-quote-31", 3_000, 600, 6, [(p["frank"], 3_000, 250)])
        stock.return_asset(kiln, sender=alice)
        self.chain.advance_time(d.params.sale_seconds)
        self.keeper_run()
        self.step("nobody wants it: liquidation", stock.asset(kiln).state == AssetState.LIQUIDATION,
                  "the rental auction closed without a bid; the kiln is offered to anyone")
        stock.bid_liquidation(kiln, u(3_200), sender=p["erin"])
        self.refused("a liquidation bid below the current bid", "LiquidationBidTooLow",
                     lambda: stock.bid_liquidation(kiln, u(3_100), sender=p["victor"]), lambda: stock.sale(kiln))
        stock.bid_liquidation(kiln, u(3_500), sender=p["victor"])
        self.chain.advance_time(d.params.sale_seconds)
        principal, interest = stock.debt_owed(kiln)
        income_before = d.treasury.total_income()
        self.keeper_run()
        series = stock.series(kiln)
        surplus = u(3_500) - principal - interest
        # The series had the first month (600) at settlement, then the sale's principal and interest.
        self.step("bondholders are paid first", series.total_paid() == u(600) + principal + interest
                  and d.treasury.total_income() - income_before == surplus,
                  f"the sale raises {self.tokens(u(3_500))}: {self.tokens(principal + interest)} to frank's bonds "
                  f"(principal and interest), {self.tokens(surplus)} to the members")
        stock.withdraw(sender=p["erin"])
        self.step("the buyer takes title", stock.asset(kiln).state == AssetState.LIQUIDATED
                  and stock.title_holder(kiln) == p["victor"].address,
                  "victor owns the kiln; it has left the common stock; erin, outbid, withdrew her escrow")

    def equal_use(self) -> None:
        assert self.d is not None
        d, p, u = self.d, self.people, self.unit
        stock, treasury, alice, bob, dana = d.stock, d.treasury, p["alice"], p["bob"], p["dana"]
        self.say("Alice asks for a workshop (1,500 tUSD, 960 a month for 6 months); grace lends at 1.00%. "
                 "Alice pays two months ahead and the workshop is fully owned.")
        workshop = self.finance(alice, "ipfs://bafy-workshop-lease-5", 1_500, 960, 6, [(p["grace"], 1_500, 100)])
        stock.pay_rent(workshop, 2, sender=alice)
        owned = [a for a in (self.mill, self.printer, workshop) if stock.is_fully_owned(a)]
        # Months pass until the mill's tenth month: every part paid ahead so far is released.
        self.chain.advance_time(stock.rental(self.mill).start + 10 * d.params.period_seconds - self.chain.now())
        owed = [treasury.claimable(m.address) for m in (alice, bob, dana)]
        claimed = treasury.claim_payout(sender=bob)
        self.report.gas["claimPayout"] = claimed.tx.gas_used
        self.step("member income divided equally to the base unit, as its months began",
                  len(set(owed)) == 1 and owed[0] > 0 and claimed.amount == owed[1]
                  and treasury.scheduled_income() == 0,
                  f"alice, bob and dana are each owed {self.tokens(owed[0])}; bob claims his; "
                  f"{treasury.carry()} base units carried to the next income")
        self.say("Ten months on, the commune fully owns three assets, each renting at 960 a month: dana rents "
                 "two, alice one, bob none. For one month each renter pays one month on each asset.")
        members = {"alice": alice, "bob": bob, "dana": dana}
        before = {n: (treasury.rent_paid(m.address), treasury.income_of(m.address)) for n, m in members.items()}
        stock.pay_rent(self.mill, 1, sender=dana)
        stock.pay_rent(self.printer, 1, sender=dana)
        stock.pay_rent(workshop, 1, sender=alice)
        self.chain.advance_time(d.params.period_seconds)  # the month paid for begins: its income is released
        window = {}
        for n, m in members.items():
            rent = treasury.rent_paid(m.address) - before[n][0]
            income = treasury.income_of(m.address) - before[n][1]
            window[n] = {"rent": rent, "payouts": income, "net": rent - income}
        per_capita = sum(w["rent"] for w in window.values()) // len(members)
        self.step("rent neutrality (the seed's claim)", len(owned) == 3
                  and window["alice"]["rent"] == per_capita and window["alice"]["net"] == 0
                  and window["dana"]["rent"] > per_capita and window["dana"]["net"] > 0
                  and window["bob"]["rent"] < per_capita and window["bob"]["net"] < 0,
                  f"per-capita use is {self.tokens(per_capita)}: alice, at it, nets zero; dana, above it, pays "
                  f"{self.tokens(window['dana']['net'])} net; bob, below it, gains {self.tokens(-window['bob']['net'])}")
        self.window = window

    def conservation(self) -> None:
        assert self.d is not None
        d = self.d
        stock, treasury, token = d.stock, d.treasury, d.token
        accounts = list(self.people.values())
        treasury.release(treasury.max_release_periods(), sender=self.people["grace"])  # nothing begun is pending
        owed = stock.escrow_held() + stock.credits_held() + treasury.owed_tokens()
        owed_members = sum(treasury.claimable(a.address) for a in accounts) + treasury.carry()
        owed_members += treasury.scheduled_income()
        for asset_id in range(1, stock.asset_count() + 1):
            if stock.asset(asset_id).series:
                series = stock.series(asset_id)
                owed += series.total_paid() - series.total_withdrawn()
        held = d.system_balance()
        self.step("nothing created or lost", held == owed and owed_members == treasury.owed_tokens(),
                  f"the commune's contracts hold {self.tokens(held)}, exactly what they owe: escrow, credits, "
                  f"payouts, the carried remainder, income scheduled for months to come and bond payments not "
                  f"yet withdrawn")

    def close(self) -> DemoReport:
        assert self.d is not None
        commune = self.d.commune
        treasury = self.d.treasury
        self.report.members = []
        for name, acct in list(self.people.items())[:5]:
            pos = treasury.position(acct.address)
            self.report.members.append({
                "name": name, "address": acct.address, "share": commune.share_of(acct.address),
                "member": commune.is_member(acct.address), "rent_paid": pos.rent_paid, "payouts": pos.income,
                "net_position": pos.net, "window": getattr(self, "window", {}).get(name),
            })
        self.say("")
        self.say(f"{'member':>7} {'rent paid':>20} {'payouts':>20} {'net position':>20}   last month: rent / payouts / net")
        for m in self.report.members:
            w = m["window"]
            tail = f"   {self.tokens(w['rent'])} / {self.tokens(w['payouts'])} / {self.tokens(w['net'])}" if w else ""
            self.say(f"{m['name']:>7} {self.tokens(m['rent_paid']):>20} {self.tokens(m['payouts']):>20} "
                     f"{self.tokens(m['net_position']):>20}{tail}")
        self.say("(net position = rent paid - payouts received: positive is a net cost, negative a net gain)")
        self.record_assets()
        one_each = all(m["share"] == 0 or commune.balance_of(m["address"]) == 1 for m in self.report.members)
        self.step("one share per member",
                  one_each and sum(1 for m in self.report.members if m["share"]) == commune.member_count(),
                  "every address holds 0 or 1 share and shares outstanding equal the member count")
        return self.report


def run_demo(chain: Chain, say: Say = lambda _: None, artifacts: CompileResult | None = None) -> DemoReport:
    """Run the demo on ``chain``; ``say`` receives the narrative one line at a time."""
    demo = Demo(chain, say, artifacts or load_artifacts())
    demo.found()
    demo.labour()
    demo.bonds()
    demo.rent()
    demo.default()
    demo.liquidation()
    demo.equal_use()
    demo.conservation()
    return demo.close()
