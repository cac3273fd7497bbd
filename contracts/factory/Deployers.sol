// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CommonStock} from "../CommonStock.sol";
import {Commune} from "../Commune.sol";
import {Treasury} from "../Treasury.sol";
import {IMembershipHooks} from "../interfaces/ICommuneHooks.sol";
import {ICommuneFactoryErrors} from "../interfaces/ICommuneFactoryErrors.sol";

/// @title Creation by a counted deployer
/// @notice Each deployer holds the creation code of one contract of a commune, so that no single
/// contract carries all three (CommonStock alone is close to the 24 KB limit of EIP-170). A
/// deployer's account nonce is `created + 1`: it starts at 1 (EIP-161) and only this contract's own
/// CREATEs raise it, each one counted; a CREATE that fails reverts the whole call, count included.
/// So the next address is `CreateAddress.compute(deployer, created + 1)`, and the factory can name
/// every contract of a commune to the others before creating any (the address is computed by the
/// factory, not here). Anyone may call `deploy`: the constructors refuse to be miswired.
abstract contract CountedDeployer {
    /// @notice Contracts this deployer has created; its account nonce is this plus one.
    uint256 public created;
}

/// @title CommuneDeployer: creates membership contracts for the commune factory
contract CommuneDeployer is CountedDeployer {
    /// @notice Creates a membership contract (see `Commune`'s constructor for the arguments).
    /// @param name_ ERC-721 name of the share.
    /// @param symbol_ ERC-721 symbol of the share.
    /// @param founders The initial workers, one share each.
    /// @param labourThreshold_ Labour units a share costs.
    /// @param quorumCap_ Most attestations a claim needs.
    /// @param treasury_ The commune's treasury (its predicted address).
    /// @param stock_ The commune's common stock (its predicted address).
    /// @param eoaOnly_ Admit only externally owned accounts.
    /// @return commune The new membership contract.
    function deploy(
        string calldata name_,
        string calldata symbol_,
        address[] calldata founders,
        uint256 labourThreshold_,
        uint256 quorumCap_,
        address treasury_,
        address stock_,
        bool eoaOnly_
    ) external returns (Commune commune) {
        ++created;
        commune = new Commune(
            name_, symbol_, founders, labourThreshold_, quorumCap_, IMembershipHooks(treasury_), stock_, eoaOnly_
        );
    }
}

/// @title TreasuryDeployer: creates treasuries for the commune factory
contract TreasuryDeployer is CountedDeployer {
    /// @notice Creates a treasury (see `Treasury`'s constructor; it checks the commune names it).
    /// @param commune_ The membership contract.
    /// @param token_ The settlement token.
    /// @param stock_ The common stock (its predicted address).
    /// @param periodSeconds_ The commune's rent period (the treasury's release grid).
    /// @return treasury The new treasury.
    function deploy(Commune commune_, IERC20 token_, address stock_, uint256 periodSeconds_)
        external
        returns (Treasury treasury)
    {
        ++created;
        treasury = new Treasury(commune_, token_, stock_, periodSeconds_);
    }
}

/// @title StockDeployer: creates common stocks for the commune factory
/// @notice CommonStock's creation code is larger than any contract may be (EIP-170), so it cannot be
/// embedded in this deployer: it is kept, cut in two, as the code of two code-data contracts
/// (`codeHead`, `codeTail`: each a STOP byte followed by its bytes, so neither can be run), deployed
/// once with the factory. `deploy` copies both into memory, appends the constructor's arguments
/// and creates the stock, bubbling up its constructor's error. `creationCode()` returns the code it
/// creates from, for anyone to compare with the compiled CommonStock.
contract StockDeployer is CountedDeployer, ICommuneFactoryErrors {
    /// @notice The code-data contract holding the first part of CommonStock's creation code.
    address public immutable codeHead;

    /// @notice The code-data contract holding the rest of CommonStock's creation code.
    address public immutable codeTail;

    /// @param codeHead_ The first part's code-data contract.
    /// @param codeTail_ The second part's code-data contract.
    constructor(address codeHead_, address codeTail_) {
        if (codeHead_.code.length < 2) revert FactoryNoCode(codeHead_);
        if (codeTail_.code.length < 2) revert FactoryNoCode(codeTail_);
        codeHead = codeHead_;
        codeTail = codeTail_;
    }

    /// @notice Creates a common stock (see `CommonStock`'s constructor; it checks the wiring).
    /// @param commune_ The membership contract.
    /// @param token_ The settlement token.
    /// @param treasury_ The treasury.
    /// @param seriesImplementation_ The BondSeries to clone for each asset's bonds.
    /// @param params Periods, grace, sale length, rate cap and liquidation reserve.
    /// @return stock The new common stock.
    function deploy(
        Commune commune_,
        IERC20 token_,
        Treasury treasury_,
        address seriesImplementation_,
        CommonStock.Params calldata params
    ) external returns (CommonStock stock) {
        ++created;
        bytes memory initcode =
            bytes.concat(creationCode(), abi.encode(commune_, token_, treasury_, seriesImplementation_, params));
        address made;
        assembly ("memory-safe") {
            made := create(0, add(initcode, 0x20), mload(initcode))
            if iszero(made) {
                // Bubble up the constructor's revert data (a miswiring error, say).
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
        }
        stock = CommonStock(made);
    }

    /// @notice CommonStock's creation code as this deployer assembles it from its two parts.
    /// @return code The bytes.
    function creationCode() public view returns (bytes memory code) {
        return bytes.concat(_data(codeHead), _data(codeTail));
    }

    /// @dev The bytes a code-data contract holds: its code after the leading STOP byte.
    function _data(address store) private view returns (bytes memory data) {
        uint256 size = store.code.length - 1;
        data = new bytes(size);
        assembly ("memory-safe") {
            extcodecopy(store, add(data, 0x20), 1, size)
        }
    }
}
