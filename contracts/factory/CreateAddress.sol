// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ICommuneFactoryErrors} from "../interfaces/ICommuneFactoryErrors.sol";

/// @title The address of a contract created with CREATE
/// @notice `keccak256(rlp([deployer, nonce]))[12:]` (Ethereum yellow paper, section 7). The RLP of
/// the pair is short (at most 30 bytes of payload), so it is one list-prefix byte `0xc0 + length`.
library CreateAddress {
    /// @notice The address a CREATE by `deployer` at account nonce `nonce` produces.
    /// @param deployer The creating account.
    /// @param nonce Its account nonce at the time (contracts start at 1, EIP-161); below 2**64.
    /// @return created The new contract's address.
    function compute(address deployer, uint256 nonce) internal pure returns (address created) {
        if (nonce >= type(uint64).max) revert ICommuneFactoryErrors.FactoryNonceOutOfRange(nonce);
        bytes memory rlpNonce;
        if (nonce == 0) {
            rlpNonce = hex"80"; // the empty byte string
        } else if (nonce < 0x80) {
            rlpNonce = abi.encodePacked(uint8(nonce)); // a single byte below 0x80 is its own encoding
        } else {
            uint256 length = 0;
            for (uint256 n = nonce; n != 0; n >>= 8) ++length;
            rlpNonce = abi.encodePacked(uint8(0x80 + length));
            for (uint256 i = length; i != 0; --i) rlpNonce = abi.encodePacked(rlpNonce, uint8(nonce >> (8 * (i - 1))));
        }
        // 0x94 = 0x80 + 20: the deployer as a 20-byte string.
        bytes memory payload = abi.encodePacked(bytes1(0x94), deployer, rlpNonce);
        bytes32 hash = keccak256(abi.encodePacked(uint8(0xc0 + payload.length), payload));
        created = address(uint160(uint256(hash)));
    }
}
