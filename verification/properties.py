"""The commune's properties P1 to P10, each stated once, named, and proved.

Membership properties (P1, P2, P3, P10) are proved by induction over the transition system of
`Commune` (`verification/commune_model.py`) for every reachable state and every function, with any
number of members. The money properties P4 and P5 are proved by induction over the transition
systems of `Treasury` and `BondSeries` (`verification/money_model.py`) and of `CommonStock`
(`verification/stock_model.py`); P6, P7 and the common stock's half of P10 by induction over
`CommonStock`'s, for any number of assets, bids and accounts. P6, P8 and P9 also carry lemmas over
the contracts' exact integer arithmetic (the waterfall, the equal division, the fills), for every
value of every amount, member count and bid book.
"""

from __future__ import annotations

from typing import Any, Callable

import z3

from verification import commune_model as cm
from verification import stock_model as sm
from verification import stock_properties as sp
from verification.prove import Clause, Report, Result, prove_invariant, prove_rule, prove_valid, show
from verification.terms import ZERO_ADDR, Addr, Int, ProofFailure, ProofUnknown

# ------------------------------------------------------------- membership invariant

MEMBERSHIP: list[Clause] = [
    Clause("oneShareEach", Addr,
           lambda s, a: s.balances[a] == z3.If(s.shareOf[a] != 0, 1, 0),
           "every address holds 0 or 1 share, and 1 exactly when it is a member"),
    Clause("shareOwnedByHolder", Addr,
           lambda s, a: z3.Implies(s.shareOf[a] != 0, z3.And(s.owners[s.shareOf[a]] == a, s.shareOf[a] >= 1,
                                                            s.shareOf[a] <= s.lastShareId)),
           "a member's share id is minted and owned by that member"),
    Clause("ownerHoldsShare", Int,
           lambda s, i: z3.Implies(s.owners[i] != ZERO_ADDR, s.shareOf[s.owners[i]] == i),
           "every owned share is its owner's one share"),
    Clause("noShareBeyondLast", Int,
           lambda s, i: z3.Implies(z3.Or(i > s.lastShareId, i < 1), s.owners[i] == ZERO_ADDR),
           "ids not yet minted are unowned"),
    Clause("zeroAddressNeverMember", None, lambda s, _: s.shareOf[ZERO_ADDR] == 0, "the zero address holds no share"),
    Clause("sharesEqualMembers", None,
           lambda s, _: z3.And(s.memberCount == s.supply, s.supply >= 0, s.lastShareId >= s.supply),
           "shares outstanding (mints minus burns) equal the member count"),
    Clause("noEther", None, lambda s, _: s.ether == 0, "the contract holds no ETH (no payable entry point)"),
    Clause("memberCounted", Addr, lambda s, a: z3.Implies(s.shareOf[a] != 0, s.memberCount >= 1),
           "while anyone is a member the member count is at least one"),
    Clause("labourNonNegative", Addr, lambda s, a: s.countedLabour[a] >= 0, "counted labour is never negative"),
    Clause("claimsNonNegative", Int, lambda s, i: s.claimUnits[i] >= 0, "claimed units are never negative"),
]


MEMBERSHIP_PARAMS_BOUNDED = Clause(
    "parametersInBounds", None,
    lambda s, _: z3.And(s.labourThreshold >= 0, s.quorumCap >= 0,
                        z3.Implies(s.initialized, cm.params_in_bounds(s.labourThreshold, s.quorumCap))),
    "the parameters are never negative, and once initialised the labour threshold is 1..2**64-1 and the quorum "
    "cap 1..2**24-1")
MEMBERSHIP.append(MEMBERSHIP_PARAMS_BOUNDED)

NEVER_EMPTY = Clause("neverEmpty", None, lambda s, _: s.memberCount >= 1,
                     "a founded commune always has at least one member: the last member cannot leave")


def _founders_init(n: int) -> Callable[[], tuple[cm.CommuneState, z3.BoolRef]]:
    """The clone as the factory leaves it: nothing (n = 0, not yet initialised), or `initialize`'s
    prologue (parameters within bounds, else it reverts) then `_admit` of `n` founders."""
    def build() -> tuple[cm.CommuneState, z3.BoolRef]:
        founders = [z3.BitVec(f"founder{i}", 160) for i in range(n)]
        s = cm.empty()
        pre = []
        if n:
            threshold, quorum_cap = z3.Int("initial_labourThreshold"), z3.Int("initial_quorumCap")
            pre.append(cm.params_in_bounds(threshold, quorum_cap))
            s = cm.initialize_prologue(s, threshold, quorum_cap)
        for f in founders:
            pre.append(z3.Not(cm.admit_reverts(s, f)))
            s = cm.admit(s, f)
        return s, z3.And(*pre) if pre else z3.BoolVal(True)
    return build


