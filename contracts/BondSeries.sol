// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IBondSeriesErrors} from "./interfaces/IBondSeriesErrors.sol";

/// @title BondSeries: the bonds that financed one asset of the common stock
/// @notice One ERC-20 per asset. One token unit is one unit of principal, with the settlement
/// token's decimals; the face value of the series, `face`, equals the asset's price. Bonds carry
/// no membership, no vote and no share of member income: they are claims on the asset's rent and,
/// failing that, on its sale.
///
/// Each series is a minimal clone (EIP-1167) of one implementation, deployed by the common stock
/// with its terms appended to the clone's code as immutable arguments (OpenZeppelin
/// `Clones.cloneWithImmutableArgs`), so creating a series writes no storage:
///
///     word 0 = issuer | assetId << 160 | decimals << 224 | rateBps << 232
///     word 1 = face
///
/// Only the issuer mints, once per winning bid, and never more than `face` in total.
contract BondSeries is ERC20, IBondSeriesErrors {
    constructor() ERC20("", "") {}

    /// @notice Packs a series' terms into the immutable arguments of its clone.
    /// @param issuer_ The common stock (the only minter).
    /// @param assetId_ The asset financed (< 2**64).
    /// @param face_ Face value: the asset's price.
    /// @param rateBps_ The clearing rate, basis points per period (< 2**16).
    /// @param decimals_ Decimals of the settlement token.
    /// @return The bytes to pass to `Clones.cloneWithImmutableArgs`.
    function encodeTerms(address issuer_, uint256 assetId_, uint256 face_, uint256 rateBps_, uint8 decimals_)
        external
        pure
        returns (bytes memory)
    {
        return abi.encode(
            uint256(uint160(issuer_)) | (assetId_ << 160) | (uint256(decimals_) << 224) | (rateBps_ << 232), face_
        );
    }

    /// @notice The common stock that issued this series (the only minter).
    function issuer() public view returns (address) {
        return address(uint160(_word0()));
    }

    /// @notice The asset of the common stock this series financed.
    function assetId() public view returns (uint256) {
        return uint64(_word0() >> 160);
    }

    /// @notice Interest rate of the series, basis points per rent period (the auction's clearing rate).
    function rateBps() public view returns (uint256) {
        return uint16(_word0() >> 232);
    }

    /// @notice Face value of the series: the asset's price, in settlement-token base units.
    function face() public view returns (uint256) {
        (, uint256 face_) = abi.decode(Clones.fetchCloneArgs(address(this)), (uint256, uint256));
        return face_;
    }

    /// @notice Mints `amount` bonds to `to`. Only the issuer; never beyond `face` in total.
    /// @param to The winning bidder.
    /// @param amount Bond units (principal).
    function mint(address to, uint256 amount) external {
        (uint256 word0, uint256 face_) = abi.decode(Clones.fetchCloneArgs(address(this)), (uint256, uint256));
        if (msg.sender != address(uint160(word0))) revert BondSeriesOnlyIssuer(msg.sender);
        uint256 supply = totalSupply() + amount;
        if (supply > face_) revert BondSeriesFaceExceeded(supply, face_);
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function name() public view override returns (string memory) {
        return string.concat("Venture Commune Bond #", Strings.toString(assetId()));
    }

    /// @inheritdoc ERC20
    function symbol() public view override returns (string memory) {
        return string.concat("VCB", Strings.toString(assetId()));
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return uint8(_word0() >> 224);
    }

    function _word0() private view returns (uint256 word0) {
        (word0,) = abi.decode(Clones.fetchCloneArgs(address(this)), (uint256, uint256));
    }
}
