"""Translation validation: each model transition against the compiled bytecode, path by path.

For one function, `validate_function` runs the deployed bytes on halmos' symbolic EVM
(`sevm.run`) from a fully symbolic storage, symbolic caller, value, origin, time and arguments, and
for every end state proves with Z3, for every pre-state the stated bounds admit:

- the path reverts only where the model's revert condition holds, and a path that succeeds only
  where it does not;
- after a successful path every model field, read from the post-state storage through the
  compiler's layout (`layout.Place`), equals the model's effect (arrays at a fresh index, so at
  every index);
- no storage bit that no model field covers changes, unless the specification names the location
  (`Write`, e.g. the evidence hash of a new labour claim) and it changes only there;
- each call out of the contract is one the model has an input for (`Link`), made with the
  arguments the model's composition needs;
- the end states cover every input (the disjunction of their path conditions is valid), so no path
  was dropped by a bound: a loop that needs more than the bound to finish shows up here.

The pre-state is the model's state read from that symbolic storage, so the model's pre-state is
*any* state of the storage, constrained only by the bounds each specification states (and lists in
the report). A failure gives the function, the path, the first field that differs, the model's and
the bytecode's values and a concrete witness (`Witness`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable

import z3

from halmos.bytevec import ByteVec

from verification.bytecode import sevm
from verification.bytecode.layout import Place, Storage
from verification.terms import State, Transition

DEBUG = bool(os.environ.get("VC_VALIDATE_DEBUG"))
#: Debugging: check only these paths (1-based), e.g. VC_VALIDATE_PATHS=1,4.
ONLY_PATHS = {int(x) for x in os.environ.get("VC_VALIDATE_PATHS", "").split(",") if x}


@dataclass(frozen=True)
class Arg:
    """One ABI argument and the model term it is (``model`` None: any value, not in the model).

    Static types: the argument's word decodes to the model term. Dynamic ones (``string``,
    ``bytes``, ``T[]``) take each of ``lengths`` (concrete; the contents symbolic) and the model's
    ``model`` term is the length, or for arrays ``elements`` are the model terms of the items."""

    abi: str
    model: Any = None
    lengths: tuple[int, ...] = ()
    elements: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Link:
    """What a call to a neighbour means in the model: assumptions tying the oracle's answer to the
    model's inputs, and obligations on what the contract asked (checked, not assumed)."""

    assume: Callable[[sevm.OracleCall, "Env", list[sevm.OracleCall]], list[z3.BoolRef]]
    require: Callable[[sevm.OracleCall, "Env"], list[tuple[str, z3.BoolRef]]] = lambda c, env: []


@dataclass(frozen=True)
class Write:
    """A storage location no model field covers that a function may write (``where`` over the
    index halmos uses for the location's array, or True for a word)."""

    array_key: tuple[int, int, int]
    where: Callable[[Any, "Env"], z3.BoolRef]
    reason: str


@dataclass(frozen=True)
class Observed:
    """A model field kept by a neighbour, not in the contract's storage (the settlement token's
    balance of the contract): its pre-state value is a fresh symbol that the specification ties to
    the neighbour (``ContractSpec.assume``), and its post-state value is what ``post`` reads from
    the path's calls to the neighbour (an honest token's balance after the transfers the path made)."""

    post: Callable[[list[sevm.OracleCall], "Env"], Any]


@dataclass
class Env:
    """The symbols of one validation run, shared by model and bytecode."""

    caller: z3.BitVecRef
    value: z3.ArithRef
    value_word: z3.BitVecRef
    origin: z3.BitVecRef
    timestamp: z3.ArithRef
    timestamp_word: z3.BitVecRef
    pre: State
    storage: Storage
    lengths: dict[str, int] = field(default_factory=dict)
    function: str = ""  # the signature being validated


@dataclass(frozen=True)
class Variant:
    """One shape of a call: concrete lengths of its dynamic arguments, and the model's step for it
    (default: the transition's own)."""

    label: str
    lengths: tuple[int, ...] = ()
    step: Callable[[State, Env], tuple[z3.BoolRef, State]] | None = None


@dataclass(frozen=True)
class Function:
    """A function to validate against a model transition."""

    signature: str
    transition: Transition
    args: tuple[Arg, ...] = ()
    writes: tuple[Write, ...] = ()
    variants: tuple[Variant, ...] = (Variant("all"),)
    assume: Callable[[Env], list[z3.BoolRef]] = lambda env: []


@dataclass
class ContractSpec:
    """How a contract's storage, neighbours and environment map onto its model."""

    name: str
    address: int
    code: Any  # runtime code as deployed (ByteVec for a clone with symbolic arguments)
    implementation: tuple[int, bytes] | None
    state: type[State]
    places: dict[str, Place | Observed | str]  # model field -> Place, Observed, "ghost", or "balance"
    links: dict[tuple[int, int], Link]
    neighbours: dict[int, str]
    bounds: Callable[[State, Env], list[tuple[str, z3.BoolRef]]]
    code_accounts: tuple[int, ...] = ()
    has_code: Callable[[Any], Any] | None = None
    assume: Callable[[Env], list[z3.BoolRef]] = lambda env: []
    #: The model's inductive invariant (`prove.Clause`s), assumed of the pre-state at the terms the
    #: call involves (``terms``) and at every index where a field is compared: an assumption only
    #: at some points is weaker than the invariant itself, so what is validated holds a fortiori.
    invariant: tuple = ()
    terms: Callable[[State, Env], list[Any]] = lambda s, env: []
    #: A contract that divides by a symbolic divisor and relies on floor division's order (a time
    #: grid: a later time is in a later or the same period) and on `perShare * members` fitting:
    #: `div_order_lemma` and `quotient_product_lemmas` are instantiated, and the model inputs the
    #: specification defines as code terms are substituted (`ArrayReducer`). Off elsewhere: the
    #: extra instances slow queries that do not need them (BondSeries' approve: 6 s to a timeout).
    floor_division: bool = False


