"""Read-only views over a commune for the inspection commands: an asset with its bid book, sale
and rental; labour claims; an account's bond bids. Nothing here sends a transaction.

Each read is linear in what it shows: one chunked log read per event kind (``vcengine.logs``),
then one view call per asset, claim, bid or distinct rate, never a call per pair.

Example::

    >>> view = asset_view(deployment, 1, LogRange(start=0, chunk=10_000))
    >>> view.asset.state.name, [(t.rate_bps, t.total) for t in view.book]
    ('AUCTION', [(150, 6000000000), (200, 6000000000)])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vcengine.logs import get_logs
from vcengine.stock import Asset, AssetState, Bid, Rental, RentalEnd, Sale


@dataclass(frozen=True)
class LogRange:
    """Where the commune's logs are: from its deployment block, in chunks of ``chunk`` blocks."""

    start: int
    chunk: int
    end: int | None = None

    def read(self, event: Any, **filters: Any) -> list[Any]:
        return get_logs(event, self.start, self.end, self.chunk, filters or None)


@dataclass(frozen=True)
class Tick:
    """One rate of a bond auction's book: the bids at it, their total, and the depth up to it."""

    rate_bps: int
    bids: int
    total: int
    depth: int


@dataclass
class AssetView:
    """Everything ``vc assets show`` tells about one asset."""

    asset: Asset
    description: str | None
    book: list[Tick] = field(default_factory=list)
    bids: list[Bid] = field(default_factory=list)
    #: While the auction is open: the rate it would clear at now (the lowest fully subscribed one).
    prospective_rate_bps: int | None = None
    principal: int | None = None
    interest: int | None = None
    fully_owned: bool = False
    rental: Rental | None = None
    next_rent_due: int | None = None
    reclaimable_at: int | None = None
    reclaimable_reason: RentalEnd | None = None
    sale: Sale | None = None
    liquidation_reserve: int | None = None
    title_holder: str | None = None


def descriptions(d: Any, logs: LogRange, asset_id: int | None = None) -> dict[int, str]:
    """Asset id -> description, from the ``AssetRequested`` events (one chunked read)."""
    filters = {"assetId": asset_id} if asset_id is not None else {}
    return {log["args"]["assetId"]: log["args"]["description"]
            for log in logs.read(d.stock.contract.events.AssetRequested, **filters)}


def bids_of_asset(d: Any, logs: LogRange, asset_id: int) -> list[Bid]:
    """Every bid on ``asset_id`` (its ``BidPlaced`` events, then each bid's record)."""
    ids = [log["args"]["bidId"] for log in logs.read(d.stock.contract.events.BidPlaced, assetId=asset_id)]
    return [d.stock.bid_info(bid_id) for bid_id in ids]


def book_of(d: Any, asset_id: int, bids: list[Bid]) -> list[Tick]:
    """The bid book by rate, lowest first: each rate's total is the contract's ``tickTotal``."""
    counts: dict[int, int] = {}
    for b in bids:
        counts[b.rate_bps] = counts.get(b.rate_bps, 0) + 1
    ticks, depth = [], 0
    for rate in sorted(counts):
        total = d.stock.tick_total(asset_id, rate)
        depth += total
        ticks.append(Tick(rate, counts[rate], total, depth))
    return ticks


def clearing_rate(book: list[Tick], price: int) -> int | None:
    """The lowest rate at which the book holds the price (None: undersubscribed)."""
    return next((t.rate_bps for t in book if t.depth >= price), None)


