// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {BondSeries} from "./BondSeries.sol";
import {Commune} from "./Commune.sol";
import {ICommonStockErrors} from "./interfaces/ICommonStockErrors.sol";
import {Amortization} from "./libraries/Amortization.sol";
import {RateBook} from "./libraries/RateBook.sol";

/// @title CommonStock: the commune's assets, and the bond auctions that finance them
/// @notice The commune does not coordinate production; it only acquires the assets members ask
/// for and allocates them. A member requests an asset (price, vendor) and offers a rental agreement
/// (rent per period, number of periods). The commune sells a series of bonds for the price in a
/// public auction that sets the interest rate. If it clears and the rent can carry the debt, the
/// vendor is paid, the asset joins the common stock and the member rents it.
///
/// Rate auction. Anyone may bid until the close by escrowing `amount` and naming the lowest rate
/// they accept, `rateBps` (basis points per period, at most `rateCapBps`). Bids are kept by rate
/// tick in a two-level prefix book (`RateBook`), so bidding and settling cost the same for ten bids
/// or a hundred thousand. After the close anyone may settle:
///
///     clearing rate r* = the lowest rate such that  sum(amount of bids with rate <= r*) >= price
///
/// If the book holds less than the price, or the offered rent cannot repay the price with interest
/// at r* within the offered term (see `Amortization`), the auction fails and every bid is refunded
/// in full. Otherwise every winner is paid the one rate r*:
///
///     rate <  r*   filled in full
///     rate == r*   filled pro rata to the principal still needed, N = price - sum(rate < r*),
///                  out of the tick's total T, by cumulative rounding in bid order:
///                      fill_k = floor((C_k + a_k) * N / T) - floor(C_k * N / T)
///                  where C_k is the amount bid at r* before bid k. Each fill is within one base
///                  unit of a_k * N / T, and the fills sum to exactly N.
///     rate >  r*   not filled
///
/// so the vendor receives exactly the price. Nobody is paid a rate below their own, and nobody
/// lends more than they bid. Bidders pull what is theirs with `claim` (bonds for the fill, tokens
/// for the rest) and the vendor pulls the price with `withdraw`: settlement pushes nothing.
///
/// Money. This contract holds exactly `escrowHeld + creditsHeld` settlement-token base units:
/// escrow of bids not yet claimed (less the price once a sale clears) plus credits not yet withdrawn.
contract CommonStock is ICommonStockErrors, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using RateBook for RateBook.Book;

    /// @notice Lifecycle of an asset. `None` means the id does not exist.
    enum AssetState {
        None,
        Auction, // bond auction open (or closed and awaiting settlement)
        Failed, // the bond sale did not clear or the rent could not carry it; every bid refunded
        Rented // bought; rented to a member under a rental agreement
    }

    /// @notice Why a bond auction failed.
    enum Failure {
        None,
        Undersubscribed, // the book held less than the price
        RentTooLow // the rent cannot repay the price at the clearing rate within the term
    }

    /// @notice An asset of the common stock and its financing.
    struct Asset {
        address requester; // the member who asked for it: the first renter
        uint64 auctionClosesAt;
        uint16 clearingRateBps;
        AssetState state;
        Failure failure;
        address vendor;
        uint32 periods; // term of the rental agreement, in rent periods
        uint64 rentalStart; // block time the rental agreement started
        uint128 price; // face value of the bond series, settlement-token base units
        uint128 rentPerPeriod;
        address series; // the BondSeries clone, once the sale clears
        uint128 escrowed; // sum of all bids
        uint128 marginNeed; // N: principal raised at the clearing tick
        uint128 marginTotal; // T: sum of bids at the clearing tick
        bytes32 descriptionHash;
    }

    /// @notice One bid in a bond auction.
    struct Bid {
        address bidder;
        uint16 rateBps;
        bool claimed;
        uint64 assetId;
        uint128 amount;
        uint128 tickBefore; // C: amount bid at the same rate on the same asset before this bid
    }

    /// @notice Longest rental term, in periods (bounds the amortisation check at settlement).
    uint256 public constant MAX_PERIODS = 1_200;

    /// @notice Highest rate cap a commune may set (bounds the settlement scan of the rate book).
    uint256 public constant MAX_RATE_CAP_BPS = 4_095;

    /// @notice The membership contract: only its members request assets.
    Commune public immutable commune;

    /// @notice The settlement token: all money of the commune is in this ERC-20.
    IERC20 public immutable token;

    /// @notice The BondSeries implementation every series is a clone of.
    address public immutable seriesImplementation;

    /// @notice Length of one rent period, seconds. One length per commune.
    uint256 public immutable periodSeconds;

    /// @notice Highest rate a bid may name, basis points per period.
    uint256 public immutable rateCapBps;

    uint8 private immutable _tokenDecimals;

    /// @notice Number of assets ever requested; asset ids run from 1 to this.
    uint256 public assetCount;

    /// @notice Number of bids ever placed; bid ids run from 1 to this.
    uint256 public bidCount;

    /// @notice Settlement tokens held for bids: escrow not yet claimed, less prices paid to vendors.
    uint256 public escrowHeld;

    /// @notice Settlement tokens credited to accounts (vendors) and not yet withdrawn.
    uint256 public creditsHeld;

    mapping(uint256 assetId => Asset) private _assets;
    mapping(uint256 bidId => Bid) private _bids;
    mapping(uint256 assetId => RateBook.Book) private _books;
    mapping(address account => uint256 amount) private _credits;
    mapping(address member => uint256 count) private _commitments;

    /// @notice Emitted when a member asks the commune to acquire an asset.
    event AssetRequested(
        uint256 indexed assetId,
        address indexed requester,
        address indexed vendor,
        uint256 price,
        uint256 rentPerPeriod,
        uint256 periods,
        uint256 auctionClosesAt,
        string description
    );

    /// @notice Emitted when a bid is placed and its amount escrowed.
    event BidPlaced(uint256 indexed assetId, uint256 indexed bidId, address indexed bidder, uint256 rateBps, uint256 amount);

    /// @notice Emitted when a bond auction clears: the asset is bought and rented.
    event AuctionSettled(uint256 indexed assetId, uint256 clearingRateBps, address series, uint256 price);

    /// @notice Emitted when a bond auction fails; every bid will be refunded in full.
    event AuctionFailed(uint256 indexed assetId, Failure reason);

    /// @notice Emitted when a rental agreement starts.
    event RentalStarted(uint256 indexed assetId, address indexed renter, uint256 rentPerPeriod, uint256 periods, uint256 start);

    /// @notice Emitted when a bidder claims a settled bid.
    event BidClaimed(uint256 indexed bidId, address indexed bidder, uint256 bonds, uint256 refund);

    /// @notice Emitted when an account is credited (the vendor, with the price).
    event Credited(address indexed account, uint256 indexed assetId, uint256 amount);

    /// @notice Emitted when an account withdraws its credits.
    event Withdrawn(address indexed account, uint256 amount);

    /// @param commune_ The membership contract.
    /// @param token_ The settlement token (any ERC-20 with decimals).
    /// @param seriesImplementation_ A deployed BondSeries to clone.
    /// @param periodSeconds_ Length of a rent period, seconds (at least one).
    /// @param rateCapBps_ Highest rate a bid may name, basis points per period (at most 4,095).
    constructor(
        Commune commune_,
        IERC20 token_,
        address seriesImplementation_,
        uint256 periodSeconds_,
        uint256 rateCapBps_
    ) {
        if (address(commune_).code.length == 0) revert StockInvalidParameter("commune", uint160(address(commune_)));
        if (address(token_).code.length == 0) revert StockInvalidParameter("token", uint160(address(token_)));
        if (seriesImplementation_.code.length == 0) {
            revert StockInvalidParameter("seriesImplementation", uint160(seriesImplementation_));
        }
        if (periodSeconds_ == 0) revert StockInvalidParameter("periodSeconds", periodSeconds_);
        if (rateCapBps_ > MAX_RATE_CAP_BPS) revert StockInvalidParameter("rateCapBps", rateCapBps_);
        commune = commune_;
        token = token_;
        seriesImplementation = seriesImplementation_;
        periodSeconds = periodSeconds_;
        rateCapBps = rateCapBps_;
        _tokenDecimals = IERC20Metadata(address(token_)).decimals();
    }

    // -------------------------------------------------------------- requests

    /// @notice Asks the commune to acquire an asset, offering a rental agreement for it.
    /// @param description A hash or URI describing the asset (its keccak256 is stored).
    /// @param price Price of the asset: the face value of its bond series. At most 2**128 - 1.
    /// @param vendor Who sells the asset and receives the price.
    /// @param rentPerPeriod Rent offered per period. At most 2**128 - 1.
    /// @param periods Term of the rental agreement, 1 to MAX_PERIODS.
    /// @param auctionClosesAt When the bond auction closes (block time, seconds).
    /// @return assetId The new asset's id.
    function requestAsset(
        string calldata description,
        uint256 price,
        address vendor,
        uint256 rentPerPeriod,
        uint256 periods,
        uint256 auctionClosesAt
    ) external returns (uint256 assetId) {
        if (!commune.isMember(msg.sender)) revert StockNotMember(msg.sender);
        if (bytes(description).length == 0) revert AssetEmptyDescription();
        if (price == 0 || price > type(uint128).max) revert AssetInvalidPrice(price);
        if (vendor == address(0)) revert AssetZeroVendor();
        if (rentPerPeriod == 0 || rentPerPeriod > type(uint128).max) revert AssetInvalidRent(rentPerPeriod);
        if (periods == 0 || periods > MAX_PERIODS) revert AssetInvalidTerm(periods, MAX_PERIODS);
        if (auctionClosesAt <= block.timestamp || auctionClosesAt > type(uint64).max) {
            revert AuctionCloseInPast(auctionClosesAt, block.timestamp);
        }
        assetId = ++assetCount;
        Asset storage asset = _assets[assetId];
        // Safe casts: each value was range-checked above.
        asset.requester = msg.sender;
        asset.auctionClosesAt = uint64(auctionClosesAt);
        asset.state = AssetState.Auction;
        asset.vendor = vendor;
        asset.periods = uint32(periods);
        asset.price = uint128(price);
        asset.rentPerPeriod = uint128(rentPerPeriod);
        asset.descriptionHash = keccak256(bytes(description));
        ++_commitments[msg.sender];
        _emitRequested(assetId, asset, description);
    }

    /// @dev Emits {AssetRequested} from the stored record (a separate frame keeps the stack shallow).
    function _emitRequested(uint256 assetId, Asset storage asset, string calldata description) private {
        emit AssetRequested(
            assetId,
            asset.requester,
            asset.vendor,
            asset.price,
            asset.rentPerPeriod,
            asset.periods,
            asset.auctionClosesAt,
            description
        );
    }

    // ------------------------------------------------------------- bond auction

    /// @notice Bids in an asset's bond auction: escrows `amount` and accepts any rate >= `rateBps`.
    /// @dev The caller must have approved this contract for `amount` of the settlement token.
    /// @param assetId The asset.
    /// @param amount Settlement-token base units to lend, escrowed now.
    /// @param rateBps The lowest rate accepted, basis points per period, at most `rateCapBps`.
    /// @return bidId The new bid's id.
    function bid(uint256 assetId, uint256 amount, uint256 rateBps) external nonReentrant returns (uint256 bidId) {
        Asset storage asset = _openAuction(assetId);
        if (block.timestamp >= asset.auctionClosesAt) revert AuctionClosed(assetId, asset.auctionClosesAt);
        uint256 escrowed = asset.escrowed + amount;
        if (amount == 0 || escrowed > type(uint128).max) revert BidInvalidAmount(amount);
        if (rateBps > rateCapBps) revert BidRateAboveCap(rateBps, rateCapBps);

        uint256 before = _books[assetId].add(rateBps, amount);
        bidId = ++bidCount;
        // Safe casts: amount and before are bounded by escrowed <= 2**128 - 1; rateBps <= 4,095;
        // assetId <= assetCount, which cannot reach 2**64 in any chain's lifetime.
        _bids[bidId] = Bid({
            bidder: msg.sender,
            rateBps: uint16(rateBps),
            claimed: false,
            assetId: uint64(assetId),
            amount: uint128(amount),
            tickBefore: uint128(before)
        });
        asset.escrowed = uint128(escrowed);
        escrowHeld += amount;
        emit BidPlaced(assetId, bidId, msg.sender, rateBps, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Settles an asset's bond auction after its close. Anyone may call.
    /// @param assetId The asset.
    /// @return cleared True if the sale cleared and the asset is bought; false if it failed.
    function settle(uint256 assetId) external nonReentrant returns (bool cleared) {
        Asset storage asset = _openAuction(assetId);
        if (block.timestamp < asset.auctionClosesAt) revert AuctionStillOpen(assetId, asset.auctionClosesAt);
        uint256 price = asset.price;
        if (asset.escrowed < price) return _fail(assetId, asset, Failure.Undersubscribed);

        (uint256 rate, uint256 below) = _books[assetId].lowerBound(rateCapBps, price);
        if (!Amortization.repays(price, rate, asset.rentPerPeriod, asset.periods)) {
            return _fail(assetId, asset, Failure.RentTooLow);
        }

        address series = Clones.cloneWithImmutableArgs(
            seriesImplementation,
            BondSeries(seriesImplementation).encodeTerms(address(this), assetId, price, rate, _tokenDecimals)
        );
        // Safe casts: rate <= rateCapBps <= 4,095; below < price <= 2**128 - 1; tick total <= escrowed.
        asset.clearingRateBps = uint16(rate);
        asset.marginNeed = uint128(price - below);
        asset.marginTotal = uint128(_books[assetId].amountAt(rate));
        asset.series = series;
        asset.state = AssetState.Rented;
        asset.rentalStart = uint64(block.timestamp);

        escrowHeld -= price;
        creditsHeld += price;
        _credits[asset.vendor] += price;
        emit AuctionSettled(assetId, rate, series, price);
        emit Credited(asset.vendor, assetId, price);
        emit RentalStarted(assetId, asset.requester, asset.rentPerPeriod, asset.periods, block.timestamp);
        return true;
    }

    /// @notice Claims a bid after settlement: bonds for the filled part, tokens for the rest.
    /// @param bidId The bid; only its bidder may claim it, once.
    /// @return bonds Bond units minted to the bidder.
    /// @return refund Settlement-token base units returned to the bidder.
    function claim(uint256 bidId) external nonReentrant returns (uint256 bonds, uint256 refund) {
        Bid storage b = _bids[bidId];
        if (b.bidder == address(0)) revert BidUnknown(bidId);
        if (b.bidder != msg.sender) revert BidNotYours(bidId, msg.sender);
        if (b.claimed) revert BidAlreadyClaimed(bidId);
        Asset storage asset = _assets[b.assetId];
        if (asset.state == AssetState.Auction) revert AuctionNotSettled(bidId, b.assetId);

        b.claimed = true;
        bonds = _fill(asset, b);
        refund = b.amount - bonds;
        escrowHeld -= refund;
        emit BidClaimed(bidId, msg.sender, bonds, refund);
        if (bonds > 0) BondSeries(asset.series).mint(msg.sender, bonds);
        if (refund > 0) token.safeTransfer(msg.sender, refund);
    }

    /// @notice Withdraws everything credited to the caller (a vendor's price).
    /// @return amount Settlement-token base units sent to the caller.
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        creditsHeld -= amount;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------- views

    /// @notice An asset's record.
    /// @param assetId The asset.
    /// @return The record (state None when the id does not exist).
    function assetInfo(uint256 assetId) external view returns (Asset memory) {
        return _assets[assetId];
    }

    /// @notice A bid's record.
    /// @param bidId The bid.
    /// @return The record (bidder zero when the id does not exist).
    function bidInfo(uint256 bidId) external view returns (Bid memory) {
        return _bids[bidId];
    }

    /// @notice What a bid receives at claim: bonds and refund. Meaningful once its auction is settled.
    /// @param bidId The bid.
    /// @return bonds Bond units for the filled part.
    /// @return refund Settlement-token base units returned.
    function bidOutcome(uint256 bidId) external view returns (uint256 bonds, uint256 refund) {
        Bid storage b = _bids[bidId];
        if (b.bidder == address(0)) revert BidUnknown(bidId);
        Asset storage asset = _assets[b.assetId];
        if (asset.state == AssetState.Auction) revert AuctionNotSettled(bidId, b.assetId);
        bonds = _fill(asset, b);
        refund = b.amount - bonds;
    }

    /// @notice Sum of bids on `assetId` at rates up to and including `rateBps`.
    /// @param assetId The asset.
    /// @param rateBps A rate, at most `rateCapBps`.
    /// @return Base units.
    function bookDepth(uint256 assetId, uint256 rateBps) external view returns (uint256) {
        if (rateBps > rateCapBps) revert BidRateAboveCap(rateBps, rateCapBps);
        return _books[assetId].prefix(rateBps);
    }

    /// @notice Sum of bids on `assetId` at exactly `rateBps`.
    /// @param assetId The asset.
    /// @param rateBps A rate.
    /// @return Base units.
    function tickTotal(uint256 assetId, uint256 rateBps) external view returns (uint256) {
        return _books[assetId].amountAt(rateBps);
    }

    /// @notice Settlement tokens credited to `account` and not yet withdrawn.
    /// @param account Any address.
    /// @return Base units.
    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice Assets `member` has requested or rents that are not yet closed: a member with any
    /// cannot leave the commune.
    /// @param member Any address.
    /// @return Count.
    function commitments(address member) external view returns (uint256) {
        return _commitments[member];
    }

    // ---------------------------------------------------------------- internal

    /// @dev The asset, which must be in its bond auction. Reverts AssetUnknown / AuctionNotOpen.
    function _openAuction(uint256 assetId) private view returns (Asset storage asset) {
        asset = _assets[assetId];
        if (asset.state != AssetState.Auction) {
            if (asset.state == AssetState.None) revert AssetUnknown(assetId);
            revert AuctionNotOpen(assetId, uint8(asset.state));
        }
    }

    /// @dev Marks the auction failed: every bid will be refunded in full by `claim`.
    function _fail(uint256 assetId, Asset storage asset, Failure reason) private returns (bool) {
        asset.state = AssetState.Failed;
        asset.failure = reason;
        --_commitments[asset.requester];
        emit AuctionFailed(assetId, reason);
        return false;
    }

    /// @dev Bond units a bid is filled with (see the header for the rule).
    function _fill(Asset storage asset, Bid storage b) private view returns (uint256) {
        if (asset.state == AssetState.Failed) return 0;
        uint256 rate = asset.clearingRateBps;
        if (b.rateBps < rate) return b.amount;
        if (b.rateBps > rate) return 0;
        uint256 need = asset.marginNeed;
        uint256 total = asset.marginTotal;
        // Cumulative rounding: the fills of all bids at the clearing rate sum to exactly `need`.
        return Math.mulDiv(b.tickBefore + b.amount, need, total) - Math.mulDiv(b.tickBefore, need, total);
    }
}