@dataclass
class Witness:
    """A concrete counterexample: replayable by setting the storage words and making the call."""

    caller: int
    value: int
    origin: int
    timestamp: int
    calldata: str
    storage: dict[str, int]
    oracles: list[dict]

    def as_dict(self) -> dict:
        return {"caller": f"0x{self.caller:040x}", "value": self.value, "origin": f"0x{self.origin:040x}",
                "timestamp": self.timestamp, "calldata": self.calldata, "storage": self.storage,
                "oracles": self.oracles}


@dataclass
class Failure:
    function: str
    variant: str
    kind: str  # "revert" | "field" | "frame" | "call" | "coverage" | "unknown" | "stuck"
    detail: str
    path: str = ""
    model_value: str = ""
    code_value: str = ""
    witness: Witness | None = None

    def describe(self) -> str:
        lines = [f"{self.function} [{self.variant}]: {self.kind}: {self.detail}"]
        if self.path:
            lines.append(f"  path: {self.path}")
        if self.model_value or self.code_value:
            lines.append(f"  model: {self.model_value}   bytecode: {self.code_value}")
        if self.witness is not None:
            w = self.witness
            lines.append(f"  witness: caller {w.as_dict()['caller']}, value {w.value}, time {w.timestamp}, "
                         f"calldata {w.calldata[:138]}{'...' if len(w.calldata) > 138 else ''}")
            for k, v in list(w.storage.items())[:12]:
                lines.append(f"    storage {k} = {v:#x}")
        return "\n".join(lines)


@dataclass
class Outcome:
    function: str
    validated: bool
    paths: int = 0
    queries: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    note: str = ""


# ------------------------------------------------------------------ calldata


def _word(name: str) -> z3.BitVecRef:
    return z3.BitVec(name, 256)


def _static_link(abi: str, w: z3.BitVecRef, term: Any) -> list[z3.BoolRef]:
    """The word ``w`` is a clean ABI encoding of the model term (or of anything, if ``term`` is None)."""
    if abi == "address":
        clean = z3.Extract(255, 160, w) == 0
        return [clean] + ([z3.Extract(159, 0, w) == term] if term is not None else [])
    if abi == "bool":
        clean = z3.ULE(w, 1)
        return [clean] + ([(w == 1) == term] if term is not None else [])
    if abi.startswith("uint"):
        bits = int(abi[4:] or 256)
        clean = [z3.Extract(255, bits, w) == 0] if bits < 256 else []
        return clean + ([z3.BV2Int(w) == term] if term is not None else [])
    if abi.startswith("bytes") and abi != "bytes":
        n = int(abi[5:])
        return [z3.Extract(255 - 8 * n, 0, w) == 0] if n < 32 else []
    raise ValueError(f"unsupported ABI type {abi}")


