"""Replay a validation witness on the embedded chain (py-evm), and read the fields it changed.

A `Witness` (`validate.Witness`) is a concrete counterexample: the caller, value, origin, time,
calldata and the words of the pre-state's storage the failing path touched. `replay` puts the
scene's code at its addresses in a py-evm state of the embedded chain's latest block, writes those
storage words, sends the calldata from the witness' caller (any address: the transaction is not
signed), reads the asked-for fields through the compiler's layout (`layout.Place`) and throws the
state away; the chain keeps no trace.

What is reproduced, and what is not (`Replayed.unreproduced` lists what a given witness needed
that the replay did not give it):

- reproduced: caller, value, calldata, block time (the state's execution context), the storage
  *words* of the witness (plain variables and struct words, e.g. `_roll`);
- the specification's symbolic immutables (the clone's arguments such as its governance or
  factory) are not in a witness: the scene's code is built by the caller (`commune_scene`) with the
  values the failing path needs, e.g. the governance account set to the witness' caller;
- not reproduced: `tx.origin` when it differs from the caller (a transaction's origin is its
  sender), the neighbours' answers (`oracles`: no neighbour code is installed), and mapping
  entries of the pre-state (a witness holds words only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak

from verification.bytecode import common as c
from verification.bytecode.layout import Place
from verification.bytecode.validate import Witness


@dataclass
class Replayed:
    """What the replayed call did: reverted or not, its output, the fields read after it, and the
    parts of the witness the replay could not reproduce."""

    reverted: bool
    output: bytes
    fields: dict[str, Any]
    unreproduced: list[str] = field(default_factory=list)


def slot(place: Place, keys: tuple[int, ...] = ()) -> int:
    """The storage slot of a field at concrete mapping keys (Solidity's rule: a mapping entry's slot
    is keccak(key . slot), levels nested outermost first; a struct's word added last)."""
    if len(keys) != len(place.keys):
        raise ValueError(f"{len(place.keys)} keys needed, {len(keys)} given")
    s = place.slot
    for k in keys:
        s = int.from_bytes(keccak(k.to_bytes(32, "big") + s.to_bytes(32, "big")), "big")
    return s + place.word


def decode(place: Place, word: int) -> Any:
    """A field's value in a concrete storage word: an int (uint, addr) or a bool."""
    bits = (word >> (8 * place.offset)) & ((1 << place.bits) - 1)
    return bits != 0 if place.kind in ("bool", "nonzero") else bits


def witness_of(w: Witness | dict) -> Witness:
    """A `Witness` from itself or from its `as_dict` (as a report's row holds it)."""
    if isinstance(w, Witness):
        return w
    return Witness(int(w["caller"], 16), int(w["value"]), int(w["origin"], 16), int(w["timestamp"]), w["calldata"],
                   dict(w["storage"]), list(w["oracles"]))


def commune_scene(artifact: Any, *, governance: int, factory: int = 0, eoa_only: bool = False, wired: bool = False,
                  grid_origin: int = 0, period: int = 30 * 24 * 3600, decimals: int = 6) -> dict[int, bytes]:
    """The code of the validated Commune scene: the implementation at `common.IMPLEMENTATION` and
    a clone of it at `common.CLONE` whose `CommuneArgs` are these (wired: to the scene's treasury,
    stock and token addresses, which have no code here)."""
    from vcengine.deploy import clone_code

    treasury, stock, token, series = (c.TREASURY, c.STOCK, c.TOKEN, c.SERIES_IMPL) if wired else (0, 0, 0, 0)
    blob = b"".join(a.to_bytes(20, "big") for a in (factory, c.CLONE, treasury, stock, token, series, governance))
    blob += grid_origin.to_bytes(8, "big") + period.to_bytes(4, "big") + bytes([decimals, int(eoa_only)])
    assert len(blob) == 154
    runtime = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    return {c.IMPLEMENTATION: runtime, c.CLONE: clone_code(f"{c.IMPLEMENTATION:040x}", blob)}


def replay(chain: Any, witness: Witness | dict, *, to: int, code: dict[int, bytes],
           read: dict[str, tuple[Place, tuple[int, ...]]], storage: dict[int, int] | None = None,
           gas: int = 10_000_000) -> Replayed:
    """Send the witness' call to ``to`` on ``chain`` (a `TesterChain`) with ``code`` installed and
    the witness' storage words (and ``storage``, extra words of ``to``, for pre-state conditions a
    witness does not hold) written, and read the fields ``read`` (name -> place and keys) after it.

    The call runs in a py-evm state of the latest block, between a snapshot and its revert."""
    from eth.vm.spoof import SpoofTransaction
    from eth_tester.backends.pyevm.main import _get_vm_for_block_number
    from eth_utils import to_canonical_address, to_checksum_address

    w = witness_of(witness)
    sender = to_checksum_address(f"0x{w.caller:040x}")
    tx = {"from": sender, "to": to_checksum_address(f"0x{to:040x}"), "gas": gas, "value": w.value,
          "data": w.calldata}
    tester = chain.tester
    tester.validator.validate_inbound_transaction(tx, txn_internal_type="call")
    raw = tester.normalizer.normalize_inbound_transaction(tx)
    backend = tester.backend
    unsigned = backend._get_normalized_and_unsigned_evm_transaction(raw, "latest")
    state = _get_vm_for_block_number(backend.chain, "latest").state
    unreproduced = []
    if w.origin != w.caller:
        unreproduced.append(f"tx.origin {w.origin:#042x} (the replay's origin is the caller)")
    if w.oracles:
        unreproduced.append(f"{len(w.oracles)} neighbour answer(s) (no neighbour code installed)")
    snapshot = state.snapshot()
    try:
        for address, bytecode in code.items():
            state.set_code(to_canonical_address(f"0x{address:040x}"), bytecode)
        target = to_canonical_address(f"0x{to:040x}")
        words = {int(k.removeprefix("slot ")): v for k, v in w.storage.items()}
        for s, v in {**words, **(storage or {})}.items():
            state.set_storage(target, s, v)
        caller = to_canonical_address(sender)
        price = getattr(unsigned, "max_fee_per_gas", None) or getattr(unsigned, "gas_price", 0)
        state.set_balance(caller, w.value + gas * price + 10**18)  # its gas and value
        context = state.execution_context
        if hasattr(context, "_timestamp"):
            context._timestamp = w.timestamp
        else:  # pragma: no cover - another py-evm
            unreproduced.append(f"block time {w.timestamp}")
        computation = state.apply_transaction(SpoofTransaction(unsigned, from_=caller))
        values = {name: decode(place, state.get_storage(target, slot(place, keys))) for name, (place, keys) in read.items()}
        return Replayed(computation.is_error, bytes(computation.output), values, unreproduced)
    finally:
        state.revert(snapshot)
