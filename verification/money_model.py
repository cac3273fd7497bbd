"""Z3 transition systems of `Treasury` and `BondSeries`: where the members' and bondholders' money is.

Treasury state: `incomePerShare`, `carry`, each account's `checkpoint`, `owed`, `claimed` and
`rentPaid`, who is a member (mirrored from the membership contract, with its member count), the
tokens it holds, the counters `totalIncome` and `totalClaimed`, the release schedule
(`scheduledIncome`, `releasedThrough`, `releaseRate` and the difference array `rateChange` over grid
periods), each asset's agreement record, and two ghosts: `claims`, the sum of every account's
claimable (released) payout, kept by adding each transition's change to it; and `strays`, tokens
sent to the treasury directly (the transition `<token transfer in>`), which `sweep` divides.

`_release`'s loop is modelled by its body: the transition `release` releases one begun grid period,
and every call that releases before acting (deposit, rent, refunds, joins, leaves, claims) is
modelled as its action after as many `release` steps as periods have begun (conformance applies
them). So the proofs cover every interleaving of releases and actions, and a membership change
requires every begun period released (`TreasuryReleasePending`), as the contract does.

BondSeries state: the ERC-20 balances, allowances and supply, `totalPaid`, `totalWithdrawn`, each
holder's `_corrections` and `_withdrawn`, and the tokens it holds; `accumulated(h)` is the
contract's exact formula `floor((balance(h) * totalPaid + correction(h)) / face)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from verification.terms import UINT256_MAX, Addr, Bool, Effects, Int, State, Transition, con, ite, sorted_field, step

STOCK = z3.BitVec("stock", 160)
COMMUNE = z3.BitVec("commune", 160)


@dataclass
class TreasuryState(State):
    incomePerShare: z3.ArithRef = sorted_field(Int)
    carry: z3.ArithRef = sorted_field(Int)
    checkpoint: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    owed: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    claimed: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    rentPaid: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    isMember: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Bool))
    memberCount: z3.ArithRef = sorted_field(Int)
    held: z3.ArithRef = sorted_field(Int)
    totalIncome: z3.ArithRef = sorted_field(Int)
    totalClaimed: z3.ArithRef = sorted_field(Int)
    # The release schedule: income of grid periods not yet begun, as a difference array.
    scheduledIncome: z3.ArithRef = sorted_field(Int)
    releasedThrough: z3.ArithRef = sorted_field(Int)
    releaseRate: z3.ArithRef = sorted_field(Int)
    rateChange: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    # Each asset's current agreement: its start and its member income parts.
    agStart: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    agIncomeFrom: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    agFullFrom: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    agPartial: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    claims: z3.ArithRef = sorted_field(Int)  # ghost: sum of claimable (released) payouts
    strays: z3.ArithRef = sorted_field(Int)  # ghost: tokens held beyond what is owed
    # ghost: the income scheduled for each grid period, kept from what each call means to schedule
    # (k parts of `part` from grid period a) rather than from what it writes to `rateChange`
    sched: z3.ArrayRef = sorted_field(z3.ArraySort(Int, Int))
    lastTime: z3.ArithRef = sorted_field(Int)  # ghost: the block time of the last call (time never goes back)


def claimable(s: TreasuryState, a: z3.BitVecRef) -> z3.ArithRef:
    """What `a` is owed of released income (the contract's view adds the next release's share)."""
    return s.owed[a] + ite(s.isMember[a], s.incomePerShare - s.checkpoint[a], con(0))


AMOUNT = z3.Int("amount")
#: Whether the payer's `transferFrom` succeeds (balance and allowance, exactly), an input of the model.
PULL_OK = z3.Bool("transferFrom_succeeds")
ACCOUNT = z3.BitVec("member", 160)
NOW = z3.Int("block.timestamp")
PERIOD = z3.Int("periodSeconds")
ORIGIN = z3.Int("gridOrigin")
ASSET = z3.Int("assetId")
RENT = z3.Int("rent")
START = z3.Int("rentalStart")
FIRST = z3.Int("firstPeriod")
PERIODS = z3.Int("periods")
DONATION = z3.Int("tokens_sent_in")
U32, U64, U128 = 2**32 - 1, 2**64 - 1, 2**128 - 1
NO_INCOME = U32
#: Block time never precedes the treasury's creation (the grid's origin) and stays below 2**63.
TREASURY_PARAMS = z3.And(PERIOD >= 1, ORIGIN >= 0, NOW >= ORIGIN, NOW <= 2**63,
                         *[z3.And(x >= 0, x <= UINT256_MAX) for x in (AMOUNT, ASSET, RENT, START, FIRST, PERIODS,
                                                                      DONATION)])


def period_at(time: z3.ArithRef) -> z3.ArithRef:
    """`periodAt(time)` (reverts below `gridOrigin`)."""
    return (time - ORIGIN) / PERIOD


class Tx(Effects):
    """A treasury call being modelled (see `terms.Effects`)."""

    def distribute(self, amount: z3.ArithRef) -> None:
        """`_distribute`: equal shares of (amount + carry), the remainder carried."""
        s = self.s
        pool = amount + s.carry
        n = s.memberCount
        per = ite(n == 0, con(0), pool / ite(n == 0, con(1), n))
        self.set(incomePerShare=s.incomePerShare + per, carry=pool - per * n, claims=s.claims + per * n)

    def change_rate(self, period: z3.ArithRef, delta: z3.ArithRef) -> None:
        self.set(rateChange=z3.Store(self.s.rateChange, period, self.s.rateChange[period] + delta))

    def plan(self, first: z3.ArithRef, periods: z3.ArithRef, part: z3.ArithRef) -> None:
        """Ghost: `part` more (or less) income for each grid period from `first` to `first + periods - 1`."""
        g = z3.Int("g")
        sched = self.s.sched
        self.set(sched=z3.Lambda([g], ite(z3.And(g >= first, g < first + periods), sched[g] + part, sched[g])))

    def when(self, cond: z3.BoolRef, run: "object") -> None:
        """Run `run(tx)` only where `cond` holds (an `if` without `else`)."""
        inner = Tx(self.s, con(0))
        run(inner)  # type: ignore[operator]
        self.reverts.append(z3.And(cond, z3.Or(False, *inner.reverts[1:])))
        self.s = inner.s.map(lambda name, v: ite(cond, v, getattr(self.s, name)))



def _schedule(tx: Tx, income: z3.ArithRef, first_start: z3.ArithRef, periods: z3.ArithRef) -> None:
    """`_schedule`: equal parts; begun periods' parts and the remainder divided now."""
    tx.revert_if(periods == 0)  # division by zero (the stock never pays for no period)
    tx.revert_if(first_start < ORIGIN)
    part = income / ite(periods == 0, con(1), periods)
    now = period_at(NOW)
    first = period_at(first_start)
    span = now - first + 1
    begun = ite(first > now, con(0), ite(periods < span, periods, span))
    waiting = periods - begun
    at_once = income - part * waiting

    def wait(t: Tx) -> None:
        t.change_rate(first + begun, part)
        t.change_rate(first + begun + waiting, -part)
        t.plan(first + begun, waiting, part)
        t.set(scheduledIncome=t.s.scheduledIncome + part * waiting)

    tx.when(z3.And(waiting > 0, part > 0), wait)
    tx.when(at_once > 0, lambda t: t.distribute(at_once))


