"""Validate every specified contract function against its bytecode, with a cache.

`validate_all(artifacts)` returns one `Row` per state-changing function of every contract `vc
verify` covers: validated, failed (with the failure), or not validated (with the reason: no
specification yet). Each specified contract's result is cached under `build/validation/` by a
key that hashes its runtime bytecode, the sources of its specification, of its model and of this
package, and halmos' and Z3's versions: a warm run reads the result, and any change to the code,
the model or the validator runs it again.
"""

from __future__ import annotations

import hashlib
import json
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
    status: str  # "validated" | "failed" | "not validated"
    reason: str = ""
    seconds: float = 0.0
    paths: int = 0
    failure: str = ""
    witness: dict | None = None
    variants: list[str] = field(default_factory=list)


#: Specifications: (contract as the report names it, artifact, module, configurations). Each
#: configuration is one way the factory deploys the contract (a commune wired to its treasury and
#: stock, or a membership alone).
SPECS: list[tuple[str, str, str, tuple[dict, ...]]] = [
    ("Commune", "Commune", "verification.bytecode.commune_spec", ({"wired": True}, {"wired": False})),
]


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


def _validate_contract(name: str, artifact: Any, module: str, configs: tuple[dict, ...]) -> list[dict]:
    """Every function of one contract, in every configuration (a function is validated when it
    is in all of them)."""
    import importlib

    from verification.bytecode.common import selector
    from verification.bytecode.validate import validate_function

    mod = importlib.import_module(module)
    rows: dict[str, Row] = {}
    for config in configs:
        spec, fns = mod.spec(artifact, PROJECT_ROOT, **config)
        for fn in fns:
            out = validate_function(spec, fn, selector(fn.signature).to_bytes(4, "big"))
            row = rows.setdefault(fn.signature, Row(name, fn.signature, "validated"))
            row.seconds += out.seconds
            row.paths += out.paths
            row.variants += [f"{spec.name}: {v.label}" for v in fn.variants]
            if not out.validated and row.status == "validated":
                first = out.failures[0]
                row.status = "failed"
                row.failure = f"[{spec.name}] " + first.describe()
                row.witness = first.witness.as_dict() if first.witness else None
    return [asdict(r) for r in rows.values()]


def _cached(name: str, artifact: Any, module: str, configs: tuple[dict, ...], use_cache: bool) -> list[dict]:
    key = cache_key(artifact, module)
    path = CACHE_DIR / f"{name}-{key}.json"
    if use_cache and path.exists():
        return json.loads(path.read_text())
    rows = _validate_contract(name, artifact, module, configs)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1))
    return rows


def coverage_name(signature: str, abi: list[dict]) -> str:
    """The name coverage gives a function: its name, or its signature when it is overloaded."""
    if signature.startswith("<"):
        return signature
    name = signature.split("(")[0]
    return signature if sum(1 for f in abi if f.get("name") == name and f["type"] == "function") > 1 else name


def validate_all(artifacts: Any, *, use_cache: bool = True, workers: int = 1,
                 say: Callable[[str], None] = lambda _: None, contracts: tuple[str, ...] | None = None) -> list[Row]:
    """One row per state-changing function of every contract coverage checks."""
    from verification.coverage import check_coverage

    t0 = time.monotonic()
    rows: list[Row] = []
    specified = {name for name, *_ in SPECS}
    jobs = [(n, artifacts[a], m, c) for n, a, m, c in SPECS if contracts is None or n in contracts]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_cached, *zip(*[(n, a, m, c, use_cache) for n, a, m, c in jobs])))
    else:
        results = [_cached(n, a, m, c, use_cache) for n, a, m, c in jobs]
    done: dict[str, dict[str, Row]] = {}
    for (name, *_), result in zip(jobs, results):
        for r in result:
            row = Row(**r)
            done.setdefault(name, {})[coverage_name(row.function, artifacts[name].abi)] = row
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


def validate_mutant(file: str, artifacts: Any) -> str:
    """Validate the contract a mutated source file compiles to: the first failure, or ""."""
    name = Path(file).stem
    for contract, artifact, module, configs in SPECS:
        if artifact == name:
            for r in _validate_contract(contract, artifacts[artifact], module, configs):
                if r["status"] != "validated":
                    return f"{r['function']}: {r['failure'].splitlines()[0]}"
            return ""
    raise ValueError(f"no validation specification covers {file}")
