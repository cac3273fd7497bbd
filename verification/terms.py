"""Z3 sorts and term helpers shared by every model (one place, as in halmos' sevm.py).

Values are unbounded mathematical integers constrained to the range of their Solidity type where
the range matters; addresses are 160-bit vectors; mappings are Z3 arrays, so a proof about a
model holds for any number of members, holders and assets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable

import z3

Addr = z3.BitVecSort(160)
Int = z3.IntSort()
Bool = z3.BoolSort()
ZERO_ADDR = z3.BitVecVal(0, 160)
UINT256_MAX = 2**256 - 1


def addr(name: str) -> z3.BitVecRef:
    return z3.BitVec(name, 160)


def uint(name: str) -> z3.ArithRef:
    return z3.Int(name)


def in_uint(x: z3.ArithRef, bits: int = 256) -> z3.BoolRef:
    """0 <= x < 2**bits."""
    return z3.And(x >= 0, x < 2**bits)


def con(n: int) -> z3.IntNumRef:
    return z3.IntVal(n)


def ite(c: Any, a: Any, b: Any) -> Any:
    return z3.If(c, a, b)


@dataclass
class State:
    """A model's state: named Z3 terms. Subclasses declare their fields."""

    @classmethod
    def fresh(cls, tag: str) -> "State":
        """A state of fresh symbolic constants, one per field, named ``<field>_<tag>``."""
        values = {}
        for f in fields(cls):
            sort = f.metadata["sort"]
            values[f.name] = z3.Const(f"{f.name}_{tag}", sort)
        return cls(**values)

    @classmethod
    def zero(cls) -> "State":
        """Every field zero: counters 0, mappings (nested ones too) all zero, false or the zero address."""
        return cls(**{f.name: zero_of(f.metadata["sort"]) for f in fields(cls)})

    def replace(self, **changes: Any) -> "State":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return type(self)(**values)

    def map(self, fn: Callable[[str, Any], Any]) -> "State":
        """A state of the same kind with `fn(name, value)` applied to every field."""
        return type(self)(**{f.name: fn(f.name, getattr(self, f.name)) for f in fields(self)})

    def equals(self, other: "State") -> z3.BoolRef:
        return z3.And(*[getattr(self, f.name) == getattr(other, f.name) for f in fields(self)])

    def changed(self, other: "State") -> list[str]:
        """Names of fields that are syntactically different terms (for reports)."""
        return [f.name for f in fields(self) if not z3.eq(getattr(self, f.name), getattr(other, f.name))]


def zero_of(sort: z3.SortRef) -> Any:
    """The zero value of a sort: 0, false, the zero address, or an array of zeros."""
    if isinstance(sort, z3.ArraySortRef):
        return z3.K(sort.domain(), zero_of(sort.range()))
    if sort == Bool:
        return z3.BoolVal(False)
    if sort == Addr:
        return ZERO_ADDR
    return con(0)


def sorted_field(sort: z3.SortRef) -> Any:
    return field(metadata={"sort": sort})


@dataclass(frozen=True)
class Transition:
    """One state-changing entry point: who may call it, with which value, and what it does.

    ``reverts`` is the exact revert condition; ``post`` the state after a successful call. A
    reverting call leaves the state unchanged.
    """

    name: str  # as in the ABI, with the signature for overloads
    params: dict[str, z3.ExprRef]
    reverts: Callable[[State, z3.BitVecRef, z3.ArithRef], z3.BoolRef]
    post: Callable[[State, z3.BitVecRef, z3.ArithRef], State]
    reason: Callable[[State, z3.BitVecRef, z3.ArithRef], str] | None = None


class Effects:
    """One call being modelled: its state so far and the conditions under which it reverts. Each
    model's own subclass adds the helpers that mirror its contract's statements; a call that reverts
    changes nothing (`step`), and every entry point is non-payable (`value != 0` reverts)."""

    def __init__(self, s: State, value: z3.ArithRef):
        self.s = s
        self.reverts: list[z3.BoolRef] = [value != 0]

    def revert_if(self, cond: Any) -> None:
        self.reverts.append(cond)

    def set(self, **changes: Any) -> None:
        self.s = self.s.replace(**changes)

    def store(self, field_: str, key: Any, value: Any) -> None:
        """`field_[key] = value` for a mapping field."""
        self.set(**{field_: z3.Store(getattr(self.s, field_), key, value)})

    def sub(self, field_: str, amount: Any) -> None:
        """`field_ -= amount` with the checked-arithmetic revert."""
        self.revert_if(getattr(self.s, field_) < amount)
        self.set(**{field_: getattr(self.s, field_) - amount})

    def fails(self) -> z3.BoolRef:
        """Whether this call reverts for a reason other than value (a branch, or a call to itself)."""
        return z3.Or(False, *self.reverts[1:])

    def done(self) -> tuple[z3.BoolRef, Any]:
        return z3.Or(*self.reverts), self.s


class ProofFailure(Exception):
    """A property does not hold: ``story`` is a readable counterexample."""

    def __init__(self, prop: str, story: str):
        self.prop = prop
        self.story = story
        super().__init__(f"{prop} fails:\n{story}")


class ProofUnknown(Exception):
    """The solver could not decide within its time limit (never reported as proved)."""


def step(t: Transition, s: State, caller: z3.BitVecRef, value: z3.ArithRef) -> tuple[z3.BoolRef, State]:
    """(reverts, state after) of any model's transition, with the revert rule applied: a reverting
    call changes nothing."""
    reverts = t.reverts(s, caller, value)
    post = t.post(s, caller, value)
    return reverts, s.map(lambda name, before: ite(reverts, before, getattr(post, name)))