def _deposit(s, caller, value):
    tx = Tx(s, value)
    tx.revert_if(z3.Or(AMOUNT == 0, z3.Not(PULL_OK)))
    tx.set(totalIncome=s.totalIncome + AMOUNT, held=s.held + AMOUNT)
    tx.distribute(AMOUNT)
    return tx.done()


def _record_rent(s, caller, value):
    tx = Tx(s, value)
    tx.revert_if(caller != STOCK)
    tx.set(rentPaid=z3.Store(s.rentPaid, ACCOUNT, s.rentPaid[ACCOUNT] + RENT))
    new = FIRST == 0
    tx.revert_if(z3.And(new, START > U64))  # SafeCast.toUint64(rentalStart)
    a = ASSET
    tx.set(agStart=ite(new, z3.Store(s.agStart, a, START), s.agStart),
           agIncomeFrom=ite(new, z3.Store(s.agIncomeFrom, a, con(NO_INCOME)), s.agIncomeFrom),
           agFullFrom=ite(new, z3.Store(s.agFullFrom, a, con(NO_INCOME)), s.agFullFrom),
           agPartial=ite(new, z3.Store(s.agPartial, a, con(0)), s.agPartial))

    def income(t: Tx) -> None:
        g = t.s
        first_income = g.agIncomeFrom[a] == NO_INCOME
        full = AMOUNT == RENT
        t.revert_if(z3.And(z3.Not(first_income), z3.Not(full)))  # TreasuryIncomeIrregular
        t.revert_if(z3.And(first_income, PERIODS == 0))
        part = AMOUNT / ite(PERIODS == 0, con(1), PERIODS)
        t.revert_if(z3.And(first_income, z3.Not(full), part > U128))  # SafeCast.toUint128
        t.set(agIncomeFrom=ite(first_income, z3.Store(g.agIncomeFrom, a, FIRST), g.agIncomeFrom),
              agFullFrom=ite(first_income, z3.Store(g.agFullFrom, a, ite(full, FIRST, FIRST + PERIODS)), g.agFullFrom),
              agPartial=ite(z3.And(first_income, z3.Not(full)), z3.Store(g.agPartial, a, part), g.agPartial))
        t.set(totalIncome=g.totalIncome + AMOUNT, held=g.held + AMOUNT)
        _schedule(t, AMOUNT, START + FIRST * PERIOD, PERIODS)

    tx.when(AMOUNT > 0, income)
    return tx.done()


