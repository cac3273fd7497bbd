// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BlocklistToken: an ERC-20 with a blocklist (test double)
/// @notice 6 decimals and an open faucet. Any transfer, mint or burn from or to a blocked address
/// reverts with `BlocklistTokenBlocked` (as USDC's blacklist refuses them), so a test can freeze
/// one party of a contract, for instance a vendor whose payout must then wait. Anyone may block in
/// this mock. Never deploy it on a public chain.
contract BlocklistToken is ERC20 {
    /// @notice Thrown when tokens would move from or to a blocked address.
    /// @param account The blocked address.
    error BlocklistTokenBlocked(address account);

    /// @notice Emitted when an address is blocked or unblocked.
    /// @param account The address.
    /// @param blocked Whether it is now blocked.
    event BlockedChanged(address indexed account, bool blocked);

    /// @notice Whether an address is blocked.
    mapping(address account => bool) public blocked;

    constructor() ERC20("Blocklist Token", "BLOCK") {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`, for tests.
    /// @param to The receiver.
    /// @param amount Base units (6 decimals).
    function faucet(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Blocks or unblocks `account` (anyone may, in this mock).
    /// @param account The address.
    /// @param isBlocked True to block, false to unblock.
    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
        emit BlockedChanged(account, isBlocked);
    }

    /// @dev Refuses any move from or to a blocked address, then moves as ERC20 does.
    function _update(address from, address to, uint256 value) internal override {
        if (blocked[from]) revert BlocklistTokenBlocked(from);
        if (blocked[to]) revert BlocklistTokenBlocked(to);
        super._update(from, to, value);
    }
}
