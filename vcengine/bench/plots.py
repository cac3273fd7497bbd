"""PNG charts of the benchmark (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def plot_gas_scaling(gas: dict[str, Any], path: Path) -> Path:
    """Small multiples: gas of each operation against the population (log x), y from zero."""
    rows = gas["scaling"]
    sizes = gas["sizes"]
    cols = 5
    nrows = math.ceil(len(rows) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.3 * nrows), squeeze=False)
    for ax, row in zip(axes.flat, rows):
        values = [row["gas"][str(n)] for n in sizes]
        floors = [row["floor"][str(n)] for n in sizes]
        ax.plot(sizes, values, marker="o", color="tab:blue", label="measured")
        ax.plot(sizes, floors, linestyle="--", color="tab:gray", label="floor")
        ax.set_xscale("log")
        ax.set_ylim(0, max(values) * 1.25)
        ax.set_title(f"{row['name']}\nmax/min {row['max_over_min']:.3f}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_short))
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Gas per operation against members, bids and bondholders (log scale); dashed: EVM floor",
                 fontsize=10)
    fig.supxlabel("population (members = bids = bondholders)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_throughput(runs: list[dict[str, Any]], path: Path) -> Path:
    """Transactions per second per chain, and where a transaction's time goes."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = [r["chain"] for r in runs]
    left.bar(names, [r["tx_per_second"] for r in runs], color=["tab:blue", "tab:orange"][: len(runs)])
    for i, r in enumerate(runs):
        left.text(i, r["tx_per_second"], f"{r['tx_per_second']:.1f}", ha="center", va="bottom")
    left.set_ylabel("transactions per second")
    left.set_title("Same member workload, sent one by one")
    bottom = [0.0] * len(runs)
    for part, color in (("encoding", "tab:green"), ("signing", "tab:purple"), ("evm", "tab:red"),
                        ("transport", "tab:gray")):
        values = [r["ms_per_tx"][part] for r in runs]
        right.bar(names, values, bottom=bottom, label=part, color=color)
        bottom = [b + v for b, v in zip(bottom, values)]
    right.set_ylabel("milliseconds per transaction")
    right.set_title("Where the time goes")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _short(value: float, _pos: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"
