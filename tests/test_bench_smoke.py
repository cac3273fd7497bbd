"""Smoke run of the membership gas benchmark with tiny communes (the benchmark itself is not a test)."""

from __future__ import annotations

import importlib.util

import pytest

from vcengine.paths import PROJECT_ROOT


def load_bench(name: str = "bench_membership"):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "script, small, larger",
    [("bench_membership", 3, 6), ("bench_auction", 5, 12), ("bench_economy", 10, 40)],
)
def test_benchmark_smoke_run_gas_does_not_grow(script, small, larger):
    """Each benchmark at two tiny sizes: every operation measured, and equal up to calldata byte
    costs (ids and amounts differ by a byte): nothing loops over members, holders or bids."""
    bench = load_bench(script)
    a, b = bench.measure(small), bench.measure(larger)
    assert set(a) == set(bench.OPERATIONS) == set(b)
    for op in bench.OPERATIONS:
        assert a[op] > 21_000
        assert abs(a[op] - b[op]) <= 64, (op, a[op], b[op])
