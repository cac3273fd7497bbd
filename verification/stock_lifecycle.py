"""Z3 model of how `CommonStock`'s functions move an asset through its lifecycle (for P7).

Each state-changing function is a relation between an asset's state before and after, with the
guards of the Solidity code (the state it requires, whether the sale has a leader, whether the
bond sale cleared) left symbolic. The solver enumerates every (before, after) pair any function
allows; P7 holds when that set is inside the documented lifecycle, and when only a settled
liquidation with a buyer gives anyone title.
"""

from __future__ import annotations

import z3

STATES = ["None", "Auction", "Failed", "Rented", "RentalAuction", "Liquidation", "Liquidated"]
S = {name: i for i, name in enumerate(STATES)}

# Function -> (relation over pre, post, guards, title change)
pre, post = z3.Ints("pre post")
cleared, leader, reverted = z3.Bools("cleared hasLeader reverted")
title_set = z3.Bool("titleSet")


def _fn(required: str | None, after: z3.ArithRef | None, gives_title: z3.BoolRef | bool = False) -> z3.BoolRef:
    """A function that requires `required` (reverting otherwise) and leaves the asset in `after`.

    A call that reverts (wrong state, or any of the code's other checks) changes nothing; the
    relation is over calls that succeed.
    """
    ok = z3.BoolVal(True) if required is None else pre == S[required]
    effect = z3.And(post == (after if after is not None else pre), title_set == gives_title)
    return z3.And(ok, z3.Not(reverted), effect)


FUNCTIONS: dict[str, z3.BoolRef] = {
    "requestAsset": _fn("None", z3.IntVal(S["Auction"])),
    "bid": _fn("Auction", None),
    "settle": _fn("Auction", z3.If(cleared, S["Rented"], S["Failed"])),
    "claim": _fn(None, None),
    "withdraw": _fn(None, None),
    "payRent": _fn("Rented", None),
    "returnAsset": _fn("Rented", z3.IntVal(S["RentalAuction"])),
    "reclaim": _fn("Rented", z3.IntVal(S["RentalAuction"])),
    "bidRent": _fn("RentalAuction", None),
    "settleRental": _fn("RentalAuction", z3.If(leader, S["Rented"], S["Liquidation"])),
    "bidLiquidation": _fn("Liquidation", None),
    "settleLiquidation": _fn("Liquidation", z3.If(leader, S["Liquidated"], S["Liquidation"]), leader),
}


def transitions_of_stock(functions: dict[str, z3.BoolRef] | None = None) -> set[tuple[str, str]]:
    """Every (before, after) pair of different states, or a self-loop that re-opens a sale."""
    found: set[tuple[str, str]] = set()
    for name, relation in (functions or FUNCTIONS).items():
        solver = z3.Solver()
        solver.add(relation, pre >= 0, pre < len(STATES))
        while solver.check() == z3.sat:
            m = solver.model()
            a, b = m.eval(pre).as_long(), m.eval(post).as_long()
            if a != b or name.startswith("settle"):  # a settlement that leaves the state as it was re-opens a sale
                found.add((STATES[a], STATES[b]))
            solver.add(z3.Or(pre != a, post != b))
    return found


def title_only_from_liquidation(functions: dict[str, z3.BoolRef] | None = None) -> list[str]:
    """Functions that can give anyone title to an asset, and from which state."""
    givers = []
    for name, relation in (functions or FUNCTIONS).items():
        solver = z3.Solver()
        solver.add(relation, title_set)
        if solver.check() == z3.sat:
            m = solver.model()
            givers.append(f"{name} from {STATES[m.eval(pre).as_long()]}")
    return givers
