// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {CommonStock} from "../CommonStock.sol";

/// @title BidBatcher: places and claims many bond bids in one transaction (tests and benchmarks)
/// @notice Builds large bid books quickly on slow test chains. Every bid goes through
/// `CommonStock.bid` exactly as a bidder's own would; the batcher is the bidder of record, and
/// forwards what its claims return to whoever calls `claimAll`. Not part of a commune.
contract BidBatcher {
    using SafeERC20 for IERC20;

    /// @notice Pulls the sum of `amounts` from the caller and places one bid per entry.
    /// @param stock The common stock.
    /// @param assetId The asset.
    /// @param amounts Amount of each bid.
    /// @param rates Rate of each bid, basis points per period.
    function placeBids(CommonStock stock, uint256 assetId, uint256[] calldata amounts, uint256[] calldata rates)
        external
    {
        IERC20 token = stock.token();
        uint256 total;
        for (uint256 i = 0; i < amounts.length; ++i) {
            total += amounts[i];
        }
        token.safeTransferFrom(msg.sender, address(this), total);
        token.forceApprove(address(stock), total);
        for (uint256 i = 0; i < amounts.length; ++i) {
            stock.bid(assetId, amounts[i], rates[i]);
        }
    }

    /// @notice Claims `bidIds` and sends the bonds and refunds to the caller.
    /// @param stock The common stock.
    /// @param bidIds Bids placed by this batcher.
    /// @param series The asset's bond series, or the zero address if its auction failed.
    function claimAll(CommonStock stock, uint256[] calldata bidIds, IERC20 series) external {
        uint256 bonds;
        uint256 refunds;
        for (uint256 i = 0; i < bidIds.length; ++i) {
            (uint256 b, uint256 r) = stock.claim(bidIds[i]);
            bonds += b;
            refunds += r;
        }
        if (bonds > 0) series.safeTransfer(msg.sender, bonds);
        if (refunds > 0) stock.token().safeTransfer(msg.sender, refunds);
    }
}
