"""Probe a settlement token before a commune is deployed on it: does it move exactly the amount asked?

The commune's books count base units, so its settlement token must move exactly the amount asked:
a fee-on-transfer token, a rebasing one, or one that turns a fee on later, makes the books drift
from the balance. :func:`probe_token` measures that on any chain where the caller holds none of
the token and may hold no ETH, without sending a transaction:

1. ``contracts/probes/TokenProbe.sol``'s runtime code is injected at a fresh address by an
   ``eth_call`` state override (it is never deployed);
2. the token's balance slot for that address is found: from ``eth_createAccessList`` on
   ``balanceOf(probe)`` where the node has it (anvil, geth), else by trying the usual mapping
   layouts (Solidity's ``keccak256(abi.encode(holder, slot))`` and Vyper's
   ``keccak256(abi.encode(slot, holder))`` for slots 0..63); a slot counts only when ``balanceOf``
   read back with that slot overridden shows the balance;
3. one ``eth_call`` with both overrides runs ``TokenProbe.probe``: a ``transfer`` to a fresh
   receiver, then ``approve`` (to itself) and ``transferFrom`` to another, with both balances read
   around each move.

Nothing is sent and no state stays behind: every step is an ``eth_call``.

Example::

    >>> from vcengine.chains import connect
    >>> from vcengine.token import TestStablecoinClient
    >>> from vcengine.token_probe import probe_token
    >>> with connect("tester") as chain:
    ...     token = TestStablecoinClient.deploy(chain, chain.accounts[0])
    ...     result = probe_token(chain, token.address)
    >>> result.ok, result.transfer.delivered, result.balance_slot.found_by
    (True, 1000000, 'Solidity mapping at slot 0')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from vcengine.chains import Chain
from vcengine.client import ErrorDecoder, InputError, _abi_type, require_address, require_int, revert_data
from vcengine.compiler import CompileResult, load_artifacts

#: Gas given to each probing call (a node caps eth_call gas; ten million is below every usual cap).
PROBE_GAS = 10_000_000
#: Storage slots tried for each mapping layout when the node has no eth_createAccessList.
MAPPING_SLOTS = 64

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_DECIMALS = function_signature_to_4byte_selector("decimals()")
_PROBE_VERSION = keccak(text="vcengine.TokenProbe.v1")
_ADVICE = "the commune's contracts would refuse every payment; choose a token that moves exactly the amount asked"


class TokenProbeUnavailable(Exception):
    """The token cannot be probed on this node (no state overrides, or no balance slot found)."""


@dataclass(frozen=True)
class BalanceSlot:
    """Where the token keeps the probe's balance: a storage slot of ``address`` (usually the token)."""

    address: str
    slot: int
    #: How it was found: "access list", "Solidity mapping at slot N" or "Vyper mapping at slot N".
    found_by: str
    #: The value written there to give the probe its balance (shares, for a rebasing token).
    value: int


@dataclass(frozen=True)
class MoveResult:
    """One move of ``amount`` by the probe, and the balances read around it."""

    path: str  # "transfer" or "transferFrom"
    amount: int
    receiver: str
    approved: bool  # approve succeeded (always True for the plain transfer)
    reverted: bool
    succeeded: bool  # neither reverted nor returned false
    return_data: bytes
    sender_before: int
    sender_after: int
    receiver_before: int
    receiver_after: int

    @property
    def debited(self) -> int:
        """How much the sender's balance fell (negative if it rose)."""
        return self.sender_before - self.sender_after

    @property
    def delivered(self) -> int:
        """How much the receiver's balance rose (negative if it fell)."""
        return self.receiver_after - self.receiver_before

    @property
    def exact(self) -> bool:
        """The move succeeded and debited and delivered exactly ``amount``."""
        return self.approved and self.succeeded and self.debited == self.amount and self.delivered == self.amount


