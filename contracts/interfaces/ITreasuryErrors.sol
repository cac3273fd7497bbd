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

    /// @notice Thrown when an income deposit is zero.
    error TreasuryZeroIncome();

    /// @notice Thrown when a rent payment after the one that redeemed the asset's bonds does not
    /// leave all of its rent to the members (the common stock's waterfall never does that).
    /// @param assetId The asset.
    /// @param rent The rent paid.
    /// @param income The member income reported.
    error TreasuryIncomeIrregular(uint256 assetId, uint256 rent, uint256 income);

    /// @notice Thrown when a sweep finds nothing held beyond what the treasury owes.
    error TreasuryNothingToSweep();

    /// @notice Thrown when a membership change would come before the income of begun periods is
    /// released (more than MAX_RELEASE_PERIODS are pending): call `release` first, then retry.
    /// @param releasedThrough The last grid period released.
    /// @param current The current grid period.
    error TreasuryReleasePending(uint256 releasedThrough, uint256 current);
}
