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
from vcengine.preflight import pay_and_call
from vcengine.token import BondSeriesClient, ERC20Client

UINT128_MAX = 2**128 - 1
ZERO_ADDRESS = "0x" + "00" * 20
#: `CommonStock.MAX_PERIODS`: the longest rental term.
MAX_PERIODS = 1_200


class AssetState(IntEnum):
    """``CommonStock.AssetState``."""

    NONE = 0
    AUCTION = 1
    FAILED = 2
    RENTED = 3
    RENTAL_AUCTION = 4
    LIQUIDATION = 5
    LIQUIDATED = 6


class RentalEnd(IntEnum):
    """``CommonStock.RentalEnd``: why a rental agreement ended."""

    RETURNED = 0
    DEFAULTED = 1
    TERM_ENDED = 2


class Failure(IntEnum):
    """``CommonStock.Failure``: why a bond auction failed."""

    NONE = 0
    UNDERSUBSCRIBED = 1
    RENT_TOO_LOW = 2
    PAYMENT_REFUSED = 3


@dataclass(frozen=True)
class Asset:
    """An asset of the common stock and its bond auction, as stored on chain."""

    asset_id: int
    requester: str
    auction_closes_at: int
    clearing_rate_bps: int
    state: AssetState
    failure: Failure
    vendor: str
    periods: int
    #: The rate cap in force when the asset was requested: its auction's, whatever changes after.
    rate_cap_bps: int
    price: int
    rent_per_period: int
    series: str | None
    escrowed: int
    margin_need: int
    margin_total: int
    description_hash: bytes
    #: The member renting it now, if it is rented (filled in by the client).
    renter: str | None = None


@dataclass(frozen=True)
class Debt:
    """An asset's debt to its bondholders."""

    principal: int
    interest_owed: int
    start: int
    accrued_periods: int
    redeemed: bool
    written_off: int


@dataclass(frozen=True)
class Rental:
    """An asset's current (or last) rental agreement."""

    renter: str
    start: int
    periods: int
    paid_periods: int
    rent_per_period: int
    #: The agreement ended by default: its renter may not bid in the asset's next rental auction.
    defaulted: bool = False
    #: The grace period in force when the agreement started: its own for its whole life.
    grace_seconds: int = 0


@dataclass(frozen=True)
class Sale:
    """An open rental auction or liquidation sale (leader None when nobody has bid)."""

    leader: str | None
    closes_at: int
    periods: int
    amount: int
    #: Liquidation sales reopened without a bid (each lowers the reserve).
    reopenings: int = 0
    #: The liquidation reserve in force when the liquidation opened (liquidations only).
    reserve_bps: int = 0


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
class RentalSettleResult:
    """A settled rental auction: ``outcome`` is ``rented``, ``liquidation`` or ``reopened``."""

    outcome: str
    tx: TxResult

    @property
    def rented(self) -> bool:
        return self.outcome == "rented"


@dataclass(frozen=True)
class ClaimResult:
    bonds: int
    refund: int
    tx: TxResult


@dataclass(frozen=True)
class RentResult:
    """A rent payment and where it went."""

    amount: int
    to_bonds: int
    to_members: int
    redeemed: bool
    tx: TxResult


