"""Deploy a complete commune: settlement token (on local chains), the code every commune clones
(once per chain), then the commune's membership, treasury and common stock as clones.

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
from vcengine.client import ContractClient, ErrorDecoder, InputError, TxResult, require_address, require_int, revert_data
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
    """Create a commune on ``chain``. Without ``token_address`` a TestStablecoin is deployed (local
    chains only).

    The code of every contract is deployed once per chain (:func:`chain_factory`: the stock's
    modules, the implementations and the factory, reused by every later call on the same chain);
    the commune itself is one ``CommuneFactory.create`` transaction that makes its membership
    contract, treasury and common stock as clones wired to each other. ``gas`` holds what this call
    paid: the token, the one-off pieces if it deployed them, and ``CommuneFactory.create``.
    """
    artifacts = artifacts or load_artifacts()
    check_params(params)
    check_founders(params.founders)
    gas: dict[str, int] = {}

    if token_address is None:
        if not chain.is_local:
            raise InputError("a settlement token address is required on a public chain (e.g. a stablecoin)")
        token_client = TestStablecoinClient.deploy(chain, deployer, artifacts=artifacts)
        gas["TestStablecoin"] = _gas(token_client.deploy_receipt)
        token_address = token_client.address
    made = chain_factory(chain, deployer, artifacts)
    gas.update(made.gas)
    deployment, _tx = create_commune(chain, deployer, params, made.factory, token_address, artifacts)
    deployment.gas = {**gas, **deployment.gas}
    return deployment


class CommuneFactoryClient(ContractClient):
    """``CommuneFactory``: a complete commune (membership, treasury, common stock) in one transaction."""

    CONTRACT = "CommuneFactory"

    def series_implementation(self) -> str:
        return self.call("seriesImplementation")

    def predict(self) -> tuple[str, str, str]:
        """Addresses the next ``create`` gives the commune, its treasury and its common stock."""
        return tuple(self.call("predict"))  # type: ignore[return-value]

    def implementations(self) -> dict[str, str]:
        """The implementations its communes clone, by contract name."""
        return {"Commune": self.call("communeImplementation"), "Treasury": self.call("treasuryImplementation"),
                "CommonStock": self.call("stockImplementation"), "BondSeries": self.call("seriesImplementation")}


@dataclass(frozen=True)
class FactoryDeployment:
    """A factory and the code it clones (the stock's modules and the implementations), with their gas."""

    factory: str
    #: Every piece but the factory and the bond series implementation, by contract name.
    implementations: dict[str, str]
    series_implementation: str
    #: Gas used by the pieces deployed by this call (a piece reused from ``existing`` has none).
    gas: dict[str, int]

    @property
    def pieces(self) -> dict[str, str]:
        """Every piece by name, the factory included."""
        return {**self.implementations, "BondSeries": self.series_implementation, "CommuneFactory": self.factory}


#: The contracts deployed once per chain, in order: the common stock's three modules, the
#: implementations every commune clones, then the factory.
FACTORY_PIECES = ("BondAuction", "RentalMarket", "Liquidation", "CommonStock", "Commune", "Treasury", "BondSeries",
                  "CommuneFactory")
#: The pieces whose constructors take other pieces, in their parameters' order.
PIECE_ARGS: dict[str, tuple[str, ...]] = {
    "CommonStock": ("BondAuction", "RentalMarket", "Liquidation"),
    "CommuneFactory": ("Commune", "Treasury", "CommonStock", "BondSeries"),
}


#: EIP-1167: a minimal proxy's runtime code is these 10 bytes, the implementation's 20, then these 15.
PROXY_HEAD = bytes.fromhex("363d3d373d3d3d363d73")
PROXY_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")


def commune_args(*, factory: str, commune: str, treasury: str, stock: str, token: str, series: str, governance: str,
                 grid_origin: int, period: int, decimals: int, eoa_only: bool) -> bytes:
    """The immutable arguments of a commune's clones, as ``CommuneArgs.encode`` packs them (154 bytes)."""
    out = b"".join(bytes.fromhex(a.removeprefix("0x")) for a in
                   (factory, commune, treasury, stock, token, series, governance))
    return out + grid_origin.to_bytes(8, "big") + period.to_bytes(4, "big") + bytes([decimals, int(eoa_only)])


def clone_code(implementation: str, args: bytes = b"") -> bytes:
    """The runtime code of an EIP-1167 clone of ``implementation`` with immutable ``args``."""
    return PROXY_HEAD + bytes.fromhex(implementation.removeprefix("0x")) + PROXY_TAIL + args


def _client_class(name: str) -> type[ContractClient]:
    """A plain client class for contract ``name`` (pieces need no typed methods)."""
    return type(f"{name}Client", (ContractClient,), {"CONTRACT": name})


def piece_is_current(chain: Chain, label: str, address: str, artifacts: CompileResult) -> bool:
    """True if ``address`` holds factory piece ``label`` as these artifacts build it: its runtime
    code byte for byte, the bytes of its immutables excepted (their values are the pieces it names)."""
    code = bytes(chain.w3.eth.get_code(address))
    art = artifacts[label]
    expected = bytes.fromhex(art.deployed_bytecode.removeprefix("0x"))
    if len(code) != len(expected):
        return False
    masked = bytearray(code)
    for refs in art.immutable_references.values():
        for ref in refs:
            start, length = int(ref["start"]), int(ref["length"])
            masked[start:start + length] = expected[start:start + length]
    return bytes(masked) == expected


def deploy_factory(chain: Chain, deployer: LocalAccount, artifacts: CompileResult | None = None,
                   existing: Mapping[str, str] | None = None,
                   on_deployed: Callable[[str, str, int], None] | None = None) -> FactoryDeployment:
    """Deploy a :class:`CommuneFactory` with the code it clones (:data:`FACTORY_PIECES`: eight
    transactions, once per chain; anyone may then create communes with it).

    ``existing`` maps pieces already deployed by an earlier, interrupted run to their addresses;
    they are reused, not paid for again (the caller checks them with :func:`piece_is_current`).
    ``on_deployed(label, address, gas_used)`` is called as soon as each new piece is mined, so that
    the caller can record it before the next one is sent.
    """
    artifacts = artifacts or load_artifacts()
    existing = dict(existing or {})
    gas: dict[str, int] = {}
    deployed: dict[str, str] = {}
    for name in FACTORY_PIECES:
        if name in existing:
            deployed[name] = existing[name]
            continue
        args = [deployed[n] for n in PIECE_ARGS.get(name, ())]
        client = _client_class(name).deploy(chain, deployer, *args, artifacts=artifacts)
        deployed[name] = client.address
        gas[name] = _gas(client.deploy_receipt)
        if on_deployed is not None:
            on_deployed(name, client.address, gas[name])
    factory = deployed.pop("CommuneFactory")
    series = deployed.pop("BondSeries")
    return FactoryDeployment(factory, deployed, series, gas)


def chain_factory(chain: Chain, deployer: LocalAccount, artifacts: CompileResult) -> FactoryDeployment:
    """The factory of these artifacts on ``chain``: the one this process deployed there before (if
    its code is still there: a reverted snapshot removes it), else a new one from ``deployer``
    (its ``gas`` then says what the pieces cost; a reused factory reports none)."""
    cache: dict[str, FactoryDeployment] = chain.__dict__.setdefault("_vc_factories", {})
    known = cache.get(artifacts.key)
    if known is not None and chain.w3.eth.get_code(known.factory):
        return FactoryDeployment(known.factory, known.implementations, known.series_implementation, {})
    made = deploy_factory(chain, deployer, artifacts)
    cache[artifacts.key] = made
    return made


# ---------------------------------------------------------------- the plan of a deployment


@dataclass(frozen=True)
class PlannedTx:
    """One transaction a deployment would send, with its estimated gas and how it was estimated."""

    #: ``BondAuction`` ... ``CommuneFactory`` (the factory's pieces), ``TestStablecoin`` or
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


BY_NODE, BY_REHEARSAL = "eth_estimateGas", "rehearsal"
#: How a step's gas was estimated, in words.
ESTIMATED_BY = {
    BY_NODE: "eth_estimateGas on the network's node",
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
    contract not yet deployed (the common stock's implementation names its modules, the factory the
    implementations, ``create`` needs the factory and the token) is estimated on a scratch embedded
    chain where the steps before it are run: the same EVM rules, another chain, so an estimate and
    not a promise.
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
        needs = PIECE_ARGS.get(label, ())
        if any(n in at for n in needs):
            # Its constructor checks that the pieces it names have code: they are not deployed yet.
            gas, how = rehearse()[label], BY_REHEARSAL
        else:
            gas, how = node_estimate(label, constructor(label, *[known[n] for n in needs])), BY_NODE
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
    earlier steps are run first (a test stablecoin stands in for the settlement token): each
    piece's constructor, then ``CommuneFactory.create``."""
    from vcengine.chains import TesterChain

    scratch = TesterChain(accounts=1)
    try:
        deployer = scratch.accounts[0]
        estimates: dict[str, int] = {}
        deployed: dict[str, str] = {}
        for name in FACTORY_PIECES:
            art = artifacts[name]
            args = [deployed[n] for n in PIECE_ARGS.get(name, ())]
            constructor = scratch.w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(*args)
            estimates[name] = int(constructor.estimate_gas({"from": deployer.address}))
            deployed[name] = _client_class(name).deploy(scratch, deployer, *args, artifacts=artifacts).address
        token = TestStablecoinClient.deploy(scratch, deployer, artifacts=artifacts)
        factory = CommuneFactoryClient(scratch, deployed["CommuneFactory"], artifacts)
        create = factory.contract.functions.create(_create_config(params, check_founders(params.founders),
                                                                  token.address))
        estimates["CommuneFactory.create"] = int(create.estimate_gas({"from": deployer.address}))
        return estimates
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
    require_int(params.grace_seconds, "grace period (seconds)", 1, MAX_DURATION_SECONDS)
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
