// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Amortization: how rent repays a bond series
/// @notice The schedule of a series with principal `B0`, rate `r` basis points per period and rent
/// `R` per period. Each period's payment covers the interest accrued on the outstanding principal
/// first, then principal:
///
///     interest_k  = ceil(B_{k-1} * r / 10_000)          (rounded up: bondholders are never short)
///     principal_k = min(R - interest_k, B_{k-1})
///     B_k         = B_{k-1} - principal_k
///
/// The offered rent repays the series within `n` periods when R > interest_1 (otherwise principal
/// never falls) and B_n = 0. Because B_k falls every period, interest falls too, so once the first
/// period amortises, every later one does.
library Amortization {
    /// @notice 100% = 10_000 basis points.
    uint256 internal constant BPS = 10_000;

    /// @dev Interest on `principal` for one period at `rateBps`, rounded up.
    function interest(uint256 principal, uint256 rateBps) internal pure returns (uint256) {
        return (principal * rateBps + BPS - 1) / BPS;
    }

    /// @dev Whether `rent` per period repays `principal` at `rateBps` within `periods` periods.
    /// Gas grows with `periods` (one iteration each, bounded by the commune's maximum term), never
    /// with the number of bids or holders.
    function repays(uint256 principal, uint256 rateBps, uint256 rent, uint256 periods) internal pure returns (bool) {
        uint256 balance = principal;
        for (uint256 k = 0; k < periods && balance > 0; ++k) {
            uint256 due = interest(balance, rateBps);
            if (rent <= due) return false;
            uint256 toPrincipal = rent - due;
            balance = toPrincipal >= balance ? 0 : balance - toPrincipal;
        }
        return balance == 0;
    }
}
