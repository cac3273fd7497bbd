// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {StockLedger} from "./StockLedger.sol";

/// @title Liquidation: the public sale of an asset nobody in the commune wants, bondholders first
/// @notice A module of the common stock: its code runs only by DELEGATECALL from a `CommonStock`
/// clone, on that clone's storage (the layout of `StockLedger`), at the clone's address. Called
/// directly it acts on its own empty storage, where no asset exists, so every entry point reverts.
/// The rules (the falling reserve, the proceeds' waterfall, the write-off) are written in
/// `CommonStock`'s header.
contract Liquidation is StockLedger {
    /// @notice See `CommonStock.bidLiquidation`.
    function bidLiquidation(uint256 assetId, uint256 amount) external nonReentrant {
        Sale storage sale = _biddableSale(assetId, AssetState.Liquidation);
        uint256 reserve = _liquidationReserve(assetId, sale);
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

    /// @notice See `CommonStock.settleLiquidation`.
    function settleLiquidation(uint256 assetId) external nonReentrant returns (bool sold) {
        (, Sale storage sale) = _settleableSale(assetId, AssetState.Liquidation);
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

    /// @notice A liquidation sale with a buyer (the effects of `settleLiquidation`, in the common
    /// stock's call to itself): title to the buyer, the proceeds paid through the waterfall. Only
    /// the common stock itself.
    /// @param assetId The asset.
    function sell(uint256 assetId) external {
        _onlySelf();
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
            _treasury().recordIncome(toMembers);
            _send(address(_treasury()), toMembers);
        }
    }
}