# `_admit` as a transition: the constructor's loop, so any number of founders is covered by induction.
ADMIT_FOUNDER = cm.Transition(
    "constructor: _admit(founder)", {"founder": z3.BitVec("founder", 160)},
    lambda s, caller, value: z3.Or(cm.admit_reverts(s, z3.BitVec("founder", 160)),
                                   z3.And(cm.EOA_ONLY, cm.HAS_CODE(z3.BitVec("founder", 160)))),
    lambda s, caller, value: cm.admit(s, z3.BitVec("founder", 160)),
)


def _share_terms(s: Any, accounts: list) -> list:
    """Share ids a membership transition touches: each account's share and the next id minted."""
    return [s.shareOf[a] for a in accounts] + [s.lastShareId + 1, z3.Int("tokenId")]


def _describe(model: z3.ModelRef, s: Any, s2: Any, w: Any) -> str:
    caller = z3.BitVec("msg.sender", 160)
    who = w if w is not None and w.sort() == Addr else caller
    lines = [f"  account {show(model, who)}: shareOf {show(model, s.shareOf[who])} -> {show(model, s2.shareOf[who])}, "
             f"balance {show(model, s.balances[who])} -> {show(model, s2.balances[who])}, "
             f"counted labour {show(model, s.countedLabour[who])} -> {show(model, s2.countedLabour[who])}",
             f"  memberCount {show(model, s.memberCount)} -> {show(model, s2.memberCount)}, "
             f"shares outstanding {show(model, s.supply)} -> {show(model, s2.supply)}, "
             f"ETH {show(model, s.ether)} -> {show(model, s2.ether)}, "
             f"labourThreshold {show(model, s.labourThreshold)} -> {show(model, s2.labourThreshold)}, "
             f"quorumCap {show(model, s.quorumCap)} -> {show(model, s2.quorumCap)}"]
    if w is not None and w.sort() == Int:
        lines.append(f"  share {show(model, w)}: owner {show(model, s.owners[w])} -> {show(model, s2.owners[w])}")
    return "\n".join(lines)


def _run(report: Report, prop: str, statement: str, fn: Callable[[], tuple[int, float]]) -> None:
    try:
        obligations, seconds = fn()
        report.results.append(Result(prop, statement, True, seconds, obligations))
    except ProofFailure as exc:
        report.results.append(Result(prop, statement, False, 0.0, 0, counterexample=exc.story))
    except ProofUnknown as exc:
        report.results.append(Result(prop, statement, False, 0.0, 0, detail=f"solver gave up: {exc}"))


FACTORY_INVARIANT: list[Clause] = [
    Clause("nonceIsCreatedPlusOne", None, lambda s, _: z3.And(s.nonce == s.created + 1, s.created >= 0),
           "the factory's account nonce is its count of clones created plus one (the prediction `created + 1 + k`)"),
]


