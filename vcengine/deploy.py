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

from vcengine.chains import Chain
from vcengine.client import InputError, TxResult, require_address, require_int
from vcengine.commune import CommuneClient
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.stock import CommonStockClient
from vcengine.token import BondSeriesClient, ERC20Client, TestStablecoinClient

DAY = 24 * 60 * 60


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
    #: Highest rate a bond bid may name, basis points per period (at most 4,095).
    rate_cap_bps: int = 1_000
    #: ERC-721 name and symbol of the membership share.
    name: str = "Venture Commune Share"
    symbol: str = "VCS"


@dataclass
class Deployment:
    """Clients of every contract of one commune, and the deployment transactions' gas."""

    chain: Chain
    params: CommuneParams
    commune: CommuneClient
    token: ERC20Client
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
            "SettlementToken": self.token.address,
            "BondSeriesImplementation": self.series_implementation,
            "CommonStock": self.stock.address,
        }


def deploy_commune(
    chain: Chain,
    deployer: LocalAccount,
    params: CommuneParams,
    token_address: str | None = None,
    artifacts: CompileResult | None = None,
) -> Deployment:
    """Deploy a commune. Without ``token_address`` a TestStablecoin is deployed (local chains only)."""
    artifacts = artifacts or load_artifacts()
    require_int(params.period_seconds, "period length (seconds)", 1)
    require_int(params.rate_cap_bps, "rate cap (basis points per period)", 0, 4_095)
    gas: dict[str, int] = {}

    if token_address is None:
        if not chain.is_local:
            raise InputError("a settlement token address is required on a public chain (e.g. a stablecoin)")
        token_client = TestStablecoinClient.deploy(chain, deployer, artifacts=artifacts)
        gas["TestStablecoin"] = _gas(token_client.deploy_receipt)
        token = ERC20Client(chain, token_client.address, artifacts)
    else:
        token = ERC20Client(chain, require_address(token_address, "settlement token"), artifacts)

    commune = CommuneClient.deploy(
        chain, deployer, founders=params.founders, labour_threshold=params.labour_threshold,
        quorum_cap=params.quorum_cap, name=params.name, symbol=params.symbol, artifacts=artifacts,
    )
    gas["Commune"] = _gas(commune.deploy_receipt)

    implementation = BondSeriesClient.deploy(chain, deployer, artifacts=artifacts)
    gas["BondSeries"] = _gas(implementation.deploy_receipt)

    stock = CommonStockClient.deploy(
        chain, deployer, commune.address, token.address, implementation.address,
        params.period_seconds, params.rate_cap_bps, artifacts=artifacts,
    )
    gas["CommonStock"] = _gas(stock.deploy_receipt)
    return Deployment(chain, params, commune, token, stock, implementation.address, gas)


def _gas(result: TxResult | None) -> int:
    return result.gas_used if result else 0
