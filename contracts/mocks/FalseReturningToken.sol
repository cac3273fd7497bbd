// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FalseReturningToken: an ERC-20 that says no by returning false (test double)
/// @notice 6 decimals and an open faucet. `transfer` and `transferFrom` return `false`, moving
/// nothing, instead of reverting when the sender's balance or the spender's allowance is short,
/// and always while `refuseAll` is on (as some early tokens do). A caller that ignores the
/// return value believes it was paid. Never deploy it on a public chain.
contract FalseReturningToken is ERC20 {
    /// @notice While true, every transfer and transferFrom returns false and moves nothing.
    bool public refuseAll;

    constructor() ERC20("False Returning Token", "FALSE") {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`, for tests.
    /// @param to The receiver.
    /// @param amount Base units (6 decimals).
    function faucet(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Turns refusing every transfer on or off (anyone may, in this mock).
    /// @param refuse True to make every transfer and transferFrom return false.
    function setRefuseAll(bool refuse) external {
        refuseAll = refuse;
    }

    /// @notice Moves `value` to `to`, or returns false (moving nothing) if the balance is short or
    /// `refuseAll` is on.
    /// @param to The receiver.
    /// @param value Base units.
    /// @return Whether the tokens moved.
    function transfer(address to, uint256 value) public override returns (bool) {
        if (refuseAll || balanceOf(msg.sender) < value) return false;
        return super.transfer(to, value);
    }

    /// @notice Moves `value` from `from` to `to` on the caller's allowance, or returns false (moving
    /// nothing) if the balance or the allowance is short or `refuseAll` is on.
    /// @param from The holder.
    /// @param to The receiver.
    /// @param value Base units.
    /// @return Whether the tokens moved.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (refuseAll || balanceOf(from) < value || allowance(from, msg.sender) < value) return false;
        return super.transferFrom(from, to, value);
    }
}
