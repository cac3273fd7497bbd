"""Shared shape of the gas benchmarks in `scripts/`: measure at each size, print a table of gas per
operation side by side with the largest/smallest ratio, and optionally one JSON line.
"""

from __future__ import annotations

import argparse
import json
from typing import Callable

from rich.console import Console
from rich.table import Table


def scaling_main(
    doc: str,
    measure: Callable[[int], dict[str, int]],
    operations: list[str],
    title: str,
    default_sizes: str,
    size_label: str = "{n:,}",
    sizes_help: str = "population sizes, comma-separated",
) -> None:
    """The command line of a scaling benchmark: `--sizes 10,100,1000` and `--json`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", default=default_sizes, help=sizes_help)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {n: measure(n) for n in sizes}
    table = Table(title=title)
    table.add_column("operation")
    for n in sizes:
        table.add_column(size_label.format(n=n), justify="right")
    table.add_column("max/min", justify="right")
    rows = []
    for op in operations:
        values = [results[n][op] for n in sizes]
        ratio = max(values) / min(values)
        table.add_row(op, *[f"{v:,}" for v in values], f"{ratio:.3f}")
        rows.append({"name": op, "gas": dict(zip(map(str, sizes), values)), "max_over_min": round(ratio, 4)})
    Console(width=140).print(table)
    if args.json:
        print(json.dumps({"sizes": sizes, "operations": rows}))