@dataclass(frozen=True)
class LiquidationResult:
    """A settled liquidation sale (``sold`` False when nobody bid and the sale reopened)."""

    sold: bool
    buyer: str | None
    proceeds: int
    to_bonds: int
    to_members: int
    shortfall: int
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
        approve: bool = True,
    ) -> RequestResult:
        """Ask the commune to acquire an asset, offering ``rent_per_period`` for ``periods`` periods.

        The first period's rent is escrowed with the request (approved first if needed): it pays the
        first period if the sale clears and is credited back otherwise.
        """
        if not isinstance(description, str) or not description.strip():
            raise InputError("asset description must be a non-empty hash or URI")
        require_int(price, "price", 1, UINT128_MAX)
        vendor = require_address(vendor, "vendor")
        if vendor == ZERO_ADDRESS:
            raise InputError("vendor must not be the zero address: the price would be lost")
        if vendor == sender.address:
            raise InputError("the vendor must not be the requester: a member cannot sell the commune an asset")
        require_int(rent_per_period, "rent per period", 1, UINT128_MAX)
        require_int(periods, "term in periods", 1, MAX_PERIODS)
        require_int(closes_at, "auction closing time", 1, 2**64 - 1)
        # What the contract would refuse by name, checked before the escrow is approved.
        from vcengine.commune import CommuneClient

        commune = CommuneClient(self.chain, self.call("commune"), self.artifacts)
        if not commune.is_member(sender.address):
            raise InputError(f"{sender.address} is not a member of the commune: only members request assets")
        if commune.is_member(vendor):
            raise InputError(f"vendor {vendor} is a member of the commune: the vendor must be an outsider")
        own = {self.address.lower(): "common stock", commune.address.lower(): "membership",
               str(self.treasury()).lower(): "treasury"}
        if vendor.lower() in own:
            raise InputError(f"vendor {vendor} is the commune's own {own[vendor.lower()]} contract: "
                             "it could never withdraw the price")
        latest = self.chain.now() + 1 + self.call("MAX_DURATION_SECONDS")
        if closes_at > latest:
            raise InputError(f"the auction must close within 100 years (by {latest}), got {closes_at}")
        tx = self._pulling(approve, rent_per_period, "requestAsset",
                           (description, price, vendor, rent_per_period, periods, closes_at), sender)
        return RequestResult(tx.event("AssetRequested").args["assetId"], tx)

    def bid(self, asset_id: int, amount: int, rate_bps: int, sender: LocalAccount, approve: bool = True) -> BidResult:
        """Bid ``amount`` at a lowest acceptable rate of ``rate_bps``; approves the escrow first if needed."""
        require_int(asset_id, "asset id", 1)
        require_int(amount, "bid amount", 1, UINT128_MAX)
        require_int(rate_bps, "rate (basis points per period)", 0, 2**16 - 1)
        if approve:
            paid = pay_and_call(self, self.token(), amount, "bid", (asset_id, amount, rate_bps), sender)
            approval, tx = paid.approval, paid.tx
        else:
            approval, tx = None, self.transact("bid", asset_id, amount, rate_bps, sender=sender)
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
        """Withdraw everything credited to ``sender`` (a vendor's price, an outbid escrow)."""
        return self.transact("withdraw", sender=sender)

    def sweep(self, sender: LocalAccount) -> TxResult:
        """Send what the stock holds beyond its escrow and credits to the treasury as income (anyone)."""
        return self.transact("sweep", sender=sender)

    def pay_rent(self, asset_id: int, periods: int, sender: LocalAccount, approve: bool = True) -> RentResult:
        """Pay ``periods`` periods of rent ahead for ``asset_id``; approves the amount first if needed."""
        require_int(asset_id, "asset id", 1)
        require_int(periods, "periods", 1, 2**32 - 1)
        amount = periods * self.rental(asset_id).rent_per_period
        tx = self._pulling(approve, amount, "payRent", (asset_id, periods), sender)
        args = tx.event("RentPaid").args
        redeemed = any(e.name == "SeriesRedeemed" for e in tx.events)
        return RentResult(args["amount"], args["toBonds"], args["toMembers"], redeemed, tx)

    def return_asset(self, asset_id: int, sender: LocalAccount) -> TxResult:
        """Return a rented asset; it goes to a rental auction among the members."""
        require_int(asset_id, "asset id", 1)
        return self.transact("returnAsset", asset_id, sender=sender)

    def reclaim(self, asset_id: int, sender: LocalAccount) -> TxResult:
        """Reclaim an asset whose rent is overdue past grace, or whose term ended (anyone)."""
        require_int(asset_id, "asset id", 1)
        return self.transact("reclaim", asset_id, sender=sender)

    def bid_rent(self, asset_id: int, rent_per_period: int, periods: int, sender: LocalAccount,
                 approve: bool = True) -> TxResult:
        """Bid ``rent_per_period`` for ``periods`` periods in a rental auction (members); escrows one period."""
        require_int(asset_id, "asset id", 1)
        require_int(rent_per_period, "rent per period", 1, UINT128_MAX)
        require_int(periods, "term in periods", 1, MAX_PERIODS)
        return self._pulling(approve, rent_per_period, "bidRent", (asset_id, rent_per_period, periods), sender)

    def repayment_periods_left(self, asset_id: int) -> int:
        """While the asset's rental auction is open: the series' schedule left at its close (at
        least 1), the most periods a rental bid may count on to repay outstanding bonds."""
        require_int(asset_id, "asset id", 1)
        return self.call("repaymentPeriodsLeft", asset_id)

    def settle_rental(self, asset_id: int, sender: LocalAccount) -> bool:
        """Settle a rental auction after its close: True if rented, False otherwise (see
        :meth:`settle_rental_tx` for the outcome and the transaction)."""
        return self.settle_rental_tx(asset_id, sender).rented

    def settle_rental_tx(self, asset_id: int, sender: LocalAccount) -> RentalSettleResult:
        """Settle a rental auction after its close: rented, offered for liquidation (no bid), or
        reopened (the settlement was refused: the leader is credited back)."""
        require_int(asset_id, "asset id", 1)
        tx = self.transact("settleRental", asset_id, sender=sender)
        names = {e.name for e in tx.events}
        outcome = ("rented" if "RentalStarted" in names else "liquidation" if "LiquidationOpened" in names
                   else "reopened")
        return RentalSettleResult(outcome, tx)

    def treasury(self) -> str:
        return self.call("treasury")

    def _pulling(self, approve: bool, amount: int, function: str, args: tuple, sender: LocalAccount) -> TxResult:
        """Send a call that pulls ``amount`` tokens from ``sender``: with ``approve``, simulated with the
        allowance it will have first and approved exactly (vcengine.preflight); else sent as it is."""
        if not approve:
            return self.transact(function, *args, sender=sender)
        return pay_and_call(self, self.token(), amount, function, args, sender).tx

    def bid_liquidation(self, asset_id: int, amount: int, sender: LocalAccount, approve: bool = True) -> TxResult:
        """Bid ``amount`` in a liquidation sale (anyone); escrows it."""
        require_int(asset_id, "asset id", 1)
        require_int(amount, "liquidation bid", 1, UINT128_MAX)
        return self._pulling(approve, amount, "bidLiquidation", (asset_id, amount), sender)

    def settle_liquidation(self, asset_id: int, sender: LocalAccount) -> LiquidationResult:
        """Settle a liquidation sale after its close (sold, or reopened when nobody bid)."""
        require_int(asset_id, "asset id", 1)
        tx = self.transact("settleLiquidation", asset_id, sender=sender)
        for ev in tx.events:
            if ev.name == "AssetLiquidated":
                a = ev.args
                shortfall = next((e.args["shortfall"] for e in tx.events if e.name == "SeriesWrittenOff"), 0)
                return LiquidationResult(True, a["buyer"], a["proceeds"], a["toBonds"], a["toMembers"], shortfall, tx)
        return LiquidationResult(False, None, 0, 0, 0, 0, tx)

    # ------------------------------------------------------------------ views

    def asset(self, asset_id: int) -> Asset:
        raw = self.call("assetInfo", asset_id)
        series = raw[10] if raw[10] != ZERO_ADDRESS else None
        state = AssetState(raw[3])
        renter = self.rental(asset_id).renter if state == AssetState.RENTED else None
        return Asset(asset_id, raw[0], raw[1], raw[2], state, Failure(raw[4]), raw[5], raw[6], raw[7],
                     raw[8], raw[9], series, raw[11], raw[12], raw[13], bytes(raw[14]), renter)

    def debt(self, asset_id: int) -> Debt:
        return Debt(*self.call("debtInfo", asset_id))

    def debt_owed(self, asset_id: int) -> tuple[int, int]:
        """(principal, interest) owed to the bondholders right now."""
        return tuple(self.call("debtOwed", asset_id))  # type: ignore[return-value]

    def is_fully_owned(self, asset_id: int) -> bool:
        return self.call("isFullyOwned", asset_id)

    def rental(self, asset_id: int) -> Rental:
        return Rental(*self.call("rentalInfo", asset_id))

    def reclaimable_at(self, asset_id: int) -> tuple[int, RentalEnd]:
        at, reason = self.call("reclaimableAt", asset_id)
        return at, RentalEnd(reason)

    def sale(self, asset_id: int) -> Sale:
        leader, closes_at, periods, reserve_bps, reopenings, amount = self.call("saleInfo", asset_id)
        return Sale(None if leader == ZERO_ADDRESS else leader, closes_at, periods, amount, reopenings, reserve_bps)

    def title_holder(self, asset_id: int) -> str | None:
        holder = self.call("titleHolder", asset_id)
        return None if holder == ZERO_ADDRESS else holder

    def liquidation_reserve(self, asset_id: int) -> int:
        return self.call("liquidationReserve", asset_id)

    def grace_seconds(self) -> int:
        return self.call("graceSeconds")

    def sale_seconds(self) -> int:
        return self.call("saleSeconds")

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

    def has_defaulted(self, asset_id: int, member: str) -> bool:
        """Whether ``member`` ever defaulted on a rental of ``asset_id`` (barred while its bonds are outstanding)."""
        return self.call("hasDefaulted", asset_id, require_address(member, "member"))

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