def asset_view(d: Any, asset_id: int, logs: LogRange, description: str | None = None, with_book: bool = True) -> AssetView:
    """One asset with what its state makes meaningful (book, debt, rental, sale, title holder)."""
    a = d.stock.asset(asset_id)
    view = AssetView(a, description)
    if with_book:
        view.bids = bids_of_asset(d, logs, asset_id)
        view.book = book_of(d, asset_id, view.bids)
        if a.state == AssetState.AUCTION:
            view.prospective_rate_bps = clearing_rate(view.book, a.price)
    if a.series:
        view.principal, view.interest = d.stock.debt_owed(asset_id)
        view.fully_owned = d.stock.is_fully_owned(asset_id)
    if a.state == AssetState.RENTED:
        r = d.stock.rental(asset_id)
        view.rental = r
        if r.paid_periods < r.periods:
            view.next_rent_due = r.start + r.paid_periods * d.stock.period_seconds()
        view.reclaimable_at, view.reclaimable_reason = d.stock.reclaimable_at(asset_id)
    if a.state in (AssetState.RENTAL_AUCTION, AssetState.LIQUIDATION):
        view.sale = d.stock.sale(asset_id)
    if a.state == AssetState.LIQUIDATION:
        view.liquidation_reserve = d.stock.liquidation_reserve(asset_id)
    if a.state == AssetState.LIQUIDATED:
        view.title_holder = d.stock.title_holder(asset_id)
    return view


@dataclass(frozen=True)
class ClaimView:
    """A labour claim with its evidence, the quorum it needs and, for one account, where it stands."""

    claim_id: int
    worker: str
    units: int
    attestations: int
    quorum: int
    counted: bool
    evidence: str | None
    #: For ``--account``: it is the account's own claim / the account has attested it / it awaits
    #: the account's attestation (a member's, not its own, not yet attested, not counted).
    mine: bool = False
    attested: bool = False
    awaiting_me: bool = False


def claims(d: Any, logs: LogRange, me: str | None = None) -> list[ClaimView]:
    """Every labour claim (one chunked read of ``LabourSubmitted``, one view call per claim and,
    with ``me``, one ``hasAttested`` per uncounted claim of someone else)."""
    evidence = {log["args"]["claimId"]: log["args"]["evidence"]
                for log in logs.read(d.commune.contract.events.LabourSubmitted)}
    member = d.commune.is_member(me) if me else False
    quorum_of: dict[str, int] = {}
    out = []
    for claim_id in range(1, d.commune.claim_count() + 1):
        c = d.commune.labour_claim(claim_id)
        if c.worker not in quorum_of:
            quorum_of[c.worker] = d.commune.quorum_for(c.worker)
        mine = bool(me) and c.worker.lower() == str(me).lower()
        attested = bool(me) and not mine and d.commune.has_attested(claim_id, me)
        awaiting = member and not mine and not attested and not c.counted
        out.append(ClaimView(claim_id, c.worker, c.units, c.attestations, quorum_of[c.worker], c.counted,
                             evidence.get(claim_id), mine, attested, awaiting))
    return out


@dataclass(frozen=True)
class BidView:
    """One of an account's bond bids: its auction's state, and what it returns once settled."""

    bid: Bid
    state: AssetState
    closes_at: int
    clearing_rate_bps: int | None
    #: (bonds, refund) from ``bidOutcome``; None while the auction is not settled.
    outcome: tuple[int, int] | None


def bids_of(d: Any, logs: LogRange, bidder: str, include_claimed: bool = False) -> list[BidView]:
    """``bidder``'s bids (its ``BidPlaced`` events), unclaimed only unless ``include_claimed``."""
    out = []
    assets: dict[int, Asset] = {}
    for log in logs.read(d.stock.contract.events.BidPlaced, bidder=bidder):
        b = d.stock.bid_info(log["args"]["bidId"])
        if b.claimed and not include_claimed:
            continue
        if b.asset_id not in assets:
            assets[b.asset_id] = d.stock.asset(b.asset_id)
        a = assets[b.asset_id]
        outcome = d.stock.bid_outcome(b.bid_id) if a.state != AssetState.AUCTION else None
        out.append(BidView(b, a.state, a.auction_closes_at, a.clearing_rate_bps or None, outcome))
    return out
