"""Run one call of a deployed contract's runtime bytecode symbolically, on halmos' engine.

halmos (`halmos.sevm.SEVM`, a maintained Z3 symbolic EVM) executes the bytes exactly as the chain
does. This module only sets the scene:

- the contract under test at its address, as deployed: for a clone, the EIP-1167 proxy bytes with
  its immutable argument blob appended (some of whose bytes may be symbolic) delegating to the
  implementation's runtime bytes, for the others the runtime bytes with their immutables filled in;
- its storage fully symbolic (halmos' Solidity storage model: every mapping is a Z3 array keyed by
  the hashed key, so the pre-state has any number of members, holders, assets and bids);
- a symbolic caller, `msg.value`, `tx.origin`, block time and ABI-encoded arguments;
- every neighbour the contract calls (the treasury, the stock, the token, a series) is an *oracle*:
  a call to it succeeds or fails and returns whatever the fresh symbols say. Those symbols are the
  model's inputs; the validator ties them to the model's names (`validate.py`), and the neighbour's
  own functions are validated in their own right.

`run(...)` returns every end state (`Path`): whether the call reverted, its path condition, the
post-state storage and the oracle calls made on the way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable

import z3

from halmos.bytevec import ByteVec
from halmos.calldata import FunctionInfo
from halmos.config import ConfigSource, default_config
from halmos.bitvec import HalmosBitVec
from halmos.contract import OP_CALL, OP_MUL, OP_STATICCALL
from halmos.sevm import (
    SEVM,
    Block,
    CallContext,
    CallOutput,
    Contract,
    Message,
    Path as HalmosPath,
    StorageData,
    copy_returndata_to_memory,
    f_div,
    f_mul,
)
from halmos.utils import con

#: halmos' uninterpreted MUL and DIV of two symbolic 256-bit words.
F_MUL = f_mul[256]
F_DIV = f_div

#: Bytes returned by every oracle call: enough for the widest answer any neighbour gives here.
ORACLE_RETURN_BYTES = 64

_counter = itertools.count()


@dataclass
class OracleCall:
    """One call from the contract to a neighbour: what was asked and what came back."""

    target: int
    selector: int | None
    data: ByteVec  # full calldata (selector and arguments, possibly symbolic)
    ok: z3.BoolRef  # the call succeeded (a fresh symbol)
    ret: z3.BitVecRef  # the returned words (a fresh symbol, ORACLE_RETURN_BYTES bytes)
    value: Any
    static: bool

    def word(self, i: int) -> z3.BitVecRef:
        """The i-th returned 32-byte word."""
        hi = ORACLE_RETURN_BYTES * 8 - 1 - 256 * i
        return z3.Extract(hi, hi - 255, self.ret)

    def arg(self, i: int) -> z3.BitVecRef:
        """The i-th 32-byte argument word after the selector."""
        word = self.data.slice(4 + 32 * i, 36 + 32 * i).unwrap()
        if isinstance(word, z3.ExprRef):
            return z3.simplify(word)
        return z3.BitVecVal(int.from_bytes(word, "big"), 256)


def _zero_or_one(t: z3.BitVecRef) -> z3.BoolRef | None:
    """The condition c if ``t`` is ``If(c, 1, 0)`` (or ``If(c, 0, 1)``, zero-extended or not)."""
    t = z3.simplify(t)
    if z3.is_app_of(t, z3.Z3_OP_ITE):
        a, b = t.arg(1), t.arg(2)
        if z3.is_bv_value(a) and z3.is_bv_value(b) and {a.as_long(), b.as_long()} == {0, 1}:
            return t.arg(0) if a.as_long() == 1 else z3.Not(t.arg(0))
    if z3.is_app_of(t, z3.Z3_OP_CONCAT) and t.num_args() == 2 and z3.is_bv_value(t.arg(0)) \
            and t.arg(0).as_long() == 0 and t.arg(1).size() == 1:
        return t.arg(1) == 1
    return None


class OracleContext(CallContext):
    """A call to a neighbour in halmos' trace, with what the oracle answered (`oracle`)."""


class OracleSEVM(SEVM):
    """halmos' SEVM, with calls to the given neighbour addresses answered by fresh symbols."""

    def __init__(self, options, fun_info, oracles: Iterable[int]):
        super().__init__(options, fun_info)
        self.oracles = {int(a) for a in oracles}

    def arith(self, ex, op, w1, w2):
        """halmos abstracts a product of two symbolic words as an uninterpreted function; a product
        with a 0-or-1 word (the branch-free `Math.min`, `x * toUint(cond)`) is exactly a choice, and
        is kept as one so the validator reasons about it."""
        if op == OP_MUL and w1.is_symbolic and w2.is_symbolic:
            for a, b in ((w1, w2), (w2, w1)):
                flag = _zero_or_one(a.as_z3())
                if flag is not None:
                    return HalmosBitVec(z3.If(flag, b.as_z3(), z3.BitVecVal(0, b.size)), size=b.size)
        return super().arith(ex, op, w1, w2)

    def call(self, ex, op, to_alias, stack) -> None:
        if op not in (OP_CALL, OP_STATICCALL) or to_alias is None or not z3.is_bv_value(to_alias) \
                or to_alias.as_long() not in self.oracles:
            return super().call(ex, op, to_alias, stack)
        ex.st.pop()  # gas
        ex.st.pop()  # to
        value = con(0) if op == OP_STATICCALL else ex.st.popi()
        arg_loc = ex.mloc(check_size=False)
        arg_size = ex.int_of(ex.st.pop(), "symbolic CALL input data size")
        ret_loc = ex.mloc(check_size=False)
        ret_size = ex.int_of(ex.st.pop(), "symbolic CALL return data size")
        arg = ex.st.mslice(arg_loc, arg_size)
        n = next(_counter)
        ok = z3.Bool(f"oracle{n}_ok")
        ret = z3.BitVec(f"oracle{n}_ret", ORACLE_RETURN_BYTES * 8)
        selector = None
        if arg_size >= 4:
            head = arg.slice(0, 4).unwrap()
            if isinstance(head, (bytes, bytearray)):
                selector = int.from_bytes(head, "big")
            elif z3.is_bv_value(z3.simplify(head)):
                selector = z3.simplify(head).as_long()
        record = OracleCall(to_alias.as_long(), selector, arg, ok, ret, value, op == OP_STATICCALL)
        returndata = ByteVec(ret)
        message = Message(target=to_alias, caller=ex.this(), origin=ex.origin(), value=value, data=arg,
                          is_static=op == OP_STATICCALL, call_scheme=op)
        context = OracleContext(message=message, output=CallOutput(data=returndata), depth=ex.context.depth + 1)
        context.oracle = record
        ex.context.trace.append(context)
        copy_returndata_to_memory(returndata, ret_loc, ret_size, ex)
        ex.st.push_any(z3.If(ok, z3.BitVecVal(1, 256), z3.BitVecVal(0, 256)))
        ex.advance()
        stack.push(ex)


