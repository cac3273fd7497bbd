"""Calls that pull tokens: simulated with the allowance they will have before anything is sent.

A call such as ``CommonStock.payRent`` pulls settlement tokens from the caller, so it needs an ERC-20
approval first. Sending the approval and then finding that the call is refused would leave a
standing allowance behind and spend gas for nothing. :func:`pay_and_call` therefore first runs the
call *as if* the approval had been made, and sends nothing at all when it would be refused:

``snapshot``
    On a chain this process alone uses (the embedded chain, an anvil this process started): a
    snapshot, the real ``approve``, an estimate of the call, and a revert to the snapshot. Exact for
    any token. (On a node other clients use, a revert would also undo their transactions mined in
    the meantime, so it is never done there.)
``override``
    Anywhere else: the token's allowance slot for (owner, spender) is found, from
    ``eth_createAccessList`` on ``allowance(owner, spender)`` or the usual Solidity and Vyper
    layouts, each candidate checked by reading ``allowance`` back with it overridden; then
    ``eth_estimateGas`` (or, where the node takes no overrides there, ``eth_call``) of the call with
    that slot overridden.
``views``
    Where the node applies no state overrides: the call runs on the real state. The commune's
    contracts check every precondition a caller controls (access, state, times, amounts, terms)
    before they first move a token, so a refusal by a commune contract is a refusal of the call;
    a refusal by the token (its allowance, which is not there yet) means every check before the
    first transfer passed. The caller's token balance is then read through ``balanceOf``. What
    runs after the first transfer is not seen: in ``payRent`` the treasury's bookkeeping of the
    member part (its own invariants, not the caller's input), and an inexact token move
    (``SettlementTokenInexact``, e.g. a fee switched on after deployment). Such a late refusal
    reverts the call when it is sent; the approval is then put back (see below).

If the call is refused when it is sent after all (the state moved between the simulation and the
call's block: a close time passed, another bid landed), the approval is put back to what it was,
in a transaction the command shows, so that no allowance is left standing.

In every mode a refusal raises :class:`ContractReverted` (the commune's custom error by name), a
balance below the amount raises :class:`InsufficientTokens`, and the ETH for the gas of both
transactions is checked before the first is signed. Only then is the exact allowance approved
(never an unlimited one) and the call sent.

Example::

    >>> paid = pay_and_call(stock, token, 1_200 * 10**6, "payRent", (1, 1), sender=renter)
    >>> [t.tx_hash for t in paid.transactions]   # the approval (if the allowance was short), the call
    ['0x5c...', '0x9a...']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector

from vcengine.client import GAS_MARGIN, ContractClient, ContractReverted, InputError, TxResult, require_gas_funds

#: Errors that come from the token's side of a transfer, not from the commune's rules.
TOKEN_ERRORS = frozenset({"ERC20InsufficientAllowance", "ERC20InsufficientBalance", "SafeERC20FailedOperation",
                          "Error", "Panic", "", "SettlementTokenInexact"})
#: Gas assumed for a call whose estimate the node could not give under a state override.
UNKNOWN_CALL_GAS = 1_000_000

_ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")


class InsufficientTokens(InputError):
    """The caller holds fewer tokens than the call pulls; nothing was sent."""


@dataclass(frozen=True)
class Paid:
    """What :func:`pay_and_call` sent: the approval (None when the allowance sufficed) and the call."""

    approval: TxResult | None
    tx: TxResult

    @property
    def transactions(self) -> list[TxResult]:
        return [t for t in (self.approval, self.tx) if t is not None]


@dataclass(frozen=True)
class Simulation:
    """How the call was checked (``snapshot``, ``override`` or ``views``) and its gas, if known."""

    mode: str
    gas: int | None


def pay_and_call(client: ContractClient, token: Any, amount: int, function: str, args: Sequence[Any],
                 sender: LocalAccount) -> Paid:
    """Send ``client.function(*args)``, which pulls ``amount`` of ``token`` from ``sender``, approving
    exactly ``amount`` first when the allowance is short, and only if the call would succeed."""
    spender = client.address
    previous = token.allowance(sender.address, spender)
    if previous >= amount:
        try:
            return Paid(None, client.transact(function, *args, sender=sender))
        except ContractReverted as exc:
            _explain_token_refusal(exc, token, amount, sender.address)
            raise
    simulation = simulate(client, token, amount, function, args, sender)
    approve_gas = token.estimate("approve", spender, amount, sender=sender.address)
    gas = [_with_margin(approve_gas), _with_margin(simulation.gas or UNKNOWN_CALL_GAS)]
    cost = require_gas_funds(client.chain, sender.address, gas, 0, f"approve and {client.CONTRACT}.{function}")
    observer = client.chain.observer
    if observer is not None:  # one confirmation for both transactions
        if hasattr(observer, "simulated"):
            observer.simulated(client.CONTRACT, function, simulation.mode)
        observer.before_send(client.CONTRACT, function, cost)
    approval = token.approve(spender, amount, sender)
    try:
        return Paid(approval, client.transact(function, *args, sender=sender))
    except ContractReverted as exc:
        # The state moved between the simulation and the call's block (a close time passed, another
        # bid landed): the call is refused after all. The approval must not stand: it is put back
        # to what it was, as a transaction the command shows, and the refusal is raised.
        _restore_allowance(token, spender, previous, sender, exc)
        raise


def _restore_allowance(token: Any, spender: str, previous: int, sender: LocalAccount, exc: ContractReverted) -> None:
    try:
        if token.allowance(sender.address, spender) != previous:
            token.approve(spender, previous, sender)
    except Exception as undo:  # the refusal is what the user must hear; say the allowance could not be undone
        exc.args = (f"{exc.args[0] if exc.args else exc}; the approval made for it could not be put back "
                    f"({undo}): approve {spender} for {previous} to undo it",)


def simulate(client: ContractClient, token: Any, amount: int, function: str, args: Sequence[Any],
             sender: LocalAccount) -> Simulation:
    """Run ``client.function(*args)`` from ``sender`` as if ``token`` allowed it ``amount``; raise
    what it would raise. Nothing is sent (see the module's text for the three modes)."""
    chain = client.chain
    mode = chain.simulation
    try:
        if mode == "snapshot":
            return Simulation(mode, _by_snapshot(client, token, amount, function, args, sender))
        if mode == "override":
            found = _by_override(client, token, amount, function, args, sender)
            if found is not None:
                return found
        return Simulation("views", _by_views(client, token, amount, function, args, sender))
    except ContractReverted as exc:
        _explain_token_refusal(exc, token, amount, sender.address)
        raise


# ------------------------------------------------------------------------- modes


def _by_snapshot(client: ContractClient, token: Any, amount: int, function: str, args: Sequence[Any],
                 sender: LocalAccount) -> int:
    chain = client.chain
    snapshot = chain.snapshot()
    try:
        with chain.muted():
            token.approve(client.address, amount, sender)
            return client.estimate(function, *args, sender=sender.address)
    finally:
        chain.revert(snapshot)


def _by_override(client: ContractClient, token: Any, amount: int, function: str, args: Sequence[Any],
                 sender: LocalAccount) -> Simulation | None:
    """The call with the allowance slot overridden; None when the node cannot do it (then: views)."""
    from vcengine.token_probe import TokenProbeUnavailable, _word, find_uint_slot, nested_mapping_slots

    chain = client.chain
    data = _ALLOWANCE + abi_encode(["address", "address"], [sender.address, client.address])
    try:
        slot = find_uint_slot(chain, token.address, data, amount,
                              nested_mapping_slots(token.address, sender.address, client.address),
                              f"token {token.address}", "allowances", f"allowance({sender.address}, {client.address})")
    except TokenProbeUnavailable:
        return None
    except Exception as exc:  # the node rejects state overrides altogether (not: the node is unreachable)
        _raise_if_unreachable(exc)
        return None
    overrides = {slot.address: {"stateDiff": {_word(slot.slot): _word(slot.value)}}}
    try:
        return Simulation("override", client.estimate(function, *args, sender=sender.address, overrides=overrides))
    except ContractReverted as exc:
        if not _from_token(exc):
            raise
        # the token still saw no allowance: this node ignores overrides in eth_estimateGas (the slot
        # was proven with eth_call), so eth_call decides
    except Exception as exc:  # no overrides in eth_estimateGas on this node: eth_call takes them
        _raise_if_unreachable(exc)
    tx = {"from": sender.address, "to": client.address, "data": client.contract.encode_abi(function, args=list(args))}
    try:
        chain.call_with_overrides(tx, overrides)
    except Exception as exc:
        from vcengine.client import revert_data

        raw = revert_data(exc)
        if raw is None:
            _raise_if_unreachable(exc)
            return None
        raise ContractReverted(client.CONTRACT, function, client.errors.decode(raw), raw) from None
    return Simulation("override", None)


def _by_views(client: ContractClient, token: Any, amount: int, function: str, args: Sequence[Any],
              sender: LocalAccount) -> int | None:
    """The call on the real state: a refusal by the commune's rules is final; the token's refusal of
    the missing allowance means every check before the first transfer passed."""
    try:
        return client.estimate(function, *args, sender=sender.address)  # it needed no allowance after all
    except ContractReverted as exc:
        if not _from_token(exc):
            raise
    held = token.balance_of(sender.address)
    if held < amount:
        raise _short(token, held, amount, sender.address)
    return None


# ------------------------------------------------------------------------ helpers


def _from_token(exc: ContractReverted) -> bool:
    """Whether a revert is the token's (its allowance or balance), not one of the commune's rules.

    The commune's contracts refuse with their own custom errors (declared in their ABIs); anything
    else, an ERC-20 error, a Panic of a token's checked arithmetic, a string, an empty revert or an
    error no compiled ABI knows, comes from the token's side of a transfer."""
    name = exc.name
    return name in TOKEN_ERRORS or name not in _commune_errors()


def _commune_errors() -> frozenset[str]:
    global _COMMUNE_ERRORS
    if _COMMUNE_ERRORS is None:
        from vcengine.compiler import load_artifacts

        artifacts = load_artifacts()
        _COMMUNE_ERRORS = frozenset(
            item["name"] for contract in ("Commune", "CommonStock", "Treasury", "BondSeries")
            for item in artifacts[contract].abi
            if item.get("type") == "error" and not item["name"].startswith(("ERC20", "SafeERC20")))
    return _COMMUNE_ERRORS


_COMMUNE_ERRORS: frozenset[str] | None = None


def _raise_if_unreachable(exc: BaseException) -> None:
    """A node that cannot be reached is not a node without state overrides: no silent fallback."""
    import requests

    if isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)):
        raise exc


def _explain_token_refusal(exc: ContractReverted, token: Any, amount: int, owner: str) -> None:
    """A refusal by the token because the caller holds too little becomes InsufficientTokens."""
    if _from_token(exc):
        held = token.balance_of(owner)
        if held < amount:
            raise _short(token, held, amount, owner) from None


def _short(token: Any, held: int, amount: int, owner: str) -> InsufficientTokens:
    from vcengine.display import Display

    show = Display(decimals=token.decimals(), symbol=token.symbol())
    return InsufficientTokens(
        f"{owner} holds {show.amount(held)}, less than the {show.amount(amount)} needed: nothing was sent"
        + ("; on a local network get test tokens with `vc faucet AMOUNT`" if token.chain.is_local else ""))


def _with_margin(gas: int) -> int:
    return int(gas * GAS_MARGIN) + 10_000