def _record_income(s, caller, value):
    tx = Tx(s, value)
    tx.revert_if(caller != STOCK)

    def income(t: Tx) -> None:
        t.set(totalIncome=t.s.totalIncome + AMOUNT, held=t.s.held + AMOUNT)
        t.distribute(AMOUNT)

    tx.when(AMOUNT > 0, income)
    return tx.done()


def _refund(s, caller, value):
    """`refundRental(assetId, renter = member, paidPeriods = periods, rentPerPeriod = rent)`."""
    tx = Tx(s, value)
    tx.revert_if(caller != STOCK)
    a, paid = ASSET, PERIODS
    start_period = period_at(s.agStart[a])
    some = s.agIncomeFrom[a] != NO_INCOME
    tx.revert_if(z3.And(some, s.agStart[a] < ORIGIN))
    next_ = period_at(NOW) + 1 - start_period
    tx.revert_if(z3.And(some, next_ < 0))  # the subtraction underflows
    ahead = z3.And(some, next_ < paid)
    full = s.agFullFrom[a]
    first = ite(s.agIncomeFrom[a] > next_, s.agIncomeFrom[a], next_)
    part = s.agPartial[a]
    partial = z3.And(first < full, part > 0)
    first_full = ite(full > next_, full, next_)
    whole = first_full < paid
    amount = ite(partial, part * (full - first), con(0)) + ite(whole, RENT * (paid - first_full), con(0))

    def refund(t: Tx) -> None:
        t.when(partial, lambda u: (u.change_rate(start_period + first, -part), u.change_rate(start_period + full, part),
                                   u.plan(start_period + first, full - first, -part)))
        t.when(whole, lambda u: (u.change_rate(start_period + first_full, -RENT),
                                 u.change_rate(start_period + paid, RENT),
                                 u.plan(start_period + first_full, paid - first_full, -RENT)))

        def pay(u: Tx) -> None:
            u.sub("scheduledIncome", amount)
            u.sub("totalIncome", amount)
            u.revert_if(u.s.rentPaid[ACCOUNT] < amount)
            u.set(rentPaid=z3.Store(u.s.rentPaid, ACCOUNT, u.s.rentPaid[ACCOUNT] - amount))
            u.sub("held", amount)  # ERC-20: insufficient balance reverts

        t.when(amount > 0, pay)

    tx.when(ahead, refund)
    return tx.done()


def _release_one(s, caller, value):
    """One iteration of `_release`: the next grid period, if it has begun. `release(n)` and every
    call's own release are as many of these as periods have begun (at most n, or 64)."""
    tx = Tx(s, value)
    begun = s.releasedThrough < period_at(NOW)

    def one(t: Tx) -> None:
        g = t.s
        through = g.releasedThrough + 1
        rate = g.releaseRate + g.rateChange[through]
        t.revert_if(rate < 0)  # SafeCast.toUint256
        t.set(releasedThrough=through, releaseRate=rate)
        t.sub("scheduledIncome", rate)
        t.when(rate > 0, lambda u: u.distribute(rate))

    tx.when(begun, one)
    return tx.done()


def _sweep(s, caller, value):
    tx = Tx(s, value)
    surplus = s.held - (s.totalIncome - s.totalClaimed)
    tx.revert_if(surplus <= 0)
    tx.set(totalIncome=s.totalIncome + surplus, strays=s.strays - surplus)
    tx.distribute(surplus)
    return tx.done()


def _claim(s: TreasuryState, caller) -> TreasuryState:
    x = claimable(s, caller)
    return s.replace(checkpoint=ite(s.isMember[caller], z3.Store(s.checkpoint, caller, s.incomePerShare), s.checkpoint),
                     owed=z3.Store(s.owed, caller, con(0)), claimed=z3.Store(s.claimed, caller, s.claimed[caller] + x),
                     held=s.held - x, claims=s.claims - x, totalClaimed=s.totalClaimed + x)


