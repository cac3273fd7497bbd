"""``vc bench`` (loaded by ``vcengine.cli`` when used): gas against the EVM floor, gas against population, and throughput per chain.

    vc bench gas [--sizes 10,100,1000] [--chain auto|tester|anvil] [--json] [--out DIR]
    vc bench throughput [--rounds 100] [--chains tester,anvil] [--json] [--out DIR]
    vc bench [all] [--out bench-results]      both, writing bench.json and the PNG charts
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

# Loaded by vcengine.cli's lazy group once the root module is complete, like every command group.
from vcengine.cli import emit_json, handle_errors, json_option

DEFAULT_SIZES = "10,100,1000"
ALL_SIZES = "10,100,1000,10000"


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise click.BadParameter(f"sizes must be whole numbers separated by commas, got {text!r}") from None
    from vcengine.bench.gas import MIN_SIZE

    if not sizes or sizes[0] < MIN_SIZE:
        raise click.BadParameter(f"each size must be at least {MIN_SIZE}")
    return sizes


def run_gas(sizes: list[int], chain: str, console: Console) -> dict[str, Any]:
    from vcengine.bench.scaling import run_scaling

    report = run_scaling(sizes, chain, progress=lambda m: console.print(f"[dim]{m}[/]"))
    data = report.to_json()
    largest = max(sizes)
    ops = Table(title=f"Gas against the EVM floor ({largest:,} members, bids and bondholders; "
                      f"{report.chains[largest]})")
    for col, justify in (("operation", "left"), ("gas", "right"), ("floor", "right"), ("ratio", "right"),
                         ("what the floor counts", "left")):
        ops.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in data["operations"]:
        ops.add_row(row["name"], f"{row['gas']:,}", f"{row['floor']:,}", f"{row['ratio']:.2f}", row["why"])
    console.print(ops)
    scale = Table(title="Gas by population (members = bids = bondholders)")
    scale.add_column("operation")
    for n in report.sizes:
        scale.add_column(f"{n:,} ({report.chains[n]})", justify="right")
    scale.add_column("max/min", justify="right")
    for row in data["scaling"]:
        scale.add_row(row["name"], *[f"{row['gas'][str(n)]:,}" for n in report.sizes], f"{row['max_over_min']:.3f}")
    console.print(scale)
    once = Table(title="Once per chain: the code every commune clones")
    once.add_column("contract")
    once.add_column("gas", justify="right")
    for name, used in data["one_off"].items():
        once.add_row(name, f"{used:,}")
    console.print(once)
    return data


def run_throughput(chains: list[str], rounds: int, console: Console) -> list[dict[str, Any]]:
    from vcengine.bench.scaling import open_chain
    from vcengine.bench.throughput import run_workload

    runs = []
    for kind in chains:
        with open_chain(kind) as chain:
            runs.append(run_workload(chain, rounds).to_json())
    table = Table(title=f"Throughput: {rounds} rounds of submit labour, attest, pay rent, claim payout")
    for col in ("chain", "tx", "tx/s", "encoding ms", "signing ms", "EVM ms", "transport ms"):
        table.add_column(col, justify="right")
    for r in runs:
        ms = r["ms_per_tx"]
        table.add_row(r["chain"], str(r["transactions"]), f"{r['tx_per_second']:.1f}", f"{ms['encoding']:.2f}",
                      f"{ms['signing']:.2f}", f"{ms['evm']:.2f}", f"{ms['transport']:.2f}")
    console.print(table)
    for r in runs:
        console.print(f"[dim]{r['chain']}: {r['method']}[/]")
    return runs


def _write(out: Path, name: str, data: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


out_option = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                          help="Write the JSON and PNG charts into this folder.")


@click.group(invoke_without_command=True)
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Benchmarks: gas against the EVM floor and population, throughput per chain (`vc bench` runs all)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(bench_all)


@bench.command("gas")
@click.option("--sizes", default=DEFAULT_SIZES, show_default=True, help="Populations (members, bids, holders).")
@click.option("--chain", "chain_kind", type=click.Choice(["auto", "tester", "anvil"]), default="auto",
              show_default=True, help="auto: the embedded chain up to 1,000, anvil (cancun) above.")
@out_option
@json_option
@handle_errors
def bench_gas(sizes: str, chain_kind: str, out: Path | None, as_json: bool) -> None:
    """Gas of every user-facing operation, its EVM floor and ratio, at each population size."""
    console = Console(width=200, highlight=False)
    data = run_gas(_sizes(sizes), chain_kind, console)
    if out is not None:
        from vcengine.bench.plots import plot_gas_scaling

        console.print(f"wrote {_write(out, 'gas.json', data)} and {plot_gas_scaling(data, out / 'gas_scaling.png')}")
    if as_json:
        emit_json(data)


@bench.command("throughput")
@click.option("--rounds", default=100, show_default=True, help="Rounds of four transactions.")
@click.option("--chains", default="tester,anvil", show_default=True, help="Chains, comma-separated.")
@out_option
@json_option
@handle_errors
def bench_throughput(rounds: int, chains: str, out: Path | None, as_json: bool) -> None:
    """Transactions per second of the same member workload per chain, and where the time goes."""
    console = Console(width=200, highlight=False)
    runs = run_throughput([c.strip() for c in chains.split(",") if c.strip()], rounds, console)
    if out is not None:
        from vcengine.bench.plots import plot_throughput

        console.print(f"wrote {_write(out, 'throughput.json', {'throughput': runs})} and "
                      f"{plot_throughput(runs, out / 'throughput.png')}")
    if as_json:
        emit_json({"throughput": runs})


@bench.command("all")
@click.option("--sizes", default=ALL_SIZES, show_default=True, help="Populations (members, bids, holders).")
@click.option("--rounds", default=100, show_default=True, help="Throughput rounds of four transactions.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-results"),
              show_default=True, help="Folder for bench.json and the PNG charts.")
@json_option
@handle_errors
def bench_all(sizes: str = ALL_SIZES, rounds: int = 100, out: Path = Path("bench-results"),
              as_json: bool = False) -> None:
    """Gas (every size) and throughput (tester and anvil); writes bench.json and PNGs to --out."""
    from vcengine.bench.plots import plot_gas_scaling, plot_throughput

    console = Console(width=200, highlight=False)
    data = run_gas(_sizes(sizes), "auto", console)
    data["throughput"] = run_throughput(["tester", "anvil"], rounds, console)
    path = _write(out, "bench.json", data)
    plot_gas_scaling(data, out / "gas_scaling.png")
    plot_throughput(data["throughput"], out / "throughput.png")
    console.print(f"wrote {path}, {out / 'gas_scaling.png'} and {out / 'throughput.png'}")
    if as_json:
        emit_json(data)