@dataclass
class Scene:
    """Where the contract lives and who its neighbours are."""

    address: int  # the deployed contract (the clone, for clones)
    code: ByteVec | bytes  # its runtime code (proxy + args for a clone)
    implementation: tuple[int, bytes] | None = None  # (address, runtime) a clone delegates to
    oracles: tuple[int, ...] = ()
    balance: z3.ArrayRef | None = None


@dataclass
class Path:
    """One end state of a symbolic call."""

    reverted: bool
    conditions: list[z3.BoolRef]
    branches: list[z3.BoolRef]  # the branching conditions alone (the rest define fresh symbols)
    storage: StorageData  # the contract's storage after the call
    oracle_calls: list[OracleCall]
    returndata: Any
    error: Any
    stuck: Any = None
    balance: Any = None

    def condition(self) -> z3.BoolRef:
        return z3.And(*self.conditions) if self.conditions else z3.BoolVal(True)


@dataclass
class Call:
    """The symbolic inputs of one call."""

    caller: z3.BitVecRef
    value: z3.BitVecRef
    origin: z3.BitVecRef
    timestamp: z3.BitVecRef
    data: ByteVec
    fun_name: str = "call"


def halmos_options(timeout_ms: int = 10_000, loop: int = 4):
    return default_config().with_overrides(
        source=ConfigSource.command_line,
        solver_timeout_branching=timeout_ms / 1000,
        loop=loop,
        no_status=True,
        storage_layout="solidity",
    )


def _oracle_calls(ctx: CallContext) -> list[OracleCall]:
    found = []
    for t in ctx.trace:
        if isinstance(t, CallContext):
            rec = getattr(t, "oracle", None)
            if rec is not None:
                found.append(rec)
            found.extend(_oracle_calls(t))
    return found


def run(scene: Scene, call: Call, *, loop: int = 4, timeout_ms: int = 10_000,
        assumptions: Iterable[z3.BoolRef] = ()) -> tuple[list[Path], StorageData]:
    """Every end state of `call` on `scene`'s contract, and the (symbolic) pre-state storage.
    ``assumptions`` (bit-vector facts about the pre-state) start the path condition, so halmos
    prunes the branches they exclude."""
    options = halmos_options(timeout_ms, loop)
    fun_info = FunctionInfo(call.fun_name, call.fun_name, call.fun_name)
    sevm = OracleSEVM(options, fun_info, scene.oracles)
    solver = z3.SolverFor("QF_AUFBV")
    solver.set(timeout=timeout_ms)
    target = con(scene.address, 160)
    code = {target: Contract(scene.code if isinstance(scene.code, ByteVec) else ByteVec(scene.code))}
    storage = {target: StorageData()}
    storage[target].symbolic = True
    if scene.implementation is not None:
        impl, runtime = scene.implementation
        code[con(impl, 160)] = Contract(ByteVec(runtime))
        storage[con(impl, 160)] = StorageData()
    for o in scene.oracles:
        code[con(o, 160)] = Contract(ByteVec(b"\x00"))
        storage[con(o, 160)] = StorageData()
    balance = scene.balance if scene.balance is not None else z3.Array("balance_00", z3.BitVecSort(160), z3.BitVecSort(256))
    block = Block(basefee=con(0), chainid=con(31337), coinbase=con(0, 160), difficulty=con(0),
                  gaslimit=con(2**63 - 1), number=z3.BitVec("block.number", 256), timestamp=call.timestamp)
    message = Message(target=target, caller=call.caller, origin=call.origin, value=call.value, data=call.data,
                      call_scheme=OP_CALL)
    path = HalmosPath(solver)
    for a in assumptions:
        path.append(a)
    ex0 = sevm.mk_exec(code=code, storage=storage, transient_storage={a: StorageData() for a in storage},
                       balance=balance, block=block, context=CallContext(message=message), pgm=code[target], path=path)
    pre = storage[target]
    ends = []
    for ex in sevm.run_message(ex0, message, path):
        out = ex.context.output
        stuck = ex.context.get_stuck_reason() if ex.context.is_stuck() else None
        ends.append(Path(
            reverted=out.error is not None,
            conditions=list(ex.path.conditions),
            branches=[c for c, branching in ex.path.conditions.items() if branching],
            storage=ex.storage[target],
            oracle_calls=_oracle_calls(ex.context),
            returndata=out.data,
            error=out.error,
            stuck=stuck,
            balance=ex.balance,
        ))
    return ends, pre
