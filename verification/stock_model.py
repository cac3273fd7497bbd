"""Z3 transition system of `contracts/CommonStock.sol` and the modules it delegates to
(`contracts/stock/BondAuction.sol`, `RentalMarket.sol`, `Liquidation.sol`, sharing the storage of
`StockLedger.sol`): assets, bond auctions, debt, rentals, sales, parameters.

Parameters: the period is an immutable argument of the clone (`PERIOD`, symbolic); the grace
period, sale length, rate cap and liquidation reserve are stored (`graceSeconds`, `saleSeconds`,
`rateCapBps`, `liquidationReserveBps`), set by `initialize` (only the clone's factory, once:
`initialized` is `Initializable`'s flag) and changed by `setParameters` (only `GOVERNANCE`, an
immutable argument). What already exists keeps the terms it was made under: an asset its rate cap
(`assetRateCap`, `Asset.rateCapBps`), a rental its grace (`rentalGrace`, `Rental.graceSeconds`), a
liquidation the reserve it opened with (`saleReserve`, `Sale.reserveBps`); each (re)opening of a
sale closes `saleSeconds` (in force then) later.

State variables follow the Solidity names: the per-asset `Asset`, `Debt`, `Rental` and `Sale`
records as arrays indexed by asset id (so proofs hold for any number of assets), the `Bid` records
as arrays indexed by bid id, `_credits` and `_commitments` as arrays indexed by address, and the
counters `assetCount`, `bidCount`, `escrowHeld`, `creditsHeld`. `held` is the contract's balance of
the settlement token (a standard ERC-20: a successful transfer moves exactly the amount). Ghosts
(never in the contract; kept by the model from how the mapped values change, Certora-style):

- `sumCredits`: the sum of `_credits` over all addresses;
- `bidEscrow[a]`: settlement tokens still owed to asset `a`'s bond bidders (their escrow while the
  auction is open; after settlement what the unclaimed bids will be refunded), kept by
  `bid_ghosts` from the bid and asset records alone;
- `sumBidEscrow`: the sum of `bidEscrow` over all assets;
- `sumSaleEscrow`: the sum over open sales with a leader of the leader's escrowed amount;
- `sumRequestEscrow`: the sum over assets whose bond auction is open of the requester's escrowed
  first period (`rentPerPeriod`);
- `strays`: settlement tokens the stock holds beyond what it owes (sent to it directly: the
  transition `<token transfer in>`), which `sweep` sends to the treasury;
- `toBondsTotal` / `toMembersTotal`: everything paid on to bond series / to the treasury as rent's
  or liquidation's member income; `sweptTotal`: surplus swept to the treasury.

The calls out of the contract are inputs of the model, each named for what it returns:
`commune.isMember` is the uninterpreted predicate `IS_MEMBER`; whether the payer's `transferFrom`
succeeds (exactly) is the boolean `PULL_OK`; whether the token accepts a settlement's payments
out of escrow (to the series and the treasury, exactly) is `ESCROW_PAY_OK`; the rate book's answers
at settlement (`lowerBound`, `amountAt`, the tick total before a bid) are the inputs `BOOK_*`,
constrained only by what the library guarantees (tested against a reference model in
`tests/test_bond_auction_property.py`); `Amortization.repays` is the uninterpreted function
`REPAYS(principal, rate, rent, periods)`, the same one at a request's settlement and at a rental
bid (there over the bid's term or the series' schedule left, whichever is shorter). `block.timestamp` is the input `NOW` of every call, with no assumption about it, so every
proof holds for any block time.

Settlements that pay escrow on (`settle` when it clears, `settleRental` with a winner,
`settleLiquidation` with a buyer) run their effects in a call of the contract to itself: any revert
inside it (the token refusing, `ESCROW_PAY_OK` false, or a checked subtraction) undoes those
effects and the settlement falls back, as the contract does (gas is out of scope).

Checked arithmetic: a `-=` that would go below zero reverts in Solidity 0.8, and so it does here,
as does every `SafeCast` that could overflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from verification.terms import ZERO_ADDR, Addr, Bool, Effects, Int, State, Transition, con, ite, sorted_field
from verification.terms import step as terms_step

U32 = 2**32 - 1
U64 = 2**64 - 1
U128 = 2**128 - 1
BPS = 10_000
MAX_PERIODS = 1_200
LIQUIDATION_STEPS = 4

STATES = ["None", "Auction", "Failed", "Rented", "RentalAuction", "Liquidation", "Liquidated"]
S = {name: i for i, name in enumerate(STATES)}
ENDED = {"Returned": 0, "Defaulted": 1, "TermEnded": 2}

# The immutable period (symbolic: every proof holds for every commune) and the clone's factory
# and governance (immutable arguments).
PERIOD = z3.Int("periodSeconds")
FACTORY = z3.BitVec("CommuneArgs.factory", 160)
GOVERNANCE = z3.BitVec("CommuneArgs.governance", 160)
# Arguments of `initialize` / `setParameters` (the `Params` struct).
ARG_PERIOD = z3.Int("params.periodSeconds")
GRACE = z3.Int("params.graceSeconds")
SALE = z3.Int("params.saleSeconds")
RATE_CAP = z3.Int("params.rateCapBps")
RESERVE_BPS = z3.Int("params.liquidationReserveBps")
MAX_DURATION = 100 * 365 * 24 * 60 * 60
MAX_RATE_CAP = 4_095
PARAMS = z3.And(PERIOD >= 1, PERIOD <= MAX_DURATION)


def params_in_bounds(grace: Any, sale: Any, rate_cap: Any, reserve_bps: Any) -> z3.BoolRef:
    """`_setParameters`' bounds: grace and sale 1 s..100 years, rate cap <= 4,095, reserve <= 100%."""
    return z3.And(grace >= 1, grace <= MAX_DURATION, sale >= 1, sale <= MAX_DURATION, rate_cap >= 0,
                  rate_cap <= MAX_RATE_CAP, reserve_bps >= 0, reserve_bps <= BPS)

