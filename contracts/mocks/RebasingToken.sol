// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title RebasingToken: an ERC-20 whose balances are shares times a global index (test double)
/// @notice 6 decimals and an open faucet. Each account holds shares; its balance is
/// `shares * index / 1e18` rounded down, and `rebase` scales the index, so every balance grows or
/// shrinks at once (as stETH's do). A transfer of `amount` moves `amount * 1e18 / index` shares
/// rounded down, so once the index is not a whole multiple the receiver may get, and the sender
/// lose, one base unit less than asked. Never deploy it on a public chain.
contract RebasingToken is ERC20 {
    /// @notice Thrown when a rebase would divide by zero or bring the index to zero.
    /// @param numerator The factor's numerator.
    /// @param denominator The factor's denominator.
    error RebasingTokenInvalidRebase(uint256 numerator, uint256 denominator);

    /// @notice Emitted when the index changes.
    /// @param oldIndex The index before, 1e18 being one base unit per share.
    /// @param newIndex The index after.
    event Rebased(uint256 oldIndex, uint256 newIndex);

    /// @notice Emitted with every Transfer: the shares that moved.
    /// @param from The sender (zero for a mint).
    /// @param to The receiver (zero for a burn).
    /// @param shares The shares moved.
    event TransferShares(address indexed from, address indexed to, uint256 shares);

    /// @notice The index at deployment: one base unit per share.
    uint256 public constant INITIAL_INDEX = 1e18;

    /// @notice Base units per share, scaled by 1e18.
    uint256 public index = INITIAL_INDEX;

    /// @notice Shares in existence.
    uint256 public totalShares;

    mapping(address account => uint256) private _shares;

    constructor() ERC20("Rebasing Token", "REB") {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints the shares `amount` base units buy at the current index (rounded down), for tests.
    /// @param to The receiver.
    /// @param amount Base units (6 decimals).
    function faucet(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Scales every balance by `numerator / denominator` (anyone may, in this mock).
    /// @param numerator The factor's numerator (below `denominator` for a negative rebase).
    /// @param denominator The factor's denominator.
    function rebase(uint256 numerator, uint256 denominator) external {
        if (denominator == 0) revert RebasingTokenInvalidRebase(numerator, denominator);
        uint256 newIndex = (index * numerator) / denominator;
        if (newIndex == 0) revert RebasingTokenInvalidRebase(numerator, denominator);
        emit Rebased(index, newIndex);
        index = newIndex;
    }

    /// @notice The shares `account` holds.
    /// @param account The holder.
    /// @return The holder's shares.
    function sharesOf(address account) external view returns (uint256) {
        return _shares[account];
    }

    /// @notice `account`'s balance: its shares times the index, rounded down.
    /// @param account The holder.
    /// @return Base units.
    function balanceOf(address account) public view override returns (uint256) {
        return (_shares[account] * index) / 1e18;
    }

    /// @notice Every balance together: all shares times the index, rounded down.
    /// @return Base units.
    function totalSupply() public view override returns (uint256) {
        return (totalShares * index) / 1e18;
    }

    /// @notice The shares a transfer of `amount` moves at the current index, rounded down.
    /// @param amount Base units.
    /// @return Shares.
    function sharesFor(uint256 amount) public view returns (uint256) {
        return (amount * 1e18) / index;
    }

    /// @dev Replaces ERC20's balance bookkeeping with shares; the sender must hold a balance of at
    /// least `value` (not merely the shares), as a plain ERC-20 requires.
    function _update(address from, address to, uint256 value) internal override {
        uint256 shares = sharesFor(value);
        if (from == address(0)) {
            totalShares += shares;
        } else {
            uint256 held = balanceOf(from);
            if (held < value) revert ERC20InsufficientBalance(from, held, value);
            _shares[from] -= shares;
        }
        if (to == address(0)) {
            totalShares -= shares;
        } else {
            _shares[to] += shares;
        }
        emit Transfer(from, to, value);
        emit TransferShares(from, to, shares);
    }
}
