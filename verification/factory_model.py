"""Z3 transition system of `contracts/CommuneFactory.sol`: communes as clones.

What the factory must get right is the wiring: it writes every clone's address into the one
immutable-argument blob (`CommuneArgs`) that all three clones of a commune carry, before any of
them exists, predicting each from its own account nonce as `created + 1 + k`. The state is the
factory's `created` counter and (a ghost of the EVM) its account `nonce`, which every CREATE raises
by one (the factory creates nothing but clones, with CREATE: `Clones.cloneWithImmutableArgs`); a
failed CREATE, a misprediction (`FactoryAddressMismatch`) or a reverting initialiser reverts the whole
call. Addresses are modelled by the nonce they were created at (CREATE's address is a function of the
creator and the nonce, injective as far as keccak256 is collision-free), so "at the address named"
is "at the nonce named".

Ghosts of the last successful `create` / `createMembership`: the nonce each clone was named at in the
args (`arg*`), the nonce it was created at (`at*`), and how many times each clone with state was
initialised in that call (`*Inits`; a fresh clone starts uninitialised, and `Initializable` makes a
second `initialize` revert). Whether each initialiser accepts its arguments (the founders, the bounds:
`commune_model.py`, `stock_model.py`) is an input (`*_INIT_OK`); the token having code and the period
being within bounds are the inputs `TOKEN_HAS_CODE` and `PERIOD_OK`. Nothing is payable.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from verification.terms import Bool, Int, State, Transition, con, sorted_field
from verification.terms import step as terms_step

CLONES = ("commune", "treasury", "stock")

COMMUNE_INIT_OK = z3.Bool("Commune_initialize_accepts")
STOCK_INIT_OK = z3.Bool("CommonStock_initialize_accepts")
TOKEN_HAS_CODE = z3.Bool("token_has_code")
PERIOD_OK = z3.Bool("0 < periodSeconds <= 100 years")


@dataclass
class FactoryState(State):
    created: z3.ArithRef = sorted_field(Int)
    nonce: z3.ArithRef = sorted_field(Int)  # the factory's EVM account nonce (a ghost)
    argCommune: z3.ArithRef = sorted_field(Int)  # where the args blob says each clone is
    argTreasury: z3.ArithRef = sorted_field(Int)
    argStock: z3.ArithRef = sorted_field(Int)
    atCommune: z3.ArithRef = sorted_field(Int)  # where each clone was created
    atTreasury: z3.ArithRef = sorted_field(Int)
    atStock: z3.ArithRef = sorted_field(Int)
    communeInits: z3.ArithRef = sorted_field(Int)  # initialisations of the new clones in the call
    stockInits: z3.ArithRef = sorted_field(Int)
    communeInitialized: z3.BoolRef = sorted_field(Bool)  # `Initializable` flags of the new clones
    stockInitialized: z3.BoolRef = sorted_field(Bool)


def initial() -> FactoryState:
    """A fresh factory: EIP-161 starts a contract's nonce at 1; nothing created."""
    zero = con(0)
    return FactoryState(created=zero, nonce=con(1), argCommune=zero, argTreasury=zero, argStock=zero,
                        atCommune=zero, atTreasury=zero, atStock=zero, communeInits=zero, stockInits=zero,
                        communeInitialized=z3.BoolVal(False), stockInitialized=z3.BoolVal(False))


def _clones(s: FactoryState, which: tuple[str, ...]) -> tuple[z3.BoolRef, FactoryState]:
    """`predict()` into the args, `created += n`, each clone at the current nonce (raising it),
    `FactoryAddressMismatch` unless each lands where its args say, then the initialisers: each new
    clone (uninitialised) is initialised once by this factory (its args name it)."""
    named = {w: s.created + 1 + k for k, w in enumerate(which)}
    s2 = s.replace(created=s.created + len(which))
    at = {}
    for w in which:
        at[w] = s2.nonce
        s2 = s2.replace(nonce=s2.nonce + 1)
    mismatch = z3.Or(*[at[w] != named[w] for w in which])
    zero = con(0)
    s2 = s2.replace(**{f"arg{w.title()}": named.get(w, zero) for w in CLONES},
                    **{f"at{w.title()}": at.get(w, zero) for w in CLONES},
                    communeInitialized=z3.BoolVal(False), stockInitialized=z3.BoolVal(False),
                    communeInits=zero, stockInits=zero)
    reverts = [mismatch]
    # Commune.initialize: `initializer` (reverts if already initialised) then the factory check
    # (msg.sender is this factory, which the args name) and its own argument checks.
    reverts += [s2.communeInitialized, z3.Not(COMMUNE_INIT_OK)]
    s2 = s2.replace(communeInitialized=z3.BoolVal(True), communeInits=s2.communeInits + 1)
    if "stock" in which:
        reverts += [s2.stockInitialized, z3.Not(STOCK_INIT_OK)]
        s2 = s2.replace(stockInitialized=z3.BoolVal(True), stockInits=s2.stockInits + 1)
    return z3.Or(*reverts), s2


def _create(s: FactoryState, caller, value):
    reverts, s2 = _clones(s, CLONES)
    return z3.Or(value != 0, z3.Not(TOKEN_HAS_CODE), z3.Not(PERIOD_OK), reverts), s2


def _create_membership(s: FactoryState, caller, value):
    reverts, s2 = _clones(s, ("commune",))
    return z3.Or(value != 0, reverts), s2


RECEIVE = Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True),
                     lambda s, caller, value: s)

#: Contract -> its transitions.
TRANSITIONS: dict[str, list[Transition]] = {
    "CommuneFactory": [
        Transition("create", {}, lambda s, c, v: _create(s, c, v)[0], lambda s, c, v: _create(s, c, v)[1]),
        Transition("createMembership", {}, lambda s, c, v: _create_membership(s, c, v)[0],
                   lambda s, c, v: _create_membership(s, c, v)[1]),
        RECEIVE,
    ],
}

#: Every transition of the factory, run against its state.
ALL: list[Transition] = [t for ts in TRANSITIONS.values() for t in ts]

step = terms_step