@dataclass(frozen=True)
class TokenProbeResult:
    """What the settlement token moved for ``amount`` by ``transfer`` and by ``transferFrom``."""

    token: str
    amount: int
    probe_address: str
    balance_slot: BalanceSlot
    transfer: MoveResult
    transfer_from: MoveResult
    #: Why each move that reverted did, decoded from every compiled ABI, keyed by path.
    reasons: dict[str, str]

    @property
    def ok(self) -> bool:
        """Both paths debit the sender and deliver to the receiver exactly the amount asked."""
        return self.transfer.exact and self.transfer_from.exact

    @property
    def message(self) -> str:
        """One sentence naming the token and what it moved."""
        if self.ok:
            return (f"settlement token {self.token} moves exactly the amount asked: {self.amount} base units "
                    f"debited and delivered by transfer and by transferFrom")
        problems: dict[str, list[str]] = {}
        for move in (self.transfer, self.transfer_from):
            if not move.exact:
                problems.setdefault(self._problem(move), []).append(move.path)
        said = "; ".join(f"{problem} on {' and on '.join(paths)}" for problem, paths in problems.items())
        return f"settlement token {self.token} {said}{self._kind()}: {_ADVICE}"

    def _problem(self, move: MoveResult) -> str:
        if not move.approved:
            return f"refuses to approve {move.amount} base units"
        if move.reverted:
            reason = self.reasons.get(move.path) or "no reason given"
            return f"reverts a move of {move.amount} base units from a holder of enough ({reason})"
        if not move.succeeded:
            return f"returns false for a move of {move.amount} base units from a holder of enough"
        parts = []
        if move.delivered != move.amount:
            parts.append(f"delivers {move.delivered} of {move.amount} base units")
        if move.debited != move.amount:
            parts.append(f"debits the sender {move.debited}" if parts else
                         f"debits the sender {move.debited} base units for {move.amount}")
        return " and ".join(parts)

    def _kind(self) -> str:
        moved = [m for m in (self.transfer, self.transfer_from) if m.approved and m.succeeded and not m.exact]
        if not moved:
            return ""
        if any(m.delivered < m.amount for m in moved):
            return " (a fee-on-transfer or rebasing token)"
        if any(m.debited > m.amount for m in moved):
            return " (a token that charges the sender more than the amount)"
        return " (a token that moves another amount than asked, e.g. a rebasing token or a transfer hook)"


def probe_address(token: str) -> str:
    """The fresh address the probe runs at for ``token`` (no key exists for it)."""
    return to_checksum_address(keccak(b"vcengine.token_probe:" + bytes.fromhex(token[2:]))[12:])


