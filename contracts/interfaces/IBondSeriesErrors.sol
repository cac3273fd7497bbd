// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of a bond series
interface IBondSeriesErrors {
    /// @notice Thrown when anyone but the issuing common stock tries to mint.
    /// @param caller The caller.
    error BondSeriesOnlyIssuer(address caller);

    /// @notice Thrown when minting would exceed the face value of the series.
    /// @param supply The supply after the mint.
    /// @param face The face value.
    error BondSeriesFaceExceeded(uint256 supply, uint256 face);

    /// @notice Thrown when a holder withdraws with no payment accrued.
    /// @param holder The caller.
    error BondSeriesNothingToWithdraw(address holder);

    /// @notice Thrown when a sweep finds nothing held beyond what the holders are owed.
    error BondSeriesNothingToSweep();
}
