"""Deploy a complete commune: settlement token (on local chains), membership, bond series, common stock.

Example::

    >>> from vcengine.chains import connect
    >>> from vcengine.deploy import CommuneParams, deploy_commune
    >>> chain = connect("tester")
    >>> alice, bob = chain.accounts[:2]
    >>> d = deploy_commune(chain, alice, CommuneParams(founders=[alice.address, bob.address]))
    >>> d.commune.member_count(), d.stock.rate_cap_bps()
    (2, 1000)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3.utils.address import get_create_address

from vcengine.chains import Chain
from vcengine.client import ContractClient, ErrorDecoder, InputError, TxResult, _result, _send, require_address, require_int
from vcengine.commune import CommuneClient
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.stock import CommonStockClient
from vcengine.token import BondSeriesClient, ERC20Client, TestStablecoinClient
from vcengine.treasury import TreasuryClient

DAY = 24 * 60 * 60
#: `CommonStock.MAX_DURATION_SECONDS`: the longest period, grace period or sale (100 years).
MAX_DURATION_SECONDS = 100 * 365 * DAY


@dataclass(frozen=True)
class CommuneParams:
    """Everything a commune is deployed with. Each field is readable on chain afterwards."""

    founders: list[str]
    #: Labour units a share costs.
    labour_threshold: int = 10
    #: Most attestations a labour claim needs; the quorum is min(quorum_cap, members).
    quorum_cap: int = 3
    #: Length of one rent period, seconds.
    period_seconds: int = 30 * DAY
    #: How long rent may be overdue before anyone may reclaim the asset, seconds.
    grace_seconds: int = 7 * DAY
    #: How long rental auctions and liquidation sales stay open, seconds.
    sale_seconds: int = 3 * DAY
    #: Highest rate a bond bid may name, basis points per period (at most 4,095).
    rate_cap_bps: int = 1_000
    #: Least liquidation price, basis points of the asset's price (0: no reserve).
    liquidation_reserve_bps: int = 0
    #: ERC-721 name and symbol of the membership share.
    name: str = "Venture Commune Share"
    symbol: str = "VCS"
    #: Admit only externally owned accounts (founders without code, joiners who sign themselves).
    eoa_only: bool = False


@dataclass
class Deployment:
    """Clients of every contract of one commune, and the deployment transactions' gas."""

    chain: Chain
    params: CommuneParams
    commune: CommuneClient
    token: ERC20Client
    treasury: TreasuryClient
    stock: CommonStockClient
    series_implementation: str
    gas: dict[str, int] = field(default_factory=dict)

    @property
    def test_token(self) -> TestStablecoinClient:
        """The settlement token as a TestStablecoin (local chains only)."""
        return TestStablecoinClient(self.chain, self.token.address, self.commune.artifacts)

    def contracts(self) -> dict[str, str]:
        """Name -> address of every contract of the commune."""
        return {
            "Commune": self.commune.address,
            "Treasury": self.treasury.address,
            "CommonStock": self.stock.address,
            "SettlementToken": self.token.address,
            "BondSeriesImplementation": self.series_implementation,
        }

    def system_balance(self) -> int:
        """Settlement tokens held by the commune's contracts and bond series together."""
        held = self.token.balance_of(self.stock.address) + self.token.balance_of(self.treasury.address)
        for asset_id in range(1, self.stock.asset_count() + 1):
            series = self.stock.asset(asset_id).series
            if series:
                held += self.token.balance_of(series)
        return held


