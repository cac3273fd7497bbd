// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title TokenSpreader: sends one amount of an ERC-20 to many addresses in one transaction (benchmarks)
/// @notice Builds large holder populations quickly on slow test chains; every transfer is a real
/// `transferFrom` of the token, so the holders are ordinary holders. Not part of a commune.
contract TokenSpreader {
    using SafeERC20 for IERC20;

    /// @notice Moves `amount` from the caller to each of `recipients`.
    /// @param token The token (the caller must have approved this contract).
    /// @param recipients Who receives.
    /// @param amount How much each receives.
    function spread(IERC20 token, address[] calldata recipients, uint256 amount) external {
        for (uint256 i = 0; i < recipients.length; ++i) {
            token.safeTransferFrom(msg.sender, recipients[i], amount);
        }
    }
}