def calldata(selector: bytes, args: tuple[Arg, ...], lengths: tuple[int, ...]) -> tuple[ByteVec, list[z3.BoolRef], dict]:
    """ABI-encoded calldata with symbolic values, the links to the model's terms, and the lengths."""
    data = ByteVec(selector)
    heads, tails, links, used = [], [], [], {}
    dyn = iter(lengths)
    head_size = 32 * len(args)
    tail_offset = head_size
    for i, a in enumerate(args):
        if a.abi in ("string", "bytes") or a.abi.endswith("[]"):
            n = next(dyn)
            used[i] = n
            heads.append(z3.BitVecVal(tail_offset, 256))
            tail = [z3.BitVecVal(n, 256)]
            if a.abi.endswith("[]"):
                inner = a.abi[:-2]
                for j in range(n):
                    w = _word(f"arg{i}_{j}")
                    tail.append(w)
                    links += _static_link(inner, w, a.elements[j] if j < len(a.elements) else None)
                if a.model is not None:
                    links.append(a.model == n)
            else:
                padded = (n + 31) // 32 * 32
                if n:
                    content = z3.BitVec(f"arg{i}_bytes", 8 * n)
                    tail.append(z3.Concat(content, z3.BitVecVal(0, 8 * (padded - n))) if padded > n else content)
                if a.model is not None:
                    links.append(a.model == n)
            tails.extend(tail)
            tail_offset += 32 + (32 * n if a.abi.endswith("[]") else (n + 31) // 32 * 32)
        else:
            w = _word(f"arg{i}")
            heads.append(w)
            links += _static_link(a.abi, w, a.model)
    for part in heads + tails:
        data.append(part)
    return data, links, used


def raw_calldata(n: int) -> z3.BitVecRef:
    """The symbolic calldata of a call to receive/fallback, ``n`` bytes."""
    return z3.BitVec(f"raw_calldata_{n}", 8 * n)


def unknown_selector(n: int, abi: list[dict]) -> z3.BoolRef:
    """The first four bytes of ``n`` raw calldata bytes name none of the ABI's functions."""
    from verification.bytecode.common import selector

    head = z3.Extract(8 * n - 1, 8 * n - 32, raw_calldata(n))
    sigs = [f"{f['name']}({','.join(_abi_type(i) for i in f['inputs'])})" for f in abi if f["type"] == "function"]
    return z3.And(*[head != selector(s) for s in sigs])


def _abi_type(i: dict) -> str:
    if i["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in i["components"]) + ")" + i["type"][5:]
    return i["type"]


# ------------------------------------------------------------------ checking


def _frame_mask(places: list[Place], index: Any, key: tuple[int, int, int]) -> z3.BitVecRef:
    """The bits at ``index`` of the array ``key`` that some model field covers."""
    mask = z3.BitVecVal(0, 256)
    for p in places:
        if p.array_key != key:
            continue
        if not p.keys:
            mask = mask | z3.BitVecVal(p.mask(), 256)
            continue
        conds = []
        for lvl, kind in enumerate(p.keys):
            hi = 512 * len(p.keys) - 512 * lvl
            k = z3.Extract(hi - 1, hi - 256, index)
            sub = z3.Extract(hi - 257, hi - 512, index)
            if kind == "addr":
                conds.append(z3.Extract(255, 160, k) == 0)
            conds.append(sub == (p.word if lvl == len(p.keys) - 1 else 0))
        mask = mask | z3.If(z3.And(*conds), z3.BitVecVal(p.mask(), 256), z3.BitVecVal(0, 256))
    return mask


def index_consts(place: Place, name: str) -> list[z3.ExprRef]:
    """The fresh indices at which a mapping field is compared (any index: they are unconstrained)."""
    return [z3.Const(f"{name}_at{i}", s) for i, s in enumerate(place.key_sorts())]


def _field_differs(place: Place, model_value: Any, post: Storage, name: str) -> tuple[z3.BoolRef, list, Any]:
    """A condition that the model's field differs from the storage's at some (fresh) index."""
    if not place.keys:
        word = post.word(place, [])
        return z3.Not(place.encodes(word, model_value)), [], word
    ks = index_consts(place, name)
    v = model_value
    for k in ks:
        v = z3.Select(v, k)
    word = post.word(place, ks)
    return z3.And(place.key_in_range(ks), z3.Not(place.encodes(word, v))), ks, word


def _subterms(terms: list[z3.ExprRef]):
    """Every distinct subterm of ``terms`` (quantifier bodies included), each once."""
    seen: set[int] = set()
    todo = list(terms)
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        yield t
        if z3.is_app(t):
            todo.extend(t.children())
        elif z3.is_quantifier(t):
            todo.append(t.body())


def _mentions(t: z3.ExprRef, c: z3.ExprRef) -> bool:
    """Whether the constant ``c`` occurs in ``t``."""
    return any(e.eq(c) for e in _subterms([t]))


class ArrayReducer:
    """Facts with every read of an array written on the path turned into case splits over reads
    of the pre-state's arrays: halmos' definitions of each written array (``v == Store(...)``) are
    substituted, ``Select(Store(a, k, v), i)`` becomes ``If(i == k, v, Select(a, i))``, a read of a
    model array built by ``Lambda`` its body at the index, and a read of ``If`` or ``K`` is
    distributed. An equivalent formula that Z3 decides quickly: the arrays left are uninterpreted.
    `facts` are the reduced facts without the definitions; `term(t)` reduces one more term."""

    def __init__(self, facts: list[z3.BoolRef], definitions: bool = False):
        defs, rest = [], []
        for f in facts:
            if z3.is_eq(f) and z3.is_const(f.arg(0)) and f.arg(0).decl().kind() == z3.Z3_OP_UNINTERPRETED \
                    and z3.is_array(f.arg(0)) and f.arg(0).decl().name().startswith("storage_"):
                defs.append((f.arg(0), f.arg(1)))
            else:
                rest.append(f)
        subst: dict[int, tuple] = {}
        for var, value in defs:  # each definition names only earlier ones
            subst[var.get_id()] = (var, z3.substitute(value, *[(v, t) for v, t in subst.values()]) if subst else value)
        self.pairs = [(v, t) for v, t in subst.values()]
        # Scalar definitions (`c == t`, `c` a constant not in `t`: a model input the specification
        # ties to the code's term, e.g. the block time or the grid's origin) are substituted too, so
        # the model's terms and the code's are built of the same leaves (and their quotients are
        # one application when their arguments simplify alike: `Checker._congruences`).
        self.scalars: list[tuple[z3.ExprRef, z3.ExprRef]] = []
        kept = []
        for f in rest:
            d = self._definition(f) if definitions else None
            if d is None:
                kept.append(f)
                continue
            c, t = d
            self.scalars = [(v, z3.substitute(u, (c, t))) for v, u in self.scalars] + [(c, t)]
        self.memo: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}
        self.facts = [self.term(f) for f in kept]

    def _definition(self, f: z3.ExprRef) -> tuple[z3.ExprRef, z3.ExprRef] | None:
        """``(c, t)`` when ``f`` is ``c == t`` (either way round) for a scalar constant ``c`` that
        occurs neither in ``t`` nor, after the definitions so far, in what ``t`` becomes."""
        if not z3.is_eq(f):
            return None
        for c, t in ((f.arg(0), f.arg(1)), (f.arg(1), f.arg(0))):
            if not (z3.is_const(c) and c.decl().kind() == z3.Z3_OP_UNINTERPRETED) or z3.is_array(c):
                continue
            if self.pairs:
                t = z3.substitute(t, *self.pairs)
            if self.scalars:
                t = z3.substitute(t, *self.scalars)
            if any(c.eq(v) for v, _ in self.scalars) or _mentions(t, c):
                continue
            return c, t
        return None

    def term(self, t: z3.ExprRef) -> z3.ExprRef:
        if self.pairs:
            t = z3.substitute(t, *self.pairs)
        if self.scalars:
            t = z3.substitute(t, *self.scalars)
        return self._red(t)

    def _select(self, a: z3.ExprRef, i: z3.ExprRef) -> z3.ExprRef:
        if z3.is_store(a):
            k, v = a.arg(1), a.arg(2)
            same = z3.simplify(i == k)
            if z3.is_true(same):
                return v
            rest_ = self._select(a.arg(0), i)
            return rest_ if z3.is_false(same) else z3.If(same, v, rest_)
        if z3.is_quantifier(a) and a.is_lambda():
            return self._red(z3.substitute_vars(a.body(), i))
        if z3.is_const_array(a):
            return a.arg(0)
        if z3.is_app_of(a, z3.Z3_OP_ITE):
            return z3.If(a.arg(0), self._select(a.arg(1), i), self._select(a.arg(2), i))
        return z3.Select(a, i)

    def _red(self, e: z3.ExprRef) -> z3.ExprRef:
        key = e.get_id()
        hit = self.memo.get(key)
        if hit is not None:
            return hit[1]
        if z3.is_select(e):
            r = self._select(self._red(e.arg(0)), self._red(e.arg(1)))
        elif z3.is_quantifier(e) or not z3.is_app(e) or e.num_args() == 0:
            r = e
        else:
            r = e.decl()(*[self._red(a) for a in e.children()])
        self.memo[key] = (e, r)  # the key's term is kept alive, so its id is not reused
        return r


