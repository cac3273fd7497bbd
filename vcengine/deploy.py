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
from typing import Any, Callable, Mapping

from eth_account.signers.local import LocalAccount
from web3.utils.address import get_create_address

from vcengine.chains import Chain
from vcengine.client import (ContractClient, ErrorDecoder, InputError, TxResult, _result, _send, require_address,
                             require_int, revert_data)
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
    initcode = _code_store_initcode(data)
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
    #: Gas used by the pieces deployed by this call (a piece reused from ``existing`` has none).
    gas: dict[str, int]


#: The pieces of a factory in the order they are deployed: CommonStock's creation code in two
#: code-data contracts, the three deployers, the bond series implementation, then the factory.
FACTORY_PIECES = ("StockCodeHead", "StockCodeTail", "CommuneDeployer", "TreasuryDeployer", "StockDeployer",
                  "BondSeries", "CommuneFactory")
#: The pieces the factory's constructor takes, in its parameters' order.
_FACTORY_ARGS = ("CommuneDeployer", "TreasuryDeployer", "StockDeployer", "BondSeries")


def _client_class(name: str) -> type[ContractClient]:
    """A plain client class for contract ``name`` (deployers need no typed methods)."""
    return type(f"{name}Client", (ContractClient,), {"CONTRACT": name})


def stock_code_parts(artifacts: CompileResult) -> tuple[bytes, bytes]:
    """CommonStock's creation code cut in two halves, the data of the two code-data contracts."""
    stock_code = bytes.fromhex(artifacts["CommonStock"].bytecode.removeprefix("0x"))
    half = (len(stock_code) + 1) // 2
    return stock_code[:half], stock_code[half:]


def _code_store_initcode(data: bytes) -> str:
    code = b"\x00" + data
    return "0x" + _CODE_STORE_PREFIX.format(size=len(code)) + code.hex()


def piece_is_current(chain: Chain, label: str, address: str, artifacts: CompileResult) -> bool:
    """True if ``address`` holds factory piece ``label`` as these artifacts build it: a code-data
    contract byte for byte, a contract by the length of its runtime code (immutables differ)."""
    code = bytes(chain.w3.eth.get_code(address))
    if not code:
        return False
    if label in ("StockCodeHead", "StockCodeTail"):
        return code == b"\x00" + stock_code_parts(artifacts)[label == "StockCodeTail"]
    expected = bytes.fromhex(artifacts[label].deployed_bytecode.removeprefix("0x"))
    return len(code) == len(expected)


def deploy_factory(chain: Chain, deployer: LocalAccount, artifacts: CompileResult | None = None,
                   existing: Mapping[str, str] | None = None,
                   on_deployed: Callable[[str, str, int], None] | None = None) -> FactoryDeployment:
    """Deploy a :class:`CommuneFactory` with its deployers and bond series implementation (seven
    transactions, once per chain; anyone may then create communes with it).

    ``existing`` maps pieces (:data:`FACTORY_PIECES`) already deployed by an earlier, interrupted
    run to their addresses; they are reused, not paid for again (the caller checks them with
    :func:`piece_is_current`). ``on_deployed(label, address, gas_used)`` is called as soon as each
    new piece is mined, so that the caller can record it before the next one is sent.
    """
    artifacts = artifacts or load_artifacts()
    existing = dict(existing or {})
    gas: dict[str, int] = {}
    deployed: dict[str, str] = {}

    def made(label: str, address: str, used: int) -> None:
        deployed[label] = address
        gas[label] = used
        if on_deployed is not None:
            on_deployed(label, address, used)

    for label, part in zip(("StockCodeHead", "StockCodeTail"), stock_code_parts(artifacts)):
        if label in existing:
            deployed[label] = existing[label]
        else:
            made(label, *deploy_code_store(chain, deployer, part, artifacts))
    for name in FACTORY_PIECES[2:]:
        if name in existing:
            deployed[name] = existing[name]
            continue
        args = ([deployed["StockCodeHead"], deployed["StockCodeTail"]] if name == "StockDeployer" else
                [deployed[n] for n in _FACTORY_ARGS] if name == "CommuneFactory" else [])
        client = _client_class(name).deploy(chain, deployer, *args, artifacts=artifacts)
        made(name, client.address, _gas(client.deploy_receipt))
    factory = deployed.pop("CommuneFactory")
    series = deployed.pop("BondSeries")
    return FactoryDeployment(factory, deployed, series, gas)


# ---------------------------------------------------------------- the plan of a deployment


@dataclass(frozen=True)
class PlannedTx:
    """One transaction a deployment would send, with its estimated gas and how it was estimated."""

    #: ``StockCodeHead`` ... ``CommuneFactory`` (the factory's pieces), ``TestStablecoin`` or
    #: ``CommuneFactory.create``.
    label: str
    #: ``create`` (a contract creation) or ``call``.
    kind: str
    #: The created contract's address (predicted from the sender's nonce) or the called contract's.
    address: str
    gas: int
    #: A key of :data:`ESTIMATED_BY`.
    estimated_by: str

    @property
    def how(self) -> str:
        return ESTIMATED_BY[self.estimated_by]


BY_NODE, BY_NODE_PREDICTED, BY_REHEARSAL = "eth_estimateGas", "eth_estimateGas+predicted", "rehearsal"
#: How a step's gas was estimated, in words.
ESTIMATED_BY = {
    BY_NODE: "eth_estimateGas on the network's node",
    BY_NODE_PREDICTED: "eth_estimateGas on the network's node, with the addresses of the pieces sent before it "
                       "predicted from the deployer's nonce",
    BY_REHEARSAL: "it needs contracts not yet deployed: the steps before it were run on a scratch embedded chain "
                  "(py-evm, the same EVM rules), then eth_estimateGas there",
}