def deploy_commune(
    chain: Chain,
    deployer: LocalAccount,
    params: CommuneParams,
    token_address: str | None = None,
    artifacts: CompileResult | None = None,
) -> Deployment:
    """Deploy a commune. Without ``token_address`` a TestStablecoin is deployed (local chains only).

    The membership contract, the treasury and the common stock name each other in immutable
    storage. They are deployed by ``deployer`` in three consecutive transactions whose addresses
    are predicted from its nonce; each constructor checks the others name it, so a wrong prediction
    (another transaction from the same key in between) makes the deployment revert instead of
    producing a miswired commune.
    """
    artifacts = artifacts or load_artifacts()
    check_params(params)
    gas: dict[str, int] = {}

    if token_address is None:
        if not chain.is_local:
            raise InputError("a settlement token address is required on a public chain (e.g. a stablecoin)")
        token_client = TestStablecoinClient.deploy(chain, deployer, artifacts=artifacts)
        gas["TestStablecoin"] = _gas(token_client.deploy_receipt)
        token = ERC20Client(chain, token_client.address, artifacts)
    else:
        token = ERC20Client(chain, require_address(token_address, "settlement token"), artifacts)

    implementation = BondSeriesClient.deploy(chain, deployer, artifacts=artifacts)
    gas["BondSeries"] = _gas(implementation.deploy_receipt)

    nonce = chain.w3.eth.get_transaction_count(deployer.address, "pending")
    treasury_at = get_create_address(deployer.address, nonce + 1)
    stock_at = get_create_address(deployer.address, nonce + 2)
    commune = CommuneClient.deploy(
        chain, deployer, founders=params.founders, labour_threshold=params.labour_threshold,
        quorum_cap=params.quorum_cap, name=params.name, symbol=params.symbol, artifacts=artifacts,
        treasury=treasury_at, stock=stock_at, eoa_only=params.eoa_only,
    )
    gas["Commune"] = _gas(commune.deploy_receipt)
    treasury = TreasuryClient.deploy(chain, deployer, commune.address, token.address, stock_at, params.period_seconds,
                                     artifacts=artifacts)
    gas["Treasury"] = _gas(treasury.deploy_receipt)
    stock = CommonStockClient.deploy(
        chain, deployer, commune.address, token.address, treasury.address, implementation.address,
        (params.period_seconds, params.grace_seconds, params.sale_seconds, params.rate_cap_bps,
         params.liquidation_reserve_bps),
        artifacts=artifacts,
    )
    gas["CommonStock"] = _gas(stock.deploy_receipt)
    if (treasury.address, stock.address) != (treasury_at, stock_at):  # pragma: no cover - constructors revert first
        raise InputError(f"deployment addresses differ from their prediction: {treasury.address}, {stock.address}")
    return Deployment(chain, params, commune, token, treasury, stock, implementation.address, gas)


class CommuneFactoryClient(ContractClient):
    """``CommuneFactory``: a complete commune (membership, treasury, common stock) in one transaction."""

    CONTRACT = "CommuneFactory"

    def series_implementation(self) -> str:
        return self.call("seriesImplementation")

    def predict(self) -> tuple[str, str, str]:
        """Addresses the next ``create`` gives the commune, its treasury and its common stock."""
        return tuple(self.call("predict"))  # type: ignore[return-value]


#: The start of a code-data contract's creation code: it returns the bytes after these 12 as the
#: contract's code (PUSH2 size, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN).
_CODE_STORE_PREFIX = "61{size:04x}80600c6000396000f3"


def deploy_code_store(chain: Chain, deployer: LocalAccount, data: bytes, artifacts: CompileResult) -> tuple[str, int]:
    """Deploy a code-data contract whose code is a STOP byte followed by ``data`` (it cannot be run);
    returns its address and the gas used. ``StockDeployer`` reads CommonStock's creation code from two."""
    code = b"\x00" + data
    if len(code) > 24_576:
        raise InputError(f"a code-data contract holds at most 24,575 bytes (EIP-170), got {len(data)}")
    initcode = "0x" + _CODE_STORE_PREFIX.format(size=len(code)) + code.hex()
    decoder = ErrorDecoder([a.abi for a in artifacts.artifacts.values()])
    receipt = _send(chain, {"data": initcode}, deployer, 0, decoder, "code store", "constructor")
    stored = chain.w3.eth.get_code(receipt["contractAddress"])
    if bytes(stored) != code:  # pragma: no cover - the EVM returns exactly what the prefix copies
        raise InputError(f"code store at {receipt['contractAddress']} holds other code than sent")
    return receipt["contractAddress"], _result(receipt, []).gas_used


@dataclass(frozen=True)
class FactoryDeployment:
    """A factory, its three deployers and the shared bond series implementation, with their gas."""

    factory: str
    deployers: dict[str, str]
    series_implementation: str
    gas: dict[str, int]


def _client_class(name: str) -> type[ContractClient]:
    """A plain client class for contract ``name`` (deployers need no typed methods)."""
    return type(f"{name}Client", (ContractClient,), {"CONTRACT": name})


