"""The keeper: settles auctions that have closed and reclaims assets in default.

Anyone may run it, several operators at once: every action is idempotent on chain (a second
settlement of the same auction reverts with a named error), and a lost race is recorded as
skipped, not raised.

It is also what ``vc keeper run`` runs as a service: :func:`iter_round` yields each action the
moment it is done (so a stop request is honoured between two actions), :class:`RetryPolicy` is the
bounded exponential backoff used while the node cannot be reached, and :func:`unreachable_reason`
names why (``connection refused``, ``timed out``) without the HTTP library's internals.

Example::

    >>> from vcengine.keeper import run_once
    >>> for action in run_once(deployment.stock, operator):
    ...     print(action)
    asset 3: reclaim -> done: rental of 0x3C44...93BC (account 2) ended (defaulted) (0x9f...)
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator

from eth_account.signers.local import LocalAccount

from vcengine.client import ContractReverted, DecodedError
from vcengine.display import Display, enum_name
from vcengine.stock import AssetState, CommonStockClient, Failure, RentalEnd


@dataclass(frozen=True)
class KeeperAction:
    """One thing the keeper found due, and what happened when it tried.

    ``detail`` is for people (amounts with decimals and symbol, named addresses); ``values`` holds
    the same facts for ``--json``/``--log-json`` (amounts as token-unit strings with
    ``KEY_base_units`` beside them, enums by name).
    """

    asset_id: int
    action: str  # settle | reclaim | settleRental | settleLiquidation | release
    outcome: str  # done | skipped
    detail: str
    tx_hash: str | None = None
    values: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        tail = f" ({self.tx_hash})" if self.tx_hash else ""
        return f"asset {self.asset_id}: {self.action} -> {self.outcome}: {self.detail}{tail}"


def due_actions(stock: CommonStockClient, now: int | None = None) -> list[tuple[int, str]]:
    """(asset id, action) for every asset whose auction has closed or whose renter is reclaimable.

    ``now`` defaults to the earliest time the next block can have: one second after the latest.
    """
    now = stock.chain.now() + 1 if now is None else now
    due = []
    for asset_id in range(1, stock.asset_count() + 1):
        asset = stock.asset(asset_id)
        if asset.state == AssetState.AUCTION and now >= asset.auction_closes_at:
            due.append((asset_id, "settle"))
        elif asset.state == AssetState.RENTED and now >= stock.reclaimable_at(asset_id)[0]:
            due.append((asset_id, "reclaim"))
        elif asset.state == AssetState.RENTAL_AUCTION and now >= stock.sale(asset_id).closes_at:
            due.append((asset_id, "settleRental"))
        elif asset.state == AssetState.LIQUIDATION and now >= stock.sale(asset_id).closes_at:
            due.append((asset_id, "settleLiquidation"))
    return due


def token_display(stock: CommonStockClient) -> Display:
    """A Display with the settlement token's decimals and symbol (no address names)."""
    token = stock.token()
    return Display(decimals=token.decimals(), symbol=token.symbol())


def run_once(stock: CommonStockClient, sender: LocalAccount, now: int | None = None,
             display: Display | None = None) -> list[KeeperAction]:
    """Perform every due action once, from ``sender``. Returns what was done and what was skipped.

    It also releases the treasury's begun grid periods when more are pending than one call releases
    (MAX_RELEASE_PERIODS), so that joining and leaving never wait for a release (asset 0 in the log).
    """
    return list(iter_round(stock, sender, now, display))


def iter_round(stock: CommonStockClient, sender: LocalAccount, now: int | None = None,
               display: Display | None = None,
               on_start: Callable[[int, str], None] | None = None) -> Iterator[KeeperAction]:
    """:func:`run_once`, one action at a time: each is yielded as soon as its transaction is mined,
    so a caller that stops iterating (a stop request) never leaves an action half-reported.

    ``display`` formats the details (default: the token's decimals and symbol; its clock is set to
    the chain's); ``on_start(asset_id, action)`` is called before each action is attempted.
    """
    if display is None:
        display = token_display(stock)
    if display.clock is None:
        display.clock = stock.chain.now
    if on_start:
        on_start(0, "release")
    yield from _release(stock, sender, display)
    for asset_id, action in due_actions(stock, now):
        if on_start:
            on_start(asset_id, action)
        try:
            detail, tx_hash, values = _ACTIONS[action](stock, asset_id, sender, display)
        except ContractReverted as exc:  # another keeper got there first, or the state moved on
            # a transaction mined and reverted (the race was lost after the estimate) keeps its hash
            yield KeeperAction(asset_id, action, "skipped", _error(display, exc.error), exc.tx_hash,
                               {"error": exc.error.name})
            continue
        yield KeeperAction(asset_id, action, "done", detail, tx_hash, values)


Outcome = tuple[str, str, dict[str, Any]]  # detail, transaction hash, values


def _settle(stock: CommonStockClient, asset_id: int, sender: LocalAccount, d: Display) -> Outcome:
    result = stock.settle(asset_id, sender=sender)
    if result.cleared:
        return f"cleared at {result.clearing_rate_bps} bps", result.tx.tx_hash, {
            "cleared": True, "clearing_rate_bps": result.clearing_rate_bps, "series": result.series}
    failure = enum_name(Failure, int(result.failure))
    return f"failed: {failure}", result.tx.tx_hash, {"cleared": False, "failure": failure}


def _reclaim(stock: CommonStockClient, asset_id: int, sender: LocalAccount, d: Display) -> Outcome:
    tx = stock.reclaim(asset_id, sender=sender)
    ended = tx.event("RentalEnded").args
    reason = enum_name(RentalEnd, ended["reason"])
    words = {"Returned": "returned", "Defaulted": "defaulted", "TermEnded": "term ended"}.get(reason, reason)
    return f"rental of {d.address(ended['renter'])} ended ({words})", tx.tx_hash, {
        "renter": ended["renter"], "reason": reason}


