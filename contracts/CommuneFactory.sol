// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CommonStock} from "./CommonStock.sol";
import {Commune} from "./Commune.sol";
import {Treasury} from "./Treasury.sol";
import {CreateAddress} from "./factory/CreateAddress.sol";
import {CommuneDeployer, CountedDeployer, StockDeployer, TreasuryDeployer} from "./factory/Deployers.sol";
import {ICommuneFactoryErrors} from "./interfaces/ICommuneFactoryErrors.sol";

/// @title CommuneFactory: a complete commune in one transaction
/// @notice `create` deploys a membership contract, its treasury and its common stock, wired to each
/// other, and emits `CommuneCreated`. The three name each other in immutable storage, so their
/// addresses are predicted before the first is created (each comes from a deployer whose nonce is
/// known, see `CountedDeployer`); every constructor checks that the others name it, so a wrong
/// prediction reverts instead of producing a miswired commune. The factory has no owner, no setter
/// and no upgrade path: anyone may create a commune, and it keeps no record beyond the event.
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
        CommonStock.Params params;
        bool eoaOnly;
    }

    /// @notice Creates membership contracts.
    CommuneDeployer public immutable communeDeployer;

    /// @notice Creates treasuries.
    TreasuryDeployer public immutable treasuryDeployer;

    /// @notice Creates common stocks.
    StockDeployer public immutable stockDeployer;

    /// @notice The BondSeries every commune of this factory clones for its bonds (it holds no state
    /// of its own: each clone carries its terms as immutable arguments).
    address public immutable seriesImplementation;

    /// @notice Emitted when a commune is created.
    /// @param commune The membership contract (the share, an ERC-721 with ERC-5192).
    /// @param creator Who called `create` (it holds no special right).
    /// @param treasury The treasury.
    /// @param stock The common stock.
    /// @param token The settlement token.
    event CommuneCreated(
        address indexed commune, address indexed creator, address treasury, address stock, address token
    );

    /// @param communeDeployer_ The membership contracts' deployer.
    /// @param treasuryDeployer_ The treasuries' deployer.
    /// @param stockDeployer_ The common stocks' deployer.
    /// @param seriesImplementation_ A deployed BondSeries to clone.
    constructor(
        CommuneDeployer communeDeployer_,
        TreasuryDeployer treasuryDeployer_,
        StockDeployer stockDeployer_,
        address seriesImplementation_
    ) {
        communeDeployer = communeDeployer_;
        treasuryDeployer = treasuryDeployer_;
        stockDeployer = stockDeployer_;
        seriesImplementation = seriesImplementation_;
    }

    /// @notice Creates a commune: membership, treasury and common stock, wired to each other.
    /// @param config Founders, labour threshold, quorum cap, settlement token and stock parameters.
    /// @return commune The membership contract.
    /// @return treasury The treasury.
    /// @return stock The common stock.
    function create(Config calldata config) external returns (Commune commune, Treasury treasury, CommonStock stock) {
        if (address(config.token).code.length == 0) revert FactoryTokenNotContract(address(config.token));
        (address communeAt, address treasuryAt, address stockAt) = predict();
        commune = _deployCommune(config, treasuryAt, stockAt);
        _expect("Commune", communeAt, address(commune));
        treasury = treasuryDeployer.deploy(commune, config.token, stockAt, config.params.periodSeconds);
        _expect("Treasury", treasuryAt, address(treasury));
        stock = stockDeployer.deploy(commune, config.token, treasury, seriesImplementation, config.params);
        _expect("CommonStock", stockAt, address(stock));
        emit CommuneCreated(address(commune), msg.sender, address(treasury), address(stock), address(config.token));
    }

    /// @notice The addresses the next `create` will give its three contracts, if no other call to the
    /// deployers comes first.
    /// @return commune The membership contract's.
    /// @return treasury The treasury's.
    /// @return stock The common stock's.
    function predict() public view returns (address commune, address treasury, address stock) {
        return (_next(communeDeployer), _next(treasuryDeployer), _next(stockDeployer));
    }

    /// @dev The membership contract, in a frame of its own (the arguments would not fit the caller's stack).
    function _deployCommune(Config calldata config, address treasuryAt, address stockAt) private returns (Commune) {
        return communeDeployer.deploy(
            config.name,
            config.symbol,
            config.founders,
            config.labourThreshold,
            config.quorumCap,
            treasuryAt,
            stockAt,
            config.eoaOnly
        );
    }

    function _next(CountedDeployer deployer) private view returns (address) {
        return CreateAddress.compute(address(deployer), deployer.created() + 1);
    }

    function _expect(string memory name, address predicted, address actual) private pure {
        if (predicted != actual) revert FactoryAddressMismatch(name, predicted, actual);
    }
}
