"""Hypothesis state machines with the Z3 models as the oracle, one per system.

`MembershipLockstep` drives the membership contract `Commune` against `verification/commune_model.py`
(run concretely by `conformance.ModelRunner`); `EconomyLockstep` drives `CommonStock`, `Treasury`
and `BondSeries` against `stock_model.py` and `money_model.py` composed as the contracts compose them
(`economy_conformance.Economy`). No reference model is written here: every rule picks a call, sends
it to the chain and applies it to the model, the call must revert on chain exactly when the model
says it reverts, and then the values the call can have touched must agree (every value every
`FULL_EVERY` steps and at the end of each example), by the comparisons of `conformance.py` and
`economy_conformance.py`.

Twenty actors (every account of the embedded chain). Actors are picked so that the same actor
acts again with other calls in between (`again`: one of the last few actors; a second withdrawal,
a second claim, a leave and a re-join), and rules aim at each guarded boundary with the numbers
read from the model's state: counted labour exactly at the threshold and one short, a claim's
attestations one short of its quorum and exactly at it, `units` at 2**64 - 1 and 2**64, the last
member leaving; block time exactly at each deadline the stock's rules have (an auction's close, a
sale's close, the reclaim time, the treasury's next grid period) and one second either side,
bids exactly filling an auction's price and one short, a rental bid equal to the leader's and one
more, a liquidation bid at the reserve and one below, rent for exactly the periods left and one
more, bond transfers of exactly the balance or allowance and one more, and payments of an actor's
whole token balance and one more (actors 6-19 hold a small purse so that is in reach).

`run_stateful(system, steps)` runs a machine until at least `steps` rules have run and returns a
`StatefulRun` (steps, seconds, failure or None) for `vc verify`.

    >>> from verification.stateful import run_stateful
    >>> run_stateful("Commune", 30).ok  # doctest: +SKIP
    True
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import z3
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, rule

from verification import commune_model as cm
from verification import money_model as mm
from verification import stock_model as sm
from verification.conformance import Divergence, ModelRunner, _compare, check_call
from verification.economy_conformance import GRACE, PERIOD, RATE_CAP, SALE, Economy
from verification.terms import Transition

ACTORS = 20
FOUNDERS = 3
#: Membership parameters: a cap of 3 with 3 founders makes a founder's claim need 2 attesters and
#: an outsider's 3, so the quorum moves with membership.
THRESHOLD = 10
QUORUM_CAP = 3
#: Actors past the first six hold this many tokens (a whole-balance payment is in reach).
PURSE = 3_000
FULL_EVERY = 10
#: Seconds ahead of the wall clock the economy is deployed (about three years).
AHEAD = 10**8
SYSTEMS = ("Commune", "CommonStock+Treasury+BondSeries")

#: How an actor is picked: anyone, one of the last few to act (so actions repeat with others
#: between), a member, or an outsider (per the model).
ACTOR = st.tuples(st.sampled_from(("any", "again", "again", "member", "outsider")), st.integers(0, 2**16))


class StatefulDivergence(AssertionError):
    """Chain and model disagree: the divergence and the example's calls up to it."""


@dataclass
class StatefulRun:
    system: str
    steps: int
    seconds: float
    failure: str | None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_json(self) -> dict[str, Any]:
        return {"steps": self.steps, "seconds": round(self.seconds, 1), "ok": self.ok, "failure": self.failure}


