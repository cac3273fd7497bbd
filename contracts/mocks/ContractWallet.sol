// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title ContractWallet: a minimal owned smart-contract wallet (test double)
/// @notice Its owner makes it call any contract, and can hand the wallet, with everything it holds
/// or is (a commune member, a token holder), to a new owner in one transaction. Tests use it to show
/// that a soulbound share held by a contract can still be sold: by selling the wallet.
contract ContractWallet {
    /// @notice Thrown when someone other than the owner acts for the wallet.
    /// @param caller Who called.
    /// @param owner The wallet's owner.
    error ContractWalletNotOwner(address caller, address owner);

    /// @notice Thrown when ownership would pass to the zero address.
    error ContractWalletZeroOwner();

    /// @notice Emitted when the wallet changes hands.
    /// @param previousOwner The owner before.
    /// @param newOwner The owner after.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice Who controls the wallet.
    address public owner;

    /// @param initialOwner Who controls the wallet at first.
    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert ContractWalletZeroOwner();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    /// @notice Calls `target` with `data` from the wallet; a revert is passed on with its data. Owner only.
    /// @param target The contract to call.
    /// @param data The calldata.
    /// @return result What the call returned.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != owner) revert ContractWalletNotOwner(msg.sender, owner);
        bool success;
        (success, result) = target.call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
    }

    /// @notice Hands the wallet to `newOwner`. Owner only.
    /// @param newOwner The new owner.
    function transferOwnership(address newOwner) external {
        if (msg.sender != owner) revert ContractWalletNotOwner(msg.sender, owner);
        if (newOwner == address(0)) revert ContractWalletZeroOwner();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
