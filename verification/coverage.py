"""Coverage: every state-changing function in each contract's ABI must have a model transition.

The ABIs are read from the compiled artifacts (inherited ERC-20 and ERC-721 entry points
included). Overloaded functions are named with their signature. `receive`/`fallback`, and
plain ETH to a contract that has neither, are covered by the "<receive or fallback>" transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verification import commune_model, factory_model, money_model, stock_model

#: Contract -> the model transitions that describe it.
MODELS: dict[str, set[str]] = {
    "Commune": {t.name for t in commune_model.TRANSITIONS},
    "Treasury": {t.name for t in money_model.TREASURY_TRANSITIONS},
    "BondSeries": {t.name for t in money_model.SERIES_TRANSITIONS},
    "CommonStock": {t.name for t in stock_model.TRANSITIONS},
    **{contract: {t.name for t in ts} for contract, ts in factory_model.TRANSITIONS.items()},
    # A module's function is covered by the CommonStock transition it implements (the modules run
    # on the stock's storage by DELEGATECALL); its receive/fallback reverts like the stock's.
    **{module: {f for f, t in fns.items() if t in {t.name for t in stock_model.TRANSITIONS}} | {"<receive or fallback>"}
       for module, fns in stock_model.MODULES.items()},
}


@dataclass
class CoverageResult:
    contract: str
    functions: list[str]
    missing: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing


def state_changing(abi: list[dict[str, Any]]) -> list[str]:
    """Names (signatures for overloads) of every non-view entry point, plus receive/fallback."""
    functions = [f for f in abi if f["type"] == "function" and f["stateMutability"] in ("nonpayable", "payable")]
    counts: dict[str, int] = {}
    for f in functions:
        counts[f["name"]] = counts.get(f["name"], 0) + 1
    names = []
    for f in functions:
        if counts[f["name"]] > 1:
            names.append(f"{f['name']}({','.join(i['type'] for i in f['inputs'])})")
        else:
            names.append(f["name"])
    names.append("<receive or fallback>")
    return sorted(names)


def check_coverage(artifacts: Any, models: dict[str, set[str]] | None = None) -> list[CoverageResult]:
    results = []
    for contract, modelled in (models or MODELS).items():
        functions = state_changing(artifacts[contract].abi)
        results.append(CoverageResult(contract, functions, [f for f in functions if f not in modelled]))
    return results
