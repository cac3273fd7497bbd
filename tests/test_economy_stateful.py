"""Random sequences of every economic action, checked against the plain-Python reference economics.

Members, lenders and outsiders request and finance assets, pay rent (or not), return, get
reclaimed, bid for rentals, liquidate, claim payouts, trade and cash bonds, pay income in, join and
leave, while time moves. After every step the chain must agree with `tests/reference.py` on every
balance and entitlement to the base unit: each member's payout, the carried remainder, each
asset's debt and state, each bondholder's payments, the escrow and credits; and every token the
commune's contracts hold must be owed to someone.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reference import DebtModel, SeriesModel, TreasuryModel, clear_auction, interest
from vcengine.chains import TesterChain
from vcengine.client import ContractReverted
from vcengine.deploy import CommuneParams, deploy_commune
from vcengine.stock import AssetState

UNIT = 10**6
PERIOD, GRACE, SALE = 30 * 86_400, 7 * 86_400, 3 * 86_400
FOUNDERS = 3
WORKER = 3  # may join by labour
LENDERS = [5, 6, 7]  # never members
ACCOUNTS = 9
VENDOR = 10

_world = None


def world():
    """One chain and one commune for the whole module; every example starts from its snapshot."""
    global _world
    if _world is None:
        chain = TesterChain()
        acct = chain.accounts
        d = deploy_commune(chain, acct[0], CommuneParams(founders=[a.address for a in acct[:FOUNDERS]], quorum_cap=2,
                                                         period_seconds=PERIOD, grace_seconds=GRACE, sale_seconds=SALE))
        for a in acct[:ACCOUNTS]:
            for _ in range(2):
                d.test_token.faucet(a.address, 10**15, sender=a)
            d.test_token.approve(d.stock.address, 2**255, sender=a)
            d.test_token.approve(d.treasury.address, 2**255, sender=a)
        _world = (chain, d)
    return _world


class AssetModel:
    def __init__(self, asset_id: int, requester: str, rate: int, price: int, start: int, rent: int, periods: int):
        self.asset_id = asset_id
        self.state = AssetState.RENTED
        self.rate = rate
        self.price = price
        self.debt = DebtModel(price, rate, start, PERIOD)
        self.series = SeriesModel(price)
        self.renter, self.rental_start, self.periods, self.paid, self.rent = requester, start, periods, 0, rent
        self.leader: str | None = None
        self.lead_amount = 0
        self.lead_periods = 0
        self.closes_at = 0


class EconomyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.chain, self.d = world()
        self.snapshot = self.chain.snapshot()
        self.acct = self.chain.accounts
        self.addr = [a.address for a in self.acct]
        self.treasury = TreasuryModel(members=set(self.addr[:FOUNDERS]))
        self.assets: list[AssetModel] = []
        self.credits: dict[str, int] = {}
        self.escrow = 0
        self.worker_labour = 0

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- helpers

    def ts(self, tx) -> int:
        return int(self.chain.w3.eth.get_block(tx.block_number)["timestamp"])

    def attempt(self, fn):
        """(tx or None, error name or '')."""
        try:
            return fn(), ""
        except ContractReverted as exc:
            return None, exc.name

    def pick(self, index: int) -> AssetModel | None:
        return self.assets[index % len(self.assets)] if self.assets else None

    def members(self) -> set[str]:
        return self.treasury.members

    def commitments(self, who: str) -> int:
        n = sum(1 for a in self.assets if a.state == AssetState.RENTED and a.renter == who)
        return n + sum(1 for a in self.assets if a.state == AssetState.RENTAL_AUCTION and a.leader == who)

    def pay_through(self, asset: AssetModel, payer: str, amount: int, now: int) -> None:
        to_bonds = asset.debt.service(amount, now)
        if to_bonds:
            asset.series.pay(to_bonds)
        self.treasury.rent_paid[payer] = self.treasury.rent_paid.get(payer, 0) + amount
        if amount - to_bonds:
            self.treasury.distribute(amount - to_bonds)

    def credit(self, who: str, amount: int) -> None:
        self.credits[who] = self.credits.get(who, 0) + amount
        self.escrow -= amount

    # ------------------------------------------------------------------ rules

    @rule(who=st.integers(0, FOUNDERS), price=st.integers(50, 3_000), rent_pct=st.integers(8, 60),
          periods=st.integers(2, 8), rate=st.integers(0, 400), split=st.integers(1, 99))
    def finance(self, who, price, rent_pct, periods, rate, split):
        requester = self.addr[who]
        price *= UNIT
        rent = max(1, price * rent_pct // 100)
        stock = self.d.stock
        got, err = self.attempt(lambda: stock.transact("requestAsset", "ipfs://x", price, self.addr[VENDOR], rent,
                                                        periods, self.chain.now() + 3_600, sender=self.acct[who]))
        if requester not in self.members():
            assert err == "StockNotMember"
            return
        assert err == "", err
        asset_id = got.event("AssetRequested").args["assetId"]
        first = price * split // 100
        book = [(first, rate), (price - first, rate + 1)] if first else [(price, rate)]
        lenders = [self.acct[LENDERS[i % len(LENDERS)]] for i in range(len(book))]
        bids = [stock.transact("bid", asset_id, amount, r, sender=lender).event("BidPlaced").args["bidId"]
                for (amount, r), lender in zip(book, lenders)]
        self.chain.advance_time(3_600)
        settled = stock.transact("settle", asset_id, sender=self.acct[8])
        ref = clear_auction(price, rent, periods, book)
        cleared = any(e.name == "AuctionSettled" for e in settled.events)
        assert cleared == ref.cleared
        for bid_id, lender in zip(bids, lenders):
            stock.transact("claim", bid_id, sender=lender)
        if not cleared:
            self.assets.append(_failed(asset_id))
            return
        asset = AssetModel(asset_id, requester, ref.rate_bps, price, self.ts(settled), rent, periods)
        for fill, lender in zip(ref.fills, lenders):
            if fill:
                asset.series.own(lender.address, fill)
        self.assets.append(asset)
        stock.transact("withdraw", sender=self.acct[VENDOR])

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50), who=st.integers(0, FOUNDERS), periods=st.integers(0, 4))
    def pay_rent(self, pick, who, periods):
        asset = self.pick(pick)
        got, err = self.attempt(lambda: self.d.stock.transact("payRent", asset.asset_id, periods, sender=self.acct[who]))
        if asset.state != AssetState.RENTED:
            assert err == "AssetNotRented"
        elif asset.renter != self.addr[who]:
            assert err == "NotRenter"
        elif periods == 0 or periods > asset.periods - asset.paid:
            assert err == "RentInvalidPeriods"
        else:
            assert err == "", err
            asset.paid += periods
            self.pay_through(asset, asset.renter, periods * asset.rent, self.ts(got))

    @rule(seconds=st.sampled_from([3_600, 86_400, SALE, GRACE, PERIOD, 2 * PERIOD]))
    def advance(self, seconds):
        self.chain.advance_time(seconds)

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50), who=st.integers(0, FOUNDERS))
    def return_asset(self, pick, who):
        asset = self.pick(pick)
        got, err = self.attempt(lambda: self.d.stock.transact("returnAsset", asset.asset_id, sender=self.acct[who]))
        if asset.state != AssetState.RENTED:
            assert err == "AssetNotRented"
        elif asset.renter != self.addr[who]:
            assert err == "NotRenter"
        else:
            assert err == ""
            self.open_rental_auction(asset, self.ts(got))

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50))
    def reclaim(self, pick):
        asset = self.pick(pick)
        got, err = self.attempt(lambda: self.d.stock.transact("reclaim", asset.asset_id, sender=self.acct[8]))
        if asset.state != AssetState.RENTED:
            assert err == "AssetNotRented"
            return
        if asset.paid < asset.periods:
            due = asset.rental_start + asset.paid * PERIOD + GRACE
        else:
            due = asset.rental_start + asset.periods * PERIOD
        if err:
            assert err == "ReclaimNotDue" and self.chain.now() + 1 <= due
        else:
            assert self.ts(got) >= due
            self.open_rental_auction(asset, self.ts(got))

    def open_rental_auction(self, asset: AssetModel, now: int) -> None:
        asset.state = AssetState.RENTAL_AUCTION
        asset.closes_at = now + SALE
        asset.leader, asset.lead_amount = None, 0

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50), who=st.integers(0, 6), rent=st.integers(1, 800), periods=st.integers(1, 6))
    def bid_rent(self, pick, who, rent, periods):
        asset = self.pick(pick)
        rent *= UNIT
        bidder = self.addr[who]
        got, err = self.attempt(lambda: self.d.stock.transact("bidRent", asset.asset_id, rent, periods,
                                                               sender=self.acct[who]))
        if bidder not in self.members():
            assert err == "StockNotMember"
        elif asset.state != AssetState.RENTAL_AUCTION:
            assert err == "RentalAuctionNotOpen"
        elif err == "AuctionClosed":
            assert self.chain.now() + 1 >= asset.closes_at
        elif rent <= asset.lead_amount:
            assert err == "RentBidTooLow"
        elif asset.debt.principal and rent < interest(asset.debt.principal, asset.rate) + 1:
            assert err == "RentBelowBondService"
        else:
            assert err == "", err
            if asset.leader:
                self.credit(asset.leader, asset.lead_amount)
            asset.leader, asset.lead_amount, asset.lead_periods = bidder, rent, periods
            self.escrow += rent

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50))
    def settle_rental(self, pick):
        asset = self.pick(pick)
        got, err = self.attempt(lambda: self.d.stock.transact("settleRental", asset.asset_id, sender=self.acct[8]))
        if asset.state != AssetState.RENTAL_AUCTION:
            assert err == "RentalAuctionNotOpen"
        elif err:
            assert err == "AuctionStillOpen" and self.chain.now() + 1 < asset.closes_at
        elif asset.leader is None:
            asset.state = AssetState.LIQUIDATION
            asset.closes_at = self.ts(got) + SALE
        else:
            now = self.ts(got)
            asset.state = AssetState.RENTED
            asset.renter, asset.rental_start, asset.periods, asset.paid = asset.leader, now, asset.lead_periods, 1
            asset.rent = asset.lead_amount
            self.escrow -= asset.lead_amount
            self.pay_through(asset, asset.renter, asset.lead_amount, now)
            asset.leader, asset.lead_amount = None, 0

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50), who=st.integers(0, ACCOUNTS - 1), amount=st.integers(1, 4_000))
    def bid_liquidation(self, pick, who, amount):
        asset = self.pick(pick)
        amount *= UNIT
        got, err = self.attempt(lambda: self.d.stock.transact("bidLiquidation", asset.asset_id, amount,
                                                               sender=self.acct[who]))
        if asset.state != AssetState.LIQUIDATION:
            assert err == "LiquidationNotOpen"
        elif err == "AuctionClosed":
            assert self.chain.now() + 1 >= asset.closes_at
        elif amount <= asset.lead_amount:
            assert err == "LiquidationBidTooLow"
        else:
            assert err == "", err
            if asset.leader:
                self.credit(asset.leader, asset.lead_amount)
            asset.leader, asset.lead_amount = self.addr[who], amount
            self.escrow += amount

    @precondition(lambda self: self.assets)
    @rule(pick=st.integers(0, 50))
    def settle_liquidation(self, pick):
        asset = self.pick(pick)
        got, err = self.attempt(lambda: self.d.stock.transact("settleLiquidation", asset.asset_id, sender=self.acct[8]))
        if asset.state != AssetState.LIQUIDATION:
            assert err == "LiquidationNotOpen"
        elif err:
            assert err == "AuctionStillOpen" and self.chain.now() + 1 < asset.closes_at
        elif asset.leader is None:
            asset.closes_at = self.ts(got) + SALE
        else:
            proceeds = asset.lead_amount
            self.escrow -= proceeds
            to_bonds = asset.debt.service(proceeds, self.ts(got))
            if to_bonds:
                asset.series.pay(to_bonds)
            asset.debt.principal = asset.debt.interest_owed = 0
            if proceeds - to_bonds:
                self.treasury.distribute(proceeds - to_bonds)
            asset.state = AssetState.LIQUIDATED
            assert self.d.stock.title_holder(asset.asset_id) == asset.leader

    @rule(who=st.integers(0, ACCOUNTS - 1))
    def claim_payout(self, who):
        account = self.addr[who]
        got, err = self.attempt(lambda: self.d.treasury.transact("claimPayout", sender=self.acct[who]))
        expected = self.treasury.claimable(account) if account in self.treasury.checkpoint else 0
        if expected == 0:
            assert err == "TreasuryNothingToClaim"
        else:
            assert err == "" and got.event("PayoutClaimed").args["amount"] == expected
            self.treasury.claim(account)

    @rule(who=st.integers(0, ACCOUNTS - 1))
    def withdraw_credits(self, who):
        account = self.addr[who]
        got, err = self.attempt(lambda: self.d.stock.transact("withdraw", sender=self.acct[who]))
        if self.credits.get(account, 0) == 0:
            assert err == "NothingToWithdraw"
        else:
            assert err == "" and got.event("Withdrawn").args["amount"] == self.credits.pop(account)

    @precondition(lambda self: any(a.state != AssetState.FAILED for a in self.assets))
    @rule(pick=st.integers(0, 50), lender=st.sampled_from(LENDERS))
    def withdraw_bond_payments(self, pick, lender):
        asset = self.pick(pick)
        if asset.state == AssetState.FAILED:
            return
        holder = self.addr[lender]
        series = self.d.stock.series(asset.asset_id)
        got, err = self.attempt(lambda: series.transact("withdrawPayments", sender=self.acct[lender]))
        expected = asset.series.withdrawable(holder)
        if expected == 0:
            assert err == "BondSeriesNothingToWithdraw"
        else:
            assert err == "" and got.event("PaymentWithdrawn").args["amount"] == expected
            asset.series.withdraw(holder)

    @precondition(lambda self: any(a.state != AssetState.FAILED for a in self.assets))
    @rule(pick=st.integers(0, 50), src=st.sampled_from(LENDERS), dst=st.integers(0, ACCOUNTS - 1),
          pct=st.integers(1, 100))
    def transfer_bonds(self, pick, src, dst, pct):
        asset = self.pick(pick)
        if asset.state == AssetState.FAILED:
            return
        units = asset.series.balances.get(self.addr[src], 0) * pct // 100
        if units == 0 or src == dst:
            return
        self.d.stock.series(asset.asset_id).transact("transfer", self.addr[dst], units, sender=self.acct[src])
        asset.series.transfer(self.addr[src], self.addr[dst], units)

    @rule(who=st.sampled_from(LENDERS + [VENDOR - 2]), amount=st.integers(1, 10**9))
    def deposit_income(self, who, amount):
        self.d.treasury.transact("depositIncome", amount, sender=self.acct[who])
        self.treasury.distribute(amount)

    @rule()
    def worker_joins(self):
        worker = self.addr[WORKER]
        commune = self.d.commune
        if worker in self.members():
            return
        claim = commune.transact("submitLabour", 10, "ipfs://w", sender=self.acct[WORKER]).event("LabourSubmitted")
        attesters = [a for a in self.addr[:FOUNDERS] if a in self.members()][:2]
        for a in attesters:
            commune.transact("attest", claim.args["claimId"], sender=self.acct[self.addr.index(a)])
        got, err = self.attempt(lambda: commune.transact("join", sender=self.acct[WORKER]))
        if not attesters:  # nobody is left to attest: labour cannot be counted, so nobody can join
            assert err == "LabourBelowThreshold"
            return
        assert err == "", err
        self.treasury.join(worker)

    @rule(who=st.integers(0, FOUNDERS))
    def leave(self, who):
        account = self.addr[who]
        got, err = self.attempt(lambda: self.d.commune.transact("leave", sender=self.acct[who]))
        if account not in self.members():
            assert err == "CommuneNotMember"
        elif self.commitments(account):
            assert err == "CommuneMemberCommitted"
        else:
            assert err == "", err
            self.treasury.leave(account)

    # ------------------------------------------------------------- invariants

    @invariant()
    def chain_matches_the_reference(self):
        """Payouts, carry, rent, debts, bond payments, escrow and credits, to the base unit; and every
        token held is owed to someone."""
        d, t, stock = self.d, self.d.treasury, self.d.stock
        assert (t.income_per_share(), t.carry()) == (self.treasury.income_per_share, self.treasury.carry)
        ever = sorted(self.treasury.checkpoint)  # everyone who has ever been a member
        assert [t.claimable(a) for a in ever] == [self.treasury.claimable(a) for a in ever]
        assert [t.rent_paid(a) for a in ever] == [self.treasury.rent_paid.get(a, 0) for a in ever]
        # equal division: members who have been members as long and claimed as much are owed the same
        founders = [a for a in self.addr[:FOUNDERS] if a in self.members() and not self.treasury.claimed.get(a)]
        assert len({self.treasury.claimable(a) for a in founders}) <= 1
        assert (stock.escrow_held(), stock.credits_held()) == (self.escrow, sum(self.credits.values()))
        assert d.token.balance_of(stock.address) == self.escrow + sum(self.credits.values())
        owed = sum(self.treasury.claimable(a) for a in ever) + self.treasury.carry
        assert d.token.balance_of(t.address) == owed
        now = self.chain.now()
        for asset in self.assets:
            assert stock.asset(asset.asset_id).state == asset.state
            if asset.state == AssetState.FAILED:
                continue
            assert stock.debt_owed(asset.asset_id) == asset.debt.owed(now)
            series = stock.series(asset.asset_id)
            holders = sorted(asset.series.balances)
            assert [series.pay_withdrawable(h) for h in holders] == [asset.series.withdrawable(h) for h in holders]
            assert series.total_paid() == asset.series.total_paid
            assert d.token.balance_of(series.address) == series.total_paid() - series.total_withdrawn()


def _failed(asset_id: int) -> AssetModel:
    asset = AssetModel(asset_id, "", 0, 1, 0, 0, 0)
    asset.state = AssetState.FAILED
    return asset


long_run = os.environ.get("VC_HYPOTHESIS_PROFILE") == "long"
TestEconomy = EconomyMachine.TestCase
TestEconomy.settings = settings(
    max_examples=100 if long_run else 5, stateful_step_count=50 if long_run else 20, deadline=None,
    derandomize=not long_run,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
