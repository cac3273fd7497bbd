// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestStablecoin: the settlement token of local chains
/// @notice A plain ERC-20 with 6 decimals (like most dollar stablecoins) and an open faucet.
/// Never deploy it on a public chain: anyone can mint. Public chains use a real stablecoin.
contract TestStablecoin is ERC20 {
    /// @notice Thrown when a faucet request exceeds the per-call limit.
    /// @param amount The amount asked for.
    /// @param limit The most one call may mint.
    error TestStablecoinFaucetLimit(uint256 amount, uint256 limit);

    /// @notice Most base units one faucet call may mint: one billion tokens.
    uint256 public constant FAUCET_LIMIT = 1e9 * 1e6;

    constructor() ERC20("Test Stablecoin", "tUSD") {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`, for tests and demos.
    /// @param to The receiver.
    /// @param amount Base units (6 decimals), at most FAUCET_LIMIT.
    function faucet(address to, uint256 amount) external {
        if (amount > FAUCET_LIMIT) revert TestStablecoinFaucetLimit(amount, FAUCET_LIMIT);
        _mint(to, amount);
    }
}