def probe_token(
    chain: Chain, token_address: str, amount: int | None = None, artifacts: CompileResult | None = None
) -> TokenProbeResult:
    """Measure what ``token_address`` moves for ``amount`` base units (default one whole token).

    Raises :class:`TokenProbeUnavailable` when the node applies no ``eth_call`` state overrides or
    no storage slot holding the probe's balance is found, and :class:`InputError` for an address
    without code or a bad amount. Sends nothing.
    """
    artifacts = artifacts or load_artifacts()
    token = require_address(token_address, "settlement token")
    if not chain.w3.eth.get_code(token):
        raise InputError(f"settlement token {token} has no code on chain {chain.name!r}: it is not a token here")
    if amount is None:
        amount = 10 ** _decimals(chain, token)
    require_int(amount, "probe amount", 1, (2**256 - 1) // 2)
    art = artifacts["TokenProbe"]
    code = art.deployed_bytecode
    probe = probe_address(token)
    _check_overrides(chain, probe, code)

    slot = _find_balance_slot(chain, token, probe, 2 * amount)
    overrides: dict[str, Any] = {probe: {"code": code}}
    overrides.setdefault(slot.address, {}).setdefault("stateDiff", {})[_word(slot.slot)] = _word(slot.value)
    fn = next(i for i in art.abi if i.get("type") == "function" and i["name"] == "probe")
    data = function_signature_to_4byte_selector("probe(address,uint256)") + abi_encode(["address", "uint256"], [token, amount])
    decoder = ErrorDecoder([a.abi for a in artifacts.artifacts.values()])
    try:
        output = chain.call_with_overrides({"to": probe, "data": "0x" + data.hex(), "gas": PROBE_GAS}, overrides)
    except Exception as exc:
        raw = revert_data(exc)
        if raw is None:
            raise
        raise TokenProbeUnavailable(f"probing settlement token {token} reverted: {decoder.decode(raw)}") from None
    moves = []
    for path, values in zip(("transfer", "transferFrom"), abi_decode([_abi_type(o) for o in fn["outputs"]], output)):
        receiver, approved, reverted, succeeded, returned, *balances = values
        moves.append(MoveResult(path, amount, to_checksum_address(receiver), approved, reverted, succeeded,
                                bytes(returned), *balances))
    reasons = {m.path: str(decoder.decode(m.return_data)) for m in moves if m.reverted}
    return TokenProbeResult(token, amount, probe, slot, moves[0], moves[1], reasons)


# ---------------------------------------------------------------------------------- steps


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _decimals(chain: Chain, token: str) -> int:
    try:
        out = chain.w3.eth.call({**chain.call_defaults, "to": token, "data": "0x" + _DECIMALS.hex()})
        decimals = abi_decode(["uint8"], bytes(out))[0]
    except Exception as exc:
        raise InputError(f"settlement token {token} answers no decimals(): give the probe amount in base units") from exc
    return int(decimals)


def _check_overrides(chain: Chain, probe: str, code: str) -> None:
    """Raise TokenProbeUnavailable unless the node runs code injected by a state override."""
    tx = {"to": probe, "data": "0x" + function_signature_to_4byte_selector("probeVersion()").hex(), "gas": PROBE_GAS}
    try:
        out = chain.call_with_overrides(tx, {probe: {"code": code}})
    except Exception as exc:
        raise TokenProbeUnavailable(
            f"chain {chain.name!r} does not support eth_call state overrides ({exc}): a settlement token can only "
            "be probed without holding it on a node that does (geth, anvil, erigon, reth and most providers do)"
        ) from None
    if out != _PROBE_VERSION:
        raise TokenProbeUnavailable(
            f"chain {chain.name!r} ignored the eth_call state override (the injected probe code did not run): "
            "a settlement token can only be probed without holding it on a node that applies state overrides"
        )


def read_uint(chain: Chain, contract: str, data: bytes, overrides: dict[str, Any]) -> int | None:
    """The first word ``contract`` returns for calldata ``data`` under ``overrides`` (None: it
    reverts or returns nothing)."""
    tx = {"to": contract, "data": "0x" + data.hex(), "gas": PROBE_GAS}
    try:
        if overrides:
            out = chain.call_with_overrides(tx, overrides)
        else:
            out = bytes(chain.w3.eth.call({**chain.call_defaults, **tx}))
    except Exception as exc:
        if revert_data(exc) is None:
            raise
        return None
    return int.from_bytes(out[:32], "big") if len(out) >= 32 else None


def access_list_slots(chain: Chain, contract: str, data: bytes) -> list[tuple[str, int]]:
    """The storage slots the call ``data`` to ``contract`` reads, from eth_createAccessList
    (``contract``'s own first; [] if the node has no eth_createAccessList)."""
    tx = {**chain.call_defaults, "to": contract, "data": "0x" + data.hex()}
    try:
        result = chain.w3.eth.create_access_list(tx, "latest")
    except Exception:  # the node has no eth_createAccessList (eth-tester, some providers): guess the layouts
        return []
    entries = sorted(result["accessList"], key=lambda e: to_checksum_address(e["address"]) != contract)
    return [(to_checksum_address(e["address"]), int.from_bytes(bytes(k), "big") if not isinstance(k, str) else int(k, 16))
            for e in entries for k in e["storageKeys"]]


def _mapping_slots(token: str, holder: str) -> list[tuple[str, int, str]]:
    """Where a ``mapping(address => uint256)`` at slot 0..63 keeps ``holder``: Solidity's and Vyper's layout."""
    padded = abi_encode(["address"], [holder])
    out = []
    for n in range(MAPPING_SLOTS):
        slot = n.to_bytes(32, "big")
        out.append((token, int.from_bytes(keccak(padded + slot), "big"), f"Solidity mapping at slot {n}"))
        out.append((token, int.from_bytes(keccak(slot + padded), "big"), f"Vyper mapping at slot {n}"))
    return out


def nested_mapping_slots(token: str, outer: str, inner: str) -> list[tuple[str, int, str]]:
    """Where ``mapping(address => mapping(address => uint256))`` at slot 0..63 keeps
    ``[outer][inner]`` (an ERC-20's allowances): Solidity's and Vyper's layout."""
    a, b = abi_encode(["address"], [outer]), abi_encode(["address"], [inner])
    out = []
    for n in range(MAPPING_SLOTS):
        slot = n.to_bytes(32, "big")
        out.append((token, int.from_bytes(keccak(b + keccak(a + slot)), "big"), f"Solidity mapping at slot {n}"))
        out.append((token, int.from_bytes(keccak(keccak(slot + a) + b), "big"), f"Vyper mapping at slot {n}"))
    return out


def find_uint_slot(chain: Chain, contract: str, data: bytes, target: int,
                   guesses: list[tuple[str, int, str]], subject: str, what: str, read: str) -> BalanceSlot:
    """A storage slot that, overridden, makes the view call ``data`` to ``contract`` return at
    least ``target``: the slots eth_createAccessList lists for the call first, then ``guesses``;
    each is checked by reading the view back with the slot overridden."""
    baseline = read_uint(chain, contract, data, {})
    if baseline is None:
        raise TokenProbeUnavailable(f"{subject} does not answer {read}")
    listed = [(address, slot, "access list") for address, slot in access_list_slots(chain, contract, data)]
    seen = set()
    for address, slot, found_by in listed + guesses:
        if (address, slot) in seen:
            continue
        seen.add((address, slot))
        value = _verify_slot(chain, contract, data, address, slot, target, baseline)
        if value is not None:
            return BalanceSlot(address, slot, found_by, value)
    how = "the slots eth_createAccessList lists for it, nor " if listed else ""
    raise TokenProbeUnavailable(
        f"could not find where {subject} keeps {what}: neither {how}a Solidity or Vyper mapping at slots "
        f"0..{MAPPING_SLOTS - 1} moves {read}"
    )


def _find_balance_slot(chain: Chain, token: str, holder: str, target: int) -> BalanceSlot:
    """A storage slot that, overridden, gives ``holder`` a balance of at least ``target`` (checked by balanceOf)."""
    try:
        return find_uint_slot(chain, token, _BALANCE_OF + abi_encode(["address"], [holder]), target,
                              _mapping_slots(token, holder), f"settlement token {token}", "balances",
                              f"balanceOf({holder})")
    except TokenProbeUnavailable as exc:
        if "could not find" not in str(exc):
            raise
        raise TokenProbeUnavailable(f"{exc}; the token cannot be probed without holding it (test it with a real "
                                    "transfer of a small amount)") from None


def _verify_slot(chain: Chain, contract: str, data: bytes, address: str, slot: int, target: int,
                 baseline: int) -> int | None:
    """The value to write at (address, slot) for the view ``data`` to return at least ``target``, or
    None if the slot is not it.

    The first try writes ``target`` itself; a token whose slot holds shares (a rebasing token) shows
    another balance, and the value is scaled up until the balance reaches ``target``.
    """
    value = target
    for _ in range(4):
        balance = read_uint(chain, contract, data, {address: {"stateDiff": {_word(slot): _word(value)}}})
        if balance is None or balance == baseline or balance == 0:
            return None
        if balance >= target:
            return value
        value = value * target // balance + 1
        if value >= 2**256:
            return None
    return None
