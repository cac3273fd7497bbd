// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title TokenProbe: measures what a settlement token really moves, inside one eth_call
/// @notice Never deployed. `vcengine.token_probe` injects this runtime code at a fresh address with
/// an `eth_call` state override, gives that address a token balance by overriding the token's
/// balance slot, and calls `probe`; nothing is sent and nothing stays. `probe` moves `amount` to a
/// fresh receiver by `transfer`, then again by `approve` (to itself) and `transferFrom`, and
/// reports both balances before and after each move, so the caller sees exactly what the sender
/// lost and the receiver gained (a fee-on-transfer or rebasing token moves less than asked).
contract TokenProbe {
    /// @notice Thrown when the token's `balanceOf` reverts or returns no number, so nothing can be measured.
    /// @param token The token.
    /// @param account Whose balance was read.
    /// @param reason The revert data, or what was returned.
    error TokenProbeBalanceUnreadable(address token, address account, bytes reason);

    /// @notice One move of `amount` and the balances around it.
    struct Move {
        address receiver; // a fresh address derived from this probe's address
        bool approved; // `approve` succeeded (always true for the plain transfer)
        bool reverted; // the move reverted
        bool succeeded; // the move neither reverted nor returned false
        bytes returnData; // what the move returned, or its revert data
        uint256 senderBefore;
        uint256 senderAfter;
        uint256 receiverBefore;
        uint256 receiverAfter;
    }

    /// @notice A constant the caller reads first, to learn whether the node applied the code override.
    /// @return The hash of "vcengine.TokenProbe.v1".
    function probeVersion() external pure returns (bytes32) {
        return keccak256("vcengine.TokenProbe.v1");
    }

    /// @notice The fresh receiver of move `which` (1: transfer, 2: transferFrom) of `token`.
    /// @param token The token probed.
    /// @param which 1 or 2.
    /// @return An address no one holds a key for.
    function receiverOf(address token, uint256 which) public view returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("vcengine.TokenProbe.receiver", address(this), token, which)))));
    }

    /// @notice Moves `amount` of `token` from this address to a fresh receiver by `transfer`, then to
    /// another by `approve(this, amount)` and `transferFrom(this, receiver, amount)`, measuring the
    /// balances of sender and receiver around each. This address must hold at least twice `amount`.
    /// @param token The token probed.
    /// @param amount Base units per move.
    /// @return viaTransfer The plain transfer.
    /// @return viaTransferFrom The approve-then-transferFrom.
    function probe(address token, uint256 amount) external returns (Move memory viaTransfer, Move memory viaTransferFrom) {
        viaTransfer.receiver = receiverOf(token, 1);
        viaTransfer.approved = true;
        _before(token, viaTransfer);
        (viaTransfer.reverted, viaTransfer.succeeded, viaTransfer.returnData) =
            _call(token, abi.encodeWithSignature("transfer(address,uint256)", viaTransfer.receiver, amount));
        _after(token, viaTransfer);

        viaTransferFrom.receiver = receiverOf(token, 2);
        (, viaTransferFrom.approved,) =
            _call(token, abi.encodeWithSignature("approve(address,uint256)", address(this), amount));
        _before(token, viaTransferFrom);
        (viaTransferFrom.reverted, viaTransferFrom.succeeded, viaTransferFrom.returnData) = _call(
            token,
            abi.encodeWithSignature("transferFrom(address,address,uint256)", address(this), viaTransferFrom.receiver, amount)
        );
        _after(token, viaTransferFrom);
    }

    function _before(address token, Move memory move) private view {
        move.senderBefore = _balance(token, address(this));
        move.receiverBefore = _balance(token, move.receiver);
    }

    function _after(address token, Move memory move) private view {
        move.senderAfter = _balance(token, address(this));
        move.receiverAfter = _balance(token, move.receiver);
    }

    /// @dev A call counts as a success as SafeERC20 counts it: no revert, and either no return data
    /// (tokens such as USDT return nothing) or a word equal to 1.
    function _call(address token, bytes memory data)
        private
        returns (bool reverted, bool succeeded, bytes memory returnData)
    {
        (succeeded, returnData) = token.call(data);
        reverted = !succeeded;
        if (succeeded && returnData.length > 0) {
            succeeded = returnData.length >= 32 && abi.decode(returnData, (uint256)) == 1;
        }
    }

    function _balance(address token, address account) private view returns (uint256) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSignature("balanceOf(address)", account));
        if (!ok || data.length < 32) revert TokenProbeBalanceUnreadable(token, account, data);
        return abi.decode(data, (uint256));
    }
}