def deploy_factory(chain: Chain, deployer: LocalAccount, artifacts: CompileResult | None = None) -> FactoryDeployment:
    """Deploy a :class:`CommuneFactory` with its deployers and bond series implementation (five
    transactions, once per chain; anyone may then create communes with it)."""
    artifacts = artifacts or load_artifacts()
    gas: dict[str, int] = {}
    deployed: dict[str, str] = {}
    # CommonStock's creation code, in two code-data contracts for the StockDeployer to read.
    stock_code = bytes.fromhex(artifacts["CommonStock"].bytecode.removeprefix("0x"))
    half = (len(stock_code) + 1) // 2
    stores = []
    for label, part in (("StockCodeHead", stock_code[:half]), ("StockCodeTail", stock_code[half:])):
        address, used = deploy_code_store(chain, deployer, part, artifacts)
        gas[label] = used
        deployed[label] = address
        stores.append(address)
    for name in ("CommuneDeployer", "TreasuryDeployer", "StockDeployer", "BondSeries"):
        args = stores if name == "StockDeployer" else []
        client = _client_class(name).deploy(chain, deployer, *args, artifacts=artifacts)
        gas[name] = _gas(client.deploy_receipt)
        deployed[name] = client.address
    factory = CommuneFactoryClient.deploy(chain, deployer, deployed["CommuneDeployer"], deployed["TreasuryDeployer"],
                                          deployed["StockDeployer"], deployed["BondSeries"], artifacts=artifacts)
    gas["CommuneFactory"] = _gas(factory.deploy_receipt)
    series = deployed.pop("BondSeries")
    return FactoryDeployment(factory.address, deployed, series, gas)


def create_commune(
    chain: Chain,
    sender: LocalAccount,
    params: CommuneParams,
    factory: str,
    token_address: str,
    artifacts: CompileResult | None = None,
) -> tuple[Deployment, TxResult]:
    """Create a commune through the factory at ``factory``: one transaction. Returns the
    deployment's clients and the ``create`` transaction (its ``CommuneCreated`` event included)."""
    artifacts = artifacts or load_artifacts()
    check_params(params)
    founders = check_founders(params.founders)
    factory_client = CommuneFactoryClient(chain, require_address(factory, "factory"), artifacts)
    if not chain.w3.eth.get_code(factory_client.address):
        raise InputError(f"no CommuneFactory at {factory_client.address} on this chain")
    token = ERC20Client(chain, require_address(token_address, "settlement token"), artifacts)
    if not chain.w3.eth.get_code(token.address):
        raise InputError(f"settlement token {token.address} has no code on this chain: is it the right network?")
    config = (params.name, params.symbol, founders, params.labour_threshold, params.quorum_cap, token.address,
              (params.period_seconds, params.grace_seconds, params.sale_seconds, params.rate_cap_bps,
               params.liquidation_reserve_bps), params.eoa_only)
    tx = factory_client.transact("create", config, sender=sender)
    created = tx.event("CommuneCreated").args
    commune = CommuneClient(chain, created["commune"], artifacts)
    treasury = TreasuryClient(chain, created["treasury"], artifacts)
    stock = CommonStockClient(chain, created["stock"], artifacts)
    deployment = Deployment(chain, params, commune, token, treasury, stock,
                            factory_client.series_implementation(), {"CommuneFactory.create": tx.gas_used})
    return deployment, tx


def check_params(params: CommuneParams) -> None:
    require_int(params.labour_threshold, "labour threshold", 1)
    require_int(params.quorum_cap, "quorum cap", 1, 2**24 - 1)
    require_int(params.period_seconds, "period length (seconds)", 1, MAX_DURATION_SECONDS)
    require_int(params.grace_seconds, "grace period (seconds)", 0, MAX_DURATION_SECONDS)
    require_int(params.sale_seconds, "sale length (seconds)", 1, MAX_DURATION_SECONDS)
    require_int(params.rate_cap_bps, "rate cap (basis points per period)", 0, 4_095)
    require_int(params.liquidation_reserve_bps, "liquidation reserve (basis points)", 0, 10_000)
    if not isinstance(params.eoa_only, bool):
        raise InputError(f"eoa_only must be true or false, got {params.eoa_only!r}")


def check_founders(founders: list[str]) -> list[str]:
    if not founders:
        raise InputError("founders must name at least one address: the initial workers")
    checked = [require_address(f, "founder") for f in founders]
    if len(set(checked)) != len(checked):
        raise InputError(f"founders must be distinct, got {founders}")
    return checked


def _gas(result: TxResult | None) -> int:
    return result.gas_used if result else 0