class Lockstep(RuleBasedStateMachine):
    """What both machines share: actor picking, the call log, the step counter."""

    #: Model transitions replaced by name (tests break one to see the machine catch it).
    replace: ClassVar[dict[str, Transition]] = {}
    #: Rules run by every machine of this class since `run_stateful` last reset it.
    steps_run: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.recent: list[int] = []
        self.log: list[str] = []
        self.step_no = 0
        self.clean = True

    def members(self) -> list[int]:
        raise NotImplementedError

    def actor(self, choice: tuple[str, int]) -> int:
        how, n = choice
        if how == "again" and self.recent:
            return self.recent[-1 - n % min(4, len(self.recent))]
        if how in ("member", "outsider"):
            members = set(self.members())
            pool = [i for i in range(ACTORS) if (i in members) == (how == "member")]
            if pool:
                return pool[n % len(pool)]
        return n % ACTORS

    def record(self, who: int, call: str) -> tuple[int, bool]:
        """Count a step; returns (its number, whether every value is compared after it)."""
        self.clean = False  # until the call and its comparison are done (teardown compares only then)
        self.recent = (self.recent + [who])[-8:]
        self.log.append(call)
        type(self).steps_run += 1
        self.step_no += 1
        return self.step_no - 1, self.step_no % FULL_EVERY == 0

    def teardown(self) -> None:
        """Compare everything at the end of an example (unless the last step just did, or failed),
        then put the chain back."""
        try:
            if self.clean and self.step_no % FULL_EVERY:
                self.compare_all()
        finally:
            self.chain.revert(self.snapshot)

    def compare_all(self) -> None:
        raise NotImplementedError

    def diverged(self, exc: Divergence) -> StatefulDivergence:
        calls = "\n".join(f"  {i}: {c}" for i, c in enumerate(self.log))
        return StatefulDivergence(f"{exc}\ncalls of this example:\n{calls}")


# ====================================================================== membership

_membership_world: dict[str, Any] = {}


def membership_world() -> dict[str, Any]:
    """One chain and one commune; every example starts from the snapshot taken after deployment."""
    if not _membership_world:
        from vcengine.chains import TesterChain
        from vcengine.commune import CommuneClient

        chain = TesterChain()
        accounts = chain.accounts[:ACTORS]
        addresses = [a.address for a in accounts]
        commune = CommuneClient.deploy(chain, accounts[0], founders=addresses[:FOUNDERS], labour_threshold=THRESHOLD,
                                       quorum_cap=QUORUM_CAP)
        _membership_world.update(chain=chain, accounts=accounts, ints=[int(a, 16) for a in addresses],
                                 commune=commune, factory=int(commune.call("factory"), 16))
    return _membership_world


