// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {BondSeries} from "./BondSeries.sol";
import {Commune} from "./Commune.sol";
import {Treasury} from "./Treasury.sol";
import {ICommonStockErrors} from "./interfaces/ICommonStockErrors.sol";
import {Amortization} from "./libraries/Amortization.sol";
import {RateBook} from "./libraries/RateBook.sol";
import {SettlementToken} from "./libraries/SettlementToken.sol";

/// @title CommonStock: the commune's assets, the bonds that finance them, and their rental
/// @notice The commune does not coordinate production; it only acquires the assets members ask
/// for and allocates them. A member requests an asset (price, vendor) and offers a rental agreement
/// (rent per period, number of periods). The commune sells a series of bonds for the price in a
/// public auction that sets the interest rate. If it clears and the rent can carry the debt, the
/// vendor is paid, the asset joins the common stock and the member rents it. Rent redeems the
/// bonds first; the rest is member income, divided equally by the treasury as the periods it pays
/// for begin. An asset returned or reclaimed from a defaulting renter goes to a rental auction among
/// members; one nobody wants is liquidated in a public sale, bondholders first.
///
/// Lifecycle (`AssetState`), and nothing else:
///
///     Auction --settle--> Rented | Failed
///     Rented --returnAsset / reclaim--> RentalAuction
///     RentalAuction --settleRental--> Rented (highest member bid) | Liquidation (no bid)
///     Liquidation --settleLiquidation--> Liquidated (the buyer takes title) | Liquidation (no bid: reopened,
///                                        the reserve a quarter lower each time, zero after LIQUIDATION_STEPS)
///
/// Financing (`Debt`) runs beside it: from settlement the series is Outstanding until interest and
/// principal are paid (then Redeemed: the asset is fully owned by the commune), or until a
/// liquidation's proceeds fall short (the rest is written off: the bondholders' loss, pro rata).
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
/// Debt and rent. Period k of the series starts at `debt.start + k * periodSeconds` (k = 0, 1, ...).
/// At the start of each period, interest ceil(principal * r* / 10_000) accrues (simple interest:
/// accrued interest bears none). Every payment to the bonds pays accrued interest first, then
/// principal; the rest of a rent payment, and all rent once the series is redeemed, is member
/// income. Rent for period k of a rental agreement is due at `rental.start + k * periodSeconds`;
/// the renter may pay any number of periods ahead. Every rental starts with its first period paid
/// from escrow: the requester escrows it with the request, a rental auction's winner with the bid.
/// Rent not paid `graceSeconds` after it falls due, or the end of the agreement's term, lets anyone
/// reclaim the asset.
///
/// Re-rental. While bonds are outstanding, a rental bid must repay them by the same amortisation
/// rule as a request, within its term and within what is left of the series' own schedule:
/// `repays(principal + interest owed at the auction's close, r*, rent, min(periods, left))`, where
/// `left` is the request's term less the series periods fully elapsed at the close, and 1 once that
/// term has run out (counting the accrued interest as principal, so the rule errs on the
/// bondholders' side). `settleRental` checks the winning bid again against the debt and the
/// schedule as they stand when it runs; a bid that no longer repays is credited back and the
/// auction reopens. So a re-rental's due dates all fall within the series' schedule: a renter who
/// returns the asset early and bids again faces a shorter schedule each time, and once it has run
/// out only a rent that repays everything with its first period (or liquidation) is left.
/// The renter who defaulted on an asset may not bid in its next rental auction, and no member who
/// ever defaulted on it may bid for it while its bonds are outstanding: a default costs the
/// bondholders the interest of the grace period and the auction, so members taking turns to default
/// could otherwise hold the asset at a bare interest-only rent while its debt grows.
///
/// Member income of a rent payment goes to the treasury, which releases it in one equal part per
/// rental period paid for, as each period begins. A renter who returns the asset early is refunded
/// the member income of the periods not yet begun (bond service paid ahead stays with the bonds).
///
/// Money. This contract holds `escrowHeld + creditsHeld` settlement-token base units, and anything
/// beyond that (a stray transfer) anyone may `sweep` into member income: escrow of bids (bond bids
/// not yet claimed, less prices paid to vendors; requesters' first periods while their auctions
/// are open; leading rental and liquidation bids) plus credits not yet withdrawn (vendors' prices,
/// outbid or refused escrow). Rent goes straight from the renter to the series and the treasury.
/// Every transfer is checked to move exactly the amount asked (`SettlementToken`).
///
/// Settlements that pay escrow on to a series or the treasury (the first period at a bond auction's
/// or rental auction's settlement, a liquidation's proceeds) run in a call of this contract to
/// itself. If the settlement token refuses the payment (a blocklisted series or treasury, a fee
/// switched on), the call is undone and the settlement falls back: the bond auction fails (every
/// bid refunded), a rental auction's or liquidation's leader is credited their escrow and the sale
/// reopens. So no escrow is ever stuck behind a token that refuses to move it.
contract CommonStock is ICommonStockErrors, ReentrancyGuardTransient {
    using SettlementToken for IERC20;
    using RateBook for RateBook.Book;

    /// @notice Lifecycle of an asset. `None` means the id does not exist.
    enum AssetState {
        None,
        Auction, // bond auction open (or closed and awaiting settlement)
        Failed, // the bond sale did not clear or the rent could not carry it; every bid refunded
        Rented, // in the common stock, rented to a member under a rental agreement
        RentalAuction, // in the common stock, offered to members for new rental terms
        Liquidation, // nobody wanted it: offered to anyone in a public sale
        Liquidated // sold; the buyer holds title and it has left the common stock
    }

    /// @notice Why a bond auction failed.
    enum Failure {
        None,
        Undersubscribed, // the book held less than the price
        RentTooLow, // the rent cannot repay the price at the clearing rate within the term
        PaymentRefused // the settlement token refused the first period's payment at settlement
    }

    /// @notice Why a rental agreement ended.
    enum RentalEnd {
        Returned, // the renter no longer needs it
        Defaulted, // rent not paid within the grace period
        TermEnded // every period paid and the term is over
    }

    /// @notice An asset of the common stock and its bond auction.
    struct Asset {
        address requester; // the member who asked for it: the first renter
        uint64 auctionClosesAt;
        uint16 clearingRateBps;
        AssetState state;
        Failure failure;
        address vendor;
        uint32 periods; // term offered by the requester, in rent periods
        uint128 price; // face value of the bond series, settlement-token base units
        uint128 rentPerPeriod; // rent offered by the requester
        address series; // the BondSeries clone, once the sale clears
        uint128 escrowed; // sum of all bond bids
        uint128 marginNeed; // N: principal raised at the clearing tick
        uint128 marginTotal; // T: sum of bids at the clearing tick
        bytes32 descriptionHash;
    }

    /// @notice The asset's debt to its bondholders.
    struct Debt {
        uint128 principal; // outstanding principal
        uint128 interestOwed; // accrued interest not yet paid
        uint64 start; // settlement time: period 0 of the series starts here
        uint32 accruedPeriods; // period starts whose interest has accrued
        bool redeemed; // principal and interest all paid: the asset is fully owned by the commune
        uint128 writtenOff; // principal and interest lost when liquidation fell short
    }

    /// @notice The current (or last) rental agreement of an asset.
    struct Rental {
        address renter;
        uint64 start; // period k is due at start + k * periodSeconds
        uint32 periods; // term
        uint32 paidPeriods; // periods paid so far
        uint128 rentPerPeriod;
        bool defaulted; // the agreement ended by default: its renter may not bid in the next rental auction
    }

    /// @notice An open ascending sale: a rental auction (members bid rent) or a liquidation (anyone
    /// bids a price). The leader's escrow is held; outbid escrow is credited back.
    struct Sale {
        address leader;
        uint64 closesAt;
        uint32 periods; // the leader's term (rental auctions only)
        uint128 amount; // the leading rent per period, or the leading price
        uint8 reopenings; // liquidation sales reopened without a bid (the reserve falls with each)
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

    /// @notice Longest period, grace period, sale or bond auction a commune may set: 100 years, in
    /// seconds. It keeps every due time and closing time far inside uint64, so no rental can become
    /// impossible to reclaim and no sale can close at once through an overflow.
    uint256 public constant MAX_DURATION_SECONDS = 100 * 365 days;

    /// @notice Reopenings without a bid after which a liquidation's reserve is zero: each reopening
    /// lowers it by the same step, so an asset nobody wants at its reserve is sold to any bid.
    uint256 public constant LIQUIDATION_STEPS = 4;

    /// @notice The membership contract: only its members request, rent and bid for rentals.
    Commune public immutable commune;

    /// @notice The settlement token: all money of the commune is in this ERC-20.
    IERC20 public immutable token;

    /// @notice The treasury: member income and payouts.
    Treasury public immutable treasury;

    /// @notice The BondSeries implementation every series is a clone of.
    address public immutable seriesImplementation;

    /// @notice Length of one rent period, seconds. One length per commune.
    uint256 public immutable periodSeconds;

    /// @notice How long rent may be overdue before anyone may reclaim the asset, seconds.
    uint256 public immutable graceSeconds;

    /// @notice How long rental auctions and liquidation sales stay open, seconds.
    uint256 public immutable saleSeconds;

    /// @notice Highest rate a bid may name, basis points per period.
    uint256 public immutable rateCapBps;

    /// @notice Least liquidation price, in basis points of the asset's price (0: no reserve).
    uint256 public immutable liquidationReserveBps;

    uint8 private immutable _tokenDecimals;

    /// @notice Number of assets ever requested; asset ids run from 1 to this.
    uint256 public assetCount;

    /// @notice Number of bids ever placed; bid ids run from 1 to this.
    uint256 public bidCount;

    /// @notice Settlement tokens held for bids (see the header).
    uint256 public escrowHeld;

    /// @notice Settlement tokens credited to accounts and not yet withdrawn.
    uint256 public creditsHeld;

    mapping(uint256 assetId => Asset) private _assets;
    mapping(uint256 assetId => Debt) private _debts;
    mapping(uint256 assetId => Rental) private _rentals;
    mapping(uint256 assetId => Sale) private _sales;
    mapping(uint256 assetId => address buyer) private _titleHolder;
    mapping(uint256 bidId => Bid) private _bids;
    mapping(uint256 assetId => RateBook.Book) private _books;
    mapping(address account => uint256 amount) private _credits;
    mapping(address member => uint256 count) private _commitments;
    mapping(uint256 assetId => mapping(address member => bool)) private _defaulted;

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

    /// @notice Emitted when an account is credited (a vendor's price, an outbid escrow).
    event Credited(address indexed account, uint256 indexed assetId, uint256 amount);

    /// @notice Emitted when an account withdraws its credits.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Emitted when rent is paid: what went to the bondholders and what to the members.
    event RentPaid(
        uint256 indexed assetId, address indexed renter, uint256 periods, uint256 amount, uint256 toBonds, uint256 toMembers
    );

    /// @notice Emitted when a series' principal and interest are all paid: the asset is fully owned.
    event SeriesRedeemed(uint256 indexed assetId);

    /// @notice Emitted when liquidation proceeds fall short of the debt: the rest is the bondholders' loss.
    event SeriesWrittenOff(uint256 indexed assetId, uint256 shortfall);

    /// @notice Emitted when a rental agreement ends.
    event RentalEnded(uint256 indexed assetId, address indexed renter, RentalEnd reason);

    /// @notice Emitted when an asset is offered to the members for new rental terms.
    event RentalAuctionOpened(uint256 indexed assetId, uint256 closesAt);

    /// @notice Emitted when a member bids in a rental auction.
    event RentBid(uint256 indexed assetId, address indexed bidder, uint256 rentPerPeriod, uint256 periods);

    /// @notice Emitted when an asset is offered for sale to anyone (opened or reopened).
    event LiquidationOpened(uint256 indexed assetId, uint256 closesAt, uint256 reserve);

    /// @notice Emitted when anyone bids in a liquidation sale.
    event LiquidationBid(uint256 indexed assetId, address indexed bidder, uint256 amount);

    /// @notice Emitted when a liquidation sale settles: the buyer takes title.
    event AssetLiquidated(uint256 indexed assetId, address indexed buyer, uint256 proceeds, uint256 toBonds, uint256 toMembers);

    /// @notice Emitted when the settlement token refused a settlement's payment from escrow; the
    /// settlement fell back (auction failed, or the leader credited and the sale reopened).
    /// @param assetId The asset.
    /// @param reason The revert data of the refused payment (a token's error, SettlementTokenInexact, ...).
    event SettlementRefused(uint256 indexed assetId, bytes reason);

    /// @notice Emitted when tokens held beyond what the stock owes are swept to the treasury.
    /// @param caller Who swept.
    /// @param amount Settlement-token base units.
    event SurplusSwept(address indexed caller, uint256 amount);

    /// @notice Deployment parameters of a common stock.
    /// @param periodSeconds Length of a rent period, seconds (at least one).
    /// @param graceSeconds How long rent may be overdue before the asset can be reclaimed.
    /// @param saleSeconds How long rental auctions and liquidation sales stay open (at least one).
    /// @param rateCapBps Highest rate a bond bid may name, basis points per period (at most 4,095).
    /// @param liquidationReserveBps Least liquidation price, basis points of the asset's price (at most 10,000).
    struct Params {
        uint256 periodSeconds;
        uint256 graceSeconds;
        uint256 saleSeconds;
        uint256 rateCapBps;
        uint256 liquidationReserveBps;
    }

    /// @param commune_ The membership contract (which must name this contract and `treasury_`).
    /// @param token_ The settlement token (any ERC-20 with decimals).
    /// @param treasury_ The treasury (which must name this contract).
    /// @param seriesImplementation_ A deployed BondSeries to clone.
    /// @param params Periods, grace, sale length, rate cap and liquidation reserve.
    constructor(
        Commune commune_,
        IERC20 token_,
        Treasury treasury_,
        address seriesImplementation_,
        Params memory params
    ) {
        if (commune_.stock() != address(this)) revert StockMiswired("commune.stock");
        if (address(commune_.treasury()) != address(treasury_)) revert StockMiswired("commune.treasury");
        if (treasury_.stock() != address(this)) revert StockMiswired("treasury.stock");
        if (treasury_.token() != token_) revert StockMiswired("treasury.token");
        if (treasury_.periodSeconds() != params.periodSeconds) revert StockMiswired("treasury.periodSeconds");
        if (seriesImplementation_.code.length == 0) {
            revert StockInvalidParameter("seriesImplementation", uint160(seriesImplementation_));
        }
        if (params.periodSeconds == 0 || params.periodSeconds > MAX_DURATION_SECONDS) {
            revert StockInvalidParameter("periodSeconds", params.periodSeconds);
        }
        if (params.graceSeconds > MAX_DURATION_SECONDS) revert StockInvalidParameter("graceSeconds", params.graceSeconds);
        if (params.saleSeconds == 0 || params.saleSeconds > MAX_DURATION_SECONDS) {
            revert StockInvalidParameter("saleSeconds", params.saleSeconds);
        }
        if (params.rateCapBps > MAX_RATE_CAP_BPS) revert StockInvalidParameter("rateCapBps", params.rateCapBps);
        if (params.liquidationReserveBps > Amortization.BPS) {
            revert StockInvalidParameter("liquidationReserveBps", params.liquidationReserveBps);
        }
        commune = commune_;
        token = token_;
        treasury = treasury_;
        seriesImplementation = seriesImplementation_;
        periodSeconds = params.periodSeconds;
        graceSeconds = params.graceSeconds;
        saleSeconds = params.saleSeconds;
        rateCapBps = params.rateCapBps;
        liquidationReserveBps = params.liquidationReserveBps;
        _tokenDecimals = IERC20Metadata(address(token_)).decimals();
    }

    // -------------------------------------------------------------- requests

    /// @notice Asks the commune to acquire an asset, offering a rental agreement for it, and escrows
    /// the agreement's first period (paid at settlement if the sale clears, credited back otherwise).
    /// @dev The caller must have approved this contract for `rentPerPeriod`.
    /// @param description A hash or URI describing the asset (its keccak256 is stored).
    /// @param price Price of the asset: the face value of its bond series. At most 2**128 - 1.
    /// @param vendor Who sells the asset and receives the price: neither the requester nor a member.
    /// @param rentPerPeriod Rent offered per period. At most 2**128 - 1.
    /// @param periods Term of the rental agreement, 1 to MAX_PERIODS.
    /// @param auctionClosesAt When the bond auction closes (block time, seconds), at most
    /// MAX_DURATION_SECONDS from now.
    /// @return assetId The new asset's id.
    function requestAsset(
        string calldata description,
        uint256 price,
        address vendor,
        uint256 rentPerPeriod,
        uint256 periods,
        uint256 auctionClosesAt
    ) external nonReentrant returns (uint256 assetId) {
        if (!commune.isMember(msg.sender)) revert StockNotMember(msg.sender);
        if (bytes(description).length == 0) revert AssetEmptyDescription();
        if (price == 0 || price > type(uint128).max) revert AssetInvalidPrice(price);
        if (vendor == address(0)) revert AssetZeroVendor();
        if (vendor == msg.sender) revert AssetVendorIsRequester(vendor);
        if (commune.isMember(vendor)) revert AssetVendorIsMember(vendor);
        if (vendor == address(this) || vendor == address(treasury) || vendor == address(commune)) {
            revert AssetVendorIsCommuneContract(vendor);
        }
        if (rentPerPeriod == 0 || rentPerPeriod > type(uint128).max) revert AssetInvalidRent(rentPerPeriod);
        if (periods == 0 || periods > MAX_PERIODS) revert AssetInvalidTerm(periods, MAX_PERIODS);
        if (auctionClosesAt <= block.timestamp) revert AuctionCloseInPast(auctionClosesAt, block.timestamp);
        if (auctionClosesAt - block.timestamp > MAX_DURATION_SECONDS) {
            revert AuctionCloseTooLate(auctionClosesAt, block.timestamp + MAX_DURATION_SECONDS);
        }
        assetId = ++assetCount;
        Asset storage asset = _assets[assetId];
        // Safe casts: each value was range-checked above (the closing time is below now + 100 years,
        // and block times are far below 2**63).
        asset.requester = msg.sender;
        asset.auctionClosesAt = uint64(auctionClosesAt);
        asset.state = AssetState.Auction;
        asset.vendor = vendor;
        asset.periods = uint32(periods);
        asset.price = uint128(price);
        asset.rentPerPeriod = uint128(rentPerPeriod);
        asset.descriptionHash = keccak256(bytes(description));
        ++_commitments[msg.sender];
        escrowHeld += rentPerPeriod;
        _emitRequested(assetId, asset, description);
        _pull(msg.sender, address(this), rentPerPeriod);
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
        // Safe casts: amount and before are bounded by escrowed <= 2**128 - 1; rateBps <= 4,095.
        _bids[bidId] = Bid({
            bidder: msg.sender,
            rateBps: uint16(rateBps),
            claimed: false,
            assetId: SafeCast.toUint64(assetId),
            amount: uint128(amount),
            tickBefore: uint128(before)
        });
        asset.escrowed = uint128(escrowed);
        escrowHeld += amount;
        emit BidPlaced(assetId, bidId, msg.sender, rateBps, amount);
        _pull(msg.sender, address(this), amount);
    }

    /// @notice Settles an asset's bond auction after its close. Anyone may call. If the sale clears,
    /// the asset is bought, the requester's rental starts and its first period is paid from escrow.
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
        if (!_settleInSelfCall(assetId, rate, below)) return _fail(assetId, asset, Failure.PaymentRefused);
        return true;
    }

    /// @notice The effects of a settlement that pays escrow on (see the header): a bond sale that
    /// clears, a rental auction with a winner, a liquidation sale with a buyer. Only this contract,
    /// from `settle`, `settleRental` and `settleLiquidation`, so that a payment the token refuses
    /// undoes them all.
    /// @param assetId The asset (its state says which settlement).
    /// @param rate The clearing rate (bond sales only).
    /// @param below Sum of the bids below the clearing rate (bond sales only).
    function runSettlement(uint256 assetId, uint256 rate, uint256 below) external {
        if (msg.sender != address(this)) revert StockOnlySelf(msg.sender);
        AssetState state = _assets[assetId].state;
        if (state == AssetState.Auction) _clear(assetId, rate, below);
        else if (state == AssetState.RentalAuction) _startWinningRental(assetId);
        else _sell(assetId);
    }

    /// @dev A bond sale that clears: the series is created, the vendor credited the price, the
    /// requester's rental started and its first period paid from escrow.
    function _clear(uint256 assetId, uint256 rate, uint256 below) private {
        Asset storage asset = _assets[assetId];
        uint256 price = asset.price;
        address series = Clones.cloneWithImmutableArgs(
            seriesImplementation,
            BondSeries(seriesImplementation).encodeTerms(
                address(this), assetId, price, rate, _tokenDecimals, address(token)
            )
        );
        // Safe casts: rate <= rateCapBps <= 4,095; below < price <= 2**128 - 1; tick total <= escrowed.
        asset.clearingRateBps = uint16(rate);
        asset.marginNeed = uint128(price - below);
        asset.marginTotal = uint128(_books[assetId].amountAt(rate));
        asset.series = series;
        asset.state = AssetState.Rented;
        Debt storage debt = _debts[assetId];
        debt.principal = uint128(price);
        debt.start = SafeCast.toUint64(block.timestamp);

        escrowHeld -= price;
        creditsHeld += price;
        _credits[asset.vendor] += price;
        emit AuctionSettled(assetId, rate, series, price);
        emit Credited(asset.vendor, assetId, price);
        // The requester's commitment carries over to the rental, and their escrow pays its first period.
        _startPaidRental(assetId, asset.requester, asset.rentPerPeriod, asset.periods);
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
        if (refund > 0) _pay(msg.sender, refund);
    }

    // -------------------------------------------------------------------- rent

    /// @notice Pays `periods` periods of rent ahead. Bond service first (interest, then principal),
    /// the rest to the members through the treasury, released as those periods begin. Only the renter.
    /// @dev The renter must have approved this contract for `periods * rentPerPeriod`.
    /// @param assetId The asset.
    /// @param periods Periods to pay, from 1 to what the agreement has left.
    /// @return amount Settlement-token base units paid.
    function payRent(uint256 assetId, uint256 periods) external nonReentrant returns (uint256 amount) {
        Rental storage rental = _rentedBy(assetId, msg.sender);
        uint256 paid = rental.paidPeriods;
        uint256 remaining = rental.periods - paid;
        if (periods == 0 || periods > remaining) revert RentInvalidPeriods(periods, remaining);
        // Safe cast: paid + periods <= rental.periods <= MAX_PERIODS.
        rental.paidPeriods = uint32(paid + periods);
        amount = periods * rental.rentPerPeriod;
        _payRent(assetId, msg.sender, paid, periods, amount, msg.sender);
    }

    /// @notice Returns a rented asset to the commune, which offers it to the members again. Bond
    /// service already paid stays with the bonds; the member income of periods paid ahead that have
    /// not begun is refunded to the renter. A renter who returns it with a period due and unpaid
    /// has defaulted (as if reclaimed: barred from bidding for it while its bonds are outstanding).
    /// @dev "Not begun" is counted on the commune's grid: a rental period's member income is released
    /// when the grid period its start falls in begins, so a return after that grid boundary and
    /// before the rental period itself starts forfeits that period's member part (see {Treasury-refundRental}).
    /// @param assetId The asset; only its renter may return it.
    function returnAsset(uint256 assetId) external nonReentrant {
        Rental storage rental = _rentedBy(assetId, msg.sender);
        uint256 paid = rental.paidPeriods;
        if (paid < rental.periods && block.timestamp >= rental.start + paid * periodSeconds) {
            _markDefault(assetId, rental);
            _endRental(assetId, msg.sender, RentalEnd.Defaulted);
            return;
        }
        _endRental(assetId, msg.sender, RentalEnd.Returned);
        treasury.refundRental(assetId, msg.sender, paid, rental.rentPerPeriod);
    }

    /// @notice Reclaims an asset whose rent is overdue past the grace period, or whose term has
    /// ended. Anyone may call (the keeper does).
    /// @param assetId The asset.
    function reclaim(uint256 assetId) external {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Rented) revert AssetNotRented(assetId, uint8(asset.state));
        Rental storage rental = _rentals[assetId];
        (uint256 dueAt, RentalEnd reason) = _reclaimableAt(rental);
        if (block.timestamp < dueAt) revert ReclaimNotDue(assetId, dueAt);
        if (reason == RentalEnd.Defaulted) _markDefault(assetId, rental);
        _endRental(assetId, rental.renter, reason);
    }

    // ---------------------------------------------------------- rental auction

    /// @notice Bids in an asset's rental auction (members only): escrows one period's rent.
    /// The highest rent per period at the close wins; an outbid member's escrow is credited back.
    /// @dev The caller must have approved this contract for `rentPerPeriod`.
    /// @param assetId The asset.
    /// @param rentPerPeriod Rent offered per period; more than the leading bid, and while bonds are
    /// outstanding enough to repay them within the term and what is left of the series' schedule
    /// (see the header and {repaymentPeriodsLeft}).
    /// @param periods Term wanted, 1 to MAX_PERIODS.
    function bidRent(uint256 assetId, uint256 rentPerPeriod, uint256 periods) external nonReentrant {
        if (!commune.isMember(msg.sender)) revert StockNotMember(msg.sender);
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.RentalAuction) revert RentalAuctionNotOpen(assetId, uint8(asset.state));
        Sale storage sale = _sales[assetId];
        if (block.timestamp >= sale.closesAt) revert AuctionClosed(assetId, sale.closesAt);
        if (periods == 0 || periods > MAX_PERIODS) revert AssetInvalidTerm(periods, MAX_PERIODS);
        if (rentPerPeriod <= sale.amount || rentPerPeriod > type(uint128).max) {
            revert RentBidTooLow(rentPerPeriod, sale.amount);
        }
        (uint256 principal, uint256 interest) = _debtAt(assetId, sale.closesAt);
        uint256 owed = principal + interest;
        Rental storage last = _rentals[assetId];
        if ((last.defaulted && last.renter == msg.sender) || (owed > 0 && _defaulted[assetId][msg.sender])) {
            revert RentBidByDefaulter(assetId, msg.sender);
        }
        _requireRepays(assetId, owed, rentPerPeriod, periods, sale.closesAt);
        _outbid(assetId, sale);
        // Safe casts: checked above.
        sale.leader = msg.sender;
        sale.amount = uint128(rentPerPeriod);
        sale.periods = uint32(periods);
        ++_commitments[msg.sender];
        escrowHeld += rentPerPeriod;
        emit RentBid(assetId, msg.sender, rentPerPeriod, periods);
        _pull(msg.sender, address(this), rentPerPeriod);
    }

    /// @notice Settles a rental auction after its close. Anyone may call. The leader becomes the
    /// renter with the first period paid from the escrow; with no bid the asset goes to liquidation.
    /// If the token refuses the first period's payment, or the leading bid no longer repays the
    /// outstanding bonds as they stand now (a late settlement: RentBidDoesNotRepay), the leader is
    /// credited their escrow and the auction reopens ({SettlementRefused} carries the reason).
    /// @param assetId The asset.
    /// @return rented True if a member now rents it; false if it is offered for liquidation (or reopened).
    function settleRental(uint256 assetId) external nonReentrant returns (bool rented) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.RentalAuction) revert RentalAuctionNotOpen(assetId, uint8(asset.state));
        Sale storage sale = _sales[assetId];
        if (block.timestamp < sale.closesAt) revert AuctionStillOpen(assetId, sale.closesAt);
        if (sale.leader == address(0)) {
            asset.state = AssetState.Liquidation;
            _openLiquidation(assetId, sale);
            return false;
        }
        if (_settleInSelfCall(assetId, 0, 0)) return true;
        // The token refused, or the bid no longer repays: the leader gets their escrow back and the
        // members may bid again.
        _outbid(assetId, sale);
        _clearLeader(sale);
        uint256 closesAt = block.timestamp + saleSeconds;
        // Safe cast: block times are far below 2**63 and saleSeconds <= MAX_DURATION_SECONDS.
        sale.closesAt = uint64(closesAt);
        emit RentalAuctionOpened(assetId, closesAt);
        return false;
    }

    /// @dev A rental auction with a winner: the sale closed, the rental started and its first period
    /// paid from the winner's escrow.
    function _startWinningRental(uint256 assetId) private {
        Sale storage sale = _sales[assetId];
        address winner = sale.leader;
        uint256 rent = sale.amount;
        uint256 periods = sale.periods;
        // Checked at the bid against the close; settled later, interest has accrued and the schedule
        // has run on, so the bid must still repay now (else the settlement falls back: reopened).
        (uint256 principal, uint256 interest) = _debtAt(assetId, block.timestamp);
        _requireRepays(assetId, principal + interest, rent, periods, block.timestamp);
        delete _sales[assetId];
        _assets[assetId].state = AssetState.Rented;
        // The winner's commitment as leader carries over to the rental.
        _startPaidRental(assetId, winner, rent, periods);
    }

    // ------------------------------------------------------------- liquidation

    /// @notice Bids in an asset's liquidation sale (anyone): escrows `amount`. The highest bid at
    /// the close buys the asset; an outbid bidder's escrow is credited back.
    /// @dev The caller must have approved this contract for `amount`.
    /// @param assetId The asset.
    /// @param amount Price offered: more than the current bid and at least the reserve.
    function bidLiquidation(uint256 assetId, uint256 amount) external nonReentrant {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Liquidation) revert LiquidationNotOpen(assetId, uint8(asset.state));
        Sale storage sale = _sales[assetId];
        if (block.timestamp >= sale.closesAt) revert AuctionClosed(assetId, sale.closesAt);
        uint256 reserve = liquidationReserve(assetId);
        if (amount < reserve) revert LiquidationBelowReserve(amount, reserve);
        if (amount <= sale.amount || amount > type(uint128).max) revert LiquidationBidTooLow(amount, sale.amount);
        _outbid(assetId, sale);
        sale.leader = msg.sender;
        // Safe cast: checked above.
        sale.amount = uint128(amount);
        escrowHeld += amount;
        emit LiquidationBid(assetId, msg.sender, amount);
        _pull(msg.sender, address(this), amount);
    }

    /// @notice Settles a liquidation sale after its close. Anyone may call. The proceeds pay the
    /// series' interest and principal first; any surplus is member income; any shortfall is the
    /// bondholders' loss. The buyer takes title. With no bid the sale reopens with a lower reserve;
    /// if the token refuses to move the proceeds, the buyer is credited their escrow and the sale reopens.
    /// @param assetId The asset.
    /// @return sold True if sold; false if there was no bid (or the payment was refused) and the sale reopened.
    function settleLiquidation(uint256 assetId) external nonReentrant returns (bool sold) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Liquidation) revert LiquidationNotOpen(assetId, uint8(asset.state));
        Sale storage sale = _sales[assetId];
        if (block.timestamp < sale.closesAt) revert AuctionStillOpen(assetId, sale.closesAt);
        if (sale.leader == address(0)) {
            // Safe cast: the count stops at LIQUIDATION_STEPS.
            if (sale.reopenings < LIQUIDATION_STEPS) sale.reopenings = uint8(sale.reopenings + 1);
            _openLiquidation(assetId, sale);
            return false;
        }
        if (_settleInSelfCall(assetId, 0, 0)) return true;
        _outbid(assetId, sale);
        _clearLeader(sale);
        _openLiquidation(assetId, sale);
        return false;
    }

    /// @dev A liquidation sale with a buyer: title to the buyer, the proceeds paid through the waterfall.
    function _sell(uint256 assetId) private {
        Asset storage asset = _assets[assetId];
        Sale storage sale = _sales[assetId];
        address buyer = sale.leader;
        uint256 proceeds = sale.amount;
        delete _sales[assetId];
        asset.state = AssetState.Liquidated;
        _titleHolder[assetId] = buyer;
        escrowHeld -= proceeds;

        Debt storage debt = _debts[assetId];
        uint256 toBonds = _serviceDebt(assetId, debt, asset.clearingRateBps, proceeds);
        uint256 shortfall = uint256(debt.principal) + debt.interestOwed;
        if (shortfall > 0) {
            debt.writtenOff = SafeCast.toUint128(shortfall);
            debt.principal = 0;
            debt.interestOwed = 0;
            emit SeriesWrittenOff(assetId, shortfall);
        }
        uint256 toMembers = proceeds - toBonds;
        emit AssetLiquidated(assetId, buyer, proceeds, toBonds, toMembers);
        if (toBonds > 0) _payBonds(asset.series, toBonds, address(this));
        if (toMembers > 0) {
            treasury.recordIncome(toMembers);
            _send(address(treasury), toMembers);
        }
    }

    /// @notice Withdraws everything credited to the caller (a vendor's price, an outbid escrow).
    /// @return amount Settlement-token base units sent to the caller.
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        creditsHeld -= amount;
        emit Withdrawn(msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /// @notice Sends the settlement tokens this contract holds beyond what it owes (escrow plus
    /// credits: a stray transfer, a positive rebase) to the treasury, which divides them among the
    /// members. Anyone may call.
    /// @return amount Settlement-token base units swept.
    function sweep() external nonReentrant returns (uint256 amount) {
        uint256 held = token.balanceOf(address(this));
        uint256 owed = escrowHeld + creditsHeld;
        if (held <= owed) revert NothingToSweep();
        amount = held - owed;
        emit SurplusSwept(msg.sender, amount);
        _pay(address(treasury), amount);
        treasury.sweep();
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

    /// @notice The asset's debt to its bondholders (interest accrued up to the last payment).
    /// @param assetId The asset.
    /// @return The debt record.
    function debtInfo(uint256 assetId) external view returns (Debt memory) {
        return _debts[assetId];
    }

    /// @notice What the asset owes its bondholders right now: principal plus interest accrued to
    /// the current period.
    /// @param assetId The asset.
    /// @return principal Outstanding principal.
    /// @return interest Accrued, unpaid interest.
    function debtOwed(uint256 assetId) external view returns (uint256 principal, uint256 interest) {
        return _debtAt(assetId, block.timestamp);
    }

    /// @notice Whether the asset's bonds are all redeemed: the asset is fully owned by the commune.
    /// @param assetId The asset.
    /// @return True once principal and interest are paid.
    function isFullyOwned(uint256 assetId) external view returns (bool) {
        return _debts[assetId].redeemed;
    }

    /// @notice While an asset's rental auction is open and its bonds are outstanding, the most periods
    /// a rental bid may count on to repay them: what is left at the auction's close of the series'
    /// schedule (the request's term from its settlement), at least 1.
    /// @param assetId The asset (in a rental auction).
    /// @return The periods left.
    function repaymentPeriodsLeft(uint256 assetId) external view returns (uint256) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.RentalAuction) revert RentalAuctionNotOpen(assetId, uint8(asset.state));
        return _periodsLeft(assetId, asset.periods, _sales[assetId].closesAt);
    }

    /// @notice The asset's current (or last) rental agreement.
    /// @param assetId The asset.
    /// @return The agreement.
    function rentalInfo(uint256 assetId) external view returns (Rental memory) {
        return _rentals[assetId];
    }

    /// @notice When a rented asset becomes reclaimable, and why.
    /// @param assetId The asset (must be rented).
    /// @return at Block time from which anyone may reclaim it.
    /// @return reason Defaulted if rent will then be overdue past grace, TermEnded if all is paid.
    function reclaimableAt(uint256 assetId) external view returns (uint256 at, RentalEnd reason) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Rented) revert AssetNotRented(assetId, uint8(asset.state));
        return _reclaimableAt(_rentals[assetId]);
    }

    /// @notice The asset's open rental auction or liquidation sale.
    /// @param assetId The asset.
    /// @return The sale (leader zero when nobody has bid).
    function saleInfo(uint256 assetId) external view returns (Sale memory) {
        return _sales[assetId];
    }

    /// @notice Who bought the asset at liquidation (zero while it is in the common stock).
    /// @param assetId The asset.
    /// @return The title holder.
    function titleHolder(uint256 assetId) external view returns (address) {
        return _titleHolder[assetId];
    }

    /// @notice The least price a liquidation bid for the asset may offer now: the commune's reserve,
    /// lowered by a LIQUIDATION_STEPS-th for each reopening without a bid (zero after LIQUIDATION_STEPS).
    /// @param assetId The asset.
    /// @return Settlement-token base units.
    function liquidationReserve(uint256 assetId) public view returns (uint256) {
        uint256 steps = LIQUIDATION_STEPS - _sales[assetId].reopenings;
        return Math.mulDiv(
            _assets[assetId].price, liquidationReserveBps * steps, Amortization.BPS * LIQUIDATION_STEPS, Math.Rounding.Ceil
        );
    }

    /// @notice Whether `member` ever defaulted on a rental of `assetId` (and so may not bid for it
    /// while its bonds are outstanding).
    /// @param assetId The asset.
    /// @param member Any address.
    /// @return True after a default.
    function hasDefaulted(uint256 assetId, address member) external view returns (bool) {
        return _defaulted[assetId][member];
    }

    /// @notice Assets `member` has requested, rents, or leads the rental auction of: a member with
    /// any cannot leave the commune.
    /// @param member Any address.
    /// @return Count.
    function commitments(address member) external view returns (uint256) {
        return _commitments[member];
    }

    // ---------------------------------------------------------------- internal

    /// @dev Token moves, each in one place (see `SettlementToken`): into a commune contract from an
    /// account, from this contract to another commune contract, and out to an account.
    function _pull(address from, address to, uint256 amount) private {
        token.pullExact(from, to, amount);
    }

    function _send(address to, uint256 amount) private {
        token.sendExact(to, amount);
    }

    function _pay(address to, uint256 amount) private {
        token.payOut(to, amount);
    }

    /// @dev Runs a settlement's effects (`runSettlement`, a call of this contract to itself) so that a
    /// payment the token refuses undoes them all; returns whether they happened. Emits
    /// {SettlementRefused} otherwise. A call that ran out of gas is not taken for a refusal (the caller
    /// gave too little gas): the whole settlement reverts instead, so nobody can force a fallback by
    /// starving it.
    function _settleInSelfCall(uint256 assetId, uint256 rate, uint256 below) private returns (bool) {
        uint256 gasBefore = gasleft();
        (bool ok, bytes memory reason) = address(this).call(abi.encodeCall(this.runSettlement, (assetId, rate, below)));
        if (ok) return true;
        if (gasleft() <= gasBefore / 63) revert StockSettlementOutOfGas(assetId);
        emit SettlementRefused(assetId, reason);
        return false;
    }

    /// @dev The asset, which must be in its bond auction. Reverts AssetUnknown / AuctionNotOpen.
    function _openAuction(uint256 assetId) private view returns (Asset storage asset) {
        asset = _assets[assetId];
        if (asset.state != AssetState.Auction) {
            if (asset.state == AssetState.None) revert AssetUnknown(assetId);
            revert AuctionNotOpen(assetId, uint8(asset.state));
        }
    }

    /// @dev Marks the auction failed: every bid will be refunded in full by `claim`, and the
    /// requester's escrowed first period is credited back.
    function _fail(uint256 assetId, Asset storage asset, Failure reason) private returns (bool) {
        asset.state = AssetState.Failed;
        asset.failure = reason;
        address requester = asset.requester;
        --_commitments[requester];
        uint256 rent = asset.rentPerPeriod;
        escrowHeld -= rent;
        creditsHeld += rent;
        _credits[requester] += rent;
        emit AuctionFailed(assetId, reason);
        emit Credited(requester, assetId, rent);
        return false;
    }

    /// @dev Starts a rental agreement at the current block time with its first period paid from
    /// escrow (`rent`, already counted in `escrowHeld`). Emits {RentalStarted} and {RentPaid}.
    function _startPaidRental(uint256 assetId, address renter, uint256 rent, uint256 periods) private {
        // Safe casts: rent < 2**128 and periods <= MAX_PERIODS were checked by the callers.
        _rentals[assetId] = Rental({
            renter: renter,
            start: SafeCast.toUint64(block.timestamp),
            periods: uint32(periods),
            paidPeriods: 1,
            rentPerPeriod: uint128(rent),
            defaulted: false
        });
        emit RentalStarted(assetId, renter, rent, periods, block.timestamp);
        escrowHeld -= rent;
        _payRent(assetId, renter, 0, 1, rent, address(this));
    }

    /// @dev Remembers that the rental's renter defaulted on the asset.
    function _markDefault(uint256 assetId, Rental storage rental) private {
        rental.defaulted = true;
        _defaulted[assetId][rental.renter] = true;
    }

    /// @dev Ends the rental and opens a rental auction among the members.
    /// Emits {RentalEnded} and {RentalAuctionOpened}.
    function _endRental(uint256 assetId, address renter, RentalEnd reason) private {
        --_commitments[renter];
        _assets[assetId].state = AssetState.RentalAuction;
        uint256 closesAt = block.timestamp + saleSeconds;
        // Safe cast: block times are far below 2**63 and saleSeconds <= MAX_DURATION_SECONDS.
        _sales[assetId].closesAt = uint64(closesAt);
        emit RentalEnded(assetId, renter, reason);
        emit RentalAuctionOpened(assetId, closesAt);
    }

    /// @dev The rental of an asset that `caller` rents. Reverts AssetNotRented / NotRenter.
    function _rentedBy(uint256 assetId, address caller) private view returns (Rental storage rental) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Rented) revert AssetNotRented(assetId, uint8(asset.state));
        rental = _rentals[assetId];
        if (rental.renter != caller) revert NotRenter(assetId, caller, rental.renter);
    }

    /// @dev First time the rental can be reclaimed: grace past the first unpaid period's due time,
    /// or the end of the term when every period is paid.
    function _reclaimableAt(Rental storage rental) private view returns (uint256, RentalEnd) {
        if (rental.paidPeriods < rental.periods) {
            return (rental.start + uint256(rental.paidPeriods) * periodSeconds + graceSeconds, RentalEnd.Defaulted);
        }
        return (rental.start + uint256(rental.periods) * periodSeconds, RentalEnd.TermEnded);
    }

    /// @dev Credits the current leader of a sale with their escrow (they were outbid, or the token
    /// refused their winning payment).
    function _outbid(uint256 assetId, Sale storage sale) private {
        address leader = sale.leader;
        if (leader == address(0)) return;
        uint256 amount = sale.amount;
        if (_assets[assetId].state == AssetState.RentalAuction) --_commitments[leader];
        escrowHeld -= amount;
        creditsHeld += amount;
        _credits[leader] += amount;
        emit Credited(leader, assetId, amount);
    }

    /// @dev Clears a sale's leader (after a refused payment; their escrow was credited back).
    function _clearLeader(Sale storage sale) private {
        sale.leader = address(0);
        sale.amount = 0;
        sale.periods = 0;
    }

    /// @dev Opens (or reopens) the liquidation sale. Emits {LiquidationOpened}.
    function _openLiquidation(uint256 assetId, Sale storage sale) private {
        uint256 closesAt = block.timestamp + saleSeconds;
        // Safe cast: block times are far below 2**63 and saleSeconds <= MAX_DURATION_SECONDS.
        sale.closesAt = uint64(closesAt);
        emit LiquidationOpened(assetId, closesAt, liquidationReserve(assetId));
    }

    /// @dev What the asset owes at block time `time` (not before its settlement): principal, and
    /// interest accrued to the period `time` falls in.
    function _debtAt(uint256 assetId, uint256 time) private view returns (uint256 principal, uint256 interest) {
        Debt storage debt = _debts[assetId];
        principal = debt.principal;
        interest = debt.interestOwed;
        if (principal > 0) {
            uint256 started = (time - debt.start) / periodSeconds + 1;
            interest += (started - debt.accruedPeriods) * Amortization.interest(principal, _assets[assetId].clearingRateBps);
        }
    }

    /// @dev While bonds are outstanding (`owed` > 0 at `time`), reverts RentBidDoesNotRepay unless
    /// `rent` a period repays `owed` at the series' rate within `periods` and within the periods of
    /// the series' schedule left at `time`.
    function _requireRepays(uint256 assetId, uint256 owed, uint256 rent, uint256 periods, uint256 time) private view {
        if (owed == 0) return;
        Asset storage asset = _assets[assetId];
        uint256 left = _periodsLeft(assetId, asset.periods, time);
        if (!Amortization.repays(owed, asset.clearingRateBps, rent, Math.min(periods, left))) {
            revert RentBidDoesNotRepay(rent, periods, owed, left);
        }
    }

    /// @dev The periods of the series' own schedule (the request's term, from its settlement) not yet
    /// fully elapsed at `time`, at least 1: the most periods a rental bid may count on to repay.
    function _periodsLeft(uint256 assetId, uint256 term, uint256 time) private view returns (uint256) {
        uint256 elapsed = (time - _debts[assetId].start) / periodSeconds;
        return elapsed < term ? term - elapsed : 1;
    }

    /// @dev Accrues interest to the current period, then applies up to `amount` to the debt,
    /// interest first, then principal. Marks the series redeemed when both reach zero.
    /// @return toBonds What the bondholders receive (<= amount). Emits {SeriesRedeemed}.
    function _serviceDebt(uint256 assetId, Debt storage debt, uint256 rateBps, uint256 amount)
        private
        returns (uint256 toBonds)
    {
        uint256 principal = debt.principal;
        uint256 interest = debt.interestOwed;
        if (principal == 0 && interest == 0) return 0; // redeemed, written off, or never financed
        uint256 started = (block.timestamp - debt.start) / periodSeconds + 1;
        if (principal > 0 && started > debt.accruedPeriods) {
            interest += (started - debt.accruedPeriods) * Amortization.interest(principal, rateBps);
        }
        debt.accruedPeriods = SafeCast.toUint32(started);
        uint256 toInterest = Math.min(amount, interest);
        uint256 toPrincipal = Math.min(amount - toInterest, principal);
        toBonds = toInterest + toPrincipal;
        // Principal only falls from a value that fits; interest is checked (it grows with time).
        debt.interestOwed = SafeCast.toUint128(interest - toInterest);
        debt.principal = uint128(principal - toPrincipal);
        if (principal == toPrincipal && interest == toInterest) {
            debt.redeemed = true;
            emit SeriesRedeemed(assetId);
        }
    }

    /// @dev Records a payment of `amount` to the series, then moves it there (from the renter, or from
    /// this contract's escrow), exactly. Booked first, so that a token hook running during the
    /// transfer never finds the arriving tokens unowed.
    function _payBonds(address series, uint256 amount, address from) private {
        BondSeries(series).pay(amount);
        if (from == address(this)) _send(series, amount);
        else _pull(from, series, amount);
    }

    /// @dev Runs a rent payment of `amount` for rental periods `first` to `first + periods - 1`
    /// through the waterfall: bond service, then member income, which the treasury releases as those
    /// periods begin. Tokens come from `from`: the renter, or this contract's escrow. Emits {RentPaid}.
    function _payRent(uint256 assetId, address renter, uint256 first, uint256 periods, uint256 amount, address from)
        private
    {
        uint256 toMembers = _serviceRent(assetId, renter, periods, amount, from);
        // The treasury books the rent before its member income arrives (see `_payBonds`).
        treasury.recordRent(assetId, renter, amount, toMembers, _rentals[assetId].start, first, periods);
        if (toMembers > 0) {
            if (from == address(this)) _send(address(treasury), toMembers);
            else _pull(from, address(treasury), toMembers);
        }
    }

    /// @dev The bond service of a rent payment, paid to the series.
    /// @return toMembers What is left for the treasury. Emits {RentPaid}.
    function _serviceRent(uint256 assetId, address renter, uint256 periods, uint256 amount, address from)
        private
        returns (uint256 toMembers)
    {
        Asset storage asset = _assets[assetId];
        uint256 toBonds = _serviceDebt(assetId, _debts[assetId], asset.clearingRateBps, amount);
        toMembers = amount - toBonds;
        emit RentPaid(assetId, renter, periods, amount, toBonds, toMembers);
        if (toBonds > 0) _payBonds(asset.series, toBonds, from);
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
