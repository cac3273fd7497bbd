// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CommonStock} from "./CommonStock.sol";
import {Commune} from "./Commune.sol";
import {Treasury} from "./Treasury.sol";
import {CreateAddress} from "./factory/CreateAddress.sol";
import {ICommuneFactoryErrors} from "./interfaces/ICommuneFactoryErrors.sol";
import {IStockTypes} from "./interfaces/ICommonStockEvents.sol";
import {CommuneArgs} from "./libraries/CommuneArgs.sol";

/// @title CommuneFactory: a complete commune in one transaction, as clones
/// @notice The code of every contract of a commune is deployed once per chain (the
/// implementations named here); `create` makes a commune's membership contract, treasury and common
/// stock as EIP-1167 minimal proxies of them (OpenZeppelin `Clones.cloneWithImmutableArgs`, which
/// explorers and wallets recognise) and initialises each that has state, in the same transaction.
///
/// Wiring. The three clones carry the same immutable arguments (`CommuneArgs`): this factory, the
/// three clones' own addresses, the settlement token, the BondSeries implementation, the
/// governance address (zero: no parameter can change until member governance exists), the
/// treasury's grid origin (this block's time), the rent period, the token's decimals and the EOA-only
/// flag. The addresses are known before any clone exists: this factory creates nothing but clones,
/// with CREATE, so its account nonce is `created + 1` (it starts at 1, EIP-161, and every CREATE is
/// counted) and the next addresses follow from it (`CreateAddress`); each clone made is checked
/// against its prediction. So every created commune is wired as named, and the arguments cannot
/// change afterwards. Only this factory can initialise the clones it makes (their arguments name
/// it), and each initialiser runs once (OpenZeppelin `Initializable`).
///
/// The factory has no owner, no setter and no upgrade path: anyone may create a commune; it keeps
/// no record beyond a count and the `CommuneCreated` event.
contract CommuneFactory is ICommuneFactoryErrors {
    /// @notice Everything a commune is created with.
    /// @param name ERC-721 name of the membership share.
    /// @param symbol ERC-721 symbol of the membership share.
    /// @param founders The initial workers, one share each; at least one, distinct.
    /// @param labourThreshold Labour units a share costs; at least 1.
    /// @param quorumCap Most attestations a labour claim needs; from 1 to 2**24 - 1.
    /// @param token The settlement token (any ERC-20 with decimals).
    /// @param params Period length, grace period, sale length, rate cap and liquidation reserve.
    /// @param eoaOnly Admit only externally owned accounts as members (see `Commune`).
    struct Config {
        string name;
        string symbol;
        address[] founders;
        uint256 labourThreshold;
        uint256 quorumCap;
        IERC20 token;
        IStockTypes.Params params;
        bool eoaOnly;
    }

    /// @notice Longest rent period: 100 years (as the common stock's MAX_DURATION_SECONDS).
    uint256 public constant MAX_PERIOD_SECONDS = 100 * 365 days;

    /// @notice The membership contract every commune clones.
    address public immutable communeImplementation;

    /// @notice The treasury every commune clones.
    address public immutable treasuryImplementation;

    /// @notice The common stock every commune clones.
    address public immutable stockImplementation;

    /// @notice The BondSeries every commune's bond series clone.
    address public immutable seriesImplementation;

    /// @notice Clones this factory has created; its account nonce is this plus one.
    uint256 public created;

    /// @notice Emitted when a commune is created.
    /// @param commune The membership contract (the share, an ERC-721 with ERC-5192).
    /// @param creator Who called `create` (it holds no special right).
    /// @param treasury The treasury (zero for a membership-only commune).
    /// @param stock The common stock (zero for a membership-only commune).
    /// @param token The settlement token (zero for a membership-only commune).
    event CommuneCreated(
        address indexed commune, address indexed creator, address treasury, address stock, address token
    );

    /// @param communeImplementation_ A deployed Commune (its initialisers disabled).
    /// @param treasuryImplementation_ A deployed Treasury.
    /// @param stockImplementation_ A deployed CommonStock (its initialisers disabled).
    /// @param seriesImplementation_ A deployed BondSeries.
    constructor(
        address communeImplementation_,
        address treasuryImplementation_,
        address stockImplementation_,
        address seriesImplementation_
    ) {
        if (communeImplementation_.code.length == 0) revert FactoryNoCode(communeImplementation_);
        if (treasuryImplementation_.code.length == 0) revert FactoryNoCode(treasuryImplementation_);
        if (stockImplementation_.code.length == 0) revert FactoryNoCode(stockImplementation_);
        if (seriesImplementation_.code.length == 0) revert FactoryNoCode(seriesImplementation_);
        communeImplementation = communeImplementation_;
        treasuryImplementation = treasuryImplementation_;
        stockImplementation = stockImplementation_;
        seriesImplementation = seriesImplementation_;
    }

    /// @notice Creates a commune: membership, treasury and common stock, wired to each other.
    /// @param config Founders, labour threshold, quorum cap, settlement token and stock parameters.
    /// @return commune The membership contract.
    /// @return treasury The treasury.
    /// @return stock The common stock.
    function create(Config calldata config) external returns (Commune commune, Treasury treasury, CommonStock stock) {
        address token = address(config.token);
        if (token.code.length == 0) revert FactoryTokenNotContract(token);
        if (config.params.periodSeconds == 0 || config.params.periodSeconds > MAX_PERIOD_SECONDS) {
            revert FactoryInvalidPeriod(config.params.periodSeconds);
        }
        (address communeAt, address treasuryAt, address stockAt) = predict();
        bytes memory args = _args(config, communeAt, treasuryAt, stockAt);
        created += 3;
        commune = Commune(_clone("Commune", communeImplementation, args, communeAt));
        treasury = Treasury(_clone("Treasury", treasuryImplementation, args, treasuryAt));
        stock = CommonStock(_clone("CommonStock", stockImplementation, args, stockAt));
        _initializeCommune(commune, config);
        stock.initialize(config.params);
        emit CommuneCreated(address(commune), msg.sender, address(treasury), address(stock), token);
    }

    /// @notice Creates a membership-only commune: shares earned by labour, no treasury and no
    /// common stock (its arguments name none).
    /// @param name ERC-721 name of the share.
    /// @param symbol ERC-721 symbol of the share.
    /// @param founders The initial workers, one share each; at least one, distinct.
    /// @param labourThreshold Labour units a share costs; at least 1.
    /// @param quorumCap Most attestations a labour claim needs; from 1 to 2**24 - 1.
    /// @param eoaOnly Admit only externally owned accounts as members.
    /// @return commune The membership contract.
    function createMembership(
        string calldata name,
        string calldata symbol,
        address[] calldata founders,
        uint256 labourThreshold,
        uint256 quorumCap,
        bool eoaOnly
    ) external returns (Commune commune) {
        address communeAt = _next(0);
        bytes memory args = CommuneArgs.encode(
            CommuneArgs.Wiring({
                factory: address(this),
                commune: communeAt,
                treasury: address(0),
                stock: address(0),
                token: address(0),
                seriesImplementation: address(0),
                governance: address(0),
                gridOrigin: 0,
                periodSeconds: 0,
                tokenDecimals: 0,
                eoaOnly: eoaOnly
            })
        );
        created += 1;
        commune = Commune(_clone("Commune", communeImplementation, args, communeAt));
        commune.initialize(name, symbol, founders, labourThreshold, quorumCap);
        emit CommuneCreated(communeAt, msg.sender, address(0), address(0), address(0));
    }

    /// @notice The addresses the next `create` will give its three contracts.
    /// @return commune The membership contract's.
    /// @return treasury The treasury's.
    /// @return stock The common stock's.
    function predict() public view returns (address commune, address treasury, address stock) {
        return (_next(0), _next(1), _next(2));
    }

    /// @dev Initialises the membership clone (a frame of its own: the arguments would not fit the caller's stack).
    function _initializeCommune(Commune commune, Config calldata config) private {
        commune.initialize(config.name, config.symbol, config.founders, config.labourThreshold, config.quorumCap);
    }

    /// @dev The arguments of a commune's clones (see `CommuneArgs`).
    function _args(Config calldata config, address communeAt, address treasuryAt, address stockAt)
        private
        view
        returns (bytes memory)
    {
        address token = address(config.token);
        return CommuneArgs.encode(
            CommuneArgs.Wiring({
                factory: address(this),
                commune: communeAt,
                treasury: treasuryAt,
                stock: stockAt,
                token: token,
                seriesImplementation: seriesImplementation,
                governance: address(0),
                gridOrigin: SafeCast.toUint64(block.timestamp),
                // Safe cast: checked by `create` to be at most 100 years, below 2**32 seconds.
                periodSeconds: uint32(config.params.periodSeconds),
                tokenDecimals: IERC20Metadata(token).decimals(),
                eoaOnly: config.eoaOnly
            })
        );
    }

    /// @dev The address of this factory's `k`-th CREATE from now.
    function _next(uint256 k) private view returns (address) {
        return CreateAddress.compute(address(this), created + 1 + k);
    }

    /// @dev A clone of `implementation` with `args`, which must land at `predicted`.
    function _clone(string memory name, address implementation, bytes memory args, address predicted)
        private
        returns (address made)
    {
        made = Clones.cloneWithImmutableArgs(implementation, args);
        if (made != predicted) revert FactoryAddressMismatch(name, predicted, made);
    }
}