def reduce_arrays(facts: list[z3.BoolRef]) -> list[z3.BoolRef]:
    """`ArrayReducer`'s facts."""
    return ArrayReducer(facts).facts


#: halmos' uninterpreted EVM MUL and DIV of two symbolic words.
F_MUL = sevm.F_MUL
F_DIV = sevm.F_DIV

#: Bounds of the lemmas about them: (bits of a, bits of b, bits of the product).
MUL_LEMMA_BITS = ((128, 128, 256), (128, 125, 253))


def mul_div_lemmas(a: z3.BitVecRef, b: z3.BitVecRef) -> list[z3.BoolRef]:
    """Facts about `F_MUL(a, b)` true of the EVM's MUL and DIV (proved once, over the integers, by
    `prove_mul_div_lemmas`): MUL commutes, and a product of operands below the bounds neither
    overflows (dividing it by either operand gives the other) nor exceeds its bound."""
    m = F_MUL(a, b)
    out = [m == F_MUL(b, a)]
    for ba, bb, bm in MUL_LEMMA_BITS:
        for x, y in ((a, b), (b, a)):
            small = z3.And(z3.ULT(x, 2**ba), z3.ULT(y, 2**bb))
            out.append(z3.Implies(small, z3.And(z3.Or(x == 0, F_DIV(m, x) == y), z3.Or(y == 0, F_DIV(m, y) == x),
                                                z3.ULT(m, 2**bm) if bm < 256 else z3.BoolVal(True))))
    return out


def div_lemmas(x: z3.BitVecRef, y: z3.BitVecRef) -> list[z3.BoolRef]:
    """A quotient is at most its dividend (as halmos adds on each DIV it executes)."""
    return [z3.ULE(F_DIV(x, y), x)]


def quotient_product_lemmas(y: z3.BitVecRef, q: z3.BitVecRef) -> list[z3.BoolRef]:
    """For a product `F_MUL(y, q)` of a divisor and a quotient by it (`q = F_DIV(x, y)`): it does
    not overflow, is at most the dividend, and leaves less than the divisor (floor division, the
    equal division's `perShare * members`)."""
    x = q.arg(0)
    m = F_MUL(y, q)
    return [z3.Implies(y != 0, z3.And(F_DIV(m, y) == q, z3.ULE(m, x), z3.ULT(x - m, y),
                                      z3.Or(q == 0, F_DIV(m, q) == y)))]


def div_order_lemma(q1: z3.BitVecRef, q2: z3.BitVecRef) -> z3.BoolRef:
    """Two quotients by one divisor are ordered as their dividends (floor division is monotone),
    which the period grid needs: a later time falls in a later or the same period."""
    (x1, d1), (x2, d2) = q1.children(), q2.children()
    return z3.Implies(z3.And(d1 == d2, z3.ULE(x1, x2)), z3.ULE(q1, q2))


def prove_mul_div_lemmas(timeout_ms: int = 60_000) -> list[str]:
    """Prove the lemmas of `mul_div_lemmas` and `div_lemmas` of the EVM's semantics (MUL is the
    product mod 2**256, DIV the floor quotient, 0 for a zero divisor), over the integers: the
    descriptions of those that did not prove (empty: all proved)."""
    a, b = z3.Ints("a b")
    word = lambda t: z3.And(t >= 0, t < 2**256)  # noqa: E731
    mul = (a * b) % 2**256
    div = lambda x, y: z3.If(y == 0, 0, x / y)  # noqa: E731
    x = z3.Int("x")
    claims = [("MUL commutes", (a * b) % 2**256 == (b * a) % 2**256),
              ("DIV at most its dividend", z3.Implies(b >= 0, div(a, b) <= a)),
              ("DIV monotone in its dividend", z3.Implies(z3.And(x >= 0, x <= a), div(x, b) <= div(a, b))),
              ("a quotient times its divisor: no overflow, at most the dividend, less than the divisor below it",
               z3.Implies(b != 0, z3.And((b * div(a, b)) % 2**256 == b * div(a, b),
                                         div((b * div(a, b)) % 2**256, b) == div(a, b),
                                         z3.Or(div(a, b) == 0, div((b * div(a, b)) % 2**256, div(a, b)) == b),
                                         b * div(a, b) <= a, a - b * div(a, b) < b)))]
    for ba, bb, bm in MUL_LEMMA_BITS:
        small = z3.And(a >= 0, a < 2**ba, b >= 0, b < 2**bb)
        claims.append((f"a < 2**{ba}, b < 2**{bb}: a*b does not overflow and is below 2**{bm}",
                       z3.Implies(small, z3.And(mul == a * b, a * b < 2**bm, z3.Or(a == 0, div(mul, a) == b),
                                                z3.Or(b == 0, div(mul, b) == a)))))
    failed = []
    for what, claim in claims:
        s = z3.Solver()
        s.set(timeout=timeout_ms)
        s.add(word(a), word(b), z3.Not(claim))
        if s.check() != z3.unsat:
            failed.append(what)
    return failed


def _applications(terms: list[z3.ExprRef], decls: tuple[z3.FuncDeclRef, ...]) -> list[z3.ExprRef]:
    """Every application of one of ``decls`` in ``terms`` (each once)."""
    return [t for t in _subterms(terms) if z3.is_app(t) and any(t.decl() == d for d in decls)]


def _overflow_test(t: z3.ExprRef) -> bool:
    """`F_DIV(F_MUL(x, y), x)`: checked multiplication's test, which the lemmas decide."""
    if t.decl() != F_DIV:
        return False
    m, x = t.arg(0), t.arg(1)
    return z3.is_app(m) and m.decl() == F_MUL and any(x.eq(a) for a in m.children())


