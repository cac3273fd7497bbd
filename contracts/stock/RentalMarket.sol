// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {Amortization} from "../libraries/Amortization.sol";
import {StockLedger} from "./StockLedger.sol";

/// @title RentalMarket: rent, returns, reclaims and the rental auctions among members
/// @notice A module of the common stock: its code runs only by DELEGATECALL from a `CommonStock`
/// clone, on that clone's storage (the layout of `StockLedger`), at the clone's address. Called
/// directly it acts on its own empty storage, where no asset exists, so every entry point reverts.
/// The rules (rent ahead, the grace period, re-rental that must still repay the bonds, the bar on
/// defaulters) are written in `CommonStock`'s header.
contract RentalMarket is StockLedger {
    /// @notice See `CommonStock.payRent`.
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

    /// @notice See `CommonStock.returnAsset`.
    function returnAsset(uint256 assetId) external nonReentrant {
        Rental storage rental = _rentedBy(assetId, msg.sender);
        uint256 paid = rental.paidPeriods;
        if (paid < rental.periods && block.timestamp >= rental.start + paid * _period()) {
            _markDefault(assetId, rental);
            _endRental(assetId, msg.sender, RentalEnd.Defaulted);
            return;
        }
        _endRental(assetId, msg.sender, RentalEnd.Returned);
        // Member income comes only once the bonds are redeemed (the waterfall), and then they stay
        // redeemed: while they are outstanding no payment of this agreement left the members
        // anything, so there is nothing to refund and the treasury is not called.
        if (_debts[assetId].redeemed) _treasury().refundRental(assetId, msg.sender, paid, rental.rentPerPeriod);
    }

    /// @notice See `CommonStock.reclaim`.
    function reclaim(uint256 assetId) external {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Rented) revert AssetNotRented(assetId, uint8(asset.state));
        Rental storage rental = _rentals[assetId];
        (uint256 dueAt, RentalEnd reason) = _reclaimableAt(rental);
        if (block.timestamp < dueAt) revert ReclaimNotDue(assetId, dueAt);
        if (reason == RentalEnd.Defaulted) _markDefault(assetId, rental);
        _endRental(assetId, rental.renter, reason);
    }

    /// @notice See `CommonStock.bidRent`.
    function bidRent(uint256 assetId, uint256 rentPerPeriod, uint256 periods) external nonReentrant {
        if (!_commune().isMember(msg.sender)) revert StockNotMember(msg.sender);
        Sale storage sale = _biddableSale(assetId, AssetState.RentalAuction);
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

    /// @notice See `CommonStock.settleRental`.
    function settleRental(uint256 assetId) external nonReentrant returns (bool rented) {
        (Asset storage asset, Sale storage sale) = _settleableSale(assetId, AssetState.RentalAuction);
        if (sale.leader == address(0)) {
            asset.state = AssetState.Liquidation;
            // The liquidation keeps the reserve in force as it opens, through every reopening.
            sale.reserveBps = _params.liquidationReserveBps;
            _openLiquidation(assetId, sale);
            return false;
        }
        if (_settleInSelfCall(assetId, 0, 0)) return true;
        // The token refused, or the bid no longer repays: the leader gets their escrow back and the
        // members may bid again.
        _outbid(assetId, sale);
        _clearLeader(sale);
        uint40 closesAt = _saleClose();
        sale.closesAt = closesAt;
        emit RentalAuctionOpened(assetId, closesAt);
        return false;
    }

    /// @notice A rental auction with a winner (the effects of `settleRental`, in the common stock's
    /// call to itself): the sale closed, the rental started and its first period paid from the
    /// winner's escrow. Only the common stock itself.
    /// @param assetId The asset.
    function startWinningRental(uint256 assetId) external {
        _onlySelf();
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

    /// @dev The rental of an asset that `caller` rents. Reverts AssetNotRented / NotRenter.
    function _rentedBy(uint256 assetId, address caller) private view returns (Rental storage rental) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Rented) revert AssetNotRented(assetId, uint8(asset.state));
        rental = _rentals[assetId];
        if (rental.renter != caller) revert NotRenter(assetId, caller, rental.renter);
    }

    /// @dev Remembers that the rental's renter defaulted on the asset.
    function _markDefault(uint256 assetId, Rental storage rental) private {
        rental.defaulted = true;
        _defaulted[assetId][rental.renter] = true;
    }

    /// @dev Ends the rental and opens a rental auction among the members, for the sale length in
    /// force now. Emits {RentalEnded} and {RentalAuctionOpened}.
    function _endRental(uint256 assetId, address renter, RentalEnd reason) private {
        --_commitments[renter];
        _assets[assetId].state = AssetState.RentalAuction;
        uint40 closesAt = _saleClose();
        _sales[assetId].closesAt = closesAt;
        emit RentalEnded(assetId, renter, reason);
        emit RentalAuctionOpened(assetId, closesAt);
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
}
