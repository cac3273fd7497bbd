// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of the common stock: asset requests, bond auctions and claims
interface ICommonStockErrors {
    /// @notice Thrown when a caller who must be a member of the commune is not one.
    /// @param account The caller.
    error StockNotMember(address account);

    /// @notice Thrown when a deployment parameter is out of range.
    /// @param name The parameter's name.
    /// @param value The value given.
    error StockInvalidParameter(string name, uint256 value);

    /// @notice Thrown when an asset request has no description.
    error AssetEmptyDescription();

    /// @notice Thrown when an asset request names a price of zero (or one beyond 2**128 - 1).
    /// @param price The price given.
    error AssetInvalidPrice(uint256 price);

    /// @notice Thrown when an asset request names the zero address as vendor.
    error AssetZeroVendor();

    /// @notice Thrown when a member names themselves as the vendor of the asset they request: they
    /// would be paid the bond money for an asset the commune cannot check exists.
    /// @param vendor The vendor given (the requester).
    error AssetVendorIsRequester(address vendor);

    /// @notice Thrown when an asset request names a member of the commune as vendor.
    /// @param vendor The vendor given.
    error AssetVendorIsMember(address vendor);

    /// @notice Thrown when an asset request names one of the commune's own contracts (the common
    /// stock, the treasury or the membership) as vendor: the price would be credited to a contract
    /// that can never withdraw it.
    /// @param vendor The vendor given.
    error AssetVendorIsCommuneContract(address vendor);

    /// @notice Thrown when an asset request offers no rent (or more than 2**128 - 1 per period).
    /// @param rentPerPeriod The rent given.
    error AssetInvalidRent(uint256 rentPerPeriod);

    /// @notice Thrown when an asset request's term is zero or longer than the commune's maximum.
    /// @param periods The term given.
    /// @param maxPeriods The longest term allowed.
    error AssetInvalidTerm(uint256 periods, uint256 maxPeriods);

    /// @notice Thrown when an auction would close at or before the current block time.
    /// @param closesAt The closing time given.
    /// @param nowTime The current block time.
    error AuctionCloseInPast(uint256 closesAt, uint256 nowTime);

    /// @notice Thrown when an auction would close more than MAX_DURATION_SECONDS (100 years) from now.
    /// @param closesAt The closing time given.
    /// @param latest The latest closing time allowed now.
    error AuctionCloseTooLate(uint256 closesAt, uint256 latest);

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

    /// @notice Thrown when an action needs the asset to be rented and it is not.
    /// @param assetId The asset.
    /// @param state The asset's current state.
    error AssetNotRented(uint256 assetId, uint8 state);

    /// @notice Thrown when someone other than the renter pays rent for or returns an asset.
    /// @param assetId The asset.
    /// @param caller The caller.
    /// @param renter The renter.
    error NotRenter(uint256 assetId, address caller, address renter);

    /// @notice Thrown when rent is paid for zero periods, or for more than the agreement has left.
    /// @param periods The periods offered.
    /// @param remaining The periods of the agreement not yet paid.
    error RentInvalidPeriods(uint256 periods, uint256 remaining);

    /// @notice Thrown when an asset is reclaimed before its rent is overdue past the grace period
    /// (or its term has ended).
    /// @param assetId The asset.
    /// @param reclaimableAt The first block time at which it can be reclaimed.
    error ReclaimNotDue(uint256 assetId, uint256 reclaimableAt);

    /// @notice Thrown when an action needs the asset's rental auction to be open and it is not.
    /// @param assetId The asset.
    /// @param state The asset's current state.
    error RentalAuctionNotOpen(uint256 assetId, uint8 state);

    /// @notice Thrown when a rental bid does not exceed the leading bid.
    /// @param rentPerPeriod The rent offered.
    /// @param leading The leading rent (a first bid must exceed zero).
    error RentBidTooLow(uint256 rentPerPeriod, uint256 leading);

    /// @notice Thrown when a rental bid, while the asset's bonds are outstanding, would not repay
    /// them within its term and what is left of the series' schedule (principal plus interest owed
    /// at the auction's close, at the series' rate, by the amortisation rule of a request).
    /// @param rentPerPeriod The rent offered.
    /// @param periods The term offered.
    /// @param owed Principal plus interest owed at the auction's close.
    /// @param periodsLeft The series' schedule left at the close (at least 1): the rule counts
    /// `min(periods, periodsLeft)` periods.
    error RentBidDoesNotRepay(uint256 rentPerPeriod, uint256 periods, uint256 owed, uint256 periodsLeft);

    /// @notice Thrown when the renter who defaulted on an asset bids in its next rental auction, or a
    /// member who ever defaulted on it bids for it while its bonds are outstanding.
    /// @param assetId The asset.
    /// @param account The defaulter.
    error RentBidByDefaulter(uint256 assetId, address account);

    /// @notice Thrown when anyone but the common stock itself calls one of its settlement steps.
    /// @param caller The caller.
    error StockOnlySelf(address caller);

    /// @notice Thrown when a settlement's payment ran out of gas: retry with more gas (a starved
    /// payment is never taken for one the token refused).
    /// @param assetId The asset.
    error StockSettlementOutOfGas(uint256 assetId);

    /// @notice Thrown when a sweep finds nothing held beyond the escrow and credits.
    error NothingToSweep();

    /// @notice Thrown when an action needs the asset's liquidation sale to be open and it is not.
    /// @param assetId The asset.
    /// @param state The asset's current state.
    error LiquidationNotOpen(uint256 assetId, uint8 state);

    /// @notice Thrown when a liquidation bid does not exceed the current bid.
    /// @param amount The amount offered.
    /// @param current The current highest bid.
    error LiquidationBidTooLow(uint256 amount, uint256 current);

    /// @notice Thrown when a liquidation bid is below the commune's reserve for the asset.
    /// @param amount The amount offered.
    /// @param reserve The reserve.
    error LiquidationBelowReserve(uint256 amount, uint256 reserve);

    /// @notice Thrown when anyone but the clone's factory initialises a common stock.
    /// @param caller The caller.
    error StockOnlyFactory(address caller);

    /// @notice Thrown when anyone but the commune's governance changes the parameters (nobody can
    /// while the governance address is zero).
    /// @param caller The caller.
    /// @param governance The governance address.
    error StockOnlyGovernance(address caller, address governance);

    /// @notice Thrown when a parameter that is fixed for the commune's life is given another value.
    /// @param name The parameter.
    /// @param value The value given.
    error StockParameterFixed(string name, uint256 value);
}