# Calls out of the contract.
IS_MEMBER = z3.Function("commune_isMember", Addr, Bool)
PULL_OK = z3.Bool("transferFrom_succeeds")
ESCROW_PAY_OK = z3.Bool("escrow_payments_accepted")
REPAYS = z3.Function("Amortization_repays", Int, Int, Int, Int, Bool)
#: `_debtAt(asset, time)`'s principal plus interest, a function of the debt record, the rate and the
#: time: (principal, interestOwed, accruedPeriods, debtStart, rateBps, time). Left uninterpreted in
#: the proofs (a property proved for every such function holds for the contract's), defined by
#: `OWED_AT_DEFINITION` where the model is run on concrete values.
OWED_AT = z3.Function("debt_owed_at", Int, Int, Int, Int, Int, Int, Int)
BOOK_RATE = z3.Int("book_clearingRate")
BOOK_BELOW = z3.Int("book_below")
BOOK_TICK_TOTAL = z3.Int("book_amountAtClearingRate")
TICK_BEFORE = z3.Int("book_tickBefore")
SERIES = z3.BitVec("series", 160)  # the clone a cleared sale creates
NOW = z3.Int("block.timestamp")

# Arguments.
ASSET = z3.Int("assetId")
BID = z3.Int("bidId")
AMOUNT = z3.Int("amount")
RATE = z3.Int("rateBps")
PERIODS = z3.Int("periods")
PRICE = z3.Int("price")
RENT = z3.Int("rentPerPeriod")
VENDOR = z3.BitVec("vendor", 160)
#: The commune's own contracts, fixed at deployment: none of them may be a vendor.
SELF, TREASURY, COMMUNE = (z3.BitVec(k, 160) for k in ("address(this)", "treasury", "commune"))
CLOSES = z3.Int("auctionClosesAt")
DESCRIPTION_LENGTH = z3.Int("len(description)")
DONATION = z3.Int("tokens_sent_in")

#: Every argument is a uint256 (the ABI guarantees it); block time is below 2**63 (the year 292
#: billion), so `block.timestamp + saleSeconds` always fits the uint64 the contract casts it to.
ARGUMENTS = z3.And(*[z3.And(x >= 0, x <= 2**256 - 1) for x in (ASSET, BID, AMOUNT, RATE, PERIODS, PRICE, RENT, CLOSES,
                                                             DESCRIPTION_LENGTH, DONATION,
                                                             ARG_PERIOD, GRACE, SALE, RATE_CAP, RESERVE_BPS)],
                   NOW >= 0, NOW <= 2**63)
ASSUMPTIONS = z3.And(PARAMS, ARGUMENTS)

IntArr = z3.ArraySort(Int, Int)
AddrArr = z3.ArraySort(Int, Addr)
BoolArr = z3.ArraySort(Int, Bool)


@dataclass
class StockState(State):
    assetCount: z3.ArithRef = sorted_field(Int)
    bidCount: z3.ArithRef = sorted_field(Int)
    escrowHeld: z3.ArithRef = sorted_field(Int)
    creditsHeld: z3.ArithRef = sorted_field(Int)
    held: z3.ArithRef = sorted_field(Int)
    # Parameters in force (`_params`) and `Initializable`'s flag
    graceSeconds: z3.ArithRef = sorted_field(Int)
    saleSeconds: z3.ArithRef = sorted_field(Int)
    rateCapBps: z3.ArithRef = sorted_field(Int)
    liquidationReserveBps: z3.ArithRef = sorted_field(Int)
    initialized: z3.BoolRef = sorted_field(Bool)
    # Asset
    state: z3.ArrayRef = sorted_field(IntArr)
    requester: z3.ArrayRef = sorted_field(AddrArr)
    auctionClosesAt: z3.ArrayRef = sorted_field(IntArr)
    clearingRateBps: z3.ArrayRef = sorted_field(IntArr)
    vendor: z3.ArrayRef = sorted_field(AddrArr)
    periods: z3.ArrayRef = sorted_field(IntArr)
    assetRateCap: z3.ArrayRef = sorted_field(IntArr)  # Asset.rateCapBps: the cap at the request
    price: z3.ArrayRef = sorted_field(IntArr)
    rentPerPeriod: z3.ArrayRef = sorted_field(IntArr)
    series: z3.ArrayRef = sorted_field(AddrArr)
    escrowed: z3.ArrayRef = sorted_field(IntArr)
    marginNeed: z3.ArrayRef = sorted_field(IntArr)
    marginTotal: z3.ArrayRef = sorted_field(IntArr)
    # Debt
    principal: z3.ArrayRef = sorted_field(IntArr)
    interestOwed: z3.ArrayRef = sorted_field(IntArr)
    debtStart: z3.ArrayRef = sorted_field(IntArr)
    accruedPeriods: z3.ArrayRef = sorted_field(IntArr)
    redeemed: z3.ArrayRef = sorted_field(BoolArr)
    writtenOff: z3.ArrayRef = sorted_field(IntArr)
    # Rental
    renter: z3.ArrayRef = sorted_field(AddrArr)
    rentalStart: z3.ArrayRef = sorted_field(IntArr)
    rentalPeriods: z3.ArrayRef = sorted_field(IntArr)
    paidPeriods: z3.ArrayRef = sorted_field(IntArr)
    rentalRent: z3.ArrayRef = sorted_field(IntArr)
    defaulted: z3.ArrayRef = sorted_field(BoolArr)
    rentalGrace: z3.ArrayRef = sorted_field(IntArr)  # Rental.graceSeconds: the grace at its start
    # Sale
    leader: z3.ArrayRef = sorted_field(AddrArr)
    closesAt: z3.ArrayRef = sorted_field(IntArr)
    salePeriods: z3.ArrayRef = sorted_field(IntArr)
    saleAmount: z3.ArrayRef = sorted_field(IntArr)
    reopenings: z3.ArrayRef = sorted_field(IntArr)
    saleReserve: z3.ArrayRef = sorted_field(IntArr)  # Sale.reserveBps: the reserve the liquidation opened with
    titleHolder: z3.ArrayRef = sorted_field(AddrArr)
    # Bid
    bidder: z3.ArrayRef = sorted_field(AddrArr)
    bidRate: z3.ArrayRef = sorted_field(IntArr)
    bidClaimed: z3.ArrayRef = sorted_field(BoolArr)
    bidAsset: z3.ArrayRef = sorted_field(IntArr)
    bidAmount: z3.ArrayRef = sorted_field(IntArr)
    tickBefore: z3.ArrayRef = sorted_field(IntArr)
    # Accounts
    credits: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    commitments: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    everDefaulted: z3.ArrayRef = sorted_field(z3.ArraySort(Int, z3.ArraySort(Addr, Bool)))
    # Ghosts
    sumCredits: z3.ArithRef = sorted_field(Int)
    bidEscrow: z3.ArrayRef = sorted_field(IntArr)
    sumBidEscrow: z3.ArithRef = sorted_field(Int)
    sumSaleEscrow: z3.ArithRef = sorted_field(Int)
    sumRequestEscrow: z3.ArithRef = sorted_field(Int)
    strays: z3.ArithRef = sorted_field(Int)
    toBondsTotal: z3.ArithRef = sorted_field(Int)
    toMembersTotal: z3.ArithRef = sorted_field(Int)
    sweptTotal: z3.ArithRef = sorted_field(Int)


