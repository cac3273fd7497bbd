"""The keeper: settles auctions that have closed and reclaims assets in default.

Anyone may run it, several operators at once: every action is idempotent on chain (a second
settlement of the same auction reverts with a named error), and a lost race is recorded as
skipped, not raised.

Example::

    >>> from vcengine.keeper import run_once
    >>> for action in run_once(deployment.stock, operator):
    ...     print(action)
    asset 3: reclaim -> done (0x9f...)
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from vcengine.client import ContractReverted
from vcengine.stock import AssetState, CommonStockClient


@dataclass(frozen=True)
class KeeperAction:
    """One thing the keeper found due, and what happened when it tried."""

    asset_id: int
    action: str  # settle | reclaim | settleRental | settleLiquidation | release
    outcome: str  # done | skipped
    detail: str
    tx_hash: str | None = None

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


def run_once(stock: CommonStockClient, sender: LocalAccount, now: int | None = None) -> list[KeeperAction]:
    """Perform every due action once, from ``sender``. Returns what was done and what was skipped.

    It also releases the treasury's begun grid periods when more are pending than one call releases
    (MAX_RELEASE_PERIODS), so that joining and leaving never wait for a release (asset 0 in the log).
    """
    actions = _release(stock, sender)
    for asset_id, action in due_actions(stock, now):
        try:
            if action == "settle":
                result = stock.settle(asset_id, sender=sender)
                detail = (f"cleared at {result.clearing_rate_bps} bps" if result.cleared
                          else f"failed: {result.failure.name.lower()}")
                tx_hash = result.tx.tx_hash
            elif action == "reclaim":
                tx = stock.reclaim(asset_id, sender=sender)
                ended = tx.event("RentalEnded").args
                detail, tx_hash = f"rental of {ended['renter']} ended ({_reason(ended['reason'])})", tx.tx_hash
            elif action == "settleRental":
                rented = stock.settle_rental(asset_id, sender=sender)
                if rented:
                    detail = f"rented to {stock.rental(asset_id).renter}"
                elif stock.asset(asset_id).state == AssetState.LIQUIDATION:
                    detail = "no bid: offered for liquidation"
                else:  # the token refused the first period, or the bid no longer repays (settled late)
                    detail = "settlement refused: the leader is credited back and the rental auction reopened"
                tx_hash = None
            else:
                sold = stock.settle_liquidation(asset_id, sender=sender)
                detail = (f"sold to {sold.buyer} for {sold.proceeds} base units" if sold.sold
                          else "no bid: sale reopened")
                tx_hash = sold.tx.tx_hash
        except ContractReverted as exc:  # another keeper got there first, or the state moved on
            actions.append(KeeperAction(asset_id, action, "skipped", str(exc.error)))
            continue
        actions.append(KeeperAction(asset_id, action, "done", detail, tx_hash))
    return actions


def _release(stock: CommonStockClient, sender: LocalAccount) -> list[KeeperAction]:
    from vcengine.treasury import TreasuryClient

    from vcengine.treasury import RELEASE_BATCH

    treasury = TreasuryClient(stock.chain, stock.treasury(), stock.artifacts)
    pending, limit = treasury.pending_periods(), treasury.max_release_periods()
    if pending < limit:
        return []
    pending = min(pending, RELEASE_BATCH)  # the rest on the next round
    try:
        tx = treasury.release(pending, sender)
    except ContractReverted as exc:
        return [KeeperAction(0, "release", "skipped", str(exc.error))]
    released = sum(e.args["amount"] for e in tx.events if e.name == "IncomeReleased")
    return [KeeperAction(0, "release", "done", f"{pending} grid periods released ({released} base units)", tx.tx_hash)]


def _reason(code: int) -> str:
    return ["returned", "defaulted", "term ended"][code]
