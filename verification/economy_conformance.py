"""Conformance of the economic contracts: `CommonStock`, `Treasury` and `BondSeries` against their models.

The same random call sequences (bond auctions, rent, returns, reclaims, rental and liquidation
sales, withdrawals, income deposits, releases, payout claims, bond transfers and payment
withdrawals, tokens sent to the contracts directly and swept, calls by the wrong caller, calls
carrying value and plain ETH) run on a commune deployed on the embedded chain and on
`verification/stock_model.py` and `verification/money_model.py` composed as the contracts compose
them: a successful common-stock call that pays bonds applies the series model's `pay` (caller: the
stock), one that pays rent applies the treasury model's `recordRent`, a liquidation's surplus
`recordIncome`, an early return `refundRental`, a sweep the treasury's `sweep`, a claim with bonds
`mint`. Every treasury action is preceded by the model's `release` steps the contract's own
`_release` takes (as many as grid periods have begun, at most 64).

The models' inputs from outside the contract are computed here, independently of the chain: the
rate book's answers from the model's own bid records, `Amortization.repays` by its definition,
`_debtAt` by its formula, whether a payer's `transferFrom` succeeds from their balance and
allowance, membership from the founders, and `block.timestamp` as the pending block's time. Only a
new series' address and the treasury's grid origin (its creation time) are read from the chain.

A call must revert on chain exactly when the model says it reverts, and after every step every
counter, every asset's records, every actor's credits, commitments, payouts and bonds, the
treasury's release schedule and each contract's token balance must equal the model's.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import z3

from verification import money_model as mm
from verification import stock_model as sm
from verification.conformance import Concrete, Divergence

PERIOD, GRACE, SALE, RATE_CAP, RESERVE = 1_000, 300, 200, 1_000, 5_000
#: `Params` fields, in the struct's order (the arguments of `initialize` and `setParameters`).
PARAM_KEYS = tuple(sm.PARAM_ARGS)
FOUNDERS = 3  # actors 0-2 are members
ACTORS = 6  # 3 and 4 are outside bidders; 5 is the vendor, who never approves the stock
BIG = 10**12
MAX_RELEASE = 64


def repays(principal: int, rate: int, rent: int, periods: int) -> bool:
    """`Amortization.repays`, by its definition."""
    balance = principal
    for _ in range(periods):
        if balance == 0:
            break
        due = (balance * rate + 9_999) // 10_000
        if rent <= due:
            return False
        balance = max(0, balance - (rent - due))
    return balance == 0


class Economy:
    """A deployed commune and its composed models, stepped together."""

    def __init__(self, artifacts: Any = None, chain: Any = None, actors: int = ACTORS, purse: int = BIG):
        """`actors` accounts take part (0-2 members, 5 the vendor); those past the first `ACTORS`
        get `purse` tokens from the faucet (a small purse puts whole-balance payments in reach)."""
        from vcengine.chains import TesterChain
        from vcengine.deploy import CommuneParams, deploy_commune

        self.chain = chain or TesterChain()
        self.accounts = self.chain.accounts[:actors]
        self.addresses = [a.address for a in self.accounts]
        self.ints = [int(a, 16) for a in self.addresses]
        params = CommuneParams(founders=self.addresses[:FOUNDERS], period_seconds=PERIOD, grace_seconds=GRACE,
                               sale_seconds=SALE, rate_cap_bps=RATE_CAP, liquidation_reserve_bps=RESERVE,
                               quorum_cap=2)
        self.d = deploy_commune(self.chain, self.accounts[0], params, artifacts=artifacts)
        self.token = self.d.test_token
        stock, treasury = int(self.d.stock.address, 16), int(self.d.treasury.address, 16)
        for i, account in enumerate(self.accounts):
            self.token.faucet(account.address, BIG if i < ACTORS else purse, sender=account)
            if i != 5:
                self.token.approve(self.d.stock.address, 2**256 - 1, sender=account)
                self.token.approve(self.d.treasury.address, 2**256 - 1, sender=account)
        v = z3.Var(0, sm.Addr)
        members = z3.Or(*[v == z3.BitVecVal(k, 160) for k in self.ints[:FOUNDERS]])
        # The clone as `create` leaves it: initialised by the factory with the commune's parameters.
        initialised = sm.initialize_prologue(sm.empty(), *(z3.IntVal(x) for x in (GRACE, SALE, RATE_CAP, RESERVE)))
        self.stock = Concrete(sm.TRANSITIONS, initialised.map(lambda _, v: z3.simplify(v)), [
            (sm.PERIOD, z3.IntVal(PERIOD)), (sm.FACTORY, z3.BitVecVal(int(self.d.stock.call("factory"), 16), 160)),
            (sm.GOVERNANCE, z3.BitVecVal(int(self.d.stock.call("governance"), 16), 160)),
            (sm.SELF, z3.BitVecVal(stock, 160)), (sm.TREASURY, z3.BitVecVal(treasury, 160)),
            (sm.COMMUNE, z3.BitVecVal(int(self.d.commune.address, 16), 160))],
            [(sm.IS_MEMBER, members), sm.OWED_AT_DEFINITION], {sm.REPAYS: repays})
        origin = self.origin = self.d.treasury.grid_origin()
        self.treasury = Concrete(mm.TREASURY_TRANSITIONS, mm.TreasuryState.zero(),
                                 [(mm.STOCK, z3.BitVecVal(stock, 160)),
                                  (mm.COMMUNE, z3.BitVecVal(int(self.d.commune.address, 16), 160)),
                                  (mm.PERIOD, z3.IntVal(PERIOD)), (mm.ORIGIN, z3.IntVal(origin))])
        for k in self.ints[:FOUNDERS]:  # the constructor admits the founders (before any income)
            self.treasury.s = self._admit(k)
        self.series: dict[int, tuple[Any, Concrete]] = {}  # asset -> (client, model)
        self.stock_int = stock
        self.treasury_int = treasury

    def _admit(self, member: int) -> Any:
        s = self.treasury.s
        k = z3.BitVecVal(member, 160)
        post = s.replace(isMember=z3.Store(s.isMember, k, z3.BoolVal(True)), memberCount=s.memberCount + 1,
                         checkpoint=z3.Store(s.checkpoint, k, s.incomePerShare))
        return post.map(lambda _, v: z3.simplify(v))

    # ------------------------------------------------------------------ inputs

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("pending")["timestamp"])

    def pull_ok(self, who: int, amount: int) -> bool:
        return who != 5 and self.token.balance_of(self.addresses[who]) >= amount

    def bids_of(self, asset: int) -> list[tuple[int, int]]:
        s, read = self.stock.s, self.stock.read
        out = []
        for b in range(1, read(s.bidCount) + 1):
            if read(s.bidAsset[z3.IntVal(b)]) == asset:
                out.append((read(s.bidRate[z3.IntVal(b)]), read(s.bidAmount[z3.IntVal(b)])))
        return out

    def book(self, asset: int) -> tuple[int, int, int]:
        """(clearing rate, amount below it, amount at it) from the model's bids."""
        s, read = self.stock.s, self.stock.read
        price = read(s.price[z3.IntVal(asset)])
        bids = self.bids_of(asset)
        below = 0
        for rate in sorted({r for r, _ in bids}):
            at = sum(x for r, x in bids if r == rate)
            if below + at >= price:
                return rate, below, at
            below += at
        return 0, 0, 0

    # -------------------------------------------------------------------- calls

    def call(self, name: str, who: int, value: int, args: dict[str, Any]) -> tuple[bool, bool]:
        """Run one call on chain and in the models; returns (chain reverted, model reverted)."""
        from vcengine.client import ContractReverted

        contract, fn = name.split(".")
        now = self.now()
        if contract == "token":  # tokens sent to a contract directly: never refused, never modelled as a call
            target = self._contract_address(args["target"], args.get("asset"))
            self.token.transfer(target, args["amount"], sender=self.accounts[who])
            self._stray(args["target"], args.get("asset"), args["amount"])
            return False, False
        inputs = self._inputs(contract, fn, who, args, now)
        client = {"stock": self.d.stock, "treasury": self.d.treasury}.get(contract)
        if contract == "series":
            client = self.series[args["asset"]][0]
        try:
            if fn == "<receive or fallback>":
                client.send_value(self.accounts[who], value)
            else:
                client.transact(fn, *self._chain_args(fn, args), sender=self.accounts[who], value=value)
            chain_reverted = False
        except ContractReverted:
            chain_reverted = True
        if not chain_reverted and fn == "settle":
            series = self.d.stock.call("assetInfo", args["assetId"])[10]  # the clone a cleared sale created
            if int(series, 16):
                inputs[sm.SERIES] = int(series, 16)
        model_reverted = self._apply(contract, fn, who, value, args, inputs, now)
        return chain_reverted, model_reverted

    def _contract_address(self, target: str, asset: int | None) -> str:
        if target == "series":
            return self.series[asset][0].address
        return {"stock": self.d.stock.address, "treasury": self.d.treasury.address,
                "commune": self.d.commune.address}[target]

    def _stray(self, target: str, asset: int | None, amount: int) -> None:
        model = {"stock": self.stock, "treasury": self.treasury}.get(target) or self.series[asset][1]
        variable = {"stock": sm.DONATION, "treasury": mm.DONATION}.get(target, mm.DONATION)
        self._must(model.apply("<token transfer in>", 0, 0, {variable: amount}), "token transfer in")

    def _vendor(self, vendor: int | str | None) -> str:
        """A request's vendor: an actor, one of the commune's contracts by name, or none."""
        if vendor is None:
            return "0x" + "00" * 20
        if isinstance(vendor, str):
            return self._contract_address(vendor, None)
        return self.addresses[vendor]

    def _chain_args(self, fn: str, args: dict[str, Any]) -> list[Any]:
        addr = lambda i: self.addresses[i]  # noqa: E731
        return {
            "requestAsset": lambda: ["x" * args["descriptionLength"], args["price"],
                                     self._vendor(args["vendor"]),
                                     args["rent"], args["periods"], args["closes"]],
            "bid": lambda: [args["assetId"], args["amount"], args["rate"]],
            "claim": lambda: [args["bidId"]],
            "payRent": lambda: [args["assetId"], args["periods"]],
            "bidRent": lambda: [args["assetId"], args["rent"], args["periods"]],
            "bidLiquidation": lambda: [args["assetId"], args["amount"]],
            "depositIncome": lambda: [args["amount"]],
            "release": lambda: [args["periods"]],
            "recordRent": lambda: [args.get("assetId", 1), addr(args["member"]), args["amount"], args["amount"],
                                   self.now(), 0, 1],
            "transfer": lambda: [addr(args["to"]), args["amount"]],
            "approve": lambda: [addr(args["to"]), args["amount"]],
            "transferFrom": lambda: [addr(args["from"]), addr(args["to"]), args["amount"]],
            "pay": lambda: [args["amount"]],
            "runSettlement": lambda: [args["assetId"], 0, 0],
            "initialize": lambda: [tuple(args[k] for k in PARAM_KEYS)],
            "setParameters": lambda: [tuple(args[k] for k in PARAM_KEYS)],
        }.get(fn, lambda: [args["assetId"]] if "assetId" in args else [])()

    def _inputs(self, contract: str, fn: str, who: int, args: dict[str, Any], now: int) -> dict[Any, Any]:
        """The models' inputs from outside the contracts, computed before the call is sent (the
        payer's balance is the one the call sees)."""
        if contract == "treasury":
            return {mm.PULL_OK: self.pull_ok(who, args.get("amount", 0))}
        if contract != "stock":
            return {}
        s, read = self.stock.s, self.stock.read
        inputs: dict[Any, Any] = {sm.NOW: now, sm.PULL_OK: True, sm.ESCROW_PAY_OK: True, sm.SERIES: 1,
                                  sm.TICK_BEFORE: 0, sm.BOOK_RATE: 0, sm.BOOK_BELOW: 0, sm.BOOK_TICK_TOTAL: 0,
                                  sm.DONATION: 0}
        for key, var in (("assetId", sm.ASSET), ("bidId", sm.BID), ("amount", sm.AMOUNT), ("rate", sm.RATE),
                         ("periods", sm.PERIODS), ("price", sm.PRICE), ("rent", sm.RENT), ("closes", sm.CLOSES),
                         ("descriptionLength", sm.DESCRIPTION_LENGTH),
                         *((k, sm.PARAM_ARGS[k]) for k in PARAM_KEYS)):
            if key in args:
                inputs[var] = args[key]
        if fn == "requestAsset":
            inputs[sm.VENDOR] = int(self._vendor(args["vendor"]), 16)
            inputs[sm.PULL_OK] = self.pull_ok(who, args["rent"])
        a = z3.IntVal(args.get("assetId", 0))
        if fn == "bid":
            inputs[sm.TICK_BEFORE] = sum(x for r, x in self.bids_of(args["assetId"]) if r == args["rate"])
            inputs[sm.PULL_OK] = self.pull_ok(who, args["amount"])
        elif fn == "settle":
            rate, below, at = self.book(args["assetId"])
            inputs.update({sm.BOOK_RATE: rate, sm.BOOK_BELOW: below, sm.BOOK_TICK_TOTAL: at})
        elif fn == "payRent":
            inputs[sm.PULL_OK] = self.pull_ok(who, args["periods"] * read(s.rentalRent[a]))
        elif fn == "bidRent":
            inputs[sm.PULL_OK] = self.pull_ok(who, args["rent"])
        elif fn == "bidLiquidation":
            inputs[sm.PULL_OK] = self.pull_ok(who, args["amount"])
        return inputs

    def begun(self, now: int) -> int:
        """Grid periods begun and not yet released in the treasury model."""
        t = self.treasury
        return max(0, (now - self.origin) // PERIOD - t.read(t.s.releasedThrough))

    def _treasury(self, fn: str, caller: int, value: int, args: dict[Any, Any], now: int,
                  periods: int = MAX_RELEASE) -> bool:
        """A treasury call as the contract runs it: `_release` (up to `periods` begun grid periods),
        then the action; a call that reverts undoes its releases too."""
        t = self.treasury
        saved = t.s
        if value != 0:
            return t.apply(fn, caller, value, {**args, mm.NOW: now})  # not payable: refused first
        for _ in range(min(self.begun(now), periods)):
            if t.apply("release", caller, 0, {mm.NOW: now}):
                t.s = saved
                return True
        if fn == "release":
            return False
        reverted = t.apply(fn, caller, 0, {**args, mm.NOW: now})
        if reverted:
            t.s = saved
        return reverted

    def _apply(self, contract: str, fn: str, who: int, value: int, args: dict[str, Any],
               inputs: dict[Any, Any], now: int) -> bool:
        caller = self.ints[who]
        if contract == "treasury":
            targs: dict[Any, Any] = {mm.AMOUNT: args.get("amount", 0), mm.ACCOUNT: self.ints[args.get("member", 0)],
                                     mm.PULL_OK: inputs[mm.PULL_OK], mm.ASSET: 1,
                                     mm.RENT: args.get("amount", 0), mm.START: now, mm.FIRST: 0, mm.PERIODS: 1,
                                     mm.DONATION: 0}
            if fn == "release":
                return self._treasury("release", caller, value, targs, now, periods=args["periods"])
            if fn == "sweep":
                return self._treasury_sweep(caller, value, now)
            return self._treasury(fn, caller, value, targs, now)
        if contract == "series":
            model = self.series[args["asset"]][1]
            sargs = {mm.AMOUNT: args.get("amount", 0), mm.HOLDER: self.ints[args.get("to", 0)],
                     mm.FROM: self.ints[args.get("from", 0)], mm.DONATION: 0}
            held = model.read(model.s.held)
            owed = model.read(model.s.totalPaid) - model.read(model.s.totalWithdrawn)
            reverted = model.apply(fn, caller, value, sargs)
            if fn == "sweep" and not reverted:  # the surplus goes to the treasury, which divides it
                self._must(self.treasury.apply("<token transfer in>", 0, 0, {mm.DONATION: held - owed}), "transfer")
                self._must(self._treasury_sweep(caller, 0, now), "treasury.sweep")
            return reverted
        before = self.stock.s
        reverted = self.stock.apply(fn, caller, value, inputs)
        if reverted:
            return True
        after, read = self.stock.s, self.stock.read
        a = z3.IntVal(args.get("assetId", 0))
        if fn == "settle" and read(after.state[a]) == sm.S["Rented"]:
            asset = args["assetId"]
            model = Concrete(mm.SERIES_TRANSITIONS, mm.SeriesState.zero(),
                             [(mm.ISSUER, z3.BitVecVal(self.stock_int, 160)),
                              (mm.FACE, z3.IntVal(read(after.price[a])))])
            self.series[asset] = (self.d.stock.series(asset), model)
        if fn == "claim":
            b = z3.IntVal(args["bidId"])
            asset = read(before.bidAsset[b])
            bonds = read(before.bidAmount[b]) - (read(before.escrowHeld) - read(after.escrowHeld))
            if bonds > 0:
                self._must(self.series[asset][1].apply("mint", self.stock_int, 0,
                                                       {mm.HOLDER: caller, mm.AMOUNT: bonds}), "series.mint")
        to_bonds = read(after.toBondsTotal) - read(before.toBondsTotal)
        to_members = read(after.toMembersTotal) - read(before.toMembersTotal)
        if to_bonds > 0:
            self._must(self.series[args["assetId"]][1].apply("pay", self.stock_int, 0, {mm.AMOUNT: to_bonds}),
                       "series.pay")
        rental_started = fn in ("settle", "settleRental") and read(before.state[a]) != sm.S["Rented"] \
            and read(after.state[a]) == sm.S["Rented"]
        if fn == "payRent" or rental_started:
            first = read(before.paidPeriods[a]) if fn == "payRent" else 0
            periods = args["periods"] if fn == "payRent" else 1
            rent = periods * read(after.rentalRent[a])
            self._must(self._treasury("recordRent", self.stock_int, 0, {
                mm.ASSET: args["assetId"], mm.ACCOUNT: read(after.renter[a]), mm.RENT: rent, mm.AMOUNT: to_members,
                mm.START: read(after.rentalStart[a]), mm.FIRST: first, mm.PERIODS: periods}, now),
                "treasury.recordRent")
        if fn == "settleLiquidation" and to_members > 0:
            self._must(self._treasury("recordIncome", self.stock_int, 0, {mm.AMOUNT: to_members}, now),
                       "treasury.recordIncome")
        # An overdue return refunds nothing, and neither does a return while bonds are outstanding
        # (no member income before they are redeemed: the treasury is not called).
        if fn == "returnAsset" and not read(after.defaulted[a]) and read(after.redeemed[a]):
            self._must(self._treasury("refundRental", self.stock_int, 0, {
                mm.ASSET: args["assetId"], mm.ACCOUNT: caller, mm.PERIODS: read(before.paidPeriods[a]),
                mm.RENT: read(before.rentalRent[a])}, now), "treasury.refundRental")
        if fn == "sweep":
            swept = read(after.sweptTotal) - read(before.sweptTotal)
            self._must(self.treasury.apply("<token transfer in>", 0, 0, {mm.DONATION: swept}), "transfer")
            self._must(self._treasury_sweep(self.stock_int, 0, now), "treasury.sweep")
        return False

    def _treasury_sweep(self, caller: int, value: int, now: int) -> bool:
        """`Treasury.sweep`: the surplus is measured before `_release` runs, then divided."""
        t = self.treasury
        surplus = t.read(t.s.held) - (t.read(t.s.totalIncome) - t.read(t.s.totalClaimed))
        if value != 0 or surplus <= 0:
            return True
        return self._treasury("sweep", caller, 0, {}, now)

    @staticmethod
    def _must(reverted: bool, what: str) -> None:
        if reverted:
            raise Divergence(-1, what, "the model of a nested call reverts where the caller's model succeeded")

    def check(self, step: int, name: str, who: int, value: int, args: dict[str, Any], full: bool = False) -> None:
        """One call on chain and in the models (`closes` absolute), then the comparison: the call
        must revert on chain exactly when the models say, and then what it can have touched (every
        value if `full`) must agree. Raises Divergence naming the call."""
        call = f"{name} by actor {who} with value {value} {args}"
        try:
            chain_reverted, model_reverted = self.call(name, who, value, dict(args))
        except Divergence as exc:
            raise Divergence(step, call, exc.what) from None
        if chain_reverted != model_reverted:
            raise Divergence(step, call, f"chain {'reverted' if chain_reverted else 'succeeded'}, "
                                         f"model {'reverts' if model_reverted else 'succeeds'}")
        # In between full comparisons, what the call can have touched. A call both sides refused
        # changed nothing on either (a revert undoes every write, and the model's refused
        # transition is the identity), so there is nothing new to compare.
        if chain_reverted and model_reverted and not full:
            return
        touched = {who} | {v for k, v in args.items() if k in ("to", "from", "member", "vendor") and isinstance(v, int)}
        a = z3.IntVal(args.get("assetId", 0))
        touched |= {self.ints.index(x) for x in (self.stock.read(self.stock.s.leader[a]),
                                                 self.stock.read(self.stock.s.renter[a])) if x in self.ints}
        asset = args.get("assetId", args.get("asset"))
        if name == "stock.claim":
            asset = self.stock.read(self.stock.s.bidAsset[z3.IntVal(args["bidId"])])
        for what, on_chain, in_model in self.compare(None if full else {asset}, None if full else touched):
            if on_chain != in_model:
                raise Divergence(step, call, f"{what}: chain {on_chain}, model {in_model}")

    # ------------------------------------------------------------------ compare

    def claimable_view(self, key: int, now: int) -> int:
        """The treasury's `claimable` view: released income plus the member's share of the begun
        periods the next call releases (the model run forward on a copy)."""
        t = self.treasury
        copy = Concrete(t.transitions, t.s, t.fixed, t.funs, t.py_funs)
        for _ in range(min(self.begun(now), MAX_RELEASE)):
            copy.apply("release", 0, 0, {mm.NOW: now})
        return copy.read(mm.claimable(copy.s, z3.BitVecVal(key, 160)))

    def compare(self, assets: set[int] | None = None, actors: set[int] | None = None) -> list[tuple[str, Any, Any]]:
        """(what, chain, model) for every value both sides know; with `assets`/`actors`, the
        counters and balances plus only those assets' records and those actors' accounts."""
        st, s, read = self.d.stock, self.stock.s, self.stock.read
        now = self.chain.now()
        pairs: list[tuple[str, Any, Any]] = [
            ("assetCount", st.asset_count(), read(s.assetCount)), ("bidCount", st.bid_count(), read(s.bidCount)),
            ("escrowHeld", st.escrow_held(), read(s.escrowHeld)),
            ("creditsHeld", st.credits_held(), read(s.creditsHeld)),
            ("stock token balance", self.token.balance_of(st.address), read(s.held)),
            *((f"stock {n}", st.call(n), read(getattr(s, n))) for n in sm.LIVE_PARAMETERS),
        ]
        for asset in range(1, st.asset_count() + 1):
            if assets is not None and asset not in assets:
                continue
            a = z3.IntVal(asset)
            info, debt = st.call("assetInfo", asset), st.call("debtInfo", asset)
            rental, sale = st.call("rentalInfo", asset), st.call("saleInfo", asset)
            chain_values = {
                "state": info[3], "escrowed": info[11], "clearingRateBps": info[2], "marginNeed": info[12],
                "marginTotal": info[13], "assetRateCap": info[7], "rentalGrace": rental[6], "saleReserve": sale[3], "principal": debt[0], "interestOwed": debt[1], "accruedPeriods": debt[3],
                "redeemed": debt[4], "writtenOff": debt[5], "renter": int(rental[0], 16), "rentalStart": rental[1],
                "rentalPeriods": rental[2], "paidPeriods": rental[3], "rentalRent": rental[4],
                "defaulted": rental[5], "leader": int(sale[0], 16), "closesAt": sale[1], "salePeriods": sale[2],
                "saleAmount": sale[5], "reopenings": sale[4], "titleHolder": int(st.call("titleHolder", asset), 16),
            }
            for name, on_chain in chain_values.items():
                pairs.append((f"asset {asset} {name}", on_chain, read(getattr(s, name)[a])))
            for i, (address, key) in enumerate(zip(self.addresses, self.ints)):
                if actors is None or i in actors:
                    pairs.append((f"asset {asset} hasDefaulted(actor {i})", st.call("hasDefaulted", asset, address),
                                  read(s.everDefaulted[a][z3.BitVecVal(key, 160)])))
            agreement = self.d.treasury.call("agreementIncome", asset)
            t = self.treasury
            for i, name in enumerate(("agStart", "agIncomeFrom", "agFullFrom", "agPartial")):
                pairs.append((f"asset {asset} treasury {name}", agreement[i], t.read(getattr(t.s, name)[a])))
        t = self.treasury
        tr = self.d.treasury
        pairs += [("incomePerShare", tr.income_per_share(), t.read(t.s.incomePerShare)),
                  ("carry", tr.carry(), t.read(t.s.carry)),
                  ("totalIncome", tr.total_income(), t.read(t.s.totalIncome)),
                  ("totalClaimed", tr.total_claimed(), t.read(t.s.totalClaimed)),
                  ("scheduledIncome", tr.scheduled_income(), t.read(t.s.scheduledIncome)),
                  ("releasedThrough", tr.released_through(), t.read(t.s.releasedThrough)),
                  ("releaseRate", tr.release_rate(), t.read(t.s.releaseRate)),
                  ("treasury token balance", self.token.balance_of(tr.address), t.read(t.s.held))]
        for i, (address, key) in enumerate(zip(self.addresses, self.ints)):
            if actors is not None and i not in actors:
                continue
            k = z3.BitVecVal(key, 160)
            pairs += [(f"credits(actor {i})", st.credits(address), read(s.credits[k])),
                      (f"commitments(actor {i})", st.commitments(address), read(s.commitments[k])),
                      (f"claimable payout(actor {i})", tr.claimable(address), self.claimable_view(key, now)),
                      (f"rentPaid(actor {i})", tr.rent_paid(address), t.read(t.s.rentPaid[k]))]
        for asset, (client, model) in self.series.items():
            if assets is not None and asset not in assets:
                continue
            m = model.s
            pairs += [(f"series {asset} totalPaid", client.total_paid(), model.read(m.totalPaid)),
                      (f"series {asset} totalWithdrawn", client.total_withdrawn(), model.read(m.totalWithdrawn)),
                      (f"series {asset} totalSupply", client.total_supply(), model.read(m.totalSupply)),
                      (f"series {asset} token balance", self.token.balance_of(client.address), model.read(m.held))]
            for i, (address, key) in enumerate(zip(self.addresses, self.ints)):
                if actors is not None and i not in actors:
                    continue
                k = z3.BitVecVal(key, 160)
                accrued = model.read(z3.substitute(mm.accumulated(m, k), *model.fixed))
                pairs += [(f"series {asset} balanceOf(actor {i})", client.balance_of(address), model.read(m.balances[k])),
                          (f"series {asset} accumulated(actor {i})", client.accumulated(address), accrued)]
        return pairs


#: A scripted opening through every branch once: requests (a vendor who is the requester, a member,
#: or one of the commune's own contracts), bids at three rates and one above the cap, a premature settle, settlement with the
#: first period paid from escrow, claims (by a stranger too), rent paid ahead, a stranger paying
#: rent, bond payments withdrawn and bonds moved, releases as periods begin, an early return with a
#: refund, rental bids (a non-member's, one that cannot repay, one that repays over its own term
#: but not over the series' schedule left, counted from the series' settlement, not the rental's,
#: and one past the schedule's end; an outbid one), a rental settled so late that its bid no longer
#: repays (credited, reopened), the rental settled,
#: default and reclaim, the defaulter barred, a rental auction nobody bids in, liquidation reopened
#: without a bid and bids below and above the reserve, the sale settled, credits withdrawn, income
#: deposited and payouts claimed, tokens sent in and swept, an undersubscribed auction, calls with
#: value and plain ETH.
Wait = tuple[str, int]
SCRIPT: list[tuple[str, int, int, dict[str, Any]] | Wait] = [
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": 0, "rent": 400, "periods": 4,
                                  "closes": "+100"}),
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": 1, "rent": 400, "periods": 4,
                                  "closes": "+100"}),
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": 5, "rent": 400, "periods": 4,
                                  "closes": "+100"}),
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": "stock", "rent": 400,
                                  "periods": 4, "closes": "+100"}),
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": "treasury", "rent": 400,
                                  "periods": 4, "closes": "+100"}),
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": "commune", "rent": 400,
                                  "periods": 4, "closes": "+100"}),
    ("stock.requestAsset", 3, 0, {"descriptionLength": 4, "price": 1_000, "vendor": 5, "rent": 400, "periods": 4,
                                  "closes": "+100"}),
    ("stock.requestAsset", 2, 0, {"descriptionLength": 4, "price": 900, "vendor": 5, "rent": 300, "periods": 4,
                                  "closes": "+100"}),
    ("stock.bid", 4, 0, {"assetId": 2, "amount": 400, "rate": 100}),
    ("stock.bid", 3, 0, {"assetId": 1, "amount": 600, "rate": 100}),
    ("stock.bid", 4, 0, {"assetId": 1, "amount": 500, "rate": 200}),
    ("stock.bid", 1, 0, {"assetId": 1, "amount": 300, "rate": 200}),
    ("stock.bid", 4, 0, {"assetId": 1, "amount": 300, "rate": 1_001}),
    ("stock.bid", 5, 0, {"assetId": 1, "amount": 300, "rate": 300}),
    ("stock.settle", 2, 0, {"assetId": 1}),
    ("stock.bid", 3, 1, {"assetId": 1, "amount": 10, "rate": 100}),
    ("wait", 100),
    ("stock.bid", 3, 0, {"assetId": 1, "amount": 10, "rate": 100}),
    ("stock.settle", 2, 0, {"assetId": 1}),
    ("stock.runSettlement", 2, 0, {"assetId": 1}),
    ("stock.claim", 0, 0, {"bidId": 2}),
    ("stock.claim", 3, 0, {"bidId": 2}),
    ("stock.claim", 4, 0, {"bidId": 3}),
    ("stock.claim", 1, 0, {"bidId": 4}),
    ("stock.claim", 1, 0, {"bidId": 4}),
    ("stock.payRent", 1, 0, {"assetId": 1, "periods": 1}),
    ("stock.payRent", 0, 0, {"assetId": 1, "periods": 4}),
    ("stock.payRent", 0, 0, {"assetId": 1, "periods": 3}),
    ("series.withdrawPayments", 3, 0, {"asset": 1}),
    ("series.transfer", 4, 0, {"asset": 1, "to": 3, "amount": 100}),
    ("series.approve", 1, 0, {"asset": 1, "to": 4, "amount": 50}),
    ("series.transferFrom", 4, 0, {"asset": 1, "from": 1, "to": 4, "amount": 60}),
    ("series.transferFrom", 4, 0, {"asset": 1, "from": 1, "to": 4, "amount": 50}),
    ("series.pay", 3, 0, {"asset": 1, "amount": 5}),
    ("wait", PERIOD),
    ("treasury.claimPayout", 1, 0, {}),
    ("stock.returnAsset", 1, 0, {"assetId": 1}),
    ("stock.returnAsset", 0, 0, {"assetId": 1}),
    ("stock.bidRent", 3, 0, {"assetId": 1, "rent": 500, "periods": 2}),
    ("stock.bidRent", 1, 0, {"assetId": 1, "rent": 400, "periods": 2}),
    ("stock.bidRent", 2, 0, {"assetId": 1, "rent": 450, "periods": 2}),
    ("stock.bidRent", 1, 0, {"assetId": 1, "rent": 450, "periods": 2}),
    ("stock.settleRental", 0, 0, {"assetId": 1}),
    ("wait", SALE),
    ("stock.settleRental", 0, 0, {"assetId": 1}),
    ("stock.reclaim", 4, 0, {"assetId": 1}),
    ("wait", PERIOD + GRACE),
    ("stock.reclaim", 4, 0, {"assetId": 1}),
    ("stock.bidRent", 2, 0, {"assetId": 1, "rent": 900, "periods": 2}),  # the defaulter is barred
    ("wait", SALE),
    ("stock.settleRental", 4, 0, {"assetId": 1}),
    ("stock.bidLiquidation", 3, 0, {"assetId": 1, "amount": 499}),
    ("wait", SALE),
    ("stock.settleLiquidation", 0, 0, {"assetId": 1}),
    ("stock.bidLiquidation", 3, 0, {"assetId": 1, "amount": 374}),  # the reserve fell to 375 at the reopening
    ("stock.bidLiquidation", 3, 0, {"assetId": 1, "amount": 400}),
    ("stock.bidLiquidation", 4, 0, {"assetId": 1, "amount": 2_000}),
    ("wait", SALE),
    ("stock.settleLiquidation", 0, 0, {"assetId": 1}),
    ("stock.withdraw", 5, 0, {}),
    ("stock.withdraw", 3, 0, {}),
    ("stock.withdraw", 3, 0, {}),
    ("treasury.depositIncome", 4, 0, {"amount": 100}),
    ("treasury.depositIncome", 5, 0, {"amount": 100}),
    ("treasury.release", 4, 0, {"periods": 3}),
    ("treasury.claimPayout", 0, 0, {}),
    ("treasury.claimPayout", 3, 0, {}),
    ("treasury.recordRent", 3, 0, {"member": 0, "amount": 5}),
    ("stock.settle", 2, 0, {"assetId": 2}),
    ("stock.claim", 4, 0, {"bidId": 1}),
    ("stock.claim", 4, 0, {"bidId": 1}),
    ("stock.withdraw", 2, 0, {}),
    # An asset returned while its bonds are outstanding: rental bids must repay them by their term.
    ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": 5, "rent": 400, "periods": 4,
                                  "closes": "+100"}),
    ("stock.bid", 4, 0, {"assetId": 3, "amount": 1_000, "rate": 200}),
    ("wait", 100),
    ("stock.settle", 3, 0, {"assetId": 3}),
    ("stock.claim", 4, 0, {"bidId": 5}),
    ("stock.returnAsset", 0, 0, {"assetId": 3}),
    ("stock.bidRent", 1, 0, {"assetId": 3, "rent": 21, "periods": 4}),
    ("stock.bidRent", 1, 0, {"assetId": 3, "rent": 200, "periods": 2}),
    ("stock.bidRent", 1, 0, {"assetId": 3, "rent": 400, "periods": 2}),
    ("wait", SALE),
    ("stock.settleRental", 0, 0, {"assetId": 3}),
    ("stock.payRent", 1, 0, {"assetId": 3, "periods": 1}),
    ("stock.sweep", 3, 0, {}),
    ("token.transfer", 3, 0, {"target": "stock", "amount": 77}),
    ("token.transfer", 4, 0, {"target": "treasury", "amount": 5}),
    ("token.transfer", 4, 0, {"target": "series", "asset": 1, "amount": 9}),
    ("stock.sweep", 3, 0, {}),
    ("series.sweep", 4, 0, {"asset": 1}),
    ("series.sweep", 4, 0, {"asset": 1}),
    ("token.transfer", 4, 0, {"target": "treasury", "amount": 3}),
    ("treasury.sweep", 0, 0, {}),
    ("treasury.sweep", 0, 0, {}),
    ("stock.<receive or fallback>", 3, 1, {}),
    ("treasury.<receive or fallback>", 3, 1, {}),
    ("series.<receive or fallback>", 3, 1, {"asset": 1}),
    ("treasury.claimPayout", 1, 1, {}),
]


