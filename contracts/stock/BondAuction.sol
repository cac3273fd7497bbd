// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {BondSeries} from "../BondSeries.sol";
import {Amortization} from "../libraries/Amortization.sol";
import {CommuneArgs} from "../libraries/CommuneArgs.sol";
import {RateBook} from "../libraries/RateBook.sol";
import {StockLedger} from "./StockLedger.sol";

/// @title BondAuction: the interest-rate auction that finances an asset
/// @notice A module of the common stock: its code runs only by DELEGATECALL from a `CommonStock`
/// clone, on that clone's storage (the layout of `StockLedger`), at the clone's address. Called
/// directly it acts on its own empty storage, where no asset exists, so every entry point reverts.
/// The rules (the clearing rate, the pro-rata fill at the clearing tick, the failure modes) are
/// written in `CommonStock`'s header; what each bid receives (`_fill`) is in `StockLedger`, and the
/// claim that pays it out is `CommonStock.claim` (a payout to an account, like a withdrawal).
contract BondAuction is StockLedger {
    using RateBook for RateBook.Book;

    /// @notice See `CommonStock.bid`.
    function bid(uint256 assetId, uint256 amount, uint256 rateBps) external nonReentrant returns (uint256 bidId) {
        Asset storage asset = _openAuction(assetId);
        if (block.timestamp >= asset.auctionClosesAt) revert AuctionClosed(assetId, asset.auctionClosesAt);
        uint256 escrowed = asset.escrowed + amount;
        if (amount == 0 || escrowed > type(uint128).max) revert BidInvalidAmount(amount);
        uint256 cap = asset.rateCapBps;
        if (rateBps > cap) revert BidRateAboveCap(rateBps, cap);

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

    /// @notice See `CommonStock.settle`.
    function settle(uint256 assetId) external nonReentrant returns (bool cleared) {
        Asset storage asset = _openAuction(assetId);
        if (block.timestamp < asset.auctionClosesAt) revert AuctionStillOpen(assetId, asset.auctionClosesAt);
        uint256 price = asset.price;
        if (asset.escrowed < price) return _fail(assetId, asset, Failure.Undersubscribed);

        (uint256 rate, uint256 below) = _books[assetId].lowerBound(asset.rateCapBps, price);
        if (!Amortization.repays(price, rate, asset.rentPerPeriod, asset.periods)) {
            return _fail(assetId, asset, Failure.RentTooLow);
        }
        if (!_settleInSelfCall(assetId, rate, below)) return _fail(assetId, asset, Failure.PaymentRefused);
        return true;
    }

    /// @notice A bond sale that clears (the effects of `settle`, in the common stock's call to
    /// itself): the series is created, the vendor credited the price, the requester's rental
    /// started and its first period paid from escrow. Only the common stock itself.
    /// @param assetId The asset.
    /// @param rate The clearing rate.
    /// @param below Sum of the bids below the clearing rate.
    function clearAuction(uint256 assetId, uint256 rate, uint256 below) external {
        _onlySelf();
        Asset storage asset = _assets[assetId];
        uint256 price = asset.price;
        address seriesImplementation = CommuneArgs.seriesImplementation();
        address series = Clones.cloneWithImmutableArgs(
            seriesImplementation,
            BondSeries(seriesImplementation).encodeTerms(
                address(this), assetId, price, rate, CommuneArgs.tokenDecimals(), CommuneArgs.token()
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
}
