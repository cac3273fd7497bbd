"""Properties of the common stock proved by induction over `verification/stock_model.py`.

- P5 (escrow): the stock's token balance is exactly its escrow plus its credits plus what was sent
  to it directly (which only `sweep` moves, to the treasury); the credits counter is the sum of
  every account's credit; the escrow counter is the bond bidders' escrow plus the requesters'
  escrowed first periods plus the sale leaders' escrow.
- P6 (bondholder priority): a call pays members only once the asset's bonds are whole (interest
  and principal zero, nothing written off); interest is paid before principal; what a call pays
  out is exactly split between the series and the members; while bonds are outstanding a rental
  bid (and so every rental it starts) repays them within its term and within the series' schedule
  left at the auction's close (never past the maturity bought), and the renter who defaulted
  cannot bid in the next rental auction; every rental starts with its first period paid.
- P7 (lifecycle): every asset id moves only along the documented edges, and only a liquidation
  sale with a buyer gives anyone title.
- P10 (access, common stock): only members request assets and bid rent; only the renter pays rent
  or returns; only the bidder claims a bid; a withdrawal pays only the caller's credit.
"""

from __future__ import annotations

from typing import Any

import z3

from verification import stock_model as sm
from verification.prove import Clause, show
from verification.terms import ZERO_ADDR, Addr, Int

S = sm.S

RECORD_FIELDS = ("price", "rentPerPeriod", "periods", "escrowed", "marginNeed", "marginTotal", "rentalRent",
                 "rentalPeriods", "paidPeriods", "saleAmount", "salePeriods", "closesAt", "auctionClosesAt",
                 "debtStart", "rentalStart")

def leader_repays(s: Any, a: Any) -> z3.BoolRef:
    """A rental auction's leader bid terms that repay the debt owed at the auction's close."""
    owed, _ = sm.owed_at(s, a, s.closesAt[a])
    return z3.Implies(z3.And(s.state[a] == S["RentalAuction"], s.leader[a] != ZERO_ADDR, owed > 0),
                      sm.repays_in_time(s, a, owed, s.saleAmount[a], s.salePeriods[a]))


