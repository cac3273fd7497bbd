"""Smoke run of the membership gas benchmark with tiny communes (the benchmark itself is not a test)."""

from __future__ import annotations

import importlib.util

from vcengine.paths import PROJECT_ROOT


def load_bench(name: str = "bench_membership"):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_membership_gas_does_not_grow_with_members():
    bench = load_bench()
    small, larger = bench.measure(3), bench.measure(6)
    assert set(small) == set(bench.OPERATIONS)
    for op in bench.OPERATIONS:
        assert small[op] > 21_000
        # equal up to calldata byte costs (claim ids differ): nothing loops over members
        assert abs(small[op] - larger[op]) <= 64, (op, small[op], larger[op])


def test_auction_gas_smoke_run():
    bench = load_bench("bench_auction")
    small, larger = bench.measure(5), bench.measure(12)
    assert set(small) == set(bench.OPERATIONS)
    for op in bench.OPERATIONS:
        assert small[op] > 21_000
        assert abs(small[op] - larger[op]) <= 64, (op, small[op], larger[op])


def test_economy_gas_smoke_run():
    bench = load_bench("bench_economy")
    small, larger = bench.measure(10), bench.measure(40)
    assert set(small) == set(bench.OPERATIONS)
    for op in bench.OPERATIONS:
        assert small[op] > 21_000
        assert abs(small[op] - larger[op]) <= 64, (op, small[op], larger[op])
