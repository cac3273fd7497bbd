// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title What the membership contract asks of the rest of its commune
/// @notice The treasury is told of every admission and exit (to start and close a member's share of
/// income); the common stock is asked whether a leaving member still has commitments (a pending
/// asset request, a rental, a leading rental bid).
interface IMembershipHooks {
    /// @notice A member was admitted (not called for founders, admitted before any income).
    function onJoin(address member) external;

    /// @notice A member is leaving; called before their share is burned.
    function onLeave(address member) external;
}

/// @title The common stock's view of a member's commitments
interface ICommitments {
    /// @notice Assets `member` has requested, rents or leads the rental auction of.
    function commitments(address member) external view returns (uint256);
}

/// @title Where a commune contract sends settlement tokens it holds beyond what it owes
/// @notice The treasury: anyone may `sweep` what it holds beyond what it owes into member income.
interface ISurplusSink {
    /// @notice The settlement token.
    function token() external view returns (IERC20);

    /// @notice Divides what the treasury holds beyond what it owes among the members.
    /// @return amount The surplus divided.
    function sweep() external returns (uint256 amount);
}

/// @title The issuer of a bond series, as the series sees it
interface IBondIssuer {
    /// @notice The issuer's treasury, where a series' surplus is swept to.
    function treasury() external view returns (ISurplusSink);
}