STOCK_INVARIANT: list[Clause] = [
    Clause("tokensBacked", None, lambda s, _: z3.And(s.held == s.escrowHeld + s.creditsHeld + s.strays, s.strays >= 0),
           "the stock's token balance = escrowHeld + creditsHeld + tokens sent to it directly (swept to the treasury)"),
    Clause("creditsSummed", None, lambda s, _: s.creditsHeld == s.sumCredits,
           "creditsHeld = the sum of every account's credit"),
    Clause("escrowSummed", None,
           lambda s, _: s.escrowHeld == s.sumBidEscrow + s.sumSaleEscrow + s.sumRequestEscrow,
           "escrowHeld = bond bidders' escrow + sale leaders' escrow + requesters' first periods"),
    Clause("countersNonNegative", None,
           lambda s, _: z3.And(s.escrowHeld >= 0, s.creditsHeld >= 0, s.assetCount >= 0, s.bidCount >= 0),
           "the counters are never negative"),
    Clause("creditsNonNegative", Addr, lambda s, a: z3.And(s.credits[a] >= 0, s.commitments[a] >= 0),
           "no credit or commitment count is negative"),
    Clause("stateInRange", Int, lambda s, a: z3.And(s.state[a] >= 0, s.state[a] <= S["Liquidated"]),
           "every asset is in one of the seven states"),
    Clause("unusedIdsEmpty", Int,
           lambda s, a: z3.Implies(z3.Or(a < 1, a > s.assetCount),
                                   z3.And(s.state[a] == S["None"], s.leader[a] == ZERO_ADDR, s.saleAmount[a] == 0,
                                          s.titleHolder[a] == ZERO_ADDR, s.escrowed[a] == 0)),
           "ids not yet requested are in state None, with no sale and no title"),
    Clause("unusedBidsEmpty", Int,
           lambda s, b: z3.Implies(z3.Or(b < 1, b > s.bidCount),
                                   z3.And(s.bidder[b] == ZERO_ADDR, z3.Not(s.bidClaimed[b]))),
           "bid ids not yet given are unused and unclaimed"),
    Clause("saleOnlyWhenOpen", Int,
           lambda s, a: z3.Implies(z3.And(s.state[a] != S["RentalAuction"], s.state[a] != S["Liquidation"]),
                                   z3.And(s.leader[a] == ZERO_ADDR, s.saleAmount[a] == 0)),
           "only an open rental auction or liquidation has a leader"),
    Clause("leaderTermValid", Int,
           lambda s, a: z3.Implies(z3.And(s.state[a] == S["RentalAuction"], s.leader[a] != ZERO_ADDR),
                                   z3.And(s.salePeriods[a] >= 1, s.salePeriods[a] <= sm.MAX_PERIODS)),
           "a rental auction's leader has bid for a term of 1 to MAX_PERIODS periods"),
    Clause("titleOnlyWhenLiquidated", Int,
           lambda s, a: (s.titleHolder[a] != ZERO_ADDR) == (s.state[a] == S["Liquidated"]),
           "an asset has a title holder exactly when it has been liquidated"),
    Clause("recordsNonNegative", Int,
           lambda s, a: z3.And(*[getattr(s, f)[a] >= 0 for f in RECORD_FIELDS],
                               s.paidPeriods[a] <= s.rentalPeriods[a]),
           "no amount, term or time in an asset's records is negative; paid periods never exceed the term"),
    Clause("debtNonNegative", Int,
           lambda s, a: z3.And(s.principal[a] >= 0, s.interestOwed[a] >= 0, s.clearingRateBps[a] >= 0,
                               s.accruedPeriods[a] >= 0),
           "no debt, rate or period count is negative"),
    Clause("unfinancedHasNoDebt", Int,
           lambda s, a: z3.Implies(z3.Or(s.state[a] == S["None"], s.state[a] == S["Auction"], s.state[a] == S["Failed"]),
                                   z3.And(s.principal[a] == 0, s.interestOwed[a] == 0, s.accruedPeriods[a] == 0,
                                          s.writtenOff[a] == 0, z3.Not(s.redeemed[a]))),
           "an asset whose bond sale has not cleared owes nothing and has nothing written off"),
    Clause("auctionTermsValid", Int,
           lambda s, a: z3.Implies(s.state[a] == S["Auction"],
                                   z3.And(s.periods[a] >= 1, s.periods[a] <= sm.MAX_PERIODS, s.rentPerPeriod[a] >= 1,
                                          s.price[a] >= 1, s.price[a] <= sm.U128)),
           "an open bond auction's request offers a term of 1 to MAX_PERIODS, some rent and a price below 2**128"),
    Clause("rentalsStartPaid", Int, lambda s, a: z3.Implies(s.state[a] == S["Rented"], s.paidPeriods[a] >= 1),
           "a rented asset's first period is paid: every rental starts with it paid from escrow"),
    Clause("leaderRepays", Int, leader_repays,
           "while bonds are outstanding, a rental auction's leader offers terms that repay them by the close"),
    Clause("reopeningsBounded", Int, lambda s, a: z3.And(s.reopenings[a] >= 0, s.reopenings[a] <= sm.LIQUIDATION_STEPS),
           "a liquidation's reserve steps down at most LIQUIDATION_STEPS times, to zero"),
]

#: P12: no parameter ever leaves its bounds, live or as a record's snapshot (part of the invariant
#: every stock proof assumes; proved with it).
PARAMETER_CLAUSES: list[Clause] = [
    Clause("parametersInBounds", None,
           lambda s, _: z3.And(s.initialized, sm.params_in_bounds(s.graceSeconds, s.saleSeconds, s.rateCapBps,
                                                                  s.liquidationReserveBps)),
           "the stock is initialised and its grace, sale length, rate cap and reserve are within the constitution"),
    Clause("snapshotsInBounds", Int,
           lambda s, a: z3.And(s.assetRateCap[a] >= 0, s.assetRateCap[a] <= sm.MAX_RATE_CAP,
                               s.rentalGrace[a] >= 0, s.rentalGrace[a] <= sm.MAX_DURATION,
                               z3.Implies(s.state[a] == S["Rented"], s.rentalGrace[a] >= 1),
                               s.saleReserve[a] >= 0, s.saleReserve[a] <= sm.BPS,
                               z3.Implies(s.state[a] != S["Liquidation"], s.saleReserve[a] == 0)),
           "every asset's rate cap, every rental's grace (at least 1 s while rented) and every liquidation's "
           "reserve (zero outside a liquidation) are within the constitution"),
]
STOCK_INVARIANT += PARAMETER_CLAUSES

