// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken: an ERC-20 that skims a fee from every transfer (test double)
/// @notice 6 decimals and an open faucet, like TestStablecoin, plus a fee in basis points that anyone
/// may set in this mock. The fee starts at 0 (dormant, like USDT's fee switch). When it is on, a
/// transfer or transferFrom of `value` debits the sender `value`, credits the receiver
/// `value - fee` and the fee collector `fee`, where `fee = value * feeBps / 10_000` rounded down.
/// Mints and burns pay no fee. Never deploy it on a public chain.
contract FeeOnTransferToken is ERC20 {
    /// @notice Thrown when a fee above 100% is asked for.
    /// @param feeBps The fee asked for, in basis points.
    /// @param maxBps The highest fee allowed (10,000 basis points).
    error FeeOnTransferTokenFeeTooHigh(uint256 feeBps, uint256 maxBps);

    /// @notice Emitted when the fee changes.
    /// @param feeBps The new fee, in basis points of each transfer.
    event FeeChanged(uint256 feeBps);

    /// @notice The fee's denominator: 10,000 basis points are the whole amount.
    uint256 public constant BPS = 10_000;

    /// @notice Who receives the fees.
    address public immutable feeCollector;

    /// @notice The fee taken from each transfer, in basis points (0: dormant).
    uint256 public feeBps;

    /// @param collector Who receives the fees.
    constructor(address collector) ERC20("Fee On Transfer Token", "FEE") {
        if (collector == address(0)) revert ERC20InvalidReceiver(address(0));
        feeCollector = collector;
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to` (no fee), for tests.
    /// @param to The receiver.
    /// @param amount Base units (6 decimals).
    function faucet(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets the fee on every later transfer (anyone may, in this mock).
    /// @param newFeeBps The fee in basis points, 0 (off) to 10,000 (the receiver gets nothing).
    function setFeeBps(uint256 newFeeBps) external {
        if (newFeeBps > BPS) revert FeeOnTransferTokenFeeTooHigh(newFeeBps, BPS);
        feeBps = newFeeBps;
        emit FeeChanged(newFeeBps);
    }

    /// @notice The fee a transfer of `value` pays at the current rate, rounded down.
    /// @param value The amount transferred.
    /// @return fee The part of `value` that goes to the fee collector.
    function feeOn(uint256 value) public view returns (uint256 fee) {
        return (value * feeBps) / BPS;
    }

    /// @dev Transfers between two accounts pay the fee: the sender's whole `value` is checked and
    /// debited first, then split between the collector and the receiver (two Transfer events).
    function _update(address from, address to, uint256 value) internal override {
        uint256 fee = feeOn(value);
        if (from == address(0) || to == address(0) || fee == 0) {
            super._update(from, to, value);
            return;
        }
        uint256 held = balanceOf(from);
        if (held < value) revert ERC20InsufficientBalance(from, held, value);
        super._update(from, feeCollector, fee);
        super._update(from, to, value - fee);
    }
}