def lemma_instances(terms: list[z3.ExprRef], known: list[z3.ExprRef] | None = None) -> list[z3.BoolRef]:
    """`mul_div_lemmas` and `div_lemmas` at every product and quotient in ``terms``; with ``known``
    (floor division, `ContractSpec.floor_division`) also `quotient_product_lemmas` and
    `div_order_lemma` at every pair of quotients by the same divisor among them and ``known``
    (which grows by those found)."""
    out = []
    floor = known is not None
    for t in _applications(terms, (F_MUL, F_DIV)):
        out += (mul_div_lemmas if t.decl() == F_MUL else div_lemmas)(t.arg(0), t.arg(1))
        if floor and t.decl() == F_MUL:
            for y, q in ((t.arg(0), t.arg(1)), (t.arg(1), t.arg(0))):
                if z3.is_app(q) and q.decl() == F_DIV and q.arg(1).eq(y):
                    out += quotient_product_lemmas(y, q)
        if floor and t.decl() == F_DIV and not any(t.eq(u) for u in known):
            for u in known:  # only quotients by the same term (the grid's period): few pairs, cheap
                if z3.eq(_normal(t.arg(1)), _normal(u.arg(1))):
                    out += [div_order_lemma(t, u), div_order_lemma(u, t)]
            known.append(t)
    return out


#: Width of the bit-vectors the models' integers are decided in: every value the code holds is
#: below 2**256 and the models add, subtract and compare such values (a sum of up to 2**6 of them
#: stays below 2**262), so 264-bit two's complement is exact for them (Z3 decides `BV2Int` terms
#: poorly; bit-vectors it decides well). A product of two unknowns would need twice as many bits:
#: the translation refuses one rather than wrap it.
INT_BITS = 264

#: How long a query proving two applications' arguments equal may take (`Checker._congruences`).
CONGRUENCE_TIMEOUT_MS = 3_000


class IntsAsBitVectors:
    """Translate a formula over integers and bit-vectors into one over bit-vectors alone: an
    integer becomes an ``INT_BITS``-bit two's-complement vector, ``BV2Int(x)`` its zero extension,
    ``Int2BV(i, k)`` its low ``k`` bits, arithmetic and comparisons the signed bit-vector ones, and
    every sort built from integers (arrays, functions) the same with vectors. Exact while no
    intermediate value leaves ``INT_BITS`` bits, which the models' additions of 256-bit values
    never do."""

    def __init__(self, bits: int = INT_BITS):
        self.bits = bits
        self.memo: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}
        self.decls: dict[str, z3.FuncDeclRef] = {}

    def sort(self, s: z3.SortRef) -> z3.SortRef:
        if s == z3.IntSort():
            return z3.BitVecSort(self.bits)
        if isinstance(s, z3.ArraySortRef):
            return z3.ArraySort(self.sort(s.domain()), self.sort(s.range()))
        return s

    def __call__(self, e: z3.ExprRef) -> z3.ExprRef:
        key = e.get_id()
        hit = self.memo.get(key)
        if hit is not None:
            return hit[1]
        r = self._tr(e)
        self.memo[key] = (e, r)  # the key's term is kept alive, so its id is not reused
        return r

    def _word(self, x: z3.BitVecRef) -> tuple[z3.BoolRef, z3.BitVecRef]:
        """Whether the integer ``x`` is a word (0 <= x < 2**256), and its low 256 bits."""
        return z3.And(x >= 0, x < 2**256), z3.Extract(255, 0, x)

    def _product(self, x: z3.BitVecRef, y: z3.BitVecRef) -> z3.BitVecRef:
        """The integer product of two unknowns as the EVM's: halmos' uninterpreted MUL of the two
        words, wherever both are words and it does not overflow (`Or(x == 0, x * y / x == y)`,
        the test compiled checked arithmetic makes); elsewhere an unconstrained value. So the model's
        product and the bytecode's are one term, which Z3 compares by congruence: exact where the
        specification's bounds keep the product within a word (lemmas tie the uninterpreted
        functions to the EVM's semantics: `mul_div_lemmas`)."""
        in_x, wx = self._word(x)
        in_y, wy = self._word(y)
        m = F_MUL(wx, wy)
        exact = z3.And(in_x, in_y, z3.Or(wx == 0, F_DIV(m, wx) == wy))
        return z3.If(exact, z3.ZeroExt(self.bits - 256, m), self._outside("int_mul")(x, y))

    def _quotient(self, x: z3.BitVecRef, y: z3.BitVecRef) -> z3.BitVecRef:
        """Integer division by an unknown as the EVM's DIV (halmos' uninterpreted one) where both
        are words and the divisor is not zero; elsewhere an unconstrained value."""
        in_x, wx = self._word(x)
        in_y, wy = self._word(y)
        return z3.If(z3.And(in_x, in_y, wy != 0), z3.ZeroExt(self.bits - 256, F_DIV(wx, wy)),
                     self._outside("int_div")(x, y))

    def _outside(self, name: str) -> z3.FuncDeclRef:
        s = z3.BitVecSort(self.bits)
        return z3.Function(f"{name}_outside_a_word!bv", s, s, s)

    def _tr(self, e: z3.ExprRef) -> z3.ExprRef:
        if z3.is_int_value(e):
            return z3.BitVecVal(e.as_long(), self.bits)
        if z3.is_quantifier(e):
            n = e.num_vars()
            olds = [z3.Const(f"qv{i}!{e.get_id()}", e.var_sort(i)) for i in range(n)]
            body = self(z3.substitute_vars(e.body(), *reversed(olds)))
            news = [z3.Const(f"qv{i}!{e.get_id()}", self.sort(e.var_sort(i))) for i in range(n)]
            if e.is_lambda():
                return z3.Lambda(news, body)
            return z3.ForAll(news, body) if e.is_forall() else z3.Exists(news, body)
        if not z3.is_app(e):
            raise ValueError(f"cannot translate {e}")
        d = e.decl()
        k = d.kind()
        args = [self(a) for a in e.children()]
        if k == z3.Z3_OP_UNINTERPRETED:
            sorts = [self.sort(d.domain(i)) for i in range(d.arity())] + [self.sort(d.range())]
            if all(a == b for a, b in zip(sorts, [d.domain(i) for i in range(d.arity())] + [d.range()])):
                return e if not args else d(*args)
            name = d.name() + ("!bv" if any(isinstance(x, z3.ArithSortRef) for x in sorts) else "")
            f = self.decls.get(name + str(sorts))
            if f is None:
                f = z3.Function(name, *sorts) if d.arity() else None
                self.decls[name + str(sorts)] = f
            return z3.Const(d.name(), sorts[-1]) if d.arity() == 0 else f(*args)
        B = self.bits
        if k == z3.Z3_OP_ADD:
            r = args[0]
            for a in args[1:]:
                r = r + a
            return r
        if k == z3.Z3_OP_SUB:
            r = args[0]
            for a in args[1:]:
                r = r - a
            return r
        if k == z3.Z3_OP_UMINUS:
            return -args[0]
        if k == z3.Z3_OP_MUL:
            if sum(1 for a in args if not z3.is_bv_value(a)) > 1:
                if len(args) != 2:
                    raise ValueError(f"a product of more than two unknowns: {e}")
                return self._product(args[0], args[1])
            r = args[0]
            for a in args[1:]:
                r = r * a
            return r
        if k in (z3.Z3_OP_IDIV, z3.Z3_OP_DIV):
            if not z3.is_bv_value(args[1]):
                return self._quotient(args[0], args[1])
            return z3.UDiv(args[0], args[1])
        if k == z3.Z3_OP_MOD:
            return z3.URem(args[0], args[1])
        if k == z3.Z3_OP_LT:
            return args[0] < args[1]
        if k == z3.Z3_OP_LE:
            return args[0] <= args[1]
        if k == z3.Z3_OP_GT:
            return args[0] > args[1]
        if k == z3.Z3_OP_GE:
            return args[0] >= args[1]
        if k == z3.Z3_OP_BV2INT:
            x = args[0]
            return z3.ZeroExt(B - x.size(), x)
        if k == z3.Z3_OP_INT2BV:
            n = d.params()[0]
            return z3.Extract(n - 1, 0, args[0])
        if k == z3.Z3_OP_CONST_ARRAY:
            return z3.K(self.sort(e.sort()).domain(), args[0])
        if k == z3.Z3_OP_SELECT:
            return z3.Select(args[0], *args[1:])
        if k == z3.Z3_OP_STORE:
            return z3.Store(args[0], *args[1:])
        if k == z3.Z3_OP_ITE:
            return z3.If(args[0], args[1], args[2])
        if k == z3.Z3_OP_EQ:
            return args[0] == args[1]
        if k == z3.Z3_OP_DISTINCT:
            return z3.Distinct(*args)
        if not args:
            return e
        return d(*args)