EDGES = {
    ("None", "Auction"), ("Auction", "Failed"), ("Auction", "Rented"), ("Rented", "RentalAuction"),
    ("RentalAuction", "Rented"), ("RentalAuction", "Liquidation"), ("Liquidation", "Liquidated"),
}


def stock_terms(s: Any, addresses: list) -> list:
    """Ids and accounts a common-stock transition touches (where the invariant is instantiated)."""
    a, b = sm.ASSET, sm.BID
    return [a, b, s.bidAsset[b], s.assetCount + 1, s.bidCount + 1, s.leader[a], s.vendor[a], s.requester[a],
            s.renter[a], s.bidder[b]]


def describe(model: z3.ModelRef, s: Any, s2: Any, w: Any) -> str:
    def state_name(term: Any) -> str:
        v = model.eval(term, model_completion=True)
        return sm.STATES[v.as_long()] if z3.is_int_value(v) and 0 <= v.as_long() < len(sm.STATES) else show(model, term)

    a = w if w is not None and w.sort() == Int else sm.ASSET
    lines = ["  " + ", ".join(f"{n} {show(model, getattr(s, n))} -> {show(model, getattr(s2, n))}"
                              for n in ("held", "escrowHeld", "creditsHeld", "sumCredits", "sumBidEscrow",
                                        "sumSaleEscrow", "toBondsTotal", "toMembersTotal")),
             f"  asset {show(model, a)}: state {state_name(s.state[a])} -> {state_name(s2.state[a])}, "
             + ", ".join(f"{n} {show(model, getattr(s, n)[a])} -> {show(model, getattr(s2, n)[a])}"
                         for n in ("principal", "interestOwed", "writtenOff", "leader", "saleAmount", "titleHolder",
                                   "renter"))]
    if w is not None and w.sort() == Addr:
        lines.append(f"  account {show(model, w)}: credits {show(model, s.credits[w])} -> {show(model, s2.credits[w])}, "
                     f"commitments {show(model, s.commitments[w])} -> {show(model, s2.commitments[w])}")
    return "\n".join(lines)


def initial() -> tuple[Any, z3.BoolRef]:
    """The clone as the factory leaves it: created empty and initialised in the same transaction
    (`CommuneFactory.create`; `initialize` reverts unless its parameters are within bounds)."""
    g, sl, r, res = (z3.Int(f"initial_{n}") for n in sm.LIVE_PARAMETERS)
    return sm.initialize_prologue(sm.empty(), g, sl, r, res), sm.params_in_bounds(g, sl, r, res)


COMMON = dict(fresh=sm.StockState.fresh, step=sm.step, assumptions=sm.ASSUMPTIONS, describe=describe,
              extra_terms=stock_terms)

PAYERS = {"payRent", "settle", "settleRental", "settleLiquidation"}


def p6_rule(t, s, s2, caller, value, reverts):
    a = sm.ASSET
    ok = z3.Not(reverts)
    to_members = s2.toMembersTotal - s.toMembersTotal
    to_bonds = s2.toBondsTotal - s.toBondsTotal
    if t.name not in PAYERS:
        return z3.Implies(ok, z3.And(to_members == 0, to_bonds == 0)), None
    b = z3.Int("otherAsset")
    whole = z3.And(s2.principal[a] == 0, s2.interestOwed[a] == 0, s2.writtenOff[a] == s.writtenOff[a])
    paid = {"payRent": sm.PERIODS * s.rentalRent[a], "settle": s.rentPerPeriod[a], "settleRental": s.saleAmount[a],
            "settleLiquidation": s.saleAmount[a]}[t.name]
    # payRent always pays; a bond sale pays the first period when it clears; a sale pays out its
    # leader's escrow when the asset changes hands (not when the token refused and it reopened).
    pays = {"payRent": z3.BoolVal(True), "settle": s2.state[a] == S["Rented"],
            "settleRental": s2.state[a] == S["Rented"], "settleLiquidation": s2.state[a] == S["Liquidated"]}[t.name]
    split = to_bonds + to_members == z3.If(pays, paid, 0)
    return z3.Implies(ok, z3.And(
        to_members >= 0, to_bonds >= 0, split,
        z3.Implies(to_members > 0, whole),  # members only once the bonds are whole
        z3.Implies(s2.principal[a] < s.principal[a], s2.interestOwed[a] == 0),  # interest before principal
        z3.ForAll([b], z3.Implies(b != a, z3.And(s2.principal[b] == s.principal[b],
                                                 s2.interestOwed[b] == s.interestOwed[b]))),
    )), None


