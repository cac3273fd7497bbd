// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title ERC-5192: Minimal Soulbound NFTs
/// @notice A token that is `locked` cannot be transferred. Interface id: 0xb45a3c0e.
interface IERC5192 {
    /// @notice Emitted when the locking status is changed to locked.
    /// @param tokenId The identifier of the token.
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status is changed to unlocked.
    /// @param tokenId The identifier of the token.
    event Unlocked(uint256 tokenId);

    /// @notice Returns the locking status of a soulbound token.
    /// @dev Tokens assigned to the zero address are considered invalid; queries about them throw.
    /// @param tokenId The identifier of the token.
    /// @return True when the token cannot be transferred.
    function locked(uint256 tokenId) external view returns (bool);
}