def prove_factory_wiring() -> tuple[int, float]:
    """Induction over the factory: `nonce = created + 1` always (it creates nothing but clones, each
    counted), so a successful `create` puts each of its three clones at the address the one args
    blob they share names for it, `createMembership` its one clone likewise, each clone with state
    is initialised exactly once in that call, and `create` succeeds whenever the token has code, the
    period is within bounds and the initialisers accept their arguments."""
    from verification import factory_model as fm

    transitions = [cm.Transition(f"{contract}.{t.name}", t.params, t.reverts, t.post)
                   for contract, ts in fm.TRANSITIONS.items() for t in ts]

    def describe(model, s, s2, w):
        return "  " + ", ".join(f"{n} {show(model, getattr(s, n))} -> {show(model, getattr(s2, n))}"
                                for n in s.__dataclass_fields__)

    common = dict(fresh=fm.FactoryState.fresh, step=fm.step, assumptions=z3.BoolVal(True), describe=describe)
    n1, t1 = prove_invariant("P1", FACTORY_INVARIANT, [("fresh factory", lambda: (fm.initial(), z3.BoolVal(True)))],
                             transitions, **common)

    def wired(t, s, s2, caller, value, reverts):
        ok = z3.Not(reverts)
        if t.name.endswith(".create"):
            return z3.Implies(ok, z3.And(s2.atCommune == s2.argCommune, s2.atTreasury == s2.argTreasury,
                                         s2.atStock == s2.argStock, s2.communeInits == 1, s2.stockInits == 1,
                                         s2.created == s.created + 3)), None
        if t.name.endswith(".createMembership"):
            return z3.Implies(ok, z3.And(s2.atCommune == s2.argCommune, s2.communeInits == 1,
                                         s2.created == s.created + 1)), None
        return z3.BoolVal(True), None

    def live(t, s, s2, caller, value, reverts):
        if t.name.endswith(".create"):
            inputs_ok = z3.And(value == 0, fm.COMMUNE_INIT_OK, fm.STOCK_INIT_OK, fm.TOKEN_HAS_CODE, fm.PERIOD_OK)
            return z3.Implies(inputs_ok, z3.Not(reverts)), None
        if t.name.endswith(".createMembership"):
            return z3.Implies(z3.And(value == 0, fm.COMMUNE_INIT_OK), z3.Not(reverts)), None
        return z3.BoolVal(True), None

    n2, t2 = prove_rule("P1", wired, FACTORY_INVARIANT, transitions, **common)
    n3, t3 = prove_rule("P1", live, FACTORY_INVARIANT, transitions, **common)
    return n1 + n2 + n3, t1 + t2 + t3


def membership_transitions(model: Any = cm) -> list:
    return list(model.TRANSITIONS)


def prove_membership(report: Report, model: Any = cm) -> None:
    transitions = membership_transitions(model)
    common = dict(fresh=model.CommuneState.fresh, step=model.step, assumptions=model.PARAMS, describe=_describe,
                  extra_terms=_share_terms)
    inits = [("no founders yet", _founders_init(0)), ("three founders", _founders_init(3))]

    def p1() -> tuple[int, float]:
        # The constructor's loop preserves the invariant (any number of founders), then every function does.
        n1, t1 = prove_invariant("P1", MEMBERSHIP, inits, [ADMIT_FOUNDER], **common)
        n2, t2 = prove_invariant("P1", MEMBERSHIP, inits, transitions, **common)
        # A commune always has a member (the constructor needs a founder; the last member cannot
        # leave), so income is never owed to nobody.
        founded = [("one founder", _founders_init(1)), ("three founders", _founders_init(3))]
        n3, t3 = prove_invariant("P1", MEMBERSHIP + [NEVER_EMPTY], founded, [ADMIT_FOUNDER, *transitions], **common)
        return n1 + n2 + n3, t1 + t2 + t3

    def p1_with_factory() -> tuple[int, float]:
        n1, t1 = p1()
        n2, t2 = prove_factory_wiring()
        return n1 + n2, t1 + t2

    _run(report, "P1", "one share per member: every address holds 0 or 1 share; shares outstanding = members; "
         "the factory creates each commune's clones at the addresses their shared arguments name, each initialised once",
         p1_with_factory)

    def p2_rule(t, s, s2, caller, value, reverts):
        i = z3.Int("share")
        a = z3.BitVec("account", 160)
        no_move = z3.ForAll([i], z3.Implies(z3.And(s.owners[i] != ZERO_ADDR, s2.owners[i] != ZERO_ADDR),
                                            s2.owners[i] == s.owners[i]))
        minted = z3.Exists([a], s2.balances[a] > s.balances[a])
        burned = z3.Exists([a], s2.balances[a] < s.balances[a])
        # The founders' shares are minted by `initialize`, once: only on a clone not yet initialised.
        founding = z3.And(z3.BoolVal(t.name == "initialize"), z3.Not(s.initialized))
        only = z3.And(z3.Implies(minted, z3.Or(z3.BoolVal(t.name == "join"), founding)),
                      z3.Implies(burned, z3.BoolVal(t.name == "leave")))
        return z3.And(no_move, only), None

    _run(report, "P2", "non-transferable: no function moves a share between two addresses; only join mints, "
         "only leave burns", lambda: prove_rule("P2", p2_rule, MEMBERSHIP, transitions, **common))

    def p3_rule(t, s, s2, caller, value, reverts):
        a = z3.BitVec("newMember", 160)
        became = z3.And(s.shareOf[a] == 0, s2.shareOf[a] != 0)
        founding = z3.And(z3.BoolVal(t.name == "initialize"), z3.Not(s.initialized), caller == cm.FACTORY)
        admits_by_labour = z3.Implies(became, z3.Or(founding, z3.And(z3.BoolVal(t.name == "join"), a == caller,
                                                                     s.countedLabour[a] >= s.labourThreshold)))
        paid_changes_nothing = z3.Implies(value > 0, reverts)
        labour_from_members = z3.ForAll([a], z3.Implies(
            s2.countedLabour[a] > s.countedLabour[a],
            z3.And(z3.BoolVal(t.name == "attest"), s.shareOf[caller] != 0, caller != a)))
        return z3.And(z3.ForAll([a], admits_by_labour), paid_changes_nothing, labour_from_members), None

    _run(report, "P3", "labour only: a share is minted only to a worker whose attested labour reaches the threshold; "
         "no call carrying value changes anything; labour is credited only by other members' attestations",
         lambda: prove_rule("P3", p3_rule, MEMBERSHIP, transitions, **common))

    def p10_rule(t, s, s2, caller, value, reverts):
        ok = z3.Not(reverts)
        if t.name == "attest":
            return z3.Implies(ok, z3.And(s.shareOf[caller] != 0, s.claimWorker[cm.CLAIM] != caller)), None
        if t.name == "leave":
            a = z3.BitVec("other", 160)
            return z3.Implies(ok, z3.ForAll([a], z3.Implies(a != caller, s2.shareOf[a] == s.shareOf[a]))), None
        if t.name == "join":
            a = z3.BitVec("other", 160)
            return z3.Implies(ok, z3.ForAll([a], z3.Implies(a != caller, s2.shareOf[a] == s.shareOf[a]))), None
        return z3.BoolVal(True), None

    _run(report, "P10", "access: only members attest, never their own claim; join and leave act on the "
         "caller alone", lambda: prove_rule("P10", p10_rule, MEMBERSHIP, transitions, **common))


