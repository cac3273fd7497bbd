// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of the common stock: asset requests, bond auctions and claims
interface ICommonStockErrors {
    /// @notice Thrown when a caller who must be a member of the commune is not one.
    /// @param account The caller.
    error StockNotMember(address account);

    /// @notice Thrown when a deployment parameter is out of range.
    /// @param name The parameter's name, as in the constructor.
    /// @param value The value given.
    error StockInvalidParameter(string name, uint256 value);

    /// @notice Thrown when an asset request has no description.
    error AssetEmptyDescription();

    /// @notice Thrown when an asset request names a price of zero (or one beyond 2**128 - 1).
    /// @param price The price given.
    error AssetInvalidPrice(uint256 price);

    /// @notice Thrown when an asset request names the zero address as vendor.
    error AssetZeroVendor();

    /// @notice Thrown when an asset request offers no rent (or more than 2**128 - 1 per period).
    /// @param rentPerPeriod The rent given.
    error AssetInvalidRent(uint256 rentPerPeriod);

    /// @notice Thrown when an asset request's term is zero or longer than the commune's maximum.
    /// @param periods The term given.
    /// @param maxPeriods The longest term allowed.
    error AssetInvalidTerm(uint256 periods, uint256 maxPeriods);

    /// @notice Thrown when an auction would close at or before the current block time (or beyond 2**64 - 1).
    /// @param closesAt The closing time given.
    /// @param nowTime The current block time.
    error AuctionCloseInPast(uint256 closesAt, uint256 nowTime);

    /// @notice Thrown when an asset id does not exist.
    /// @param assetId The id given.
    error AssetUnknown(uint256 assetId);

    /// @notice Thrown when an action needs the asset's bond auction to be open and it is not.
    /// @param assetId The asset.
    /// @param state The asset's current state (see CommonStock.AssetState).
    error AuctionNotOpen(uint256 assetId, uint8 state);

    /// @notice Thrown when a bid arrives at or after the auction's close.
    /// @param assetId The asset.
    /// @param closedAt The closing time.
    error AuctionClosed(uint256 assetId, uint256 closedAt);

    /// @notice Thrown when settlement is attempted before the auction's close.
    /// @param assetId The asset.
    /// @param closesAt The closing time.
    error AuctionStillOpen(uint256 assetId, uint256 closesAt);

    /// @notice Thrown when a bid escrows nothing (or more than 2**128 - 1).
    /// @param amount The amount given.
    error BidInvalidAmount(uint256 amount);

    /// @notice Thrown when a bid's rate is above the commune's rate cap.
    /// @param rateBps The rate given, basis points per period.
    /// @param capBps The cap.
    error BidRateAboveCap(uint256 rateBps, uint256 capBps);

    /// @notice Thrown when a bid id does not exist.
    /// @param bidId The id given.
    error BidUnknown(uint256 bidId);

    /// @notice Thrown when someone other than the bidder claims a bid.
    /// @param bidId The bid.
    /// @param caller The caller.
    error BidNotYours(uint256 bidId, address caller);

    /// @notice Thrown when a bid is claimed a second time.
    /// @param bidId The bid.
    error BidAlreadyClaimed(uint256 bidId);

    /// @notice Thrown when a bid is claimed before its auction has been settled.
    /// @param bidId The bid.
    /// @param assetId The asset whose auction is still unsettled.
    error AuctionNotSettled(uint256 bidId, uint256 assetId);

    /// @notice Thrown when an account withdraws with nothing credited to it.
    /// @param account The caller.
    error NothingToWithdraw(address account);
}
