// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title The common stock's records: states, assets, debts, rentals, sales and bids
/// @notice Shared by the common stock and the modules it delegates to (see `CommonStock`).
interface IStockTypes {
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
        uint16 rateCapBps; // the rate cap in force at the request: the auction's for its whole life
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
        uint32 graceSeconds; // the grace period in force when the agreement started, for its whole life
    }

    /// @notice An open ascending sale: a rental auction (members bid rent) or a liquidation (anyone
    /// bids a price). The leader's escrow is held; outbid escrow is credited back.
    struct Sale {
        address leader;
        uint40 closesAt;
        uint32 periods; // the leader's term (rental auctions only)
        uint16 reserveBps; // the liquidation reserve in force when the liquidation opened (liquidations only)
        uint8 reopenings; // liquidation sales reopened without a bid (the reserve falls with each)
        uint128 amount; // the leading rent per period, or the leading price
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

    /// @notice A common stock's parameters, as given at creation and to `setParameters`.
    /// @param periodSeconds Length of a rent period, seconds (1 to 100 years; fixed at creation).
    /// @param graceSeconds How long rent may be overdue before the asset can be reclaimed (1 second to 100 years).
    /// @param saleSeconds How long rental auctions and liquidation sales stay open (1 second to 100 years).
    /// @param rateCapBps Highest rate a bond bid may name, basis points per period (at most 4,095).
    /// @param liquidationReserveBps Least liquidation price, basis points of the asset's price (at most 10,000).
    struct Params {
        uint256 periodSeconds;
        uint256 graceSeconds;
        uint256 saleSeconds;
        uint256 rateCapBps;
        uint256 liquidationReserveBps;
    }
}

/// @title Events of the common stock (emitted from the common stock's address, by it or its modules)
interface ICommonStockEvents is IStockTypes {
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

    /// @notice Emitted when governance changes the common stock's parameters (and at initialisation).
    /// @param graceSeconds Grace period of agreements that start from now on.
    /// @param saleSeconds Length of sales that open from now on.
    /// @param rateCapBps Rate cap of bond auctions requested from now on.
    /// @param liquidationReserveBps Reserve of liquidations that open from now on.
    event StockParametersSet(uint256 graceSeconds, uint256 saleSeconds, uint256 rateCapBps, uint256 liquidationReserveBps);
}
