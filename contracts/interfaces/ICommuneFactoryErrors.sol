// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of the commune factory
interface ICommuneFactoryErrors {
    /// @notice Thrown when the settlement token named for a new commune is not a contract.
    /// @param token The address given.
    error FactoryTokenNotContract(address token);

    /// @notice Thrown when a clone was created at another address than predicted (never expected:
    /// the factory's nonce is its own count of creations plus one).
    /// @param name Which contract.
    /// @param predicted Where it should have been.
    /// @param actual Where it is.
    error FactoryAddressMismatch(string name, address predicted, address actual);

    /// @notice Thrown when the factory's nonce would leave the range of EIP-2681 (2**64 - 1).
    /// @param nonce The nonce.
    error FactoryNonceOutOfRange(uint256 nonce);

    /// @notice Thrown when the factory is given an implementation without code.
    /// @param implementation The address given.
    error FactoryNoCode(address implementation);

    /// @notice Thrown when a commune's rent period is zero or longer than 100 years.
    /// @param periodSeconds The period given.
    error FactoryInvalidPeriod(uint256 periodSeconds);
}
