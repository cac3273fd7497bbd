"""The gas scenario at several population sizes, side by side, with the largest/smallest ratio.

Gas does not depend on the chain that runs the EVM as long as the hard fork is the same: sizes up
to :data:`TESTER_MAX` run on the embedded chain (py-evm), larger ones on an anvil node started with
``--hardfork cancun`` (the contracts' evmVersion), which builds a population of 10,000 in minutes
where py-evm would take most of an hour. Both chains give the same gas for the same transaction
(checked by the smoke test); only calldata differs by the bytes of the signing accounts' addresses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from vcengine.bench.gas import OPERATIONS, Measured, measure
from vcengine.chains import AnvilChain, Chain, TesterChain
from vcengine.compiler import CompileResult, load_artifacts

#: Largest population run on the embedded chain when the chain is chosen automatically.
TESTER_MAX = 1_000
#: Block gas limit of the benchmark chains (population building sends 25-60 million gas batches).
BENCH_GAS_LIMIT = 2_000_000_000


def open_chain(kind: str) -> Chain:
    """A fresh benchmark chain: ``tester`` (py-evm) or ``anvil`` (cancun, large blocks)."""
    if kind == "tester":
        return TesterChain(gas_limit=BENCH_GAS_LIMIT)
    if kind == "anvil":
        return AnvilChain(hardfork="cancun", gas_limit=BENCH_GAS_LIMIT)
    raise ValueError(f"unknown benchmark chain {kind!r}: use tester, anvil or auto")


def chain_for(size: int, kind: str) -> str:
    """``auto`` picks the embedded chain up to TESTER_MAX members and anvil above."""
    if kind == "auto":
        return "tester" if size <= TESTER_MAX else "anvil"
    return kind


@dataclass
class ScalingReport:
    sizes: list[int]
    chains: dict[int, str]
    results: dict[int, dict[str, Measured]]
    seconds: dict[int, float] = field(default_factory=dict)
    #: Gas of each piece deployed once per chain (the code every commune clones), as measured on
    #: the first chain.
    one_off: dict[str, int] = field(default_factory=dict)

    def max_over_min(self, op: str) -> float:
        values = [self.results[n][op].gas for n in self.sizes]
        return max(values) / min(values)

    def operations(self) -> list[Measured]:
        """Every operation at the largest size measured."""
        largest = self.results[max(self.sizes)]
        return [largest[op] for op in OPERATIONS]

    def to_json(self) -> dict[str, Any]:
        return {
            "operations": [m.to_json() for m in self.operations()],
            "scaling": [
                {"name": op, "gas": {str(n): self.results[n][op].gas for n in self.sizes},
                 "floor": {str(n): self.results[n][op].floor for n in self.sizes},
                 "max_over_min": round(self.max_over_min(op), 4)}
                for op in OPERATIONS
            ],
            "sizes": self.sizes,
            "chains": {str(n): c for n, c in self.chains.items()},
            "seconds": {str(n): round(s, 1) for n, s in self.seconds.items()},
            "one_off": {**self.one_off, "total": sum(self.one_off.values())},
        }


def run_scaling(sizes: list[int], kind: str = "auto", artifacts: CompileResult | None = None,
                progress: Callable[[str], None] | None = None) -> ScalingReport:
    """Measure every operation at each size, each on a fresh chain."""
    artifacts = artifacts or load_artifacts()
    report = ScalingReport(sorted(sizes), {}, {})
    for n in report.sizes:
        chain_kind = chain_for(n, kind)
        started = time.monotonic()
        with open_chain(chain_kind) as chain:
            report.results[n] = measure(chain, n, artifacts, progress, one_off=None if report.one_off else
                                        report.one_off)
        report.chains[n] = chain_kind
        report.seconds[n] = time.monotonic() - started
    return report