def _join(s: TreasuryState) -> TreasuryState:
    # Commune._admit then onJoin: the new member starts at the current income per share.
    return s.replace(isMember=z3.Store(s.isMember, ACCOUNT, z3.BoolVal(True)), memberCount=s.memberCount + 1,
                     checkpoint=z3.Store(s.checkpoint, ACCOUNT, s.incomePerShare))


def _leave(s: TreasuryState) -> TreasuryState:
    # onLeave (accrued moves to owed) then the burn.
    accrued = s.incomePerShare - s.checkpoint[ACCOUNT]
    return s.replace(owed=z3.Store(s.owed, ACCOUNT, s.owed[ACCOUNT] + accrued),
                     checkpoint=z3.Store(s.checkpoint, ACCOUNT, s.incomePerShare),
                     isMember=z3.Store(s.isMember, ACCOUNT, z3.BoolVal(False)), memberCount=s.memberCount - 1)


def _modelled(name: str, params: dict, fn) -> Transition:
    """A transition built once per (state, caller, value): `fn` returns (reverts, post). Block time
    never goes back: a call at a time before the last one is impossible (modelled as reverting,
    changing nothing), and every call records its time in the ghost `lastTime`."""
    last: list = [None, None, None, None]

    def run(s, caller, value):
        if not (last[0] is s and last[1] is caller and last[2] is value):
            reverts, post = fn(s, caller, value)
            last[:] = [s, caller, value, (z3.Or(reverts, NOW < s.lastTime), post.replace(lastTime=NOW))]
        return last[3]

    return Transition(name, {**params, "block.timestamp": NOW}, lambda s, c, v: run(s, c, v)[0],
                      lambda s, c, v: run(s, c, v)[1])


#: A membership change waits until every begun grid period is released (TreasuryReleasePending).
PENDING = lambda s: s.releasedThrough < period_at(NOW)  # noqa: E731

TREASURY_TRANSITIONS = [
    _modelled("depositIncome", {"amount": AMOUNT, "block.timestamp": NOW}, _deposit),
    _modelled("recordRent", {"assetId": ASSET, "member": ACCOUNT, "rent": RENT, "income": AMOUNT,
                              "rentalStart": START, "firstPeriod": FIRST, "periods": PERIODS, "block.timestamp": NOW}, _record_rent),
    _modelled("recordIncome", {"income": AMOUNT, "block.timestamp": NOW}, _record_income),
    _modelled("refundRental", {"assetId": ASSET, "renter": ACCOUNT, "paidPeriods": PERIODS,
                                "rentPerPeriod": RENT, "block.timestamp": NOW}, _refund),
    _modelled("release", {"block.timestamp": NOW}, _release_one),
    _modelled("sweep", {}, _sweep),
    _modelled("onJoin", {"member": ACCOUNT},
              lambda s, caller, value: (z3.Or(value != 0, caller != COMMUNE, s.isMember[ACCOUNT], PENDING(s)),
                                        _join(s))),
    # The commune's last member cannot leave (mirrored: the treasury is only told of leavers who may).
    _modelled("onLeave", {"member": ACCOUNT},
              lambda s, caller, value: (z3.Or(value != 0, caller != COMMUNE, z3.Not(s.isMember[ACCOUNT]),
                                              s.memberCount <= 1, PENDING(s)), _leave(s))),
    _modelled("claimPayout", {},
              lambda s, caller, value: (z3.Or(value != 0, claimable(s, caller) == 0,
                                              s.held < claimable(s, caller)),  # ERC-20: insufficient balance
                                        _claim(s, caller))),
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
    Transition("<token transfer in>", {"amount": DONATION}, lambda s, caller, value: z3.BoolVal(False),
               lambda s, caller, value: s.replace(held=s.held + DONATION, strays=s.strays + DONATION)),
]


treasury_step = step


@dataclass
class SeriesState(State):
    totalPaid: z3.ArithRef = sorted_field(Int)
    totalWithdrawn: z3.ArithRef = sorted_field(Int)
    totalSupply: z3.ArithRef = sorted_field(Int)
    held: z3.ArithRef = sorted_field(Int)  # the series' balance of the settlement token
    balances: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    corrections: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    withdrawn: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    allowances: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, z3.ArraySort(Addr, Int)))
    strays: z3.ArithRef = sorted_field(Int)  # ghost: tokens held beyond what the holders are owed


