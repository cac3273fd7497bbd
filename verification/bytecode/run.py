"""Validate every specified contract function against its bytecode, with a cache.

`validate_all(artifacts)` returns one `Row` per state-changing function of every contract `vc
verify` covers: validated, failed (with the failure), or not validated (with the reason: no
specification yet), or skipped (not in the subset asked for). Each specified function's result is
cached under `build/validation/<contract>-<key>/` by a key that hashes its runtime bytecode, the sources of its specification, of its model and of this
package, and halmos' and Z3's versions: a warm run reads the result, and any change to the code,
the model or the validator runs it again.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from vcengine.paths import BUILD_DIR, PROJECT_ROOT

CACHE_DIR = BUILD_DIR / "validation"
HERE = Path(__file__).resolve().parent
VERIFICATION = HERE.parent


@dataclass
class Row:
    contract: str
    function: str
    status: str  # "validated" | "failed" | "not validated" | "skipped" (not in the subset run)
    reason: str = ""
    seconds: float = 0.0
    paths: int = 0
    failure: str = ""  # the first failure, as `Failure.describe` writes it
    #: The first failure's parts: configuration, variant, kind, detail (the field that differs, for
    #: a field), path, model_value and code_value.
    failed_at: dict | None = None
    witness: dict | None = None
    variants: list[str] = field(default_factory=list)


#: Specifications: (contract as the report names it, artifact, module, configurations). Each
#: configuration is one way the factory deploys the contract (a commune wired to its treasury and
#: stock, or a membership alone).
SPECS: list[tuple[str, str, str, tuple[dict, ...]]] = [
    ("Commune", "Commune", "verification.bytecode.commune_spec", ({"wired": True}, {"wired": False})),
    ("BondSeries", "BondSeries", "verification.bytecode.bondseries_spec", ({},)),
]

#: Failure kinds that decide nothing about the code: the solver gave up, or halmos stopped.
UNDECIDED = ("unknown", "stuck")


def _sources_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(HERE.glob("*.py")) + sorted(VERIFICATION.glob("*_model.py")) + [VERIFICATION / "terms.py",
                                                                                    VERIFICATION / "properties.py"]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(artifact: Any, module: str) -> str:
    import halmos
    import z3

    h = hashlib.sha256()
    h.update(artifact.deployed_bytecode.encode())
    h.update(json.dumps(artifact.storage_layout, sort_keys=True).encode())
    h.update(_sources_digest().encode())
    h.update(f"halmos {getattr(halmos, '__version__', '?')} z3 {z3.get_version_string()}".encode())
    return h.hexdigest()[:24]


def _signatures(artifact: Any, module: str, configs: tuple[dict, ...]) -> list[str]:
    """The signatures of the functions a specification validates (in any configuration), in order."""
    import importlib

    mod = importlib.import_module(module)
    out: list[str] = []
    for config in configs:
        out += [fn.signature for fn in mod.spec(artifact, PROJECT_ROOT, **config)[1] if fn.signature not in out]
    return out


def _validate_functions(name: str, artifact: Any, module: str, configs: tuple[dict, ...],
                        only: tuple[str, ...] | None = None) -> list[dict]:
    """The functions ``only`` (every one if None) of one contract, in every configuration (a
    function is validated when it is in all of them)."""
    import importlib

    from verification.bytecode.common import selector
    from verification.bytecode.validate import validate_function

    mod = importlib.import_module(module)
    rows: dict[str, Row] = {}
    for config in configs:
        spec, fns = mod.spec(artifact, PROJECT_ROOT, **config)
        for fn in fns:
            if only is not None and fn.signature not in only:
                continue
            out = validate_function(spec, fn, selector(fn.signature).to_bytes(4, "big"))
            row = rows.setdefault(fn.signature, Row(name, fn.signature, "validated"))
            row.seconds += out.seconds
            row.paths += out.paths
            row.variants += [f"{spec.name}: {v.label}" for v in fn.variants]
            if not out.validated and row.status == "validated":
                # A refutation fails the function; a solver that gave up (or halmos stopping)
                # leaves it not validated, with the reason.
                refuted = [f for f in out.failures if f.kind not in UNDECIDED]
                first = (refuted or out.failures)[0]
                row.status = "failed" if refuted else "not validated"
                row.reason = "" if refuted else f"undecided: {first.kind}: {first.detail}"
                row.failure = f"[{spec.name}] " + first.describe()
                row.failed_at = {"configuration": spec.name, "variant": first.variant, "kind": first.kind,
                                 "detail": first.detail, "path": first.path, "model_value": first.model_value,
                                 "code_value": first.code_value}
                row.witness = first.witness.as_dict() if first.witness else None
    return [asdict(r) for r in rows.values()]


def _cached(name: str, artifact: Any, module: str, configs: tuple[dict, ...], use_cache: bool,
            signature: str) -> dict:
    """One function's row, from the cache if its key matches. The cache holds one file a function
    under a folder a contract and key, so a run of a subset and a run of all share their results
    and processes validating side by side never write the same file."""
    key = cache_key(artifact, module)
    path = CACHE_DIR / f"{name}-{key}" / (hashlib.sha256(signature.encode()).hexdigest()[:16] + ".json")
    if use_cache and path.exists():
        try:
            row = json.loads(path.read_text())
            if row["function"] == signature:
                return row
        except (OSError, ValueError, KeyError):
            pass  # unreadable: validated again
    [row] = _validate_functions(name, artifact, module, configs, (signature,))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(row, indent=1))
    tmp.replace(path)  # atomic: a reader sees no row or the whole row
    return row


def coverage_name(signature: str, abi: list[dict]) -> str:
    """The name coverage gives a function: its name, or its signature when it is overloaded."""
    if signature.startswith("<"):
        return signature
    name = signature.split("(")[0]
    return signature if sum(1 for f in abi if f.get("name") == name and f["type"] == "function") > 1 else name


def resolve_subset(artifacts: Any, functions: dict[str, tuple[str, ...]] | None) -> dict[str, tuple[str, ...]]:
    """The signatures a subset names (each given as a signature or as coverage names it), by
    contract; a `ValueError` that lists what is specified if it names anything else."""
    out: dict[str, tuple[str, ...]] = {}
    specs = {n: (a, m, c) for n, a, m, c in SPECS}
    for contract, wanted in (functions or {}).items():
        if contract not in specs:
            raise ValueError(f"no validation specification for {contract} (specified: {', '.join(specs)})")
        a, m, c = specs[contract]
        sigs = _signatures(artifacts[a], m, c)
        names = {coverage_name(s, artifacts[a].abi): s for s in sigs}
        missing = [w for w in wanted if w not in sigs and w not in names]
        if missing:
            raise ValueError(f"{contract} has no specified function {', '.join(missing)} "
                             f"(specified: {', '.join(sigs)})")
        out[contract] = tuple(dict.fromkeys(names.get(w, w) for w in wanted))
    return out


def validate_all(artifacts: Any, *, use_cache: bool = True, workers: int = 1,
                 say: Callable[[str], None] = lambda _: None, contracts: tuple[str, ...] | None = None,
                 functions: dict[str, tuple[str, ...]] | None = None) -> list[Row]:
    """One row per state-changing function of every contract coverage checks.

    ``functions`` restricts the run to some functions of some contracts (contract -> signatures or
    coverage names, e.g. ``{"Commune": ("leave()", "setParameters")}``): that contract's other
    specified functions are listed as "skipped", so a report of a subset says so. ``workers``
    processes validate functions side by side.
    """
    from verification.coverage import check_coverage

    t0 = time.monotonic()
    rows: list[Row] = []
    specified = {name for name, *_ in SPECS}
    chosen = resolve_subset(artifacts, functions)
    jobs, skipped = [], {}
    for n, a, m, c in SPECS:
        if contracts is not None and n not in contracts:
            continue
        sigs = _signatures(artifacts[a], m, c)
        if functions is not None:  # a subset: every function it does not name is skipped, in every contract
            skipped[n] = [s for s in sigs if s not in chosen.get(n, ())]
            sigs = [s for s in sigs if s in chosen.get(n, ())]
        jobs += [(n, artifacts[a], m, c, use_cache, s) for s in sigs]
    if workers > 1 and len(jobs) > 1:
        # Forking a process while other threads run (`vc verify` validates in a background thread)
        # can copy a lock some thread holds; a fresh interpreter cannot.
        forked = threading.current_thread() is threading.main_thread()
        context = multiprocessing.get_context("fork" if forked else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            results = list(pool.map(_cached, *zip(*jobs)))
    else:
        results = [_cached(*job) for job in jobs]
    done: dict[str, dict[str, Row]] = {}
    for r in results:
        row = Row(**r)
        done.setdefault(row.contract, {})[coverage_name(row.function, artifacts[row.contract].abi)] = row
    for name, sigs in skipped.items():
        for s in sigs:
            done.setdefault(name, {})[coverage_name(s, artifacts[name].abi)] = Row(
                name, s, "skipped", "not in the subset this run validated (validation_functions)")
    for cov in check_coverage(artifacts):
        if contracts is not None and cov.contract not in contracts:
            continue
        for fn in cov.functions:
            row = done.get(cov.contract, {}).get(fn)
            if row is None:
                reason = ("no specification of this function yet" if cov.contract in specified else
                          "no specification of its storage and neighbours yet")
                row = Row(cov.contract, fn, "not validated", reason)
            row.function = fn
            rows.append(row)
    say(f"validation: {sum(r.status == 'validated' for r in rows)} of {len(rows)} functions validated "
        f"in {time.monotonic() - t0:.1f} s")
    return rows


def validate_mutant(file: str, artifacts: Any, functions: tuple[str, ...] | None = None) -> str:
    """Validate the contract a mutated source file compiles to (only ``functions``, if given, in
    every configuration): the first refutation, or "" (a function the solver could not decide
    catches nothing)."""
    name = Path(file).stem
    for contract, artifact, module, configs in SPECS:
        if artifact == name:
            for r in _validate_functions(contract, artifacts[artifact], module, configs, functions):
                if r["status"] == "failed":
                    return f"{r['function']}: {r['failure'].splitlines()[0]}"
            return ""
    raise ValueError(f"no validation specification covers {file}")