def _normal(t: z3.ExprRef) -> z3.ExprRef:
    """A normal form of a bit-vector term for comparing the arguments of two applications."""
    return z3.simplify(t, som=True, bv_extract_prop=True)  # sum of monomials, extracts pushed in


class Checker:
    def __init__(self, timeout_ms: int, floor_division: bool = False):
        self.timeout_ms = timeout_ms
        self.floor_division = floor_division
        self.queries = 0
        self.times: list[float] = []
        self.tr = IntsAsBitVectors()

    def open(self, facts: list[z3.BoolRef]) -> None:
        """Start a path: its facts asserted once, each obligation then checked in its own scope."""
        self.reducer = ArrayReducer(facts, definitions=self.floor_division)
        self.solver = z3.Solver()
        self.solver.set(timeout=self.timeout_ms)
        facts = [self.tr(f) for f in self.reducer.facts]
        self.quotients: list[z3.ExprRef] = []
        self.solver.add(*facts, *lemma_instances(facts, self.quotients if self.floor_division else None))
        self.applied: list[z3.ExprRef] = []
        self._congruences(facts)

    def _congruences(self, terms: list[z3.ExprRef]) -> None:
        """Equalities between the model's applications of the uninterpreted MUL and DIV and the
        bytecode's whose arguments the facts prove equal (each proved in a short query of its own),
        asserted as facts: the model writes a product or quotient over integers (translated: the
        low word of a wider sum) where the code adds words, and Z3 finds that two applications are
        one only if told."""
        s = self.solver
        for t in _applications(terms, (F_MUL, F_DIV)):
            if any(t.eq(u) for u in self.applied) or _overflow_test(t):
                continue
            if not self._translated(t):
                self.applied.append(t)
                continue
            for u in self.applied:
                if t.decl() != u.decl() or self._translated(u):
                    continue
                if all(z3.eq(_normal(a), _normal(b)) for a, b in zip(t.children(), u.children())):
                    if DEBUG:
                        print(f"      congruence {t.decl().name()} against {len(self.applied)}: syntactic", flush=True)
                    s.add(t == u)
                    break
                differ = z3.Or(*[a != b for a, b in zip(t.children(), u.children())])
                if DEBUG:
                    print("        ", [str(_normal(a))[:200] for a in t.children()], "vs",
                          [str(_normal(b))[:200] for b in u.children()], flush=True)
                s.push()
                s.set(timeout=CONGRUENCE_TIMEOUT_MS)
                s.add(differ)
                r = s.check()
                s.pop()
                s.set(timeout=self.timeout_ms)
                if DEBUG:
                    print(f"      congruence {t.decl().name()} against {len(self.applied)}: {r}", flush=True)
                if r == z3.unsat:
                    s.add(t == u)
                    break
            self.applied.append(t)

    def _translated(self, t: z3.ExprRef) -> bool:
        """An application the model's translation made: an argument is the low word of a wider term."""
        return any(z3.is_app(a) and a.decl().kind() == z3.Z3_OP_EXTRACT and a.arg(0).size() == self.tr.bits
                   for a in t.children())

    def check(self, cond: z3.BoolRef) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        s = self.solver
        s.push()
        goal = self.tr(self.reducer.term(cond))
        quotients = len(self.quotients)
        s.add(goal, *lemma_instances([goal], self.quotients if self.floor_division else None))
        known = len(self.applied)
        self._congruences([goal])
        self.queries += 1
        t = time.time()
        r = s.check()
        self.times.append(time.time() - t)
        model = s.model() if r == z3.sat else None
        s.pop()
        del self.applied[known:]
        del self.quotients[quotients:]
        if DEBUG:
            print(f"    query {self.queries}: {r} in {self.times[-1]:.2f} s", flush=True)
        return r, model

    def value(self, model: z3.ModelRef, term: Any) -> str:
        is_int = isinstance(term.sort(), z3.ArithSortRef)
        v = model.eval(self.tr(self.reducer.term(term)), model_completion=True)
        if z3.is_bv_value(v):
            n = v.as_long()
            if is_int and n >= 2 ** (self.tr.bits - 1):
                n -= 2 ** self.tr.bits
            return str(n) if is_int else f"{n:#x}"
        return str(v)

    def sat(self, facts: list[z3.BoolRef]) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        """Whether the facts together can hold (one query, in a fresh scope)."""
        self.open(facts[:-1])
        return self.check(facts[-1])