def empty() -> StockState:
    """A fresh clone: every counter, mapping, parameter and ghost zero, not initialised."""
    return StockState.zero()


def initialize_prologue(s: StockState, grace: Any, sale: Any, rate_cap: Any, reserve_bps: Any) -> StockState:
    """`initialize`'s effect (and `setParameters`' without the flag): the parameters stored."""
    return s.replace(initialized=z3.BoolVal(True), graceSeconds=grace, saleSeconds=sale, rateCapBps=rate_cap,
                     liquidationReserveBps=reserve_bps)


def set_parameters_reverts(s: StockState) -> z3.BoolRef:
    """`_setParameters`: StockParameterFixed unless the period is the commune's; StockInvalidParameter
    out of bounds."""
    return z3.Or(ARG_PERIOD != PERIOD, z3.Not(params_in_bounds(GRACE, SALE, RATE_CAP, RESERVE_BPS)))


def interest(principal: z3.ArithRef, rate: z3.ArithRef) -> z3.ArithRef:
    """`Amortization.interest`: one period's interest, rounded up."""
    return (principal * rate + BPS - 1) / BPS


# ------------------------------------------------------------------ shared steps


class Call(Effects):
    """One call being modelled: the state so far, whether it has reverted, and the ghost updates.

    Each helper mirrors one statement or private function of the contract. Ghosts are updated
    from how the mapped values change, not from the counters the contract keeps, so a contract
    that forgets to keep a counter is caught by the invariant that relates the two.
    """

    def __init__(self, s: StockState, caller: z3.BitVecRef, value: z3.ArithRef):
        super().__init__(s, value)
        self.caller = caller

    def credit(self, account: Any, amount: Any) -> None:
        self.store("credits", account, self.s.credits[account] + amount)
        self.set(sumCredits=self.s.sumCredits + amount)

    def commit(self, account: Any, delta: int) -> None:
        current = self.s.commitments[account]
        if delta < 0:
            self.revert_if(current < -delta)
        self.store("commitments", account, current + delta)

    def sale_escrow(self, a: Any, update: Any) -> None:
        """Run `update()` (which changes the sale of `a`) keeping `sumSaleEscrow` in step."""
        before = ite(self.s.leader[a] != ZERO_ADDR, self.s.saleAmount[a], con(0))
        update()
        after = ite(self.s.leader[a] != ZERO_ADDR, self.s.saleAmount[a], con(0))
        self.set(sumSaleEscrow=self.s.sumSaleEscrow + after - before)

    def pay_out(self, to_bonds: Any, to_members: Any, from_escrow: bool) -> None:
        """Tokens leave for the series and the treasury (from this contract or from the payer)."""
        if from_escrow:
            self.revert_if(self.s.held < to_bonds + to_members)  # ERC-20: insufficient balance
            self.revert_if(z3.And(to_bonds + to_members > 0, z3.Not(ESCROW_PAY_OK)))  # the token refuses
            self.set(held=self.s.held - to_bonds - to_members)
        else:
            self.revert_if(z3.Not(PULL_OK))
        self.set(toBondsTotal=self.s.toBondsTotal + to_bonds, toMembersTotal=self.s.toMembersTotal + to_members)

    def escrow_in(self, amount: Any) -> None:
        """`escrowHeld += amount; token.safeTransferFrom(msg.sender, address(this), amount)`."""
        self.set(escrowHeld=self.s.escrowHeld + amount)
        self.revert_if(z3.Not(PULL_OK))
        self.set(held=self.s.held + amount)

    def branch(self) -> "Call":
        """A copy to run one side of an `if` on (it starts from this call's state, reverting never)."""
        return Call(self.s, self.caller, z3.IntVal(0))

    def choose(self, cond: Any, yes: "Call", no: "Call") -> None:
        """Join two branches: `yes` where `cond` holds, `no` elsewhere, with each side's reverts."""
        self.reverts += [z3.And(cond, z3.Or(False, *yes.reverts[1:])),
                         z3.And(z3.Not(cond), z3.Or(False, *no.reverts[1:]))]
        self.s = yes.s.map(lambda name, v: ite(cond, v, getattr(no.s, name)))