class MembershipLockstep(Lockstep):
    """`Commune` against its Z3 model, twenty actors."""

    def __init__(self) -> None:
        super().__init__()
        w = membership_world()
        self.chain, self.accounts, self.ints, self.commune = w["chain"], w["accounts"], w["ints"], w["commune"]
        self.snapshot = self.chain.snapshot()
        self.model = ModelRunner(self.ints[:FOUNDERS], w["factory"], THRESHOLD, QUORUM_CAP)
        self.model.transitions = [self.replace.get(t.name, t) for t in self.model.transitions]

    def compare_all(self) -> None:
        step, call = self.step_no, "(end of example)"
        try:
            _compare(step, call, self.commune, self.model, [a.address for a in self.accounts], self.ints, None)
            self.compare_views(step, call, range(ACTORS))
        except Divergence as exc:
            raise self.diverged(exc) from None

    # --------------------------------------------------------------- model reads

    def read(self, term: z3.ExprRef) -> Any:
        return self.model.read(term)

    def key(self, i: int) -> z3.BitVecRef:
        return z3.BitVecVal(self.ints[i], 160)

    def members(self) -> list[int]:
        return [i for i in range(ACTORS) if self.read(self.model.s.shareOf[self.key(i)]) != 0]

    def labour(self, i: int) -> int:
        return self.read(self.model.s.countedLabour[self.key(i)])

    def claims(self) -> int:
        return self.read(self.model.s.claimCount)

    def open_claims(self) -> list[int]:
        s = self.model.s
        return [c for c in range(1, self.claims() + 1) if not self.read(s.claimCounted[z3.IntVal(c)])]

    def worker(self, claim: int) -> int | None:
        w = self.read(self.model.s.claimWorker[z3.IntVal(claim)])
        return self.ints.index(w) if w in self.ints else None

    def attested(self, claim: int, i: int) -> bool:
        return self.read(self.model.s.attested[z3.IntVal(claim)][self.key(i)])

    # --------------------------------------------------------------------- calls

    def call(self, name: str, who: int, value: int, args: dict[str, Any]) -> None:
        step, every = self.record(who, f"{name} by actor {who} with value {value} {args}")
        try:
            check_call(self.commune, self.model, self.accounts, step, name, who, value, args, every)
            self.compare_views(step, self.log[-1], [who] if not every else range(ACTORS))
        except Divergence as exc:
            raise self.diverged(exc) from None
        self.clean = True

    def compare_views(self, step: int, call: str, actors: Any) -> None:
        """The quorum views against the model's `quorum` and `quorumFor`."""
        s = self.model.s
        pairs = [("quorum()", self.commune.quorum(), self.read(cm.quorum(s)))]
        pairs += [(f"quorumFor(actor {i})", self.commune.quorum_for(self.accounts[i].address),
                   self.read(cm.quorum_for(s, self.key(i)))) for i in actors]
        for what, on_chain, in_model in pairs:
            if on_chain != in_model:
                raise Divergence(step, call, f"{what}: chain {on_chain}, model {in_model}")

    # --------------------------------------------------------------------- rules

    @rule(who=ACTOR, units=st.sampled_from([1, 3, THRESHOLD - 1, THRESHOLD, THRESHOLD + 1, 0, 2**64 - 1, 2**64]),
          evidence=st.sampled_from([8, 8, 8, 0]))
    def submit(self, who: tuple[str, int], units: int, evidence: int) -> None:
        self.call("submitLabour", self.actor(who), 0, {"units": units, "evidenceLength": evidence})

    @rule(who=ACTOR, short=st.booleans())
    def submit_to_threshold(self, who: tuple[str, int], short: bool) -> None:
        """A claim that brings the worker's counted labour exactly to the threshold, or one short."""
        i = self.actor(who)
        units = THRESHOLD - self.labour(i) % THRESHOLD - (1 if short else 0)
        self.call("submitLabour", i, 0, {"units": units if units > 0 else THRESHOLD, "evidenceLength": 8})

    @rule(who=ACTOR, pick=st.integers(0, 2**16))
    def attest(self, who: tuple[str, int], pick: int) -> None:
        """Any claim id from 0 to one past the last, by anyone."""
        self.call("attest", self.actor(who), 0, {"claimId": pick % (self.claims() + 2)})

    @rule(pick=st.integers(0, 2**16))
    def attest_towards_quorum(self, pick: int) -> None:
        """An open claim attested by a member who may: its attestations go one short of the
        quorum, then exactly meet it (the claim is counted)."""
        claims = self.open_claims()
        if not claims:
            return self.submit(("any", pick), THRESHOLD, 8)
        claim = claims[pick % len(claims)]
        able = [i for i in self.members() if i != self.worker(claim) and not self.attested(claim, i)]
        self.call("attest", able[pick % len(able)] if able else pick % ACTORS, 0, {"claimId": claim})

    @rule(pick=st.integers(0, 2**16), how=st.sampled_from(["own", "twice", "counted"]))
    def attest_refused(self, pick: int, how: str) -> None:
        """The worker attesting their own claim, a member attesting twice, a counted claim attested."""
        claims = range(1, self.claims() + 1)
        if how == "own":
            pool = [(c, self.worker(c)) for c in claims if self.worker(c) in self.members()]
        elif how == "twice":
            pool = [(c, i) for c in claims for i in self.members() if self.attested(c, i)]
        else:
            counted = [c for c in claims if c not in self.open_claims()]
            pool = [(c, i) for c in counted for i in self.members() if i != self.worker(c)]
        if pool:
            claim, i = pool[pick % len(pool)]
            self.call("attest", i, 0, {"claimId": claim})

    @rule(who=ACTOR)
    def join(self, who: tuple[str, int]) -> None:
        self.call("join", self.actor(who), 0, {})

    @rule(pick=st.integers(0, 2**16), short=st.booleans())
    def join_at_threshold(self, pick: int, short: bool) -> None:
        """An outsider whose counted labour is exactly the threshold (or one short) joins. When no
        outsider stands there, one is brought there first: a claim of the units missing, attested
        by members until it counts (so the boundary is reached in every example that draws this
        rule, not only when the random calls happen to line up)."""
        members = set(self.members())
        want = THRESHOLD - 1 if short else THRESHOLD
        pool = [i for i in range(ACTORS) if i not in members and self.labour(i) == want]
        if not pool:
            below = [i for i in range(ACTORS) if i not in members and self.labour(i) < want]
            if not below:
                return
            i = below[pick % len(below)]
            self.call("submitLabour", i, 0, {"units": want - self.labour(i), "evidenceLength": 8})
            claim = self.claims()
            for m in self.members():
                if self.read(self.model.s.claimCounted[z3.IntVal(claim)]):
                    break
                if m != i:
                    self.call("attest", m, 0, {"claimId": claim})
            if self.labour(i) != want:
                return
            pool = [i]
        self.call("join", pool[pick % len(pool)], 0, {})

    @rule(who=ACTOR)
    def leave(self, who: tuple[str, int]) -> None:
        """Anyone leaves (a member mostly; down to the last member, who cannot)."""
        self.call("leave", self.actor(who), 0, {})

    @rule(who=ACTOR, entry=st.sampled_from(["transferFrom", "safeTransferFrom(address,address,uint256)",
                                            "safeTransferFrom(address,address,uint256,bytes)", "approve",
                                            "setApprovalForAll"]), to=st.integers(0, ACTORS - 1))
    def move_share(self, who: tuple[str, int], entry: str, to: int) -> None:
        """Every transfer and approval entry point, by the share's owner with their own share."""
        i = self.actor(who)
        share = self.read(self.model.s.shareOf[self.key(i)])
        args = {"operator": to, "approved": True} if entry == "setApprovalForAll" else {"to": to, "tokenId": share}
        if entry != "approve" and entry != "setApprovalForAll":
            args["from"] = i
        self.call(entry, i, 0, args)

    @rule(who=ACTOR, entry=st.sampled_from(["<receive or fallback>", "join", "submitLabour", "attest", "leave",
                                            "sweep"]), value=st.sampled_from([1, 10**18]))
    def pay(self, who: tuple[str, int], entry: str, value: int) -> None:
        """Ether, plainly or with a call."""
        args = {"submitLabour": {"units": THRESHOLD, "evidenceLength": 8}, "attest": {"claimId": 1}}.get(entry, {})
        self.call(entry, self.actor(who), value, args)

    @rule(who=ACTOR)
    def sweep(self, who: tuple[str, int]) -> None:
        self.call("sweep", self.actor(who), 0, {})

    @rule(who=ACTOR, which=st.sampled_from(["initialize", "setParameters"]), threshold=st.sampled_from([0, 1, 5]),
          cap=st.sampled_from([0, 1]), founder=st.integers(0, ACTORS - 1))
    def configure(self, who: tuple[str, int], which: str, threshold: int, cap: int, founder: int) -> None:
        """Nobody initialises the clone again and nobody changes its parameters (no governance)."""
        args: dict[str, Any] = {"labourThreshold_": threshold, "quorumCap_": cap}
        if which == "initialize":
            args["founder"] = founder
        self.call(which, self.actor(who), 0, args)