def rental_repays_rule(t, s, s2, caller, value, reverts):
    """While bonds are outstanding, a rental bid and the rental it starts repay them within the term
    and the series' schedule left (at the close, and for the rental also when it starts), and no
    member who defaulted on the asset may bid for it (the last defaulter not even once the
    bonds are redeemed, in the next auction)."""
    a = sm.ASSET
    ok = z3.Not(reverts)
    owed, _ = sm.owed_at(s, a, s.closesAt[a])
    if t.name == "bidRent":
        return z3.Implies(ok, z3.And(z3.Implies(owed > 0, sm.repays_in_time(s, a, owed, sm.RENT, sm.PERIODS)),
                                     z3.Not(z3.And(s.defaulted[a], s.renter[a] == caller)),
                                     z3.Implies(owed > 0, z3.Not(s.everDefaulted[a][caller])))), None
    if t.name == "reclaim":  # every defaulter is remembered
        default = z3.And(ok, s.paidPeriods[a] < s.rentalPeriods[a])
        return z3.Implies(default, s2.everDefaulted[a][s.renter[a]]), None
    if t.name == "returnAsset":  # returning with a period due and unpaid is a default too
        return z3.Implies(z3.And(ok, sm.overdue(s, a)), s2.everDefaulted[a][caller]), None
    if t.name == "settleRental":  # the rental it starts repays as the debt stood at the close and stands now
        started = z3.And(ok, s.state[a] == S["RentalAuction"], s2.state[a] == S["Rented"])
        owed_now, _ = sm.owed_at(s, a, sm.NOW)
        return z3.And(z3.Implies(z3.And(started, owed > 0),
                                 sm.repays_in_time(s, a, owed, s2.rentalRent[a], s2.rentalPeriods[a])),
                      z3.Implies(z3.And(started, owed_now > 0),
                                 sm.repays_in_time(s, a, owed_now, s2.rentalRent[a], s2.rentalPeriods[a],
                                                   sm.NOW))), None
    return z3.BoolVal(True), None


def p7_rule(t, s, s2, caller, value, reverts):
    a = z3.Int("anyAsset")
    moves = [z3.And(s.state[a] == S[x], s2.state[a] == S[y]) for x, y in sorted(EDGES)]
    documented = z3.ForAll([a], z3.Or(s2.state[a] == s.state[a], *moves))
    title = z3.ForAll([a], z3.Implies(s2.titleHolder[a] != s.titleHolder[a],
                                      z3.And(z3.BoolVal(t.name == "settleLiquidation"),
                                             s.state[a] == S["Liquidation"], s2.state[a] == S["Liquidated"],
                                             s2.titleHolder[a] == s.leader[a])))
    return z3.And(documented, title), None


def p10_rule(t, s, s2, caller, value, reverts):
    ok = z3.Not(reverts)
    a, b = sm.ASSET, sm.BID
    x = z3.BitVec("otherAccount", 160)
    rules = {
        "requestAsset": sm.IS_MEMBER(caller),
        "bidRent": sm.IS_MEMBER(caller),
        "payRent": s.renter[a] == caller,
        "returnAsset": s.renter[a] == caller,
        "claim": s.bidder[b] == caller,
        "withdraw": z3.ForAll([x], z3.Implies(x != caller, s2.credits[x] == s.credits[x])),
    }
    return z3.Implies(ok, rules.get(t.name, z3.BoolVal(True))), None