# ------------------------------------------------------------------ economics


TREASURY_INVARIANT: list[Clause] = [
    Clause("heldIsOwed", None, lambda s, _: z3.And(s.held == s.claims + s.carry + s.scheduledIncome + s.strays,
                                                   s.strays >= 0),
           "tokens held = sum of claimable payouts + carried remainder + income scheduled for periods not "
           "begun + tokens sent in directly (which sweep divides)"),
    Clause("countersAreOwed", None,
           lambda s, _: s.totalIncome - s.totalClaimed == s.claims + s.carry + s.scheduledIncome,
           "what the treasury's counters say it owes (totalIncome - totalClaimed) is exactly what it owes"),
    Clause("carryNonNegative", None,
           lambda s, _: z3.And(s.carry >= 0, s.memberCount >= 1, s.scheduledIncome >= 0, s.releaseRate >= 0),
           "the carried remainder and scheduled income are never negative, and there is always a member to "
           "divide income among"),
    Clause("checkpointsBehind", Addr,
           lambda s, a: z3.And(s.owed[a] >= 0, s.rentPaid[a] >= 0,
                               z3.Implies(s.isMember[a], s.checkpoint[a] <= s.incomePerShare)),
           "no payout is negative"),
    Clause("releasedHaveBegun", None,
           lambda s, _: z3.And(s.lastTime >= ORIGIN_TERM, s.releasedThrough <= (s.lastTime - ORIGIN_TERM) / PERIOD_TERM),
           "only grid periods that have begun are released"),
    Clause("scheduleBase", None,
           lambda s, _: s.sched[s.releasedThrough + 1] == s.releaseRate + s.rateChange[s.releasedThrough + 1],
           "the next grid period's income is the rate in force plus its change: what was scheduled for it"),
    Clause("scheduleSteps", Int,
           lambda s, g: z3.Implies(g > s.releasedThrough + 1, s.sched[g] == s.sched[g - 1] + s.rateChange[g]),
           "every later grid period's income differs from the one before by its rate change: the difference "
           "array holds exactly the parts scheduled (and not refunded) for each period"),
]

ORIGIN_TERM = z3.Int("gridOrigin")
PERIOD_TERM = z3.Int("periodSeconds")