# ========================================================================= economy

_economy_world: dict[str, Any] = {}


def economy_world() -> dict[str, Any]:
    """One deployed commune and its models; every example starts from the snapshot and the models'
    initial states."""
    if not _economy_world:
        from vcengine.chains import TesterChain

        # Deployed far ahead of the wall clock: after a revert the next block's time is the
        # snapshot's plus one, not the wall clock's (which would make examples unrepeatable).
        chain = TesterChain()
        chain.tester.time_travel(chain.now() + AHEAD)
        eco = Economy(chain=chain, actors=ACTORS, purse=PURSE)
        _economy_world.update(eco=eco, stock=eco.stock.s, treasury=eco.treasury.s,
                              stock_transitions=eco.stock.transitions,
                              treasury_transitions=eco.treasury.transitions)
    return _economy_world


def _at(value: int) -> z3.IntNumRef:
    return z3.IntVal(value)


class EconomyLockstep(Lockstep):
    """`CommonStock`, `Treasury` and `BondSeries` against their composed Z3 models, twenty actors."""

    def __init__(self) -> None:
        super().__init__()
        w = economy_world()
        self.eco: Economy = w["eco"]
        self.chain = self.eco.chain
        self.snapshot = self.chain.snapshot()
        self.eco.stock.s, self.eco.treasury.s, self.eco.series = w["stock"], w["treasury"], {}
        self.eco.stock.transitions = [self.replace.get(t.name, t) for t in w["stock_transitions"]]
        self.eco.treasury.transitions = [self.replace.get(f"treasury.{t.name}", t) for t in w["treasury_transitions"]]

    def compare_all(self) -> None:
        for what, on_chain, in_model in self.eco.compare():
            if on_chain != in_model:
                raise self.diverged(Divergence(self.step_no, "(end of example)",
                                               f"{what}: chain {on_chain}, model {in_model}"))

    # --------------------------------------------------------------- model reads

    def read(self, term: z3.ExprRef) -> Any:
        return self.eco.stock.read(z3.substitute(term, *self.eco.stock.fixed))

    def members(self) -> list[int]:
        return list(range(FOUNDERS))  # the commune's membership is fixed in this system

    def assets(self) -> int:
        return self.read(self.eco.stock.s.assetCount)

    def asset(self, n: int) -> int:
        """An asset id: one of the assets, or one past the last."""
        return n % (self.assets() + 1) + 1

    def field(self, name: str, asset: int) -> int:
        return self.read(getattr(self.eco.stock.s, name)[_at(asset)])

    # --------------------------------------------------------------------- calls

    def call(self, name: str, who: int, value: int, args: dict[str, Any]) -> None:
        if name == "token.transfer" and args.get("target") == "series" and args.get("asset") not in self.eco.series:
            return
        step, full = self.record(who, f"{name} by actor {who} with value {value} {args} at {self.eco.now()}")
        try:
            self.eco.check(step, name, who, value, args, full)
        except Divergence as exc:
            raise self.diverged(exc) from None
        self.clean = True

    def warp_to(self, when: int) -> None:
        """Make `when` the next block's time, if it is still ahead."""
        if when > self.eco.now():
            self.log.append(f"(time to {when})")
            self.chain.tester.time_travel(when)

    # ------------------------------------------------------------------ time

    @rule(seconds=st.sampled_from([1, SALE // 2, SALE, PERIOD, PERIOD + GRACE, 3 * PERIOD]))
    def wait(self, seconds: int) -> None:
        self.warp_to(self.eco.now() + seconds)

    @rule(pick=st.integers(0, 2**16), which=st.sampled_from(["auction", "sale", "reclaim", "grid"]),
          offset=st.sampled_from([-1, 0, 1]))
    def to_deadline(self, pick: int, which: str, offset: int) -> None:
        """Block time exactly at a deadline of the model's state, or one second either side."""
        if which == "grid":
            now = self.eco.now()
            when = self.eco.origin + ((now - self.eco.origin) // PERIOD + 1) * PERIOD
        else:
            a = self.asset(pick)
            if which == "auction":
                when = self.field("auctionClosesAt", a)
            elif which == "sale":
                when = self.field("closesAt", a)
            else:
                when = self.read(sm.reclaimable_at(self.eco.stock.s, _at(a)))
        self.warp_to(when + offset)

    # ---------------------------------------------------------------- auctions

    @rule(who=ACTOR, price=st.sampled_from([0, 1, 500, 1_000, 1_000]), rent=st.sampled_from([0, 1, 200, 400]),
          periods=st.sampled_from([0, 1, 3, 4, sm.MAX_PERIODS, sm.MAX_PERIODS + 1]),
          closes=st.sampled_from([0, 1, 100, 300]), vendor=st.sampled_from([5, 5, 5, 1, None, "stock", "commune"]),
          description=st.sampled_from([4, 4, 0]))
    def request(self, who: tuple[str, int], price: int, rent: int, periods: int, closes: int, vendor: Any,
                description: int) -> None:
        """A request closing now (refused), in one second, or later."""
        self.call("stock.requestAsset", self.actor(who), 0,
                  {"descriptionLength": description, "price": price, "vendor": vendor, "rent": rent,
                   "periods": periods, "closes": self.eco.now() + closes})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), amount=st.sampled_from([0, 1, 200, 400, 700]),
          rate=st.sampled_from([0, 1, 100, 200, RATE_CAP, RATE_CAP + 1]))
    def bid(self, who: tuple[str, int], pick: int, amount: int, rate: int) -> None:
        self.call("stock.bid", self.actor(who), 0, {"assetId": self.asset(pick), "amount": amount, "rate": rate})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), short=st.booleans(), rate=st.sampled_from([100, 200]))
    def bid_to_price(self, who: tuple[str, int], pick: int, short: bool, rate: int) -> None:
        """A bid that makes the escrow exactly the price, or one short of it."""
        a = self.asset(pick)
        amount = self.field("price", a) - self.field("escrowed", a) - (1 if short else 0)
        self.call("stock.bid", self.actor(who), 0, {"assetId": a, "amount": max(amount, 1), "rate": rate})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), extra=st.sampled_from([0, 1]),
          what=st.sampled_from(["bid", "deposit", "bidRent", "bidLiquidation"]))
    def whole_balance(self, who: tuple[str, int], pick: int, extra: int, what: str) -> None:
        """A payment of exactly the payer's token balance, or one more (an input of the model)."""
        i = self.actor(who)
        amount = self.eco.token.balance_of(self.eco.addresses[i]) + extra
        a = self.asset(pick)
        if what == "bid":
            self.call("stock.bid", i, 0, {"assetId": a, "amount": amount, "rate": 100})
        elif what == "deposit":
            self.call("treasury.depositIncome", i, 0, {"amount": amount})
        elif what == "bidRent":
            self.call("stock.bidRent", i, 0, {"assetId": a, "rent": amount, "periods": 1})
        else:
            self.call("stock.bidLiquidation", i, 0, {"assetId": a, "amount": amount})

    @rule(who=ACTOR, pick=st.integers(0, 2**16))
    def settle(self, who: tuple[str, int], pick: int) -> None:
        self.call("stock.settle", self.actor(who), 0, {"assetId": self.asset(pick)})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), bidder=st.booleans())
    def claim(self, who: tuple[str, int], pick: int, bidder: bool) -> None:
        """A bid claimed (by its bidder mostly: again, a second claim, when `who` repeats)."""
        b = pick % (self.read(self.eco.stock.s.bidCount) + 1) + 1
        i = self.actor(who)
        owner = self.read(self.eco.stock.s.bidder[_at(b)])
        if bidder and owner in self.eco.ints:
            i = self.eco.ints.index(owner)
        self.call("stock.claim", i, 0, {"bidId": b})

    # ----------------------------------------------------------------- rentals

    def renter(self, a: int, who: tuple[str, int], renter: bool) -> int:
        r = self.field("renter", a)
        return self.eco.ints.index(r) if renter and r in self.eco.ints else self.actor(who)

    @rule(who=ACTOR, pick=st.integers(0, 2**16), renter=st.booleans(),
          periods=st.sampled_from([0, 1, 2, "left", "left+1"]))
    def pay_rent(self, who: tuple[str, int], pick: int, renter: bool, periods: Any) -> None:
        """Rent for some periods, or for exactly the periods left and one more."""
        a = self.asset(pick)
        if isinstance(periods, str):
            periods = self.field("rentalPeriods", a) - self.field("paidPeriods", a) + (1 if periods == "left+1" else 0)
        self.call("stock.payRent", self.renter(a, who, renter), 0, {"assetId": a, "periods": periods})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), renter=st.booleans())
    def return_asset(self, who: tuple[str, int], pick: int, renter: bool) -> None:
        a = self.asset(pick)
        self.call("stock.returnAsset", self.renter(a, who, renter), 0, {"assetId": a})

    @rule(who=ACTOR, pick=st.integers(0, 2**16))
    def reclaim(self, who: tuple[str, int], pick: int) -> None:
        self.call("stock.reclaim", self.actor(who), 0, {"assetId": self.asset(pick)})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), more=st.sampled_from([0, 1, 50, 400, 900]),
          periods=st.sampled_from([0, 1, 3, sm.MAX_PERIODS, sm.MAX_PERIODS + 1]))
    def bid_rent(self, who: tuple[str, int], pick: int, more: int, periods: int) -> None:
        """A rental bid equal to the leading one (refused), one more, or more."""
        a = self.asset(pick)
        self.call("stock.bidRent", self.actor(who), 0,
                  {"assetId": a, "rent": self.field("saleAmount", a) + more, "periods": periods})

    @rule(who=ACTOR, pick=st.integers(0, 2**16))
    def settle_rental(self, who: tuple[str, int], pick: int) -> None:
        self.call("stock.settleRental", self.actor(who), 0, {"assetId": self.asset(pick)})

    # ------------------------------------------------------------- liquidation

    @rule(who=ACTOR, pick=st.integers(0, 2**16),
          amount=st.sampled_from(["reserve-1", "reserve", "leader", "leader+1", "leader+300"]))
    def bid_liquidation(self, who: tuple[str, int], pick: int, amount: str) -> None:
        """A liquidation bid at the reserve and one below, equal to the leader's and one more."""
        a = self.asset(pick)
        base, _, more = amount.partition("+")
        if base.startswith("reserve"):
            value = self.read(sm.reserve(self.eco.stock.s, _at(a))) - (1 if amount.endswith("-1") else 0)
        else:
            value = self.field("saleAmount", a) + int(more or 0)
        self.call("stock.bidLiquidation", self.actor(who), 0, {"assetId": a, "amount": max(value, 0)})

    @rule(who=ACTOR, pick=st.integers(0, 2**16))
    def settle_liquidation(self, who: tuple[str, int], pick: int) -> None:
        self.call("stock.settleLiquidation", self.actor(who), 0, {"assetId": self.asset(pick)})

    # ------------------------------------------------------------------- money

    @rule(who=ACTOR)
    def withdraw(self, who: tuple[str, int]) -> None:
        """Credits withdrawn (a second withdrawal when `who` repeats)."""
        self.call("stock.withdraw", self.actor(who), 0, {})

    @rule(who=ACTOR, amount=st.sampled_from([0, 1, 7, 100]))
    def deposit(self, who: tuple[str, int], amount: int) -> None:
        self.call("treasury.depositIncome", self.actor(who), 0, {"amount": amount})

    @rule(who=ACTOR)
    def claim_payout(self, who: tuple[str, int]) -> None:
        """A payout claimed (a second claim when `who` repeats)."""
        self.call("treasury.claimPayout", self.actor(who), 0, {})

    @rule(who=ACTOR, periods=st.sampled_from([0, 1, 2, 100]))
    def release(self, who: tuple[str, int], periods: int) -> None:
        self.call("treasury.release", self.actor(who), 0, {"periods": periods})

    # ------------------------------------------------------------------- bonds

    def series_of(self, pick: int) -> int | None:
        return sorted(self.eco.series)[pick % len(self.eco.series)] if self.eco.series else None

    @rule(who=ACTOR, pick=st.integers(0, 2**16))
    def withdraw_payments(self, who: tuple[str, int], pick: int) -> None:
        """Bond payments withdrawn (a second withdrawal when `who` repeats)."""
        series = self.series_of(pick)
        if series is not None:
            self.call("series.withdrawPayments", self.actor(who), 0, {"asset": series})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), to=st.integers(0, ACTORS - 1),
          how=st.sampled_from(["transfer", "approve", "transferFrom"]), amount=st.sampled_from(["all", "all+1", 1, 0]),
          owner=ACTOR)
    def move_bonds(self, who: tuple[str, int], pick: int, to: int, how: str, amount: Any, owner: tuple[str, int]) -> None:
        """Bonds moved or approved: exactly the balance (or allowance) and one more."""
        series = self.series_of(pick)
        if series is None:
            return
        i, src = self.actor(who), self.actor(owner)
        m = self.eco.series[series][1]
        balance = m.read(m.s.balances[z3.BitVecVal(self.eco.ints[i if how == "transfer" else src], 160)])
        if how == "transferFrom":
            allowance = m.read(m.s.allowances[z3.BitVecVal(self.eco.ints[src], 160)][z3.BitVecVal(self.eco.ints[i], 160)])
            balance = min(balance, allowance) if pick % 2 else max(balance, allowance)
        if isinstance(amount, str):
            amount = balance + (1 if amount == "all+1" else 0)
        self.call(f"series.{how}", i, 0, {"asset": series, "to": to, "from": src, "amount": amount})

    @rule(who=ACTOR, pick=st.integers(0, 2**16), amount=st.sampled_from([0, 5]))
    def pay_series(self, who: tuple[str, int], pick: int, amount: int) -> None:
        """Only the stock pays a series."""
        series = self.series_of(pick)
        if series is not None:
            self.call("series.pay", self.actor(who), 0, {"asset": series, "amount": amount})

    # ------------------------------------------------------------ strays, ether

    @rule(who=st.integers(0, 4), to=st.sampled_from(["stock", "treasury", "series"]),
          amount=st.sampled_from([1, 13]), pick=st.integers(0, 2**16))
    def stray(self, who: int, to: str, amount: int, pick: int) -> None:
        """Tokens sent to a contract directly (never refused; swept later)."""
        self.call("token.transfer", who, 0, {"target": to, "amount": amount, "asset": self.series_of(pick)})

    @rule(who=ACTOR, contract=st.sampled_from(["stock", "treasury", "series"]), pick=st.integers(0, 2**16))
    def sweep(self, who: tuple[str, int], contract: str, pick: int) -> None:
        series = self.series_of(pick)
        if contract == "series" and series is None:
            return
        self.call(f"{contract}.sweep", self.actor(who), 0, {"asset": series} if contract == "series" else {})

    @rule(who=ACTOR, name=st.sampled_from(["stock.<receive or fallback>", "treasury.<receive or fallback>",
                                           "treasury.claimPayout", "stock.withdraw", "stock.settle"]))
    def send_ether(self, who: tuple[str, int], name: str) -> None:
        self.call(name, self.actor(who), 1, {"assetId": 1} if name == "stock.settle" else {})


