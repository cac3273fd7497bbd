"""Z3 transition system of `contracts/CommuneFactory.sol` and its three deployers (`factory/Deployers.sol`).

What the factory must get right is the wiring: it names each contract of a commune to the others
before any exists, predicting each address from its deployer's account nonce as `created + 1`. The
state is each deployer's `created` counter and (a ghost of the EVM) its account `nonce`, which every
CREATE raises by one; a failed CREATE reverts the whole call. Whether a constructor reverts is an
input of the model (`*_CONSTRUCTOR_OK`): the constructors are modelled in `commune_model.py`,
`money_model.py` and `stock_model.py`, and their wiring cross-checks are what make a misprediction
revert instead of producing a miswired commune. Whether the settlement token has code is the input
`TOKEN_HAS_CODE`. None of these contracts has a payable entry point or stores anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from verification.terms import Int, State, Transition, con, sorted_field
from verification.terms import step as terms_step

DEPLOYERS = ("commune", "treasury", "stock")

COMMUNE_OK = z3.Bool("Commune_constructor_succeeds")
TREASURY_OK = z3.Bool("Treasury_constructor_succeeds")
STOCK_OK = z3.Bool("CommonStock_constructor_succeeds")
TOKEN_HAS_CODE = z3.Bool("token_has_code")


@dataclass
class FactoryState(State):
    communeCreated: z3.ArithRef = sorted_field(Int)
    treasuryCreated: z3.ArithRef = sorted_field(Int)
    stockCreated: z3.ArithRef = sorted_field(Int)
    communeNonce: z3.ArithRef = sorted_field(Int)  # EVM account nonces of the deployers (ghosts)
    treasuryNonce: z3.ArithRef = sorted_field(Int)
    stockNonce: z3.ArithRef = sorted_field(Int)
    # What the last successful `create` predicted and what it got (ghosts, for the wiring rule).
    predicted: z3.ArithRef = sorted_field(Int)
    created: z3.ArithRef = sorted_field(Int)


def initial() -> FactoryState:
    """Fresh deployers: EIP-161 starts a contract's nonce at 1; nothing created."""
    zero, one = con(0), con(1)
    return FactoryState(communeCreated=zero, treasuryCreated=zero, stockCreated=zero, communeNonce=one,
                        treasuryNonce=one, stockNonce=one, predicted=zero, created=zero)


def _deploy(which: str, ok: z3.BoolRef) -> Transition:
    """`XDeployer.deploy`: `++created; new X(...)`: the CREATE uses the current nonce, then raises it."""

    def post(s: FactoryState, caller, value) -> FactoryState:
        return s.replace(**{f"{which}Created": getattr(s, f"{which}Created") + 1,
                            f"{which}Nonce": getattr(s, f"{which}Nonce") + 1})

    return Transition("deploy", {}, lambda s, caller, value: z3.Or(value != 0, z3.Not(ok)), post)


def _create_post(s: FactoryState, caller, value) -> FactoryState:
    # predict(): each deployer's next address is CREATE(deployer, created + 1); the deployer then
    # creates at its current nonce. Record both for the commune (the treasury and stock alike).
    predicted = s.communeCreated + 1
    actual = s.communeNonce
    s2 = s
    for which in DEPLOYERS:
        s2 = s2.replace(**{f"{which}Created": getattr(s2, f"{which}Created") + 1,
                           f"{which}Nonce": getattr(s2, f"{which}Nonce") + 1})
    return s2.replace(predicted=predicted, created=actual)


def _create_reverts(s: FactoryState, caller, value) -> z3.BoolRef:
    mismatch = z3.Or(*[getattr(s, f"{w}Created") + 1 != getattr(s, f"{w}Nonce") for w in DEPLOYERS])
    return z3.Or(value != 0, z3.Not(TOKEN_HAS_CODE), z3.Not(COMMUNE_OK), z3.Not(TREASURY_OK), z3.Not(STOCK_OK),
                 mismatch)  # FactoryAddressMismatch (and the constructors' *Miswired checks)


RECEIVE = Transition("<receive or fallback>", {}, lambda s, caller, value: z3.BoolVal(True),
                     lambda s, caller, value: s)

#: Contract -> its transitions (each deployer's `deploy`, the factory's `create`).
TRANSITIONS: dict[str, list[Transition]] = {
    "CommuneFactory": [Transition("create", {}, _create_reverts, _create_post), RECEIVE],
    "CommuneDeployer": [_deploy("commune", COMMUNE_OK), RECEIVE],
    "TreasuryDeployer": [_deploy("treasury", TREASURY_OK), RECEIVE],
    "StockDeployer": [_deploy("stock", STOCK_OK), RECEIVE],
}

#: Every transition of the four contracts, run against the one shared state.
ALL: list[Transition] = [t for ts in TRANSITIONS.values() for t in ts]

step = terms_step