SERIES_INVARIANT: list[Clause] = [
    Clause("heldIsPaidLessWithdrawn", None,
           lambda s, _: z3.And(s.held == s.totalPaid - s.totalWithdrawn + s.strays, s.strays >= 0),
           "tokens held = payments received - payments withdrawn + tokens sent in directly (which sweep sends "
           "to the treasury)"),
    Clause("withdrawnWithinAccumulated", Addr,
           lambda s, a: z3.And(s.withdrawn[a] >= 0, s.balances[a] >= 0,
                               s.withdrawn[a] <= (s.balances[a] * s.totalPaid + s.corrections[a]) / FACE_TERM,
                               s.balances[a] * s.totalPaid + s.corrections[a] >= 0),
           "no holder withdraws more than has accrued to them; no accrual is negative"),
    Clause("paidNonNegative", None, lambda s, _: z3.And(s.totalPaid >= 0, s.totalSupply >= 0),
           "payments and supply are never negative"),
]

FACE_TERM = z3.Int("face")


def _describe_money(model: z3.ModelRef, s: Any, s2: Any, w: Any) -> str:
    names = [n for n in s.__dataclass_fields__ if not z3.is_array(getattr(s, n))]
    return "  " + ", ".join(f"{n} {show(model, getattr(s, n))} -> {show(model, getattr(s2, n))}" for n in names)


def _series_transfer_rule(t, s, s2, caller, value, reverts):
    from verification import money_model as mm

    if t.name not in ("transfer", "transferFrom", "approve"):
        return z3.BoolVal(True), None
    h = z3.BitVec("anyHolder", 160)
    return z3.ForAll([h], mm.accumulated(s2, h) == mm.accumulated(s, h)), None


