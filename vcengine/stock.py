"""Typed client of ``CommonStock``: asset requests, the bond rate auction, claims and withdrawals.

Example::

    >>> stock.request_asset("ipfs://bafy-lathe", price=1_000_000_000, vendor=vendor.address,
    ...                     rent_per_period=120_000_000, periods=12, closes_at=chain.now() + 3600,
    ...                     sender=member).asset_id
    1
    >>> stock.bid(1, 600_000_000, rate_bps=150, sender=lender).bid_id
    1
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount

from vcengine.client import ContractClient, InputError, TxResult, require_address, require_int
from vcengine.token import BondSeriesClient, ERC20Client

UINT128_MAX = 2**128 - 1
ZERO_ADDRESS = "0x" + "00" * 20


class AssetState(IntEnum):
    """``CommonStock.AssetState``."""

    NONE = 0
    AUCTION = 1
    FAILED = 2
    RENTED = 3


class Failure(IntEnum):
    """``CommonStock.Failure``: why a bond auction failed."""

    NONE = 0
    UNDERSUBSCRIBED = 1
    RENT_TOO_LOW = 2


@dataclass(frozen=True)
class Asset:
    """An asset of the common stock, as stored on chain."""

    asset_id: int
    requester: str
    auction_closes_at: int
    clearing_rate_bps: int
    state: AssetState
    failure: Failure
    vendor: str
    periods: int
    rental_start: int
    price: int
    rent_per_period: int
    series: str | None
    escrowed: int
    margin_need: int
    margin_total: int
    description_hash: bytes

    @property
    def renter(self) -> str | None:
        """The member renting the asset, if it is rented."""
        return self.requester if self.state == AssetState.RENTED else None


@dataclass(frozen=True)
class Bid:
    """A bid in a bond auction."""

    bid_id: int
    bidder: str
    rate_bps: int
    claimed: bool
    asset_id: int
    amount: int
    tick_before: int


@dataclass(frozen=True)
class RequestResult:
    asset_id: int
    tx: TxResult


@dataclass(frozen=True)
class BidResult:
    bid_id: int
    tx: TxResult
    approval: TxResult | None


@dataclass(frozen=True)
class SettleResult:
    """A settled auction: ``cleared`` with its rate and series, or failed with its reason."""

    cleared: bool
    clearing_rate_bps: int | None
    series: str | None
    failure: Failure
    tx: TxResult


@dataclass(frozen=True)
class ClaimResult:
    bonds: int
    refund: int
    tx: TxResult


class CommonStockClient(ContractClient):
    """The common stock: requests, bond auctions, claims and vendor withdrawals."""

    CONTRACT = "CommonStock"

    def token(self) -> ERC20Client:
        """The settlement token."""
        return ERC20Client(self.chain, self.call("token"), self.artifacts)

    # ---------------------------------------------------------------- actions

    def request_asset(
        self,
        description: str,
        price: int,
        vendor: str,
        rent_per_period: int,
        periods: int,
        closes_at: int,
        sender: LocalAccount,
    ) -> RequestResult:
        """Ask the commune to acquire an asset, offering ``rent_per_period`` for ``periods`` periods."""
        if not isinstance(description, str) or not description.strip():
            raise InputError("asset description must be a non-empty hash or URI")
        require_int(price, "price", 1, UINT128_MAX)
        vendor = require_address(vendor, "vendor")
        if vendor == ZERO_ADDRESS:
            raise InputError("vendor must not be the zero address: the price would be lost")
        require_int(rent_per_period, "rent per period", 1, UINT128_MAX)
        require_int(periods, "term in periods", 1, 2**32 - 1)
        require_int(closes_at, "auction closing time", 1, 2**64 - 1)
        tx = self.transact("requestAsset", description, price, vendor, rent_per_period, periods, closes_at, sender=sender)
        return RequestResult(tx.event("AssetRequested").args["assetId"], tx)

    def bid(self, asset_id: int, amount: int, rate_bps: int, sender: LocalAccount, approve: bool = True) -> BidResult:
        """Bid ``amount`` at a lowest acceptable rate of ``rate_bps``; approves the escrow first if needed."""
        require_int(asset_id, "asset id", 1)
        require_int(amount, "bid amount", 1, UINT128_MAX)
        require_int(rate_bps, "rate (basis points per period)", 0, 2**16 - 1)
        approval = self.token().ensure_allowance(self.address, amount, sender) if approve else None
        tx = self.transact("bid", asset_id, amount, rate_bps, sender=sender)
        return BidResult(tx.event("BidPlaced").args["bidId"], tx, approval)

    def settle(self, asset_id: int, sender: LocalAccount) -> SettleResult:
        """Settle the bond auction of ``asset_id`` after its close."""
        require_int(asset_id, "asset id", 1)
        tx = self.transact("settle", asset_id, sender=sender)
        for ev in tx.events:
            if ev.name == "AuctionSettled":
                return SettleResult(True, ev.args["clearingRateBps"], ev.args["series"], Failure.NONE, tx)
            if ev.name == "AuctionFailed":
                return SettleResult(False, None, None, Failure(ev.args["reason"]), tx)
        raise LookupError(f"settle of asset {asset_id} emitted neither AuctionSettled nor AuctionFailed")

    def claim(self, bid_id: int, sender: LocalAccount) -> ClaimResult:
        """Claim a settled bid: bonds for the filled part, the rest of the escrow back."""
        require_int(bid_id, "bid id", 1)
        tx = self.transact("claim", bid_id, sender=sender)
        args = tx.event("BidClaimed").args
        return ClaimResult(args["bonds"], args["refund"], tx)

    def withdraw(self, sender: LocalAccount) -> TxResult:
        """Withdraw everything credited to ``sender`` (a vendor's price)."""
        return self.transact("withdraw", sender=sender)

    # ------------------------------------------------------------------ views

    def asset(self, asset_id: int) -> Asset:
        raw = self.call("assetInfo", asset_id)
        series = raw[10] if raw[10] != ZERO_ADDRESS else None
        return Asset(asset_id, raw[0], raw[1], raw[2], AssetState(raw[3]), Failure(raw[4]), raw[5], raw[6], raw[7],
                     raw[8], raw[9], series, raw[11], raw[12], raw[13], bytes(raw[14]))

    def bid_info(self, bid_id: int) -> Bid:
        raw = self.call("bidInfo", bid_id)
        return Bid(bid_id, *raw)

    def bid_outcome(self, bid_id: int) -> tuple[int, int]:
        """(bonds, refund) the bid receives at claim; valid once its auction is settled."""
        return tuple(self.call("bidOutcome", bid_id))  # type: ignore[return-value]

    def series(self, asset_id: int) -> BondSeriesClient:
        """The bond series of a cleared asset."""
        address = self.asset(asset_id).series
        if address is None:
            raise InputError(f"asset {asset_id} has no bond series: its auction has not cleared")
        return BondSeriesClient(self.chain, address, self.artifacts)

    def book_depth(self, asset_id: int, rate_bps: int) -> int:
        return self.call("bookDepth", asset_id, rate_bps)

    def tick_total(self, asset_id: int, rate_bps: int) -> int:
        return self.call("tickTotal", asset_id, rate_bps)

    def credits(self, account: str) -> int:
        return self.call("credits", require_address(account, "account"))

    def commitments(self, member: str) -> int:
        return self.call("commitments", require_address(member, "member"))

    def asset_count(self) -> int:
        return self.call("assetCount")

    def bid_count(self) -> int:
        return self.call("bidCount")

    def escrow_held(self) -> int:
        return self.call("escrowHeld")

    def credits_held(self) -> int:
        return self.call("creditsHeld")

    def period_seconds(self) -> int:
        return self.call("periodSeconds")

    def rate_cap_bps(self) -> int:
        return self.call("rateCapBps")

    def max_periods(self) -> int:
        return self.call("MAX_PERIODS")
