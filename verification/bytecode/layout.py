"""Where each model field lives in the contract's storage, and how to read it from halmos' terms.

halmos' Solidity storage model keeps one Z3 array per (base slot, number of keys, key bits): a read
of `m[k].f` (slot `keccak(k . m) + w`) is `Select(storage_m_2_512, Concat(k, w))`, of `m[k1][k2]`
`Select(storage_m_4_1024, Concat(k1, 0, k2, 0))`, and a plain variable at slot `s` is the word
`storage_s_0_0`. A `Place` names such a location (base slot from the compiler's storage layout, or
an ERC-7201 namespace read from the OpenZeppelin source it comes from, key kinds, the word within
a struct, the byte offset and width within the word, and how the bits read as a model value), so
the model's state can be built from the pre-state's storage and compared with the post-state's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import z3

from verification.terms import Addr, Int

W256 = z3.BitVecSort(256)


def word_name(address: int, slot: int, nkeys: int, bits: int) -> str:
    """halmos' name of the initial (pre-state) array or word at a location (`SolidityStorage.empty`)."""
    return f"storage_0x{address:040x}_{slot}_{nkeys}_{bits}_00"


@dataclass(frozen=True)
class Place:
    """One model field's storage location.

    ``keys`` are the mapping levels' key kinds, outermost first ("addr" or "uint"); ``word`` the
    word within the struct a mapping holds (or added to ``slot`` for a plain variable); ``offset``
    and ``bits`` the field within that word; ``kind`` how the bits read: "uint" (an Int), "int" (an
    Int, two's complement), "addr" (160 bits), "bool" (a byte, 0 or 1), "nonzero" (an Int field read
    as a Bool: non-zero).
    """

    slot: int
    keys: tuple[str, ...] = ()
    word: int = 0
    offset: int = 0
    bits: int = 256
    kind: str = "uint"

    @property
    def array_key(self) -> tuple[int, int, int]:
        if not self.keys:
            return (self.slot + self.word, 0, 0)
        return (self.slot, 2 * len(self.keys), 512 * len(self.keys))

    def mask(self) -> int:
        return ((1 << self.bits) - 1) << (8 * self.offset)

    def index(self, keys: list[Any]) -> z3.BitVecRef:
        """The array index halmos uses for this place at model keys ``keys``."""
        parts = []
        for i, (kind, k) in enumerate(zip(self.keys, keys)):
            parts.append(z3.ZeroExt(96, k) if kind == "addr" else z3.Int2BV(k, 256))
            parts.append(z3.BitVecVal(self.word if i == len(self.keys) - 1 else 0, 256))
        return reduce(lambda a, b: z3.Concat(a, b), parts) if len(parts) > 1 else parts[0]

    def decode(self, word: z3.BitVecRef) -> Any:
        lo = 8 * self.offset
        bits = z3.Extract(lo + self.bits - 1, lo, word)
        if self.kind == "uint":
            return z3.BV2Int(bits)
        if self.kind == "int":
            return z3.BV2Int(bits) - z3.If(z3.Extract(self.bits - 1, self.bits - 1, bits) == 1, 2**self.bits, 0)
        if self.kind == "addr":
            return bits
        if self.kind in ("bool", "nonzero"):
            return bits != 0
        raise ValueError(self.kind)

    def encodes(self, word: z3.BitVecRef, value: Any) -> z3.BoolRef:
        """The field's bits in ``word`` are the canonical encoding of model value ``value``."""
        lo = 8 * self.offset
        bits = z3.Extract(lo + self.bits - 1, lo, word)
        if self.kind in ("uint", "int"):
            return self.decode(word) == value
        if self.kind == "addr":
            return bits == value
        if self.kind in ("bool", "nonzero"):  # as Solidity reads a bool: any non-zero byte is true
            return (bits != 0) == value
        raise ValueError(self.kind)

    def key_sorts(self) -> list[z3.SortRef]:
        return [Addr if k == "addr" else Int for k in self.keys]

    def key_in_range(self, keys: list[Any]) -> z3.BoolRef:
        return z3.And(*[z3.And(k >= 0, k < 2**256) for kind, k in zip(self.keys, keys) if kind == "uint"])


class Storage:
    """The contract's storage as halmos left it: each location's term, the pre-state's by name."""

    def __init__(self, address: int, data: Any = None):
        self.address = address
        self.data = data

    def array(self, key: tuple[int, int, int]) -> Any:
        if self.data is not None and key in self.data:
            return self.data[key]
        return self.initial(key)

    def initial(self, key: tuple[int, int, int]) -> Any:
        slot, nkeys, bits = key
        name = word_name(self.address, slot, nkeys, bits)
        return z3.BitVec(name, 256) if nkeys == 0 else z3.Array(name, z3.BitVecSort(bits), W256)

    def word(self, place: Place, keys: list[Any]) -> z3.BitVecRef:
        a = self.array(place.array_key)
        return a if not place.keys else z3.Select(a, place.index(keys))

    def read(self, place: Place) -> Any:
        """The model field's value: a term, or an array (a Lambda over the model's key sorts)."""
        if not place.keys:
            return place.decode(self.word(place, []))
        sorts = place.key_sorts()
        ks = [z3.Const(f"k{i}_{place.slot}_{place.word}_{place.offset}", s) for i, s in enumerate(sorts)]

        def nest(level: int) -> Any:
            if level == len(ks):
                return place.decode(self.word(place, ks))
            return z3.Lambda([ks[level]], nest(level + 1))
        return nest(0)


def namespace(source: Path, constant: str) -> int:
    """An ERC-7201 storage namespace as the (trusted, unmodified) OpenZeppelin source declares it."""
    m = re.search(rf"{constant}\s*=\s*(0x[0-9a-fA-F]{{64}})\s*;", source.read_text())
    if m is None:
        raise ValueError(f"{constant} not found in {source}")
    return int(m.group(1), 16)


def slot_of(layout: dict, label: str) -> int:
    """A state variable's slot in the compiler's storage layout."""
    for entry in layout["storage"]:
        if entry["label"] == label:
            return int(entry["slot"])
    raise KeyError(f"no state variable {label!r} in the storage layout")


def member(layout: dict, label: str, name: str) -> tuple[int, int, int]:
    """(word, byte offset, bits) of struct member ``name`` of the struct state variable ``label``,
    or of the struct the mapping ``label`` holds, from the compiler's storage layout."""
    entry = next(e for e in layout["storage"] if e["label"] == label)
    ty = layout["types"][entry["type"]]
    while "value" in ty:
        ty = layout["types"][ty["value"]]
    for m in ty["members"]:
        if m["label"] == name:
            return int(m["slot"]), int(m["offset"]), 8 * int(layout["types"][m["type"]]["numberOfBytes"])
    raise KeyError(f"no member {name!r} in {label!r}")