def service_debt(c: Call, a: Any, amount: Any) -> Any:
    """`_serviceDebt`: accrue to the current period, then interest first, then principal."""
    s = c.s
    p, i = s.principal[a], s.interestOwed[a]
    started = (NOW - s.debtStart[a]) / PERIOD + 1
    c.revert_if(z3.And(z3.Or(p != 0, i != 0), NOW < s.debtStart[a]))  # the subtraction underflows
    accrue = z3.And(p > 0, started > s.accruedPeriods[a])
    i_now = ite(accrue, i + (started - s.accruedPeriods[a]) * interest(p, s.clearingRateBps[a]), i)
    to_i = ite(amount < i_now, amount, i_now)
    to_p = ite(amount - to_i < p, amount - to_i, p)
    active = z3.Or(p != 0, i != 0)
    # SafeCast.toUint32(started) and SafeCast.toUint128(interest left): checked, never wrapped.
    c.revert_if(z3.And(active, z3.Or(started > U32, i_now - to_i > U128)))
    c.set(accruedPeriods=ite(active, z3.Store(s.accruedPeriods, a, started), s.accruedPeriods),
          interestOwed=ite(active, z3.Store(s.interestOwed, a, i_now - to_i), s.interestOwed),
          principal=ite(active, z3.Store(s.principal, a, p - to_p), s.principal),
          redeemed=ite(z3.And(active, p == to_p, i_now == to_i), z3.Store(s.redeemed, a, z3.BoolVal(True)),
                       s.redeemed))
    return ite(active, to_i + to_p, con(0))


def pay_rent(c: Call, a: Any, amount: Any, from_escrow: bool) -> None:
    """`_payRent`: the waterfall (bond service, then member income)."""
    to_bonds = service_debt(c, a, amount)
    c.pay_out(to_bonds, amount - to_bonds, from_escrow)


def start_paid_rental(c: Call, a: Any, renter: Any, rent: Any, periods: Any) -> None:
    """`_startPaidRental`: a new agreement from now, its first period paid from escrow."""
    c.store("renter", a, renter)
    c.store("rentalStart", a, NOW)
    c.store("rentalPeriods", a, periods)
    c.store("paidPeriods", a, con(1))
    c.store("rentalRent", a, rent)
    c.store("defaulted", a, z3.BoolVal(False))
    c.store("rentalGrace", a, c.s.graceSeconds)  # the grace in force at its start
    c.sub("escrowHeld", rent)
    pay_rent(c, a, rent, from_escrow=True)


def owed_at(s: StockState, a: Any, time: Any) -> tuple[Any, Any]:
    """`_debtAt`: principal plus interest accrued to the period `time` falls in, and whether
    computing it reverts (a time before settlement, or fewer periods than already accrued)."""
    p = s.principal[a]
    started = (time - s.debtStart[a]) / PERIOD + 1
    reverts = z3.And(p > 0, z3.Or(time < s.debtStart[a], started < s.accruedPeriods[a]))
    owed = OWED_AT(p, s.interestOwed[a], s.accruedPeriods[a], s.debtStart[a], s.clearingRateBps[a], time)
    return owed, reverts


def periods_left(s: StockState, a: Any, time: Any) -> Any:
    """`_periodsLeft`: the series' schedule (the request's term from its settlement) not yet fully
    elapsed at `time`, at least 1."""
    elapsed = (time - s.debtStart[a]) / PERIOD
    return ite(elapsed < s.periods[a], s.periods[a] - elapsed, con(1))


def repays_in_time(s: StockState, a: Any, owed: Any, rent: Any, periods: Any, time: Any = None) -> Any:
    """The re-rental rule (`_requireRepays` passes): `rent` repays `owed` at the series' rate within
    `periods` and within the periods left of the series' schedule at `time` (by default the rental
    auction's close)."""
    left = periods_left(s, a, s.closesAt[a] if time is None else time)
    return REPAYS(owed, s.clearingRateBps[a], rent, ite(periods < left, periods, left))


def require_repays(c: Call, a: Any, owed: Any, rent: Any, periods: Any, time: Any) -> None:
    """`_requireRepays`: while bonds are outstanding, reverts unless the rule holds at `time`
    (`_periodsLeft` underflows for a time before the series' settlement)."""
    s = c.s
    c.revert_if(z3.And(owed > 0, time < s.debtStart[a]))
    c.revert_if(z3.And(owed > 0, z3.Not(repays_in_time(s, a, owed, rent, periods, time))))


def _owed_at_body() -> Any:
    p, i, accrued, start, rate, time = (z3.Var(k, Int) for k in range(6))
    return p + i + ite(p > 0, ((time - start) / PERIOD + 1 - accrued) * interest(p, rate), con(0))


