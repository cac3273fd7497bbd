// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title SettlementToken: every move of the commune's money, checked to be exact
/// @notice The commune's books count base units: an escrow, a credit, a bond payment, a member's
/// income. They stay equal to the tokens held only if every transfer moves exactly the amount
/// asked. A token that charges a fee on transfer (or turns one on later, as USDT's dormant fee
/// switch can), or that rebases, breaks that; so every transfer a commune contract makes is
/// measured by balances before and after, and refused with `SettlementTokenInexact` when it is
/// not exact:
///
///     pullExact: tokens come from an account into a commune contract; the receiver must gain exactly `amount`
///     sendExact: tokens move between two commune contracts; the sender must lose and the receiver gain exactly `amount`
///     payOut:    tokens leave for an account; this contract must lose exactly `amount` (what the account
///                receives is the token's business: a fee then falls on the account, never on the books)
///
/// Reads of `balanceOf` bracket each transfer, so a token whose transfer hook re-enters and moves
/// more tokens is refused the same way.
library SettlementToken {
    using SafeERC20 for IERC20;

    /// @notice Thrown when the settlement token moves another amount than asked (a fee, a rebase or
    /// a hook that moved more): the commune refuses it rather than let its books drift from its balance.
    /// @param token The settlement token.
    /// @param expected The amount asked for.
    /// @param actual The amount the measured balance actually changed by.
    error SettlementTokenInexact(address token, uint256 expected, uint256 actual);

    /// @dev `from` pays `amount` to the commune contract `to` (transferFrom), which must gain exactly it.
    function pullExact(IERC20 token, address from, address to, uint256 amount) internal {
        uint256 before = token.balanceOf(to);
        token.safeTransferFrom(from, to, amount);
        _expectGain(token, to, before, amount);
    }

    /// @dev This contract pays `amount` to the commune contract `to`: this contract must lose exactly
    /// `amount` and `to` gain exactly it.
    function sendExact(IERC20 token, address to, uint256 amount) internal {
        uint256 ownBefore = token.balanceOf(address(this));
        uint256 toBefore = token.balanceOf(to);
        token.safeTransfer(to, amount);
        _expectLoss(token, ownBefore, amount);
        _expectGain(token, to, toBefore, amount);
    }

    /// @dev This contract pays `amount` out to an account: this contract must lose exactly `amount`.
    function payOut(IERC20 token, address to, uint256 amount) internal {
        uint256 ownBefore = token.balanceOf(address(this));
        token.safeTransfer(to, amount);
        _expectLoss(token, ownBefore, amount);
    }

    function _expectGain(IERC20 token, address account, uint256 before, uint256 amount) private view {
        uint256 afterwards = token.balanceOf(account);
        // A balance that fell counts as a gain of zero (the error reports what arrived).
        uint256 gained = afterwards > before ? afterwards - before : 0;
        if (gained != amount || afterwards < before) revert SettlementTokenInexact(address(token), amount, gained);
    }

    function _expectLoss(IERC20 token, uint256 before, uint256 amount) private view {
        uint256 afterwards = token.balanceOf(address(this));
        uint256 lost = before > afterwards ? before - afterwards : 0;
        if (lost != amount) revert SettlementTokenInexact(address(token), amount, lost);
    }
}