ISSUER = z3.BitVec("issuer", 160)
HOLDER = z3.BitVec("holder", 160)
FROM = z3.BitVec("from", 160)
FACE = z3.Int("face")
SERIES_PARAMS = z3.And(FACE >= 1, FACE < 2**128, DONATION >= 0)


def accumulated(s: SeriesState, h: z3.BitVecRef) -> z3.ArithRef:
    """`accumulated(h)` = floor((balanceOf(h) * totalPaid + correction(h)) / face)."""
    return (s.balances[h] * s.totalPaid + s.corrections[h]) / FACE


def _move(s: SeriesState, src: z3.BitVecRef, dst: z3.BitVecRef, v: z3.ArithRef) -> SeriesState:
    """ERC20 `_update(src, dst, v)` then the corrections that keep past payments with `src`."""
    bal = z3.Store(s.balances, src, s.balances[src] - v)
    bal = z3.Store(bal, dst, bal[dst] + v)
    paid_on_value = v * s.totalPaid
    corr = z3.Store(s.corrections, src, s.corrections[src] + paid_on_value)
    corr = z3.Store(corr, dst, corr[dst] - paid_on_value)
    return s.replace(balances=bal, corrections=corr)


def _spend(s: SeriesState, owner, spender, v) -> SeriesState:
    """`_spendAllowance`: an infinite (max) allowance is not reduced."""
    current = s.allowances[owner][spender]
    return s.replace(allowances=ite(current == UINT256_MAX, s.allowances,
                                    z3.Store(s.allowances, owner, z3.Store(s.allowances[owner], spender, current - v))))


def _withdraw(s: SeriesState, caller) -> SeriesState:
    x = accumulated(s, caller) - s.withdrawn[caller]
    return s.replace(withdrawn=z3.Store(s.withdrawn, caller, s.withdrawn[caller] + x),
                     totalWithdrawn=s.totalWithdrawn + x, held=s.held - x)


SERIES_TRANSITIONS = [
    # pay: the issuer has already transferred `amount` of the settlement token to the series.
    Transition("pay", {"amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != ISSUER, AMOUNT < 0),
               lambda s, caller, value: s.replace(totalPaid=s.totalPaid + AMOUNT, held=s.held + AMOUNT)),
    Transition("withdrawPayments", {},
               lambda s, caller, value: z3.Or(value != 0, accumulated(s, caller) - s.withdrawn[caller] <= 0,
                                              s.held < accumulated(s, caller) - s.withdrawn[caller]),
               lambda s, caller, value: _withdraw(s, caller)),
    Transition("mint", {"to": HOLDER, "amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != ISSUER, AMOUNT < 0,
                                              s.totalSupply + AMOUNT > FACE, HOLDER == 0),
               lambda s, caller, value: s.replace(balances=z3.Store(s.balances, HOLDER, s.balances[HOLDER] + AMOUNT),
                                                  totalSupply=s.totalSupply + AMOUNT)),
    Transition("transfer", {"to": HOLDER, "amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, AMOUNT < 0, HOLDER == 0, s.balances[caller] < AMOUNT),
               lambda s, caller, value: _move(s, caller, HOLDER, AMOUNT)),
    Transition("transferFrom", {"from": FROM, "to": HOLDER, "amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, AMOUNT < 0, FROM == 0, HOLDER == 0,
                                              s.allowances[FROM][caller] < AMOUNT, s.balances[FROM] < AMOUNT),
               lambda s, caller, value: _move(_spend(s, FROM, caller, AMOUNT), FROM, HOLDER, AMOUNT)),
    Transition("approve", {"spender": HOLDER, "amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, AMOUNT < 0, HOLDER == 0),
               lambda s, caller, value: s.replace(
                   allowances=z3.Store(s.allowances, caller, z3.Store(s.allowances[caller], HOLDER, AMOUNT)))),
    # sweep: what the series holds beyond `totalPaid - totalWithdrawn` goes to the treasury.
    Transition("sweep", {},
               lambda s, caller, value: z3.Or(value != 0, s.held <= s.totalPaid - s.totalWithdrawn),
               lambda s, caller, value: s.replace(held=s.totalPaid - s.totalWithdrawn,
                                                  strays=s.strays - (s.held - (s.totalPaid - s.totalWithdrawn)))),
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
    Transition("<token transfer in>", {"amount": DONATION}, lambda s, caller, value: z3.BoolVal(False),
               lambda s, caller, value: s.replace(held=s.held + DONATION, strays=s.strays + DONATION)),
]


series_step = step
