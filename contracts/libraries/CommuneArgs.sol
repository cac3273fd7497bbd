// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title CommuneArgs: the wiring of one commune, carried in the code of each of its clones
/// @notice `CommuneFactory.create` makes the membership contract, the treasury and the common stock
/// as EIP-1167 minimal proxies with immutable arguments (OpenZeppelin `Clones.cloneWithImmutableArgs`).
/// All three carry the same 154 bytes after the 45 bytes of the proxy, so each finds the others,
/// its factory and its terms in its own code, never in storage:
///
///     offset  bytes  field
///          0     20  factory               (the only account that may initialise the clone)
///         20     20  commune               (the membership contract)
///         40     20  treasury
///         60     20  stock                 (the common stock)
///         80     20  token                 (the settlement token)
///        100     20  seriesImplementation  (the BondSeries every bond series clones)
///        120     20  governance            (the one account that may change parameters; zero: nobody)
///        140      8  gridOrigin            (the treasury's creation time: start of grid period 0)
///        148      4  periodSeconds         (the rent period: the treasury's grid and every series' period)
///        152      1  tokenDecimals
///        153      1  eoaOnly               (the membership admits externally owned accounts only)
///
/// A membership-only commune has zero treasury, stock, token and series implementation. Nothing
/// here can change: a clone's code is fixed at its creation. Reads copy one word of the running
/// contract's own code (EXTCODECOPY of `address()`, always warm): about 120 gas, no storage.
library CommuneArgs {
    /// @notice Length of the arguments.
    uint256 internal constant LENGTH = 154;

    /// @dev Size of the EIP-1167 proxy code the arguments follow.
    uint256 private constant PROXY = 45;

    /// @notice What the arguments hold (see the table above).
    struct Wiring {
        address factory;
        address commune;
        address treasury;
        address stock;
        address token;
        address seriesImplementation;
        address governance;
        uint64 gridOrigin;
        uint32 periodSeconds;
        uint8 tokenDecimals;
        bool eoaOnly;
    }

    /// @notice The arguments of a commune's clones.
    /// @param w What they hold.
    /// @return The LENGTH bytes, packed.
    function encode(Wiring memory w) internal pure returns (bytes memory) {
        return bytes.concat(
            abi.encodePacked(w.factory, w.commune, w.treasury, w.stock),
            abi.encodePacked(w.token, w.seriesImplementation, w.governance),
            abi.encodePacked(w.gridOrigin, w.periodSeconds, w.tokenDecimals, w.eoaOnly)
        );
    }

    function factory() internal view returns (address) {
        return _address(0);
    }

    function commune() internal view returns (address) {
        return _address(20);
    }

    function treasury() internal view returns (address) {
        return _address(40);
    }

    function stock() internal view returns (address) {
        return _address(60);
    }

    function token() internal view returns (address) {
        return _address(80);
    }

    function seriesImplementation() internal view returns (address) {
        return _address(100);
    }

    function governance() internal view returns (address) {
        return _address(120);
    }

    function gridOrigin() internal view returns (uint256) {
        return _word(140) >> 192;
    }

    function periodSeconds() internal view returns (uint256) {
        return _word(148) >> 224;
    }

    /// @notice The grid origin and the period together, from one read.
    function grid() internal view returns (uint256 origin, uint256 period) {
        uint256 word = _word(140);
        origin = word >> 192;
        period = uint32(word >> 160);
    }

    function tokenDecimals() internal view returns (uint8) {
        return uint8(_word(152) >> 248);
    }

    function eoaOnly() internal view returns (bool) {
        return (_word(153) >> 248) != 0;
    }

    function _address(uint256 offset) private view returns (address) {
        return address(uint160(_word(offset) >> 96));
    }

    /// @dev The 32 bytes of the running contract's code from argument byte `offset` (zero-padded
    /// past the end of the code), through the scratch space.
    function _word(uint256 offset) private view returns (uint256 word) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0, add(PROXY, offset), 32)
            word := mload(0)
        }
    }
}