def _witness(model: z3.ModelRef, checker: "Checker", env: Env, data: ByteVec, paths_storage: Storage,
             touched: list[tuple[int, int, int]], oracle_calls: list[sevm.OracleCall]) -> Witness:
    ev = lambda t: model.eval(checker.tr(checker.reducer.term(t)), model_completion=True)  # noqa: E731
    raw = data.unwrap()
    if isinstance(raw, (bytes, bytearray)):
        cd = "0x" + bytes(raw).hex()
    else:
        v = ev(raw)
        cd = "0x" + v.as_long().to_bytes(len(data), "big").hex()
    storage = {}
    for key in touched:
        if key[1] == 0:
            storage[f"slot {key[0]}"] = ev(paths_storage.initial(key)).as_long()
    oracles = [{"target": f"0x{c.target:040x}", "selector": f"0x{c.selector or 0:08x}", "ok": bool(z3.is_true(ev(c.ok))),
                "word0": ev(c.word(0)).as_long()} for c in oracle_calls]
    return Witness(ev(env.caller).as_long(), ev(env.value).as_long(), ev(env.origin).as_long(),
                   ev(env.timestamp).as_long(), cd, storage, oracles)


def model_pre(spec: ContractSpec, storage: Storage, balance: z3.ArrayRef) -> State:
    values = {}
    for f in fields(spec.state):
        where = spec.places[f.name]
        if where == "ghost" or isinstance(where, Observed):
            values[f.name] = z3.Const(f"ghost_{f.name}", f.metadata["sort"])
        elif where == "balance":
            values[f.name] = z3.BV2Int(z3.Select(balance, z3.BitVecVal(spec.address, 160)))
        else:
            values[f.name] = storage.read(where)
    return spec.state(**values)


def instantiate(spec: ContractSpec, pre: State, env: Env) -> list[z3.BoolRef]:
    """The invariant's clauses at the call's terms and at every comparison index."""
    terms = list(spec.terms(pre, env))
    for name, place in spec.places.items():
        if isinstance(place, Place) and place.keys:
            terms += index_consts(place, name)
    out = []
    for clause in spec.invariant:
        if clause.sort is None:
            out.append(clause.holds(pre, None))
            continue
        seen = set()
        for t in terms:
            if t.sort() == clause.sort and t.get_id() not in seen:
                seen.add(t.get_id())
                out.append(clause.holds(pre, t))
    return out