def schedule_opening(asset: int) -> list[tuple[str, int, int, dict[str, Any]] | Wait]:
    """The re-rental schedule's branches, for the asset `asset` the first request creates: a bid that
    repays over its own term but not over the series' schedule left; the schedule counted from the
    series' settlement, not the rental's; a rental settled so late that its bid no longer repays
    (credited, reopened); bids past the schedule's end. The end of `SCRIPT`, and on its own the
    opening of the mutant checks that only these branches can catch (they diverge within it)."""
    return [
        # A schedule partly run when the asset comes back: a rental bid counts only on the periods left.
        ("stock.requestAsset", 0, 0, {"descriptionLength": 4, "price": 1_000, "vendor": 5, "rent": 300, "periods": 4,
                                      "closes": "+100"}),
        ("stock.bid", 4, 0, {"assetId": asset, "amount": 1_000, "rate": 200}),
        ("wait", 100),
        ("stock.settle", 3, 0, {"assetId": asset}),
        ("wait", PERIOD),
        ("stock.payRent", 0, 0, {"assetId": asset, "periods": 1}),
        ("stock.returnAsset", 0, 0, {"assetId": asset}),
        ("stock.bidRent", 1, 0, {"assetId": asset, "rent": 100, "periods": 5}),  # repays in 5 periods, not in the 3 left
        ("stock.bidRent", 1, 0, {"assetId": asset, "rent": 170, "periods": 5}),  # repays in the 3 left
        ("wait", SALE),
        ("stock.settleRental", 0, 0, {"assetId": asset}),
        # Returned at once: the rental started a period after the series, whose schedule counts, not the rental's.
        ("stock.returnAsset", 1, 0, {"assetId": asset}),
        ("stock.bidRent", 2, 0, {"assetId": asset, "rent": 80, "periods": 4}),  # repays in 4 periods, not in the 3 left
        ("stock.bidRent", 2, 0, {"assetId": asset, "rent": 100, "periods": 4}),
        # Settled three periods late, past the schedule's end: the bid no longer repays; credited, reopened.
        ("wait", 3 * PERIOD),
        ("stock.settleRental", 0, 0, {"assetId": asset}),
        ("stock.bidRent", 2, 0, {"assetId": asset, "rent": 200, "periods": 4}),  # repays in 2 periods, not in the 1 left
        ("stock.bidRent", 2, 0, {"assetId": asset, "rent": 700, "periods": 4}),  # repays in one
    ]