def plan_deployment(chain: Chain, sender: str, params: CommuneParams, artifacts: CompileResult, *,
                    factory: str | None, token: str | None,
                    pieces: Mapping[str, str] | None = None) -> list[PlannedTx]:
    """The transactions a deployment from ``sender`` would send, in order, each with its gas
    estimated on ``chain`` by ``eth_estimateGas``; nothing is sent.

    Without ``factory`` the factory's pieces not in ``pieces`` (reused from an interrupted run) come
    first; without ``token`` a test stablecoin; then ``CommuneFactory.create``. A step that needs a
    contract not yet deployed (the stock deployer reads the code-data contracts, ``create`` needs
    the factory and the token) is estimated on a scratch embedded chain where the steps before it
    are run: the same EVM rules, another chain, so an estimate and not a promise.
    """
    w3 = chain.w3
    pieces = dict(pieces or {})
    nonce = w3.eth.get_transaction_count(sender, "pending")
    creates: list[str] = [] if factory else [p for p in FACTORY_PIECES if p not in pieces]
    if token is None:
        creates.append("TestStablecoin")
    at = {label: get_create_address(sender, nonce + i) for i, label in enumerate(creates)}
    known = {**pieces, **at}
    factory_at = factory or known["CommuneFactory"]
    rehearsal: dict[str, int] | None = None

    def rehearse() -> dict[str, int]:
        nonlocal rehearsal
        if rehearsal is None:
            rehearsal = _rehearse(params, artifacts)
        return rehearsal

    def node_estimate(label: str, tx: dict[str, Any]) -> int:
        try:
            return int(w3.eth.estimate_gas({"from": sender, **tx}))
        except Exception as exc:
            data = revert_data(exc)
            if data is None:
                raise
            decoder = ErrorDecoder([a.abi for a in artifacts.artifacts.values()])
            raise InputError(f"the node refuses the deployment's {label} step: {decoder.decode(data)}") from None

    def constructor(name: str, *args: Any) -> dict[str, Any]:
        art = artifacts[name]
        contract = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        return {"data": contract.constructor(*args).data_in_transaction}

    plan = []
    for label in creates:
        if label in ("StockCodeHead", "StockCodeTail"):
            part = stock_code_parts(artifacts)[label == "StockCodeTail"]
            gas, how = node_estimate(label, {"data": _code_store_initcode(part)}), BY_NODE
        elif label == "StockDeployer":
            if "StockCodeHead" in pieces and "StockCodeTail" in pieces:
                gas = node_estimate(label, constructor(label, pieces["StockCodeHead"], pieces["StockCodeTail"]))
                how = BY_NODE
            else:
                gas, how = rehearse()[label], BY_REHEARSAL
        elif label == "CommuneFactory":
            args = [known[n] for n in _FACTORY_ARGS]
            predicted = any(n in at for n in _FACTORY_ARGS)
            gas, how = node_estimate(label, constructor(label, *args)), BY_NODE_PREDICTED if predicted else BY_NODE
        else:
            gas, how = node_estimate(label, constructor(label)), BY_NODE
        plan.append(PlannedTx(label, "create", at[label], gas, how))
    if factory is not None and token is not None:
        config = _create_config(params, check_founders(params.founders), token)
        data = CommuneFactoryClient(chain, factory, artifacts).contract.encode_abi("create", args=[config])
        gas, how = node_estimate("CommuneFactory.create", {"to": factory, "data": data}), BY_NODE
    else:
        gas, how = rehearse()["CommuneFactory.create"], BY_REHEARSAL
    plan.append(PlannedTx("CommuneFactory.create", "call", factory_at, gas, how))
    return plan


def _rehearse(params: CommuneParams, artifacts: CompileResult) -> dict[str, int]:
    """Estimates of the steps that depend on earlier ones, on a scratch embedded chain where the
    earlier steps are run first (a test stablecoin stands in for the settlement token)."""
    from vcengine.chains import TesterChain

    scratch = TesterChain(accounts=1)
    try:
        deployer = scratch.accounts[0]
        made = deploy_factory(scratch, deployer, artifacts)
        token = TestStablecoinClient.deploy(scratch, deployer, artifacts=artifacts)
        stock_deployer = _client_class("StockDeployer")(scratch, made.deployers["StockDeployer"], artifacts)
        head, tail = stock_deployer.call("codeHead"), stock_deployer.call("codeTail")
        art = artifacts["StockDeployer"]
        constructor = scratch.w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(head, tail)
        factory = CommuneFactoryClient(scratch, made.factory, artifacts)
        create = factory.contract.functions.create(_create_config(params, check_founders(params.founders),
                                                                  token.address))
        return {"StockDeployer": int(constructor.estimate_gas({"from": deployer.address})),
                "CommuneFactory.create": int(create.estimate_gas({"from": deployer.address}))}
    finally:
        scratch.close()


def _create_config(params: CommuneParams, founders: list[str], token: str) -> tuple:
    """``CommuneFactory.Config`` of ``params``."""
    return (params.name, params.symbol, founders, params.labour_threshold, params.quorum_cap, token,
            (params.period_seconds, params.grace_seconds, params.sale_seconds, params.rate_cap_bps,
             params.liquidation_reserve_bps), params.eoa_only)


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
    tx = factory_client.transact("create", _create_config(params, founders, token.address), sender=sender)
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
