"""Z3 transition systems of `Treasury` and `BondSeries`: where the members' and bondholders' money is.

Treasury state: `incomePerShare`, `carry`, each account's `checkpoint`, `owed` and `claimed`, who is
a member (mirrored from the membership contract, with its member count), the tokens it holds, and
a ghost `claims`: the sum of every account's claimable payout, kept by adding each transition's
change to it (every transition changes claimable payouts only in the ways the ghost records).

BondSeries state: `totalPaid`, `totalWithdrawn`, the tokens it holds, and a ghost `owedToHolders`
(payments not yet withdrawn).
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from verification.terms import Addr, Bool, Int, State, Transition, con, ite, sorted_field, step

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
ACCOUNT = z3.BitVec("member", 160)


def _distribute(s: TreasuryState, amount: z3.ArithRef) -> TreasuryState:
    pool = amount + s.carry
    n = s.memberCount
    per = ite(n == 0, con(0), pool / ite(n == 0, con(1), n))
    return s.replace(incomePerShare=s.incomePerShare + per, carry=pool - per * n, held=s.held + amount,
                     claims=s.claims + per * n)


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
               lambda s, caller, value: z3.Or(value != 0, AMOUNT <= 0), lambda s, caller, value: _distribute(s, AMOUNT)),
    Transition("recordRent", {"member": ACCOUNT, "income": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != STOCK, AMOUNT < 0),
               lambda s, caller, value: _distribute(s, AMOUNT)),
    Transition("recordIncome", {"income": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != STOCK, AMOUNT < 0),
               lambda s, caller, value: _distribute(s, AMOUNT)),
    Transition("onJoin", {"member": ACCOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != COMMUNE, s.isMember[ACCOUNT]),
               lambda s, caller, value: _join(s)),
    Transition("onLeave", {"member": ACCOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != COMMUNE, z3.Not(s.isMember[ACCOUNT]),
                                              s.memberCount == 0),
               lambda s, caller, value: _leave(s)),
    Transition("claimPayout", {},
               lambda s, caller, value: z3.Or(value != 0, claimable(s, caller) == 0),
               lambda s, caller, value: _claim(s, caller)),
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
]


treasury_step = step


@dataclass
class SeriesState(State):
    totalPaid: z3.ArithRef = sorted_field(Int)
    totalWithdrawn: z3.ArithRef = sorted_field(Int)
    held: z3.ArithRef = sorted_field(Int)
    accumulated: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))  # floor of each holder's exact share
    withdrawn: z3.ArrayRef = sorted_field(z3.ArraySort(Addr, Int))
    owedToHolders: z3.ArithRef = sorted_field(Int)  # ghost: sum of accumulated - withdrawn


ISSUER = z3.BitVec("issuer", 160)
HOLDER = z3.BitVec("holder", 160)

SERIES_TRANSITIONS = [
    # pay: the issuer has transferred `amount`; holders' exact shares grow by amount in total, of
    # which the floors reach holders and the rest (< 1 per holder) stays as dust.
    Transition("pay", {"amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != ISSUER, AMOUNT < 0),
               lambda s, caller, value: s.replace(totalPaid=s.totalPaid + AMOUNT, held=s.held + AMOUNT)),
    Transition("withdrawPayments", {},
               lambda s, caller, value: z3.Or(value != 0, s.accumulated[caller] - s.withdrawn[caller] <= 0),
               lambda s, caller, value: s.replace(
                   withdrawn=z3.Store(s.withdrawn, caller, s.accumulated[caller]),
                   totalWithdrawn=s.totalWithdrawn + s.accumulated[caller] - s.withdrawn[caller],
                   held=s.held - (s.accumulated[caller] - s.withdrawn[caller]))),
    Transition("mint", {"to": HOLDER, "amount": AMOUNT},
               lambda s, caller, value: z3.Or(value != 0, caller != ISSUER), lambda s, caller, value: s),
    Transition("transfer", {"to": HOLDER, "amount": AMOUNT}, lambda s, caller, value: value != 0,
               lambda s, caller, value: s),
    Transition("transferFrom", {"from": HOLDER, "to": HOLDER, "amount": AMOUNT}, lambda s, caller, value: value != 0,
               lambda s, caller, value: s),
    Transition("approve", {"spender": HOLDER, "amount": AMOUNT}, lambda s, caller, value: value != 0,
               lambda s, caller, value: s),
    Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True), lambda s, caller, value: s),
]


series_step = step