# ======================================================================= running

MACHINES: dict[str, type[Lockstep]] = {"Commune": MembershipLockstep,
                                       "CommonStock+Treasury+BondSeries": EconomyLockstep}


def profile(examples: int, steps: int, shrink: bool = True) -> settings:
    """Hypothesis settings for a run: `examples` examples of up to `steps` rules, no deadline, no
    example database (a run is reproduced from its seed)."""
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=phases, print_blob=False)


def run_machine(machine: type[Lockstep], examples: int, steps: int, seed: int = 0, shrink: bool = True) -> None:
    """One Hypothesis run of `machine` from `seed`; raises StatefulDivergence (the shrunk example's)."""
    test = get_state_machine_test(machine, settings=profile(examples, steps, shrink))
    hypothesis_seed(seed)(test)()


def run_stateful(system: str, steps_total: int, seed: int = 0, examples: int = 20, steps: int = 50,
                 shrink: bool = True) -> StatefulRun:
    """Run `system`'s machine (runs of `examples` examples of up to `steps` rules, seeds `seed`,
    `seed + 1`, ...) until at least `steps_total` rules have run, or the first divergence.

    Returns the rules run, the seconds taken and the failure (None when chain and model agreed)."""
    machine = MACHINES[system]
    machine.steps_run = 0
    start = time.monotonic()
    failure = None
    n = seed
    while machine.steps_run < steps_total:
        try:
            run_machine(machine, examples, steps, n, shrink)
        except StatefulDivergence as exc:
            failure = str(exc)
            break
        n += 1
    return StatefulRun(system, machine.steps_run, time.monotonic() - start, failure)