def prove_economics(report: Report) -> None:
    from verification import money_model as mm

    amount, carry, n = z3.Ints("amount carry members")
    treasury_common = dict(fresh=mm.TreasuryState.fresh, step=mm.treasury_step, assumptions=mm.TREASURY_PARAMS,
                           describe=_describe_money)

    def treasury_empty():
        s = mm.TreasuryState.fresh("init")
        a = z3.BitVec("anyone", 160)
        g = z3.Int("anyPeriod")
        return s, z3.And(s.incomePerShare == 0, s.carry == 0, s.held == 0, s.claims == 0, s.memberCount >= 1,
                         s.totalIncome == 0, s.totalClaimed == 0, s.scheduledIncome == 0, s.releaseRate == 0,
                         s.releasedThrough == 0, s.strays == 0, s.lastTime == mm.ORIGIN,
                         z3.ForAll([a], z3.And(s.owed[a] == 0, s.checkpoint[a] == 0, s.rentPaid[a] == 0)),
                         z3.ForAll([g], z3.And(s.rateChange[g] == 0, s.sched[g] == 0)))

    def p4_rule(t, s, s2, caller, value, reverts):
        a = z3.BitVec("account", 160)
        delta = lambda x: mm.claimable(s2, x) - mm.claimable(s, x)  # noqa: E731
        if t.name in ("depositIncome", "recordRent", "recordIncome", "release", "sweep"):
            # Whatever the call divides (a deposit, the begun parts of a rent payment, a released
            # period, a surplus), every member's entitlement rises by the same amount, nobody else's.
            per = s2.incomePerShare - s.incomePerShare
            same_for_all = z3.ForAll([a], delta(a) == z3.If(s.isMember[a], per, 0))
            return z3.Implies(z3.Not(reverts), z3.And(per >= 0, same_for_all,
                                                      s2.claims - s.claims == per * s.memberCount)), None
        if t.name == "refundRental":  # a refund returns scheduled income: no entitlement moves
            return z3.Implies(z3.Not(reverts), z3.ForAll([a], delta(a) == 0)), None
        subject = caller if t.name == "claimPayout" else mm.ACCOUNT
        others_unchanged = z3.ForAll([a], z3.Implies(a != subject, delta(a) == 0))
        ghost = s2.claims - s.claims == delta(subject)
        return z3.Implies(z3.Not(reverts), z3.And(others_unchanged, ghost)), None

    def p4() -> tuple[int, float]:
        n1, t1 = prove_rule("P4", p4_rule, TREASURY_INVARIANT, mm.TREASURY_TRANSITIONS, **treasury_common)
        # The division itself: per * n + carry' = amount + carry, with 0 <= carry' < n.
        pool = amount + carry
        per = pool / n
        n2, t2 = prove_valid("P4", z3.Implies(z3.And(amount >= 0, carry >= 0, n >= 1),
                                                z3.And(per * n + (pool - per * n) == pool, pool - per * n >= 0,
                                                       pool - per * n < n)), [amount, carry, n])
        return n1 + n2, t1 + t2

    _run(report, "P4", "equal division: every income event (a deposit, the begun periods of a rent payment, a "
         "released period, a surplus) raises every current member's entitlement by the same amount, and no one "
         "else's; a refund moves none; the remainder (< members) is carried, never lost; there is always a member",
         p4)

    def p5() -> tuple[int, float]:
        n1, t1 = prove_invariant("P5", TREASURY_INVARIANT, [("new treasury", treasury_empty)],
                                 mm.TREASURY_TRANSITIONS, **treasury_common)

        def series_empty():
            s = mm.SeriesState.fresh("init")
            a = z3.BitVec("anyone", 160)
            return s, z3.And(s.totalPaid == 0, s.totalWithdrawn == 0, s.held == 0, s.totalSupply == 0, s.strays == 0,
                             z3.ForAll([a], z3.And(s.balances[a] == 0, s.corrections[a] == 0, s.withdrawn[a] == 0)))

        n2, t2 = prove_invariant("P5", SERIES_INVARIANT, [("new series", series_empty)], mm.SERIES_TRANSITIONS,
                                 fresh=mm.SeriesState.fresh, step=mm.series_step, assumptions=mm.SERIES_PARAMS,
                                 describe=_describe_money)
        # Bond transfers and approvals leave every holder's accrued payments as they were.
        n4, t4 = prove_rule("P5", _series_transfer_rule, SERIES_INVARIANT, mm.SERIES_TRANSITIONS,
                            fresh=mm.SeriesState.fresh, step=mm.series_step, assumptions=mm.SERIES_PARAMS,
                            describe=_describe_money)
        n2, t2 = n2 + n4, t2 + t4
        n3, t3 = _stock_invariant()
        return n1 + n2 + n3, t1 + t2 + t3

    _run(report, "P5", "conservation: the treasury holds exactly the unclaimed payouts plus the carried remainder "
         "plus the income scheduled for periods not begun, its difference array exactly the parts scheduled; each bond "
         "series exactly what it was paid less what was withdrawn; the common stock exactly its escrow plus its "
         "credits, each counter the sum of what it owes; tokens sent in directly are exactly what sweeps move", p5)

    def p6() -> tuple[int, float]:
        # CommonStock._serviceDebt: a payment x against interest i and principal p.
        x, i, p = z3.Ints("payment interest principal")
        to_interest = z3.If(x < i, x, i)
        rest = x - to_interest
        to_principal = z3.If(rest < p, rest, p)
        to_bonds = to_interest + to_principal
        to_members = x - to_bonds
        i2, p2 = i - to_interest, p - to_principal
        statement = z3.Implies(
            z3.And(x >= 0, i >= 0, p >= 0),
            z3.And(to_members >= 0, to_bonds <= x,
                   z3.Implies(to_members > 0, z3.And(i2 == 0, p2 == 0)),  # members only once bonds are whole
                   z3.Implies(to_principal > 0, i2 == 0)))  # interest before principal
        n1, t1 = prove_valid("P6", statement, [x, i, p])
        # Every function of the common stock, from every state satisfying its invariant (P5).
        n2, t2 = _stock_invariant()
        n3, t3 = prove_rule("P6", sp.p6_rule, sp.STOCK_INVARIANT, sm.TRANSITIONS, **sp.COMMON)
        n4, t4 = prove_rule("P6", sp.rental_repays_rule, sp.STOCK_INVARIANT, sm.TRANSITIONS, **sp.COMMON)
        return n1 + n2 + n3 + n4, t1 + t2 + t3 + t4

    _run(report, "P6", "bondholder priority: rent and liquidation proceeds reach members only once the series' "
         "interest and principal are paid; interest before principal; while bonds are outstanding every rental bid "
         "and rental repays them within its term and the series' schedule left (at the close and when the rental "
         "starts) and no defaulter rents the asset; every rental starts paid", p6)

    def p8() -> tuple[int, float]:
        # After redemption all rent is member income. Over a window with total rent R divided among
        # n members (exactly: R = q n), a member paying r nets r - R/n: zero at per-capita use.
        r, q = z3.Ints("memberRent perCapita")
        total = q * n
        payout = total / n
        net = r - payout
        statement = z3.Implies(z3.And(n >= 1, q >= 0, r >= 0),
                               z3.And(z3.Implies(r == q, net == 0), z3.Implies(r < q, net < 0),
                                      z3.Implies(r > q, net > 0)))
        return prove_valid("P8", statement, [r, q, n])

    _run(report, "P8", "rent neutrality: net position is zero at per-capita use, negative below it, positive above", p8)

    def p9() -> tuple[int, float]:
        # CommonStock._fill at the clearing rate: fill_k = floor((C+a)N/T) - floor(C N/T), where C is
        # what was bid at that rate before bid k (its `tickBefore`), a its amount, N the principal
        # still needed there and T the tick's total, with 0 <= C, C + a <= T, 0 <= N <= T.
        c, a, need, total, filled = z3.Ints("C a N T filledBefore")
        fill = (c + a) * need / total - c * need / total
        bounds = z3.And(c >= 0, a >= 0, c + a <= total, total >= 1, need >= 0, need <= total)
        # No bidder lends more than they bid, nor less than nothing.
        within = z3.Implies(bounds, z3.And(fill >= 0, fill <= a))
        # Induction over the bids at the tick, in order: if the fills before bid k sum to
        # floor(C N / T), then with bid k they sum to floor((C+a) N / T). It starts at 0 (C = 0) and
        # ends at floor(T N / T) = N, so the fills sum to exactly the principal needed.
        step = z3.Implies(z3.And(bounds, filled == c * need / total), filled + fill == (c + a) * need / total)
        base_and_end = z3.Implies(z3.And(total >= 1, need >= 0), z3.And(0 * need / total == 0,
                                                                        total * need / total == need))
        return prove_valid("P9", z3.And(within, step, base_and_end), [c, a, need, total, filled])

    _run(report, "P9", "auction clearing: every bid is filled between nothing and its amount, and the fills at the "
         "clearing rate sum, bid by bid, to exactly the principal needed there (one rate for all; that it is the "
         "lowest fully subscribed rate is the rate book's answer, tested, not proved)", p9)