def validate_function(spec: ContractSpec, fn: Function, selector: bytes, *, timeout_ms: int = 60_000,
                      loop: int = 4) -> Outcome:
    t0 = time.time()
    out = Outcome(fn.signature, validated=True)
    checker = Checker(timeout_ms, floor_division=spec.floor_division)
    places = {k: v for k, v in spec.places.items() if isinstance(v, Place)}
    for variant in fn.variants:
        caller = z3.BitVec("msg.sender", 160)
        value_word = z3.BitVec("msg.value", 256)
        origin = z3.BitVec("tx.origin", 160)
        ts_word = z3.BitVec("block.timestamp", 256)
        balance0 = z3.Array("balance_00", z3.BitVecSort(160), z3.BitVecSort(256))
        pre_storage = Storage(spec.address)
        pre = model_pre(spec, pre_storage, balance0)
        env = Env(caller, z3.BV2Int(value_word), value_word, origin, z3.BV2Int(ts_word), ts_word, pre, pre_storage,
                  function=fn.signature)
        if fn.signature.startswith("<"):  # receive/fallback: raw calldata of the variant's length
            data, arg_links, used = ByteVec(), [], {}
            if variant.lengths and variant.lengths[0]:
                data.append(raw_calldata(variant.lengths[0]))
        else:
            data, arg_links, used = calldata(selector, fn.args, variant.lengths)
        env.lengths = {str(k): v for k, v in used.items()}
        if fn.signature.startswith("<"):
            env.lengths["raw"] = variant.lengths[0] if variant.lengths else 0
        scene = sevm.Scene(spec.address, spec.code, spec.implementation, tuple(spec.neighbours))
        call = sevm.Call(caller, value_word, origin, ts_word, data, fn.signature)
        prune = [checker.tr(f) for f in reduce_arrays(fn.assume(env))]
        try:
            paths, _ = sevm.run(scene, call, loop=loop, timeout_ms=min(timeout_ms, 20_000), assumptions=prune)
        except Exception as e:  # halmos could not execute it: reported, never silently passed
            out.validated = False
            out.failures.append(Failure(fn.signature, variant.label, "stuck", f"halmos: {type(e).__name__}: {e}"))
            continue
        out.paths += len(paths)
        if DEBUG:
            print(f"  {fn.signature} [{variant.label}]: {len(paths)} paths in {time.time() - t0:.1f} s", flush=True)
        if variant.step is not None:
            m_reverts, m_post = variant.step(pre, env)
        else:
            m_reverts = fn.transition.reverts(pre, caller, env.value)
            m_post = fn.transition.post(pre, caller, env.value)
        bounds = spec.bounds(pre, env)
        base = [b for _, b in bounds] + arg_links + spec.assume(env) + fn.assume(env)
        base += instantiate(spec, pre, env)
        if spec.has_code is not None:
            base += spec.has_code(env)
        ends, sides = [], []
        for i, p in enumerate(paths):
            if ONLY_PATHS and i + 1 not in ONLY_PATHS:
                continue
            label = f"path {i + 1} of {len(paths)} ({'reverts' if p.reverted else 'succeeds'})"
            if p.stuck is not None:
                out.validated = False
                out.failures.append(Failure(fn.signature, variant.label, "stuck", f"halmos stopped: {p.stuck}", label))
                continue
            facts = base + p.conditions
            problems: list[tuple[str, str, z3.BoolRef, Any, Any]] = []
            for n, c in enumerate(p.oracle_calls):
                link = spec.links.get((c.target, c.selector))
                if link is None:
                    problems.append(("call", f"calls {spec.neighbours.get(c.target, hex(c.target))} with selector "
                                     f"{c.selector:#010x} the model has no input for" if c.selector is not None else
                                     "calls a neighbour without a selector", z3.BoolVal(True), None, None))
                    continue
                facts += link.assume(c, env, p.oracle_calls[:n])
                for what, ok in link.require(c, env):
                    problems.append(("call", what, z3.Not(ok), None, None))
            ends.append(z3.And(*p.branches) if p.branches else z3.BoolVal(True))
            sides += [c for c in p.conditions if not any(z3.eq(c, b) for b in p.branches)]
            if p.reverted:
                problems.append(("revert", "the bytecode reverts where the model's call succeeds",
                                 z3.Not(m_reverts), None, None))
            else:
                problems.append(("revert", "the bytecode succeeds where the model's call reverts", m_reverts, None, None))
                post = Storage(spec.address, p.storage)
                for name, place in places.items():
                    differs, ks, word = _field_differs(place, getattr(m_post, name), post, name)
                    mv = getattr(m_post, name)
                    for k in ks:
                        mv = z3.Select(mv, k)
                    problems.append(("field", f"field {name}" + (f" at {', '.join(str(k) for k in ks)}" if ks else ""),
                                     differs, mv, place.decode(word)))
                for name, where in spec.places.items():
                    if isinstance(where, Observed):
                        after = where.post(p.oracle_calls, env)
                        problems.append(("field", f"field {name} (kept by a neighbour)", after != getattr(m_post, name),
                                         getattr(m_post, name), after))
                    if where == "balance":
                        after = z3.BV2Int(z3.Select(p.balance, z3.BitVecVal(spec.address, 160)))
                        problems.append(("field", f"field {name} (the account's ETH)", after != getattr(m_post, name),
                                         getattr(m_post, name), after))
                for key in list(p.storage._mapping):
                    idx = None if key[1] == 0 else z3.BitVec(f"frame_{key[0]}_{key[1]}", key[2])
                    after = post.array(key) if idx is None else z3.Select(post.array(key), idx)
                    before = pre_storage.initial(key) if idx is None else z3.Select(pre_storage.initial(key), idx)
                    keep = ~_frame_mask(list(places.values()), idx, key)
                    allowed = [w.where(idx, env) for w in fn.writes if w.array_key == key]
                    changed = (after & keep) != (before & keep)
                    if allowed:
                        changed = z3.And(changed, z3.Not(z3.Or(*allowed)))
                    problems.append(("frame", f"storage {key} changes outside every model field", changed, None, None))
            # one query per obligation: the first that can fail is reported with its witness
            checker.open(facts)
            for kind, what, cond, mv, cv in problems:
                if z3.is_false(z3.simplify(cond)):
                    continue
                r, model = checker.check(cond)
                if r == z3.unsat:
                    continue
                out.validated = False
                if DEBUG and model is not None:
                    for f in fields(spec.state):
                        v = getattr(pre, f.name)
                        if not z3.is_array(v):
                            print(f"      pre {f.name} = {checker.value(model, v)}", flush=True)
                    print(f"      path error {p.error!r} returndata {str(p.returndata)[:300]}", flush=True)
                    for c in p.branches:
                        print(f"      branch {str(z3.simplify(c))[:1500]}", flush=True)
                    for d in model.decls():
                        if d.arity() == 0 and not z3.is_array(model[d]):
                            print(f"      const {d.name()} = {model[d]}", flush=True)
                    for n, cl in enumerate(p.oracle_calls):
                        print(f"      call {n}: {cl.target:#x} {cl.selector}", flush=True)
                if r == z3.unknown:
                    out.failures.append(Failure(fn.signature, variant.label, "unknown",
                                                f"{what}: the solver gave up ({checker.timeout_ms} ms)", label))
                    break
                touched = list(p.storage._mapping)  # what the path read or wrote, reverted or not
                out.failures.append(Failure(
                    fn.signature, variant.label, kind, what, label,
                    checker.value(model, mv) if mv is not None else "",
                    checker.value(model, cv) if cv is not None else "",
                    _witness(model, checker, env, data, pre_storage, touched, p.oracle_calls)))
                break
        # completeness: the end states cover every input the bounds admit
        r, model = checker.sat(base + sides + [z3.Not(z3.Or(*ends))] if ends else base)
        if r != z3.unsat:
            out.validated = False
            out.failures.append(Failure(fn.signature, variant.label, "coverage",
                                        "some inputs reach no end state (a path was cut by a bound)"
                                        if r == z3.sat else "coverage query undecided"))
    out.queries = checker.queries
    out.seconds = time.time() - t0
    return out
