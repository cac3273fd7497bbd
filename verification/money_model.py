"""Z3 transition systems of `Treasury` and `BondSeries`: where the members' and bondholders' money is.

Treasury state: `incomePerShare`, `carry`, each account's `checkpoint`, `owed` and `claimed`, who is
a member (mirrored from the membership contract, with its member count), the tokens it holds, and
a ghost `claims`: the sum of every account's claimable payout, kept by adding each transition's
change to it (every transition changes claimable payouts only in the ways the ghost records).

BondSeries state: the ERC-20 balances, allowances and supply, `totalPaid`, `totalWithdrawn`, each
holder's `_corrections` and `_withdrawn`, and the tokens it holds; `accumulated(h)` is the
contract's exact formula `floor((balance(h) * totalPaid + correction(h)) / face)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from verification.terms import UINT256_MAX, Addr, Bool, Int, State, Transition, con, ite, sorted_field, step

STOCK = z3.BitVec("stock", 160)
COMMUNE = z3.BitVec("commune", 160)


@dataclass
class TreasuryState(State):
    incomePerShare: z3.ArithRef = sorted_field(Int)
    carry: z3.ArithRef = sorted_field(Int)
    checkpoint: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    owed: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    claimed: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    isMember: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Bool))
    memberCount: z3.ArithRef = sorted_field(Int)
    held: z3.ArithRef = sorted_field(Int)
    claims: z3.ArithRef = sorted_field(Int)  # ghost: sum of claimable payouts


def claimable(s: TreasuryState, a: z3.BitVecRef) -> z3.ArithRef:
    return s.owed[a] + ite(s.isMember[a], s.incomePerShare - s.checkpoint[a], con(0))


AMOUNT = z3.Int("amount")
#: Whether the payer's `transferFrom` succeeds (balance and allowance), an input of the model.
PULL_OK = z3.Bool("transferFrom_succeeds")
ACCOUNT = z3.BitVec("member", 160)


def _distribute(s: TreasuryState, amount: z3.ArithRef) -> TreasuryState:
    pool = amount + s.carry
    n = s.memberCount
    per = ite(n == 0, con(0), pool / ite(n == 0, con(1), n))
    return s.replace(incomePerShare=s.incomePerShare + per, carry=pool - per * n, held=s.held + amount,
                     claims=s.claims + per * n)


def _income(s: TreasuryState, amount: z3.ArithRef) -> TreasuryState:
    """`if (income > 0) _distribute(...)`: a zero income changes nothing (not even the carry)."""
    return s.map(lambda name, v: ite(amount > 0, getattr(_distribute(s, amount), name), v))


def _claim(s: TreasuryState, caller) -> TreasuryState:
    x = claimable(s, caller)
    return s.replace(checkpoint=ite(s.isMember[caller], z3.Store(s.checkpoint, caller, s.incomePerShare), s.checkpoint),
                     owed=z3.Store(s.owed, caller, con(0)), claimed=z3.Store(s.claimed, caller, s.claimed[caller] + x),
                     held=s.held - x, claims=s.claims - x)


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


TREASURY_TRANSITIONS = [
    Transition("depositIncome", {"amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, AMOUNT <= 0, z3.Not(PULL_OK)),
               lambda s, caller, value: _distribute(s, AMOUNT)),
    # recordRent(member, rent, income): the rent paid is a statistic; only `income` moves money.
    Transition("recordRent", {"member": ACCOUNT, "income": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != STOCK, AMOUNT < 0),
               lambda s, caller, value: _income(s, AMOUNT)),
    Transition("recordIncome", {"income": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != STOCK, AMOUNT < 0),
               lambda s, caller, value: _income(s, AMOUNT)),
    Transition("onJoin", {"member": ACCOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != COMMUNE, s.isMember[ACCOUNT]),
               lambda s, caller, value: _join(s)),
    Transition("onLeave", {"member": ACCOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != COMMUNE, z3.Not(s.isMember[ACCOUNT]),
                                              s.memberCount == 0),
               lambda s, caller, value: _leave(s)),
    Transition("claimPayout", {},
               lambda s, caller, value: z3.Or(value != 0, claimable(s, caller) == 0,
                                              s.held < claimable(s, caller)),  # ERC-20: insufficient balance
               lambda s, caller, value: _claim(s, caller)),
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
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


ISSUER = z3.BitVec("issuer", 160)
HOLDER = z3.BitVec("holder", 160)
FROM = z3.BitVec("from", 160)
FACE = z3.Int("face")
SERIES_PARAMS = z3.And(FACE >= 1, FACE < 2**128)


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
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
]


series_step = step
