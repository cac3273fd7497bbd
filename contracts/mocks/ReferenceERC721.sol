// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title ReferenceERC721: a plain OpenZeppelin ERC-721 with an open mint (benchmarks only)
/// @notice The reference point users know for "minting an NFT", measured by the same script on
/// the same chain as a commune's `join` (which mints a share). Not part of a commune.
contract ReferenceERC721 is ERC721 {
    constructor() ERC721("Reference", "REF") {}

    /// @notice Mints token `tokenId` to `to` (anyone may call).
    /// @param to The receiver.
    /// @param tokenId The new token's id.
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
