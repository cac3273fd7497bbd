"""`Treasury` (a clone of the treasury implementation, as the factory makes one per commune) against
the treasury model of `verification/money_model.py`.

The clone's immutable arguments are the `CommuneArgs` blob with the commune, stock and token
concrete and the grid (origin and period) symbolic. Its neighbours: the membership contract,
whose `isMember` and `memberCount` are the model's mirrored `isMember` and `memberCount`
(`Observed`: the commune keeps them, and changes them around `onJoin` and `onLeave`, validated in
its own right); the settlement token, an honest ERC-20 (`common.HonestToken`) whose balance of the
treasury is the model's `held`.

Releases. Every call but `sweep`'s refusal releases the grid periods that have begun before it
acts (`_release`, a loop of one iteration per period). The model's `release` is that loop's body
(one period), and each other transition is the action after the releases. So each function is
validated against the composition: the model's `release` applied as often as periods are pending,
then its action. Symbolic execution runs the loop for every number of pending periods up to
`RELEASE_BOUND`, stated in the report as a bound; a loop of k > 1 periods adds the k rates and
divides their sum once, which equals k one-period divisions by `split_division_lemma` (proved).
"""

from __future__ import annotations

import z3

from verification import money_model as mm
from verification import properties
from verification.bytecode import common as c
from verification.bytecode.layout import Place, member, slot_of
from verification.bytecode.validate import Arg, ContractSpec, Env, Function, Link, Observed, Variant, unknown_selector
from verification.terms import State, ite

#: Begun grid periods not yet released at the call, at most (the loop is run for 0 to this many).
RELEASE_BOUND = 1
#: Bounds on the pre-state and on what the common stock reports (listed in the report).
VALUE_BITS = 192  # every counter, rate, payout and rent total below 2**192
AMOUNT_BITS = 128  # a rent, an income, a transfer below 2**128 (the token's supply)
PERIOD_BITS = 32  # an agreement's periods (the stock's MAX_PERIODS is 1,200)

T = {t.name: t for t in mm.TREASURY_TRANSITIONS}
#: `release(maxPeriods)`'s argument (the model's `release` is one period: the call is up to this many).
MAX_RELEASE = z3.Int("maxPeriods")


def released(s: State, env: Env, max_periods=None) -> tuple[z3.BoolRef, State]:
    """The model's `release` step `RELEASE_BOUND` times (each a no-op once no period is pending; at
    most ``max_periods`` of them): the releases a call makes before it acts."""
    reverts = z3.BoolVal(False)
    one = T["release"]
    for i in range(RELEASE_BOUND):
        r, s2 = one.reverts(s, env.caller, env.value), one.post(s, env.caller, env.value)
        go = z3.BoolVal(True) if max_periods is None else max_periods > i
        reverts = z3.Or(reverts, z3.And(go, r))
        s = s2.map(lambda name, v, s=s: ite(go, v, getattr(s, name)))
    return reverts, s


def after_release(name: str, received: bool = False):
    """The model's step of a function: its releases, then its action (``received``: less the
    income the stock transfers right after the call, in the same transaction)."""
    def step(s: State, env: Env):
        r1, mid = released(s, env)
        r2 = T[name].reverts(mid, env.caller, env.value)
        post = T[name].post(mid, env.caller, env.value)
        if received:
            post = post.replace(held=post.held - mm.AMOUNT)
        return z3.Or(r1, r2), post
    return step


def release_step(s: State, env: Env):
    """`release(maxPeriods)`: up to ``maxPeriods`` of the model's step; non-payable even when
    it releases nothing (``maxPeriods`` zero or no period begun)."""
    reverts, post = released(s, env, MAX_RELEASE)
    return z3.Or(env.value != 0, reverts), post


def split_division_lemma(timeout_ms: int = 60_000) -> bool:
    """Dividing a among n members (carry c) and then b gives each member and the carry what dividing
    a + b at once does: floor((a+c)/n) + floor((b + (a+c) mod n)/n) = floor((a+b+c)/n), and the
    carries agree. Proved over the integers: True when proved."""
    a, b, k, n = z3.Ints("a b carry members")
    first, carry1 = (a + k) / n, (a + k) % n
    second, carry2 = (b + carry1) / n, (b + carry1) % n
    claim = z3.And(first + second == (a + b + k) / n, carry2 == (a + b + k) % n)
    s = z3.Solver()
    s.set(timeout=timeout_ms)
    s.add(a >= 0, b >= 0, k >= 0, n >= 1, z3.Not(claim))
    return s.check() == z3.unsat