# ------------------------------------------------------------------- common stock

_STOCK_INVARIANT_PROOF: list[tuple[int, float]] = []


def _stock_invariant() -> tuple[int, float]:
    """The common stock's invariant (`stock_properties.STOCK_INVARIANT`) by induction, proved once
    per run and then relied on by P5, P6, P7 and P10 (the first caller pays for it)."""
    if not _STOCK_INVARIANT_PROOF:
        _STOCK_INVARIANT_PROOF.append(prove_invariant("P5", sp.STOCK_INVARIANT, [("new common stock", sp.initial)],
                                                      sm.TRANSITIONS, **sp.COMMON))
        return _STOCK_INVARIANT_PROOF[0]
    return 0, 0.0


def prove_lifecycle(report: Report) -> None:
    """P7 by induction over the common stock's transition system (see `stock_model`)."""

    def p7() -> tuple[int, float]:
        n1, t1 = _stock_invariant()
        n2, t2 = prove_rule("P7", sp.p7_rule, sp.STOCK_INVARIANT, sm.TRANSITIONS, **sp.COMMON)
        return n1 + n2, t1 + t2

    _run(report, "P7", "asset lifecycle: every asset moves only along the documented state transitions; only a "
         "liquidation buyer takes title; a liquidation's reserve steps down at most four times, to zero", p7)


def prove_stock_access(report: Report) -> None:
    """The common stock's half of P10, folded into the membership result."""
    p10 = next(r for r in report.results if r.prop == "P10")
    try:
        n1, t1 = _stock_invariant()
        n2, t2 = prove_rule("P10", sp.p10_rule, sp.STOCK_INVARIANT, sm.TRANSITIONS, **sp.COMMON)
        p10.obligations += n1 + n2
        p10.seconds += t1 + t2
    except (ProofFailure, ProofUnknown) as exc:
        p10.proved = False
        p10.counterexample = getattr(exc, "story", str(exc))
    p10.statement += "; only members request assets and bid rent, only the renter pays rent or returns, only the " \
                     "bidder claims a bid, a withdrawal pays the caller alone"


def prove_all() -> Report:
    report = Report()
    prove_membership(report)
    _STOCK_INVARIANT_PROOF.clear()
    prove_economics(report)
    prove_lifecycle(report)
    prove_stock_access(report)
    prove_parameters(report)
    report.results.sort(key=lambda r: int(r.prop[1:]))
    return report


# ------------------------------------------------------------------ parameters (P11, P12)

#: Where a transition may legitimately take the live parameter: a record it creates or (re)opens
#: now (a new asset's rate cap, a new rental's grace, a liquidation's reserve as it opens, a sale's
#: close as it (re)opens). Field -> the live parameter it snapshots (closesAt: now + saleSeconds).
SNAPSHOT_OF = {"assetRateCap": "rateCapBps", "rentalGrace": "graceSeconds", "saleReserve": "liquidationReserveBps",
               "closesAt": "saleSeconds"}


