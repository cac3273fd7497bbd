// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title HookToken: an ERC-20 that calls out after every transfer (test double for re-entrancy)
/// @notice 6 decimals and an open faucet. After the balances of a transfer or transferFrom have
/// changed, the token calls `hookTarget` with `hookData` (as ERC-777 and ERC-1363 tokens call
/// their receivers), so a test can re-enter any function of any contract from inside a token
/// transfer. The hook's outcome is recorded, never propagated: a failed hook does not revert the
/// transfer, and the test reads `lastHookSuccess` and `lastHookReturn` (for instance a
/// ReentrancyGuardReentrantCall error) afterwards. No hook runs while a hook runs, so a hook that
/// transfers this token cannot recurse. Mints and burns call no hook. Never deploy it on a public chain.
contract HookToken is ERC20 {
    /// @notice Emitted after each hook call.
    /// @param target The contract called.
    /// @param success Whether the call returned without reverting.
    /// @param returnData What it returned, or its revert data.
    event HookCalled(address indexed target, bool success, bytes returnData);

    /// @notice The contract the hook calls (zero: no hook).
    address public hookTarget;

    /// @notice The calldata the hook sends.
    bytes public hookData;

    /// @notice Whether the last hook call returned without reverting.
    bool public lastHookSuccess;

    /// @notice What the last hook call returned, or its revert data.
    bytes public lastHookReturn;

    /// @notice How many hook calls have run.
    uint256 public hookCalls;

    bool private _inHook;

    constructor() ERC20("Hook Token", "HOOK") {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to` (no hook), for tests.
    /// @param to The receiver.
    /// @param amount Base units (6 decimals).
    function faucet(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets the call made after every later transfer (anyone may, in this mock).
    /// @param target The contract to call; the zero address turns the hook off.
    /// @param data The calldata to send it.
    function setHook(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    /// @dev Moves the balances first, then calls the hook once, recording its outcome.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = hookTarget;
        if (from == address(0) || to == address(0) || target == address(0) || _inHook) return;
        _inHook = true;
        (bool success, bytes memory returnData) = target.call(hookData);
        _inHook = false;
        lastHookSuccess = success;
        lastHookReturn = returnData;
        hookCalls += 1;
        emit HookCalled(target, success, returnData);
    }
}