SCRIPT += schedule_opening(4)
#: Nobody initialises the stock again (the factory did, once) and nobody changes its parameters
#: (no governance: the zero address), valid or not.
_PARAMS = {"params.periodSeconds": PERIOD, "params.graceSeconds": GRACE, "params.saleSeconds": SALE,
           "params.rateCapBps": RATE_CAP, "params.liquidationReserveBps": RESERVE}
SCRIPT += [
    ("stock.initialize", 0, 0, dict(_PARAMS)),
    ("stock.setParameters", 0, 0, dict(_PARAMS)),
    ("stock.setParameters", 1, 0, {**_PARAMS, "params.graceSeconds": 0}),
]


def random_call(rng: random.Random, eco: Economy) -> tuple[str, int, int, dict[str, Any]] | Wait:
    """One random call, aimed at the guarded edges with the model's state at hand."""
    s, read = eco.stock.s, eco.stock.read
    assets = read(s.assetCount)
    asset = rng.randint(1, assets + 1)
    a = z3.IntVal(asset)
    who = rng.randrange(ACTORS)
    value = 1 if rng.random() < 0.05 else 0
    renter = read(s.renter[a])
    if renter in eco.ints and rng.random() < 0.7:
        renter_idx: int | None = eco.ints.index(renter)
    else:
        renter_idx = None
    kind = rng.choices(["request", "bid", "settle", "claim", "payRent", "return", "reclaim", "bidRent",
                        "settleRental", "bidLiquidation", "settleLiquidation", "withdraw", "deposit", "payout",
                        "series", "wait", "release", "stray", "sweep"],
                       weights=[3, 6, 3, 4, 5, 2, 2, 4, 3, 3, 3, 2, 2, 2, 4, 4, 1, 1, 1])[0]
    if kind == "wait":
        return ("wait", rng.choice([1, SALE // 2, SALE, PERIOD, PERIOD + GRACE, 3 * PERIOD]))
    if kind == "request":
        return ("stock.requestAsset", rng.choice([0, 1, 2, 2, 3]), value,
                {"descriptionLength": rng.choice([0, 4, 4]), "price": rng.choice([0, 500, 1_000]),
                 "vendor": rng.choice([5, 5, 5, 5, 1, None, "stock", "treasury", "commune"]),
                 "rent": rng.choice([0, 200, 400, 700]),
                 "periods": rng.choice([0, 1, 3, 4]), "closes": rng.choice(["+0", "+100", "+300"])})
    if kind == "bid":
        return ("stock.bid", who, value, {"assetId": asset, "amount": rng.choice([0, 200, 400, 700]),
                                          "rate": rng.choice([0, 100, 200, RATE_CAP, RATE_CAP + 1])})
    if kind == "claim":
        bids = read(s.bidCount)
        b = rng.randint(1, bids + 1)
        bidder = read(s.bidder[z3.IntVal(b)])
        if bidder in eco.ints and rng.random() < 0.8:
            who = eco.ints.index(bidder)
        return ("stock.claim", who, value, {"bidId": b})
    if kind in ("payRent", "return"):
        who = renter_idx if renter_idx is not None else who
        if kind == "return":
            return ("stock.returnAsset", who, value, {"assetId": asset})
        return ("stock.payRent", who, value, {"assetId": asset, "periods": rng.choice([0, 1, 1, 2, 3])})
    if kind == "bidRent":
        current = read(s.saleAmount[a])
        return ("stock.bidRent", rng.choice([0, 1, 2, 3]), value,
                {"assetId": asset, "rent": current + rng.choice([0, 1, 50, 400, 900]), "periods": rng.choice([0, 1, 3])})
    if kind == "bidLiquidation":
        current = read(s.saleAmount[a])
        return ("stock.bidLiquidation", who, value, {"assetId": asset, "amount": current + rng.choice([0, 1, 300, 900])})
    if kind == "deposit":
        return ("treasury.depositIncome", who, value, {"amount": rng.choice([0, 7, 100])})
    if kind == "payout":
        return ("treasury.claimPayout", who, value, {})
    if kind == "release":
        return ("treasury.release", who, value, {"periods": rng.choice([0, 1, 2, 100])})
    if kind == "stray":
        target = rng.choice(["stock", "treasury", "series"]) if eco.series else rng.choice(["stock", "treasury"])
        return ("token.transfer", rng.randrange(5), 0, {"target": target, "amount": rng.choice([1, 13]),
                                                       "asset": rng.choice(sorted(eco.series)) if eco.series else None})
    if kind == "sweep":
        if eco.series and rng.random() < 0.3:
            return ("series.sweep", who, value, {"asset": rng.choice(sorted(eco.series))})
        return (rng.choice(["stock.sweep", "treasury.sweep"]), who, value, {})
    if kind == "series":
        if not eco.series:
            return ("wait", 1)
        series = rng.choice(sorted(eco.series))
        fn = rng.choice(["withdrawPayments", "transfer", "approve", "transferFrom", "pay"])
        return (f"series.{fn}", who, value, {"asset": series, "to": rng.randrange(ACTORS),
                                             "from": rng.randrange(ACTORS), "amount": rng.choice([0, 1, 100, 300])})
    name = {"settle": "settle", "reclaim": "reclaim", "settleRental": "settleRental",
            "settleLiquidation": "settleLiquidation", "withdraw": "withdraw"}[kind]
    return (f"stock.{name}", who, value, {} if name == "withdraw" else {"assetId": asset})


def run_economy_conformance(seed: int = 0, steps: int = 40, artifacts: Any = None, scripted: bool = True,
                            on_step: Callable[[int, str], None] | None = None,
                            opening: list[tuple[str, int, int, dict[str, Any]] | Wait] | None = None) -> int:
    """The scripted opening (if `scripted`: `SCRIPT`, or `opening`) then `steps` random calls;
    returns the calls run.

    Raises Divergence naming the first call where chain and models disagree.
    """
    eco = Economy(artifacts)
    rng = random.Random(seed)
    opening = list(SCRIPT if opening is None else opening) if scripted else []
    calls = 0
    for step in range(len(opening) + steps):
        item = opening[step] if step < len(opening) else random_call(rng, eco)
        if item[0] == "wait":
            eco.chain.advance_time(item[1])
            continue
        name, who, value, args = item  # type: ignore[misc]
        if name == "token.transfer" and args.get("target") == "series" and args.get("asset") not in eco.series:
            continue
        if "closes" in args:
            args = {**args, "closes": eco.now() + int(args["closes"])}
        if on_step:
            on_step(step, f"{name} by actor {who} with value {value} {args}")
        eco.check(step, name, who, value, args, full=step % 10 == 9 or step == len(opening) + steps - 1)
        calls += 1
    return calls
