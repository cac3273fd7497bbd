"""`BondSeries` (a clone of the series implementation, as the common stock deploys one per asset)
against the series model of `verification/money_model.py`.

The clone's immutable arguments are the three words `BondSeries.encodeTerms` packs: the issuer
(the common stock, concrete) with a symbolic asset id, decimals and rate; a symbolic face value;
the settlement token (concrete). The token is an honest ERC-20 (`common.HonestToken`); the
series' balance of it is the model's `held`, read back after the path's transfers (`Observed`).
The accumulator's products and its division by `face` are the EVM's MUL and DIV, uninterpreted in
model and code alike (`validate.IntsAsBitVectors`), tied to their semantics by proved lemmas.
"""

from __future__ import annotations

import z3

from verification import money_model as mm
from verification import properties
from verification.bytecode import common as c
from verification.bytecode.layout import Place, slot_of
from verification.bytecode.validate import Arg, ContractSpec, Env, Function, Link, Observed, Variant, unknown_selector
from verification.terms import State

#: Bounds on the pre-state (and on `pay`'s amount), listed in the report: far beyond any token's
#: supply, and what keeps the accumulator's checked arithmetic from overflowing.
PAID_BITS = 125  # totalPaid < 2**125 (the contract's header: products fit while totalPaid < 2**127)
BALANCE_BITS = 128  # a holder's balance is at most the supply, at most face < 2**128
CORRECTION_BITS = 254  # |correction| <= face * totalPaid < 2**253


def spec(artifact, root) -> tuple[ContractSpec, list[Function]]:
    layout = artifact.storage_layout
    face_word = z3.BitVec("BondSeries.face", 256)
    blob = [z3.BitVec("BondSeries.rateBps", 24), z3.BitVec("BondSeries.decimals", 8),
            z3.BitVec("BondSeries.assetId", 64), c.a160(c.STOCK), face_word, z3.ZeroExt(96, c.a160(c.TOKEN))]
    code = c.clone_code(c.SERIES_IMPL, blob, size=96)
    runtime = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    honest = c.HonestToken(c.TOKEN, c.CLONE, z3.Function("seriesTokenBalance", z3.BitVecSort(160), z3.IntSort()))

    def held_after(calls, env: Env):
        return honest.balance(c.a160(c.CLONE), calls)

    slot = lambda label: slot_of(layout, label)  # noqa: E731
    places = {
        "totalPaid": Place(slot("totalPaid")),
        "totalWithdrawn": Place(slot("totalWithdrawn")),
        "totalSupply": Place(slot("_totalSupply")),
        "held": Observed(held_after),
        "balances": Place(slot("_balances"), ("addr",)),
        "corrections": Place(slot("_corrections"), ("addr",), kind="int"),
        "withdrawn": Place(slot("_withdrawn"), ("addr",)),
        "allowances": Place(slot("_allowances"), ("addr", "addr")),
        "strays": "ghost",
    }

    def pays_to(cl, env: Env) -> list[tuple[str, z3.BoolRef]]:
        to = c.addr_arg(cl, 0)
        if env.function == "sweep()":
            return [("the surplus goes to the issuer's treasury", to == c.a160(c.TREASURY))]
        return [("payments go to the caller", to == env.caller)]

    transfer_ok = lambda to, amount, env: amount <= env.pre.held  # noqa: E731  (the series' only transfer of the call)
    token = honest.links(transfer_ok)
    token[(c.TOKEN, honest.transfer)] = Link(token[(c.TOKEN, honest.transfer)].assume, pays_to)
    links = {
        **token,
        (c.STOCK, c.selector("treasury()")): Link(lambda cl, env, h: [cl.ok, cl.word(0) == c.TREASURY]),
        # The treasury's sweep (validated in its own right) divides what it was just sent.
        (c.TREASURY, c.selector("sweep()")): Link(lambda cl, env, h: [cl.ok]),
    }

    def involved(s: State, env: Env) -> list:
        return [env.caller, mm.HOLDER, mm.FROM]

    def bounds(s: State, env: Env) -> list[tuple[str, z3.BoolRef]]:
        who = involved(s, env)
        return [
            ("the caller is not the zero address (no key signs for it) nor the series itself (it calls none of "
             "its own functions)", z3.And(env.caller != 0, env.caller != c.CLONE)),
            (f"payments below 2**{PAID_BITS}", z3.And(s.totalPaid < 2**PAID_BITS)),
            ("withdrawn in total at most paid in total", s.totalWithdrawn <= s.totalPaid),
            (f"the balances of the accounts involved below 2**{BALANCE_BITS} (at most the face value)",
             z3.And(*[s.balances[a] < 2**BALANCE_BITS for a in who])),
            (f"the corrections of the accounts involved within 2**{CORRECTION_BITS} (at most face * totalPaid)",
             z3.And(*[z3.And(s.corrections[a] < 2**CORRECTION_BITS, s.corrections[a] > -(2**CORRECTION_BITS))
                      for a in who])),
            ("the face value between 1 and 2**128 (the common stock checks the price)", mm.SERIES_PARAMS),
        ]

    def assume(env: Env) -> list[z3.BoolRef]:
        return [mm.ISSUER == c.a160(c.STOCK), mm.FACE == z3.BV2Int(face_word),
                env.pre.held == honest.initial(c.a160(c.CLONE))]

    contract = ContractSpec(
        name="BondSeries", address=c.CLONE, code=code, implementation=(c.SERIES_IMPL, runtime), state=mm.SeriesState,
        places=places, links=links, neighbours={c.TOKEN: "token", c.STOCK: "CommonStock", c.TREASURY: "Treasury"},
        bounds=bounds, assume=assume, invariant=tuple(properties.SERIES_INVARIANT), terms=involved)

    T = {t.name: t for t in mm.SERIES_TRANSITIONS}

    def pay_then_transfer(s: State, env: Env):
        """The model's `pay` includes the issuer's transfer of `amount` right after (the token's own
        function, in the same transaction): the series' balance does not change in `pay` itself."""
        reverts = T["pay"].reverts(s, env.caller, env.value)
        post = T["pay"].post(s, env.caller, env.value)
        return reverts, post.replace(held=post.held - mm.AMOUNT)

    fns = [
        Function("mint(address,uint256)", T["mint"], (Arg("address", mm.HOLDER), Arg("uint256", mm.AMOUNT))),
        Function("pay(uint256)", T["pay"], (Arg("uint256", mm.AMOUNT),),
                 variants=(Variant("then the issuer's transfer", (), pay_then_transfer),),
                 assume=lambda env: [env.pre.totalPaid + mm.AMOUNT < 2**PAID_BITS]),
        Function("withdrawPayments()", T["withdrawPayments"]),
        Function("transfer(address,uint256)", T["transfer"], (Arg("address", mm.HOLDER), Arg("uint256", mm.AMOUNT))),
        Function("transferFrom(address,address,uint256)", T["transferFrom"],
                 (Arg("address", mm.FROM), Arg("address", mm.HOLDER), Arg("uint256", mm.AMOUNT))),
        Function("approve(address,uint256)", T["approve"], (Arg("address", mm.HOLDER), Arg("uint256", mm.AMOUNT))),
        Function("sweep()", T["sweep"]),
        Function("<receive or fallback>", T["<receive or fallback>"],
                 variants=(Variant("plain ETH (no calldata)", (0,)), Variant("an unknown selector", (36,))),
                 assume=lambda env: [unknown_selector(36, artifact.abi)] if env.lengths.get("raw") == 36 else []),
    ]
    return contract, fns