def _non_interference(t: Any) -> z3.BoolRef:
    """A transition run from two states that differ only in the live parameters: it reverts in both
    or neither, and ends in states that differ only in the live parameters and, where it made a new
    term, in that term's snapshot of its own run's live parameter."""
    s = sm.StockState.fresh("x")
    live = {n: z3.Int(f"{n}_other") for n in sm.LIVE_PARAMETERS}
    s_other = s.replace(**live)
    caller, value = z3.BitVec("msg.sender", 160), z3.Int("msg.value")
    r1, p1 = sm.step(t, s, caller, value)
    r2, p2 = sm.step(t, s_other, caller, value)
    i = z3.Int("record")
    same = []
    for f in sm.StockState.__dataclass_fields__:
        if f in sm.LIVE_PARAMETERS:
            continue
        a, b = getattr(p1, f), getattr(p2, f)
        if f in SNAPSHOT_OF:
            par = SNAPSHOT_OF[f]
            v1, v2 = getattr(s, par), getattr(s_other, par)
            if f == "closesAt":
                v1, v2 = sm.NOW + v1, sm.NOW + v2
            same.append(z3.ForAll([i], z3.Or(a[i] == b[i], z3.And(a[i] == v1, b[i] == v2))))
        else:
            same.append(a == b)
    bounds = z3.And(sm.params_in_bounds(s.graceSeconds, s.saleSeconds, s.rateCapBps, s.liquidationReserveBps),
                    sm.params_in_bounds(*[live[n] for n in sm.LIVE_PARAMETERS]))
    return z3.Implies(z3.And(sm.ASSUMPTIONS, bounds), z3.And(r1 == r2, z3.Implies(z3.Not(r1), z3.And(*same))))


def _valid(statement: z3.BoolRef, label: str) -> None:
    try:
        prove_valid("P11", statement, [])
    except ProofFailure as exc:
        raise ProofFailure("P11", f"{label} fails: {exc.story}") from None


def prove_parameters(report: Report) -> None:
    """P11 (terms kept) and P12 (bounds) over the commune and stock models."""
    import time

    def p11() -> tuple[int, float]:
        start, n = time.perf_counter(), 0
        # setParameters changes the live parameters and nothing else, in both contracts.
        for model, state, params in ((cm, cm.CommuneState, ("labourThreshold", "quorumCap")),
                                     (sm, sm.StockState, sm.LIVE_PARAMETERS)):
            t = next(t for t in model.TRANSITIONS if t.name == "setParameters")
            s = state.fresh("pre")
            _, s2 = model.step(t, s, z3.BitVec("msg.sender", 160), z3.Int("msg.value"))
            unchanged = z3.And(*[getattr(s2, f) == getattr(s, f) for f in state.__dataclass_fields__ if f not in params])
            _valid(unchanged, f"{model.__name__}.setParameters leaves every record as it was")
            n += 1
        # Every other transition of the stock reads each existing record's own terms, never the live
        # parameters: its outcome on what exists is the same whatever they are.
        for t in sm.TRANSITIONS:
            if t.name in ("setParameters", "initialize"):
                continue
            _valid(_non_interference(t), f"{t.name} reads snapshots, not the live parameters")
            n += 1
        return n, time.perf_counter() - start

    _run(report, "P11", "terms kept: a parameter change never alters the terms of an asset, rental, auction or "
         "liquidation that exists (setParameters touches nothing else; every other function's outcome on what "
         "exists is the same whatever the live parameters; only a record made or (re)opened now takes them)", p11)

    def p12() -> tuple[int, float]:
        common = dict(fresh=cm.CommuneState.fresh, step=cm.step, assumptions=cm.PARAMS, describe=_describe,
                      extra_terms=_share_terms)
        inits = [("a fresh clone", _founders_init(0)), ("three founders", _founders_init(3))]
        n1, t1 = prove_invariant("P12", MEMBERSHIP, inits,
                                 [ADMIT_FOUNDER, *cm.TRANSITIONS], **common)
        n2, t2 = _stock_invariant()  # includes stock_properties.PARAMETER_CLAUSES
        return n1 + n2, t1 + t2

    _run(report, "P12", "bounds: no parameter ever leaves the constitution's bounds (threshold, quorum cap, grace, "
         "sale length, rate cap, reserve), live or as an asset's, rental's or liquidation's snapshot, through every "
         "function, initialize included", p12)