#: The definition of `OWED_AT`, the contract's formula (for `z3.substitute_funs`).
OWED_AT_DEFINITION = (OWED_AT, _owed_at_body())


def end_rental(c: Call, a: Any, renter: Any) -> None:
    """`_endRental`: the renter's commitment ends; a rental auction opens."""
    c.commit(renter, -1)
    c.store("state", a, con(S["RentalAuction"]))
    c.store("closesAt", a, NOW + c.s.saleSeconds)


def outbid(c: Call, a: Any) -> None:
    """`_outbid`: the current leader's escrow is credited back."""
    s = c.s
    leader, amount = s.leader[a], s.saleAmount[a]
    has = leader != ZERO_ADDR
    c.revert_if(z3.And(has, s.escrowHeld < amount))
    rental = s.state[a] == S["RentalAuction"]
    c.revert_if(z3.And(has, rental, s.commitments[leader] < 1))
    c.set(commitments=ite(z3.And(has, rental), z3.Store(s.commitments, leader, s.commitments[leader] - 1),
                          s.commitments),
          escrowHeld=ite(has, s.escrowHeld - amount, s.escrowHeld),
          creditsHeld=ite(has, s.creditsHeld + amount, s.creditsHeld))
    before = c.s.credits[leader]
    c.set(credits=ite(has, z3.Store(c.s.credits, leader, before + amount), c.s.credits),
          sumCredits=c.s.sumCredits + ite(has, amount, con(0)))


def reclaimable_at(s: StockState, a: Any) -> Any:
    paid, periods, start = s.paidPeriods[a], s.rentalPeriods[a], s.rentalStart[a]
    return ite(paid < periods, start + paid * PERIOD + s.rentalGrace[a], start + periods * PERIOD)


def reserve(s: StockState, a: Any) -> Any:
    """`liquidationReserve`: price * reserveBps * (STEPS - reopenings) / (10,000 * STEPS) rounded up,
    with the sale's own reserve (`Sale.reserveBps`)."""
    scale = BPS * LIQUIDATION_STEPS
    return (s.price[a] * s.saleReserve[a] * (LIQUIDATION_STEPS - s.reopenings[a]) + scale - 1) / scale


def fill(s: StockState, b: Any) -> Any:
    """`_fill`: bond units a bid is filled with."""
    a = s.bidAsset[b]
    rate, need, total = s.clearingRateBps[a], s.marginNeed[a], s.marginTotal[a]
    before, amount = s.tickBefore[b], s.bidAmount[b]
    at_rate = (before + amount) * need / total - before * need / total
    return ite(s.state[a] == S["Failed"], con(0),
               ite(s.bidRate[b] < rate, amount, ite(s.bidRate[b] > rate, con(0), at_rate)))


# ------------------------------------------------------------------- functions


def _request(s, caller, value):
    c = Call(s, caller, value)
    c.revert_if(z3.Or(z3.Not(IS_MEMBER(caller)), DESCRIPTION_LENGTH == 0, PRICE <= 0, PRICE > U128,
                      VENDOR == ZERO_ADDR, VENDOR == caller, IS_MEMBER(VENDOR),
                      VENDOR == SELF, VENDOR == TREASURY, VENDOR == COMMUNE, RENT <= 0, RENT > U128,
                      PERIODS <= 0, PERIODS > MAX_PERIODS, CLOSES <= NOW, CLOSES - NOW > MAX_DURATION))
    a = s.assetCount + 1
    c.set(assetCount=a)
    for field, v in (("requester", caller), ("auctionClosesAt", CLOSES), ("state", con(S["Auction"])),
                     ("vendor", VENDOR), ("periods", PERIODS), ("price", PRICE), ("rentPerPeriod", RENT),
                     ("assetRateCap", s.rateCapBps)):
        c.store(field, a, v)
    c.commit(caller, +1)
    c.escrow_in(RENT)  # the first period, paid at settlement
    return c.done()


def _open_auction(c: Call, a: Any) -> None:
    c.revert_if(c.s.state[a] != S["Auction"])


def _bid(s, caller, value):
    c = Call(s, caller, value)
    _open_auction(c, ASSET)
    c.revert_if(NOW >= s.auctionClosesAt[ASSET])
    escrowed = s.escrowed[ASSET] + AMOUNT
    c.revert_if(z3.Or(AMOUNT <= 0, escrowed > U128, RATE > s.assetRateCap[ASSET], RATE < 0))
    c.revert_if(z3.Or(TICK_BEFORE < 0, TICK_BEFORE > s.escrowed[ASSET]))  # inputs the book cannot return
    c.revert_if(ASSET > U64)  # SafeCast.toUint64(assetId)
    b = s.bidCount + 1
    c.set(bidCount=b)
    for field, v in (("bidder", caller), ("bidRate", RATE), ("bidClaimed", z3.BoolVal(False)),
                     ("bidAsset", ASSET), ("bidAmount", AMOUNT), ("tickBefore", TICK_BEFORE)):
        c.store(field, b, v)
    c.store("escrowed", ASSET, escrowed)
    c.escrow_in(AMOUNT)
    return c.done()


def _fail(c: Call, a: Any) -> None:
    """`_fail`: every bid refundable; the requester's escrowed first period credited back."""
    s = c.s
    c.store("state", a, con(S["Failed"]))
    c.commit(s.requester[a], -1)
    c.sub("escrowHeld", s.rentPerPeriod[a])
    c.set(creditsHeld=c.s.creditsHeld + s.rentPerPeriod[a])
    c.credit(s.requester[a], s.rentPerPeriod[a])


