// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of the commune factory and its deployers
interface ICommuneFactoryErrors {
    /// @notice Thrown when the settlement token named for a new commune is not a contract.
    /// @param token The address given.
    error FactoryTokenNotContract(address token);

    /// @notice Thrown when a contract was created at another address than predicted (never expected:
    /// each deployer's nonce is its own count of creations plus one).
    /// @param name Which contract.
    /// @param predicted Where it should have been.
    /// @param actual Where it is.
    error FactoryAddressMismatch(string name, address predicted, address actual);

    /// @notice Thrown when a deployer's nonce would leave the range of EIP-2681 (2**64 - 1).
    /// @param nonce The nonce.
    error FactoryNonceOutOfRange(uint256 nonce);

    /// @notice Thrown when the stock deployer is given a code-data contract without code.
    /// @param store The address given.
    error FactoryNoCode(address store);
}
