// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of the treasury
interface ITreasuryErrors {
    /// @notice Thrown when a hook meant for one contract of the commune is called by anyone else.
    /// @param caller The caller.
    /// @param expected The only contract allowed.
    error TreasuryUnauthorized(address caller, address expected);

    /// @notice Thrown when an account claims with no payout accrued.
    /// @param account The caller.
    error TreasuryNothingToClaim(address account);

    /// @notice Thrown when the contracts of one commune do not name each other.
    /// @param name What does not match.
    error TreasuryMiswired(string name);

    /// @notice Thrown when an income deposit is zero.
    error TreasuryZeroIncome();
}