def _settle_rental(stock: CommonStockClient, asset_id: int, sender: LocalAccount, d: Display) -> Outcome:
    result = stock.settle_rental_tx(asset_id, sender)
    values: dict[str, Any] = {"outcome": result.outcome}
    if result.outcome == "rented":
        rental = stock.rental(asset_id)
        detail = (f"rented to {d.address(rental.renter)} at {d.amount(rental.rent_per_period)} a period "
                  f"for {rental.periods} periods")
        values["renter"] = rental.renter
        d.put_amount(values, "rent_per_period", rental.rent_per_period)
        values["periods"] = rental.periods
    elif result.outcome == "liquidation":
        detail = "no bid: offered for liquidation"
    else:  # the token refused the first period, or the bid no longer repays (settled late)
        detail = "settlement refused: the leader is credited back and the rental auction reopened"
    return detail, result.tx.tx_hash, values


def _settle_liquidation(stock: CommonStockClient, asset_id: int, sender: LocalAccount, d: Display) -> Outcome:
    sold = stock.settle_liquidation(asset_id, sender=sender)
    if not sold.sold:
        return "no bid: sale reopened", sold.tx.tx_hash, {"sold": False}
    assert sold.buyer is not None
    detail = (f"sold to {d.address(sold.buyer)} for {d.amount(sold.proceeds)} "
              f"({d.amount(sold.to_bonds)} to the bondholders, {d.amount(sold.to_members)} to the members"
              + (f", {d.amount(sold.shortfall)} of bonds written off" if sold.shortfall else "") + ")")
    values: dict[str, Any] = {"sold": True, "buyer": sold.buyer}
    for key, base in (("proceeds", sold.proceeds), ("to_bonds", sold.to_bonds), ("to_members", sold.to_members),
                      ("shortfall", sold.shortfall)):
        d.put_amount(values, key, base)
    return detail, sold.tx.tx_hash, values


_ACTIONS: dict[str, Callable[[CommonStockClient, int, LocalAccount, Display], Outcome]] = {
    "settle": _settle, "reclaim": _reclaim, "settleRental": _settle_rental, "settleLiquidation": _settle_liquidation,
}


def _release(stock: CommonStockClient, sender: LocalAccount, display: Display) -> list[KeeperAction]:
    from vcengine.treasury import RELEASE_BATCH, TreasuryClient

    treasury = TreasuryClient(stock.chain, stock.treasury(), stock.artifacts)
    pending, limit = treasury.pending_periods(), treasury.max_release_periods()
    if pending < limit:
        return []
    pending = min(pending, RELEASE_BATCH)  # the rest on the next round
    try:
        tx = treasury.release(pending, sender)
    except ContractReverted as exc:
        return [KeeperAction(0, "release", "skipped", _error(display, exc.error), None, {"error": exc.error.name})]
    released = sum(e.args["amount"] for e in tx.events if e.name == "IncomeReleased")
    values: dict[str, Any] = {"periods": pending}
    display.put_amount(values, "released", released)
    return [KeeperAction(0, "release", "done", f"{pending} grid periods released ({display.amount(released)})",
                         tx.tx_hash, values)]


def _error(display: Display, error: DecodedError) -> str:
    """A refusal as people read it: ``AuctionStillOpen(assetId=1, closesAt=2026-... (in 3 d))``."""
    if not error.name and not error.args:
        return str(error)
    return f"{error.name}({display.args(error.name, error.args)})"


# ------------------------------------------------------------- running as a service


def now_iso() -> str:
    """The local time with seconds and its UTC offset, as every keeper line starts:
    ``2026-12-02T05:10:00+01:00``."""
    return datetime.now().astimezone().isoformat(timespec="seconds")



@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait while the node cannot be reached: ``base * 2**(k-1)`` seconds after the
    k-th consecutive failure, capped at ``cap``; after ``retries`` retries the next failure gives up.

    >>> RetryPolicy(retries=5, base=1, cap=10).schedule()
    [1.0, 2.0, 4.0, 8.0, 10.0]
    """

    retries: int = 5
    base: float = 1.0
    cap: float = 60.0

    def delay(self, failure: int) -> float | None:
        """Seconds to wait after consecutive failure number ``failure`` (1-based), or None: give up."""
        if failure > self.retries:
            return None
        return float(min(self.cap, self.base * 2 ** (failure - 1)))

    def schedule(self) -> list[float]:
        """Every wait, in order, before giving up."""
        return [self.delay(k) or 0.0 for k in range(1, self.retries + 1)]


def unreachable_reason(exc: BaseException) -> str | None:
    """Why the node could not be reached, in a few words (vcengine.chains.connection_problem: the
    one place that names connection failures), or None when ``exc`` is not a failure to reach the
    node (a revert, bad input: the keeper does not retry those).

    It looks through the exception's causes, its arguments and urllib3's ``reason``.
    """
    import requests
    import urllib3.exceptions

    from vcengine.chains import connection_problem

    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (ConnectionError, TimeoutError, socket.timeout, socket.gaierror, requests.ConnectionError,
                          requests.Timeout, urllib3.exceptions.HTTPError)) or type(e).__name__ == "NameResolutionError":
            return connection_problem(e)
        if isinstance(e, requests.HTTPError) and e.response is not None and e.response.status_code >= 500:
            return connection_problem(e)
        stack.extend([e.__cause__, e.__context__, getattr(e, "reason", None), *e.args])
    return None