def _settle(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    _open_auction(c, a)
    c.revert_if(NOW < s.auctionClosesAt[a])
    price = s.price[a]
    # What the rate book can answer: a rate within the cap, the amount bid below it (< price), and
    # a tick at that rate that holds the rest of the price.
    subscribed = s.escrowed[a] >= price
    c.revert_if(z3.And(subscribed, z3.Or(BOOK_RATE < 0, BOOK_RATE > s.assetRateCap[a], BOOK_BELOW < 0, BOOK_BELOW >= price,
                                         BOOK_TICK_TOTAL < price - BOOK_BELOW, BOOK_TICK_TOTAL > s.escrowed[a])))
    repays = REPAYS(price, BOOK_RATE, s.rentPerPeriod[a], s.periods[a])
    # runSettlement (a call to itself): the sale's effects and the first period paid from escrow.
    ok = c.branch()
    ok.store("clearingRateBps", a, BOOK_RATE)
    ok.store("marginNeed", a, price - BOOK_BELOW)
    ok.store("marginTotal", a, BOOK_TICK_TOTAL)
    ok.store("series", a, SERIES)
    ok.store("state", a, con(S["Rented"]))
    ok.store("principal", a, price)
    ok.store("debtStart", a, NOW)
    ok.sub("escrowHeld", price)
    ok.set(creditsHeld=ok.s.creditsHeld + price)
    ok.credit(s.vendor[a], price)
    ok.revert_if(SERIES == ZERO_ADDR)  # a clone always has an address
    start_paid_rental(ok, a, s.requester[a], s.rentPerPeriod[a], s.periods[a])
    failed = c.branch()
    _fail(failed, a)
    c.choose(z3.And(subscribed, repays, z3.Not(ok.fails())), ok, failed)
    return c.done()


def _claim(s, caller, value):
    c = Call(s, caller, value)
    b = BID
    c.revert_if(z3.Or(s.bidder[b] == ZERO_ADDR, s.bidder[b] != caller, s.bidClaimed[b],
                      s.state[s.bidAsset[b]] == S["Auction"]))
    c.store("bidClaimed", b, z3.BoolVal(True))
    bonds = fill(s, b)
    a = s.bidAsset[b]
    c.revert_if(z3.And(s.state[a] != S["Failed"], s.bidRate[b] == s.clearingRateBps[a], s.marginTotal[a] == 0))
    refund = s.bidAmount[b] - bonds
    c.revert_if(refund < 0)  # `b.amount - bonds` underflows
    c.sub("escrowHeld", refund)
    c.sub("held", refund)  # ERC-20: insufficient balance reverts
    return c.done()


def _rented_by(c: Call, a: Any, who: Any) -> None:
    c.revert_if(z3.Or(c.s.state[a] != S["Rented"], c.s.renter[a] != who))


def _pay_rent(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    _rented_by(c, a, caller)
    remaining = s.rentalPeriods[a] - s.paidPeriods[a]
    c.revert_if(z3.Or(PERIODS <= 0, PERIODS > remaining))
    c.store("paidPeriods", a, s.paidPeriods[a] + PERIODS)
    pay_rent(c, a, PERIODS * s.rentalRent[a], from_escrow=False)
    return c.done()


def overdue(s: StockState, a: Any) -> z3.BoolRef:
    """A period of the rental is due (its start has come) and unpaid."""
    paid = s.paidPeriods[a]
    return z3.And(paid < s.rentalPeriods[a], NOW >= s.rentalStart[a] + paid * PERIOD)


def mark_default(c: Call, a: Any, when: Any) -> None:
    """`_markDefault` where `when` holds: the renter may not bid next, nor while bonds are outstanding."""
    s = c.s
    c.store("defaulted", a, z3.Or(s.defaulted[a], when))
    c.store("everDefaulted", a, ite(when, z3.Store(s.everDefaulted[a], s.renter[a], z3.BoolVal(True)),
                                    s.everDefaulted[a]))


def _return(s, caller, value):
    c = Call(s, caller, value)
    _rented_by(c, ASSET, caller)
    mark_default(c, ASSET, overdue(s, ASSET))  # returned with a period due and unpaid: a default
    end_rental(c, ASSET, caller)
    return c.done()


def _reclaim(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    c.revert_if(z3.Or(s.state[a] != S["Rented"], NOW < reclaimable_at(s, a)))
    # A rental reclaimed with periods unpaid ended by default: its renter may not bid next, nor
    # while the asset's bonds are outstanding.
    mark_default(c, a, s.paidPeriods[a] < s.rentalPeriods[a])
    end_rental(c, a, s.renter[a])
    return c.done()


def _bid_rent(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    c.revert_if(z3.Or(z3.Not(IS_MEMBER(caller)), s.state[a] != S["RentalAuction"], NOW >= s.closesAt[a],
                      PERIODS <= 0, PERIODS > MAX_PERIODS, RENT <= s.saleAmount[a], RENT > U128,
                      z3.And(s.defaulted[a], s.renter[a] == caller)))
    owed, owed_reverts = owed_at(s, a, s.closesAt[a])
    c.revert_if(owed_reverts)
    c.revert_if(z3.And(owed > 0, s.everDefaulted[a][caller]))
    require_repays(c, a, owed, RENT, PERIODS, s.closesAt[a])

    def update() -> None:
        outbid(c, a)
        c.store("leader", a, caller)
        c.store("saleAmount", a, RENT)
        c.store("salePeriods", a, PERIODS)

    c.sale_escrow(a, update)
    c.commit(caller, +1)
    c.escrow_in(RENT)
    return c.done()


def _delete_sale(c: Call, a: Any) -> None:
    for field in ("leader", "closesAt", "salePeriods", "saleAmount", "reopenings", "saleReserve"):
        c.store(field, a, ZERO_ADDR if field == "leader" else con(0))


def _clear_leader(c: Call, a: Any) -> None:
    """`_outbid` then `_clearLeader`: after a refused payment, the leader is credited their escrow."""
    def update() -> None:
        outbid(c, a)
        c.store("leader", a, ZERO_ADDR)
        c.store("saleAmount", a, con(0))
        c.store("salePeriods", a, con(0))

    c.sale_escrow(a, update)
    c.store("closesAt", a, NOW + c.s.saleSeconds)


def _settle_rental(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    c.revert_if(z3.Or(s.state[a] != S["RentalAuction"], NOW < s.closesAt[a]))
    winner, rent, periods = s.leader[a], s.saleAmount[a], s.salePeriods[a]
    none = c.branch()
    none.store("state", a, con(S["Liquidation"]))
    none.store("saleReserve", a, s.liquidationReserveBps)  # kept through every reopening
    none.store("closesAt", a, NOW + s.saleSeconds)
    won = c.branch()
    # `_startWinningRental` checks the bid again against the debt as it stands now.
    owed_now, owed_now_reverts = owed_at(s, a, NOW)
    won.revert_if(owed_now_reverts)
    require_repays(won, a, owed_now, rent, periods, NOW)
    won.sale_escrow(a, lambda: _delete_sale(won, a))
    won.store("state", a, con(S["Rented"]))
    start_paid_rental(won, a, winner, rent, periods)
    refused = c.branch()
    _clear_leader(refused, a)
    rented = c.branch()
    rented.choose(z3.Not(won.fails()), won, refused)
    c.choose(winner != ZERO_ADDR, rented, none)
    return c.done()


def _bid_liquidation(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    c.revert_if(z3.Or(s.state[a] != S["Liquidation"], NOW >= s.closesAt[a], AMOUNT < reserve(s, a),
                      AMOUNT <= s.saleAmount[a], AMOUNT > U128))

    def update() -> None:
        outbid(c, a)
        c.store("leader", a, caller)
        c.store("saleAmount", a, AMOUNT)

    c.sale_escrow(a, update)
    c.escrow_in(AMOUNT)
    return c.done()


def _settle_liquidation(s, caller, value):
    c = Call(s, caller, value)
    a = ASSET
    c.revert_if(z3.Or(s.state[a] != S["Liquidation"], NOW < s.closesAt[a]))
    buyer, proceeds = s.leader[a], s.saleAmount[a]
    none = c.branch()
    none.store("reopenings", a, ite(s.reopenings[a] < LIQUIDATION_STEPS, s.reopenings[a] + 1, s.reopenings[a]))
    none.store("closesAt", a, NOW + s.saleSeconds)
    sold = c.branch()
    sold.sale_escrow(a, lambda: _delete_sale(sold, a))
    sold.store("state", a, con(S["Liquidated"]))
    sold.store("titleHolder", a, buyer)
    sold.sub("escrowHeld", proceeds)
    to_bonds = service_debt(sold, a, proceeds)
    shortfall = sold.s.principal[a] + sold.s.interestOwed[a]
    short = shortfall > 0
    sold.revert_if(z3.And(short, shortfall > U128))  # SafeCast.toUint128(shortfall)
    sold.set(writtenOff=ite(short, z3.Store(sold.s.writtenOff, a, shortfall), sold.s.writtenOff),
             principal=ite(short, z3.Store(sold.s.principal, a, con(0)), sold.s.principal),
             interestOwed=ite(short, z3.Store(sold.s.interestOwed, a, con(0)), sold.s.interestOwed))
    sold.pay_out(to_bonds, proceeds - to_bonds, from_escrow=True)
    refused = c.branch()
    _clear_leader(refused, a)
    bought = c.branch()
    bought.choose(z3.Not(sold.fails()), sold, refused)
    c.choose(buyer != ZERO_ADDR, bought, none)
    return c.done()


def _initialize(s, caller, value):
    c = Call(s, caller, value)
    c.revert_if(z3.Or(s.initialized, caller != FACTORY, set_parameters_reverts(s)))
    c.s = initialize_prologue(c.s, GRACE, SALE, RATE_CAP, RESERVE_BPS)
    return c.done()


def _set_parameters(s, caller, value):
    c = Call(s, caller, value)
    c.revert_if(z3.Or(caller != GOVERNANCE, set_parameters_reverts(s)))
    c.set(graceSeconds=GRACE, saleSeconds=SALE, rateCapBps=RATE_CAP, liquidationReserveBps=RESERVE_BPS)
    return c.done()


def _withdraw(s, caller, value):
    c = Call(s, caller, value)
    amount = s.credits[caller]
    c.revert_if(amount == 0)
    c.store("credits", caller, con(0))
    c.set(sumCredits=c.s.sumCredits - amount)
    c.sub("creditsHeld", amount)
    c.sub("held", amount)
    return c.done()


def _sweep(s, caller, value):
    c = Call(s, caller, value)
    owed = s.escrowHeld + s.creditsHeld
    c.revert_if(s.held <= owed)
    surplus = s.held - owed
    c.set(held=s.held - surplus, strays=s.strays - surplus, sweptTotal=s.sweptTotal + surplus)
    return c.done()


def _transfer_in(s, caller, value):
    """Not a function of the contract: anyone sending it settlement tokens directly (a stray
    transfer, a positive rebase). It cannot be refused, and it changes nothing but the balance."""
    return z3.BoolVal(False), s.replace(held=s.held + DONATION, strays=s.strays + DONATION)


def bid_ghosts(s: StockState, post: StockState) -> StockState:
    """Keep `bidEscrow` from how the bid and asset records change, not from what the code moves:
    a new bid adds its amount; a bid marked claimed removes what it was owed (its amount less its
    fill); a bond sale that clears removes the price (the fills sum to it: P9). The ids a call can
    touch are its bid, the next bid id and its asset."""
    def add(ghost: StockState, a: Any, delta: Any) -> StockState:
        return ghost.replace(bidEscrow=z3.Store(ghost.bidEscrow, a, ghost.bidEscrow[a] + delta),
                             sumBidEscrow=ghost.sumBidEscrow + delta)

    g = post
    new = s.bidCount + 1
    g = add(g, post.bidAsset[new], ite(z3.And(s.bidder[new] == ZERO_ADDR, post.bidder[new] != ZERO_ADDR),
                                       post.bidAmount[new], con(0)))
    claimed = z3.And(z3.Not(s.bidClaimed[BID]), post.bidClaimed[BID])
    g = add(g, s.bidAsset[BID], ite(claimed, -(s.bidAmount[BID] - fill(s, BID)), con(0)))
    cleared = z3.And(s.state[ASSET] == S["Auction"], post.state[ASSET] == S["Rented"])
    g = add(g, ASSET, ite(cleared, -s.price[ASSET], con(0)))
    # Requesters' escrow: the first period of every asset whose bond auction is open.
    escrow = lambda st, a: ite(st.state[a] == S["Auction"], st.rentPerPeriod[a], con(0))  # noqa: E731
    new = s.assetCount + 1
    delta = escrow(post, ASSET) - escrow(s, ASSET) + ite(new == ASSET, con(0), escrow(post, new) - escrow(s, new))
    return g.replace(sumRequestEscrow=g.sumRequestEscrow + delta)


def _transition(name: str, params: dict[str, Any], fn: Any) -> Transition:
    last: list[Any] = [None, None, None, None]  # the last (state, caller, value) and its result

    def run(s, caller, value):
        if not (last[0] is s and last[1] is caller and last[2] is value):
            reverts, post = fn(s, caller, value)
            last[:] = [s, caller, value, (reverts, bid_ghosts(s, post))]
        return last[3]

    return Transition(name, {**params, "block.timestamp": NOW},
                      lambda s, caller, value: run(s, caller, value)[0],
                      lambda s, caller, value: run(s, caller, value)[1])


PARAM_ARGS = {"params.periodSeconds": ARG_PERIOD, "params.graceSeconds": GRACE, "params.saleSeconds": SALE,
              "params.rateCapBps": RATE_CAP, "params.liquidationReserveBps": RESERVE_BPS}

TRANSITIONS: list[Transition] = [
    _transition("initialize", PARAM_ARGS, _initialize),
    _transition("setParameters", PARAM_ARGS, _set_parameters),
    _transition("requestAsset", {"len(description)": DESCRIPTION_LENGTH, "price": PRICE, "vendor": VENDOR,
                                 "rentPerPeriod": RENT, "periods": PERIODS, "auctionClosesAt": CLOSES}, _request),
    _transition("bid", {"assetId": ASSET, "amount": AMOUNT, "rateBps": RATE}, _bid),
    _transition("settle", {"assetId": ASSET}, _settle),
    _transition("claim", {"bidId": BID}, _claim),
    _transition("payRent", {"assetId": ASSET, "periods": PERIODS}, _pay_rent),
    _transition("returnAsset", {"assetId": ASSET}, _return),
    _transition("reclaim", {"assetId": ASSET}, _reclaim),
    _transition("bidRent", {"assetId": ASSET, "rentPerPeriod": RENT, "periods": PERIODS}, _bid_rent),
    _transition("settleRental", {"assetId": ASSET}, _settle_rental),
    _transition("bidLiquidation", {"assetId": ASSET, "amount": AMOUNT}, _bid_liquidation),
    _transition("settleLiquidation", {"assetId": ASSET}, _settle_liquidation),
    _transition("withdraw", {}, _withdraw),
    _transition("sweep", {}, _sweep),
    # Called only by the contract itself, inside the three settlements above (modelled there).
    Transition("runSettlement", {"assetId": ASSET, "rate": RATE, "below": AMOUNT},
               lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
    _transition("<token transfer in>", {"amount": DONATION}, _transfer_in),
]

step = terms_step

#: The modules `CommonStock` forwards to by DELEGATECALL (on its own storage): each function is the
#: CommonStock transition it implements; the self-call effects (reached only through
#: `runSettlement`, only by the stock itself) are the settlements' `ok` branches above.
SELF_CALL_EFFECTS = {"clearAuction": "settle", "startWinningRental": "settleRental", "sell": "settleLiquidation"}
MODULES: dict[str, dict[str, str]] = {
    "BondAuction": {"bid": "bid", "settle": "settle", "clearAuction": "settle"},
    "RentalMarket": {"payRent": "payRent", "returnAsset": "returnAsset", "reclaim": "reclaim", "bidRent": "bidRent",
                     "settleRental": "settleRental", "startWinningRental": "settleRental"},
    "Liquidation": {"bidLiquidation": "bidLiquidation", "settleLiquidation": "settleLiquidation",
                    "sell": "settleLiquidation"},
}

#: The live parameters (what `setParameters` changes) and the per-record snapshots of them.
LIVE_PARAMETERS = ("graceSeconds", "saleSeconds", "rateCapBps", "liquidationReserveBps")
SNAPSHOTS = ("assetRateCap", "rentalGrace", "saleReserve")