def spec(artifact, root) -> tuple[ContractSpec, list[Function]]:
    layout = artifact.storage_layout
    origin = z3.BitVec("CommuneArgs.gridOrigin", 64)
    period = z3.BitVec("CommuneArgs.periodSeconds", 32)
    blob = c.args_blob(factory=0xFAC0000000000000000000000000000000000FAC, commune=c.COMMUNE, treasury=c.CLONE,
                       stock=c.STOCK, token=c.TOKEN, series=c.SERIES_IMPL, governance=0, grid_origin=origin,
                       period=period, decimals=z3.BitVec("CommuneArgs.decimals", 8),
                       eoa_only=z3.BitVec("CommuneArgs.eoaOnly", 8))
    code = c.clone_code(c.IMPLEMENTATION, blob)
    runtime = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    honest = c.HonestToken(c.TOKEN, c.CLONE, z3.Function("treasuryTokenBalance", z3.BitVecSort(160), z3.IntSort()))
    slot = lambda label: slot_of(layout, label)  # noqa: E731

    def agreement(name: str, kind: str = "uint") -> Place:
        w, off, bits = member(layout, "_agreements", name)
        return Place(slot("_agreements"), ("uint",), word=w, offset=off, bits=bits, kind=kind)

    def members_after(calls, env: Env):
        """The commune admits the member right after `onJoin` and burns the share right after
        `onLeave`; no other call changes who is a member."""
        if env.function == "onJoin(address)":
            return z3.Store(env.pre.isMember, mm.ACCOUNT, z3.BoolVal(True))
        if env.function == "onLeave(address)":
            return z3.Store(env.pre.isMember, mm.ACCOUNT, z3.BoolVal(False))
        return env.pre.isMember

    def count_after(calls, env: Env):
        delta = {"onJoin(address)": 1, "onLeave(address)": -1}.get(env.function, 0)
        return env.pre.memberCount + delta

    places = {
        "incomePerShare": Place(slot("incomePerShare")),
        "carry": Place(slot("carry")),
        "checkpoint": Place(slot("_checkpoint"), ("addr",)),
        "owed": Place(slot("_owed"), ("addr",)),
        "claimed": Place(slot("_claimed"), ("addr",)),
        "rentPaid": Place(slot("_rentPaid"), ("addr",)),
        "isMember": Observed(members_after),
        "memberCount": Observed(count_after),
        "held": Observed(lambda calls, env: honest.balance(c.a160(c.CLONE), calls)),
        "totalIncome": Place(slot("totalIncome")),
        "totalClaimed": Place(slot("totalClaimed")),
        "scheduledIncome": Place(slot("scheduledIncome")),
        "releasedThrough": Place(slot("releasedThrough")),
        "releaseRate": Place(slot("releaseRate")),
        "rateChange": Place(slot("_rateChange"), ("uint",), kind="int"),
        "agStart": agreement("start"),
        "agIncomeFrom": agreement("incomeFrom"),
        "agFullFrom": agreement("fullFrom"),
        "agPartial": agreement("partialIncome"),
        "claims": "ghost",
        "strays": "ghost",
        "sched": "ghost",
        "lastTime": "ghost",
    }

    def pays_to(cl, env: Env) -> list[tuple[str, z3.BoolRef]]:
        to = c.addr_arg(cl, 0)
        if env.function.startswith("refundRental"):
            return [("the refund goes to the renter", to == mm.ACCOUNT)]
        return [("the payout goes to the caller", to == env.caller)]

    def pulls(cl, env: Env) -> list[tuple[str, z3.BoolRef]]:
        return [("income is pulled from the caller", c.addr_arg(cl, 0) == env.caller),
                ("into the treasury", c.addr_arg(cl, 1) == c.CLONE),
                ("the amount deposited", z3.BV2Int(cl.arg(2)) == mm.AMOUNT)]

    token = honest.links(lambda to, amount, env: amount <= env.pre.held,
                         lambda frm, to, amount, env: mm.PULL_OK)
    token[(c.TOKEN, honest.transfer)] = Link(token[(c.TOKEN, honest.transfer)].assume, pays_to)
    token[(c.TOKEN, honest.transfer_from)] = Link(token[(c.TOKEN, honest.transfer_from)].assume, pulls)
    links = {
        **token,
        (c.COMMUNE, c.selector("memberCount()")): Link(
            lambda cl, env, h: [cl.ok, z3.BV2Int(cl.word(0)) == env.pre.memberCount]),
        (c.COMMUNE, c.selector("isMember(address)")): Link(
            lambda cl, env, h: [cl.ok, cl.word(0) == z3.If(env.pre.isMember[c.addr_arg(cl, 0)], 1, 0)]),
    }

    def involved(s: State, env: Env) -> list:
        g = s.releasedThrough
        return [env.caller, mm.ACCOUNT, g, g + 1, g + 2, mm.ASSET]

    def bounds(s: State, env: Env) -> list[tuple[str, z3.BoolRef]]:
        who = [env.caller, mm.ACCOUNT]
        now_period = (env.timestamp - mm.ORIGIN) / mm.PERIOD
        g = s.releasedThrough
        small = lambda x: z3.And(x >= 0, x < 2**VALUE_BITS)  # noqa: E731
        out = [
            ("the caller is not the zero address nor the treasury itself", z3.And(env.caller != 0, env.caller != c.CLONE)),
            ("block time never goes back (the ghost of the last call's time is at most now)", s.lastTime <= env.timestamp),
            (f"at most {RELEASE_BOUND} begun grid period(s) not yet released (the loop validated up to this "
             "bound; more periods are the same body, and one division of their sum equals one per period: "
             "split_division_lemma)", now_period - g <= RELEASE_BOUND),
            (f"the treasury's counters, rates and the involved accounts' entries below 2**{VALUE_BITS}", z3.And(
                *[small(x) for x in (s.incomePerShare, s.carry, s.totalIncome, s.totalClaimed, s.scheduledIncome,
                                     s.releaseRate, s.memberCount)],
                *[z3.And(small(s.owed[a]), small(s.claimed[a]), small(s.rentPaid[a]), small(s.checkpoint[a]))
                  for a in who])),
            (f"the rate changes near the release point and the involved agreements within 2**{VALUE_BITS}", z3.And(
                *[z3.And(s.rateChange[p] < 2**VALUE_BITS, s.rateChange[p] > -(2**VALUE_BITS)) for p in (g + 1, g + 2)])),
            (f"amounts the stock reports below 2**{AMOUNT_BITS} and periods below 2**{PERIOD_BITS} (its "
             "MAX_PERIODS); a deposit's pull succeeds only for an amount below the token's supply",
             z3.And(z3.Implies(env.caller == mm.STOCK, z3.And(
                 mm.AMOUNT < 2**AMOUNT_BITS, mm.RENT < 2**AMOUNT_BITS, mm.START < 2**64,
                 mm.FIRST + mm.PERIODS < 2**PERIOD_BITS)),
                 z3.Implies(mm.PULL_OK, mm.AMOUNT < 2**AMOUNT_BITS))),
            ("the grid: a period of at least one second", mm.TREASURY_PARAMS),
        ]
        if env.function == "onJoin(address)":
            out.append(("the commune tells onJoin only of a non-member (Commune._admit checks it first)",
                        z3.Implies(env.caller == mm.COMMUNE, z3.Not(s.isMember[mm.ACCOUNT]))))
        if env.function == "onLeave(address)":
            out.append(("the commune tells onLeave only of a member who is not the last (Commune.leave checks it)",
                        z3.Implies(env.caller == mm.COMMUNE, z3.And(s.isMember[mm.ACCOUNT], s.memberCount > 1))))
        return out

    def assume(env: Env) -> list[z3.BoolRef]:
        return [mm.STOCK == c.a160(c.STOCK), mm.COMMUNE == c.a160(c.COMMUNE), mm.NOW == env.timestamp,
                mm.ORIGIN == z3.BV2Int(origin), mm.PERIOD == z3.BV2Int(period),
                env.pre.held == honest.initial(c.a160(c.CLONE))]

    contract = ContractSpec(
        name="Treasury", address=c.CLONE, code=code, implementation=(c.IMPLEMENTATION, runtime),
        state=mm.TreasuryState, places=places, links=links,
        neighbours={c.TOKEN: "token", c.COMMUNE: "Commune", c.STOCK: "CommonStock"},
        bounds=bounds, assume=assume, invariant=tuple(properties.TREASURY_INVARIANT), terms=involved,
        floor_division=True)

    def fn(signature: str, name: str, args=(), received: bool = False) -> Function:
        return Function(signature, T[name], args,
                        variants=(Variant("after the begun periods' release", (), after_release(name, received)),))

    A = mm
    fns = [
        fn("depositIncome(uint256)", "depositIncome", (Arg("uint256", A.AMOUNT),)),
        fn("recordRent(uint256,address,uint256,uint256,uint256,uint256,uint256)", "recordRent",
           (Arg("uint256", A.ASSET), Arg("address", A.ACCOUNT), Arg("uint256", A.RENT), Arg("uint256", A.AMOUNT),
            Arg("uint256", A.START), Arg("uint256", A.FIRST), Arg("uint256", A.PERIODS)), received=True),
        fn("recordIncome(uint256)", "recordIncome", (Arg("uint256", A.AMOUNT),), received=True),
        fn("refundRental(uint256,address,uint256,uint256)", "refundRental",
           (Arg("uint256", A.ASSET), Arg("address", A.ACCOUNT), Arg("uint256", A.PERIODS), Arg("uint256", A.RENT))),
        Function("release(uint256)", T["release"], (Arg("uint256", MAX_RELEASE),),
                 variants=(Variant("up to maxPeriods begun periods", (), release_step),)),
        fn("sweep()", "sweep"),
        fn("onJoin(address)", "onJoin", (Arg("address", A.ACCOUNT),)),
        fn("onLeave(address)", "onLeave", (Arg("address", A.ACCOUNT),)),
        fn("claimPayout()", "claimPayout"),
        Function("<receive or fallback>", T["<receive or fallback>"],
                 variants=(Variant("plain ETH (no calldata)", (0,)), Variant("an unknown selector", (36,))),
                 assume=lambda env: [unknown_selector(36, artifact.abi)] if env.lengths.get("raw") == 36 else []),
    ]
    return contract, fns
