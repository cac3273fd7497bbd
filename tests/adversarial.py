"""Shared helpers of the adversarial suite (tests/test_risk_*.py): one review finding per file.

Each risk module runs on its own embedded chain (`module_chain`), started a day ahead of the wall
clock so that every block is mined exactly one second after the one before (eth-tester mines the next
block at max(parent + 1, wall clock)). The module builds what it needs once, in module-scoped
fixtures that return a `World` (a deployment and a snapshot), and each test starts from
`world.reset()`, as tests/conftest.py snapshots the session chain.

Timing on the embedded chain: a transaction's `block.timestamp` is the latest block's plus one,
and the client's gas estimate (which raises ContractReverted before anything is sent) runs with
that same timestamp; `eth_call` views run at the latest block's. `at(chain, t)` makes the next
transaction run at exactly `t`.

Expected figures in the risk modules are worked out by hand in comments (or by the plain rule
written out here, `repays`), never read back from the contracts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vcengine.chains import TesterChain
from vcengine.client import ContractClient, ContractReverted
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.deploy import CommuneParams, Deployment, deploy_commune
from vcengine.stock import AssetState
from vcengine.token import ERC20Client

UNIT = 10**6  # every test token has 6 decimals
HOUR = 3_600
DAY = 24 * HOUR
PERIOD = 30 * DAY  # CommuneParams defaults
GRACE = 7 * DAY
SALE = 3 * DAY
MAX_UINT = 2**256 - 1
FUNDS = 1_000_000 * UNIT  # what `deploy` gives each of accounts[0..9]
BPS = 10_000


# ------------------------------------------------------------------ clients


_CLIENTS: dict[str, type[ERC20Client]] = {}


def client_class(name: str) -> type[ERC20Client]:
    """A client for any compiled contract (ERC-20 reads work on every token mock)."""
    if name not in _CLIENTS:
        _CLIENTS[name] = type(f"{name}Client", (ERC20Client,), {"CONTRACT": name, "__test__": False})
    return _CLIENTS[name]


def deploy_contract(chain, sender, name: str, *args: Any, artifacts: CompileResult | None = None) -> ERC20Client:
    return client_class(name).deploy(chain, sender, *args, artifacts=artifacts)


_ATTACHED: dict[tuple[int, str, str], ERC20Client] = {}


def attach(chain, name: str, address: str, artifacts: CompileResult | None = None) -> ERC20Client:
    """A client of contract `name` at `address` (cached: building a client decodes every ABI's errors)."""
    key = (id(chain), name, address)
    if key not in _ATTACHED:
        _ATTACHED[key] = client_class(name)(chain, address, artifacts)
    return _ATTACHED[key]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def module_chain() -> Iterator[TesterChain]:
    """A private embedded chain for one risk module, a day ahead of the wall clock."""
    from vcengine.deploy import chain_factory

    chain = TesterChain()
    chain.advance_time(DAY)
    chain_factory(chain, chain.accounts[0], load_artifacts())  # the code every commune clones, once
    yield chain
    for key in [k for k in _ATTACHED if k[0] == id(chain)]:
        del _ATTACHED[key]  # the cached clients would keep the chain alive
    chain.close()


@pytest.fixture(scope="module")
def arts() -> CompileResult:
    return load_artifacts()


class World:
    """A state a module's tests start from: a deployment, named values, and the snapshot it was taken at.

    `reset()` returns the chain to that snapshot (any number of worlds of one chain can coexist: an
    eth-tester snapshot is a block hash, and reverting to it re-imports that block), so each test
    starts from exactly the state its fixture built, whatever ran before."""

    def __init__(self, d: Deployment, **values: Any):
        self.d = d
        self.chain = d.chain
        self.__dict__.update(values)
        self.snap = d.chain.snapshot()

    def reset(self) -> World:
        self.chain.revert(self.snap)
        return self


# ---------------------------------------------------------------- deployments


def deploy(
    chain,
    artifacts: CompileResult,
    token: str | None = None,
    token_args: tuple = (),
    founders: int = 3,
    fund: int = 10,
    **params: Any,
) -> Deployment:
    """A commune of founders accounts[0..founders-1] on settlement token `token` (a mock's contract name;
    TestStablecoin when None). accounts[0..fund-1] get FUNDS each and approve the stock and the treasury
    without limit, so no test transaction needs an approval (which would mine a block). accounts[10] is
    the vendor (never a member). `d.tok` is a client of the token's own contract."""
    deployer = chain.accounts[0]
    address = None
    if token is not None:
        address = deploy_contract(chain, deployer, token, *token_args, artifacts=artifacts).address
    p = CommuneParams(founders=[a.address for a in chain.accounts[:founders]], **params)
    d = deploy_commune(chain, deployer, p, token_address=address, artifacts=artifacts)
    d.tok = attach(chain, token or "TestStablecoin", d.token.address, artifacts)
    for acct in chain.accounts[:fund]:
        d.tok.transact("faucet", acct.address, FUNDS, sender=acct)
        d.tok.transact("approve", d.stock.address, MAX_UINT, sender=acct)
        d.tok.transact("approve", d.treasury.address, MAX_UINT, sender=acct)
    return d


def vendor(d) -> str:
    return d.chain.accounts[10].address


def request(d, renter, price: int, rent: int, periods: int, closes_in: int = HOUR) -> int:
    """A request whose auction closes `closes_in` seconds after the request's own block."""
    closes = d.chain.now() + 1 + closes_in
    return d.stock.request_asset("ipfs://asset", price, vendor(d), rent, periods, closes, sender=renter,
                                 approve=False).asset_id


def finance(d, renter, lenders, price: int = 1_000 * UNIT, rent: int = 300 * UNIT, periods: int = 4,
            rate: int = 200, claim: bool = True) -> int:
    """Request an asset for `renter`, have `lenders` buy the whole series at `rate` in equal parts (the
    last takes the remainder), settle (the first period is paid from the requester's escrow) and claim."""
    stock = d.stock
    asset_id = request(d, renter, price, rent, periods)
    split = [price // len(lenders)] * len(lenders)
    split[-1] += price - sum(split)
    bids = [(lender, stock.bid(asset_id, amount, rate, sender=lender, approve=False).bid_id)
            for lender, amount in zip(lenders, split)]
    closes = stock.asset(asset_id).auction_closes_at
    at(d.chain, closes)
    assert stock.settle(asset_id, sender=renter).cleared
    if claim:
        for lender, bid_id in bids:
            stock.claim(bid_id, sender=lender)
    return asset_id


def to_rental_auction(d, asset_id: int, renter) -> int:
    """Return the asset; its rental auction opens. Returns the auction's closing time."""
    d.stock.return_asset(asset_id, sender=renter)
    assert d.stock.asset(asset_id).state == AssetState.RENTAL_AUCTION
    return d.stock.sale(asset_id).closes_at


def to_liquidation(d, asset_id: int, renter) -> int:
    """Return the asset and let its rental auction close without a bid. Returns the sale's close."""
    closes = to_rental_auction(d, asset_id, renter)
    at(d.chain, closes)
    assert d.stock.settle_rental(asset_id, sender=d.chain.accounts[9]) is False
    assert d.stock.asset(asset_id).state == AssetState.LIQUIDATION
    return d.stock.sale(asset_id).closes_at


# ---------------------------------------------------------------------- time


def at(chain, t: int) -> None:
    """Make the next transaction (and the gas estimate before it) run at block time exactly `t`."""
    latest = chain.now()
    assert t > latest, f"cannot go back in time: {t} <= latest block {latest}"
    if t > latest + 1:
        chain.tester.time_travel(t)  # leaves the latest block at t - 1
    assert chain.now() == t - 1


def block_time(chain, tx) -> int:
    return int(chain.w3.eth.get_block(tx.block_number)["timestamp"])


# -------------------------------------------------------------------- errors


def expect_revert(action: Callable[[], Any], error: str, /, exact: bool = True, **args: Any) -> ContractReverted:
    """`action` reverts with custom error `error`; with `exact` its arguments are exactly `args`."""
    with pytest.raises(ContractReverted) as info:
        action()
    assert info.value.name == error, str(info.value)
    if exact:
        assert info.value.args_dict == args, str(info.value)
    else:
        for key, value in args.items():
            assert info.value.args_dict[key] == value, str(info.value)
    return info.value


def decode_error(client: ContractClient, data: bytes) -> tuple[str, dict]:
    decoded = client.errors.decode(bytes(data))
    return decoded.name, decoded.args


# -------------------------------------------------------------------- money


def repays(principal: int, rate_bps: int, rent: int, periods: int) -> bool:
    """The published amortisation rule: interest ceil(B * r / 10_000) first, then principal, each period."""
    balance = principal
    for _ in range(periods):
        if balance == 0:
            break
        due = -(-balance * rate_bps // BPS)
        if rent <= due:
            return False
        balance = max(0, balance - (rent - due))
    return balance == 0


def least_repaying_rent(principal: int, rate_bps: int, periods: int) -> int:
    """The least rent that `repays` (bisection on the rule above, which is monotone in the rent)."""
    low, high = 0, principal + -(-principal * rate_bps // BPS)  # high repays in one period
    while high - low > 1:
        mid = (low + high) // 2
        if repays(principal, rate_bps, mid, periods):
            high = mid
        else:
            low = mid
    return high


def periods_left(term: int, start: int, closes: int) -> int:
    """The series' schedule left at a rental auction's close: the request's `term` periods from the
    settlement at `start`, less the periods fully elapsed by `closes`, at least 1."""
    return max(term - (closes - start) // PERIOD, 1)


def series_of(d, asset_id: int) -> ERC20Client:
    return attach(d.chain, "BondSeries", d.stock.asset(asset_id).series, d.commune.artifacts)


def assert_books_exact(d, extra: tuple[str, ...] = ()) -> None:
    """P5: every contract of the commune holds exactly what it owes, to the base unit.

    CommonStock: escrowHeld + creditsHeld. Each BondSeries: totalPaid - totalWithdrawn. Treasury:
    owedTokens = totalIncome - totalClaimed, which is every account's released claim + carry +
    scheduledIncome (claimable() of a member also previews its share of the pending release). Commune:
    nothing."""
    stock, treasury, token = d.stock, d.treasury, d.token
    assert token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held()
    for asset_id in range(1, stock.asset_count() + 1):
        address = stock.call("assetInfo", asset_id)[10]
        if int(address, 16):
            s = attach(d.chain, "BondSeries", address, d.commune.artifacts)
            assert token.balance_of(address) == s.call("totalPaid") - s.call("totalWithdrawn")
    owed = treasury.owed_tokens()
    assert token.balance_of(treasury.address) == owed
    # Only accounts[0..11] (and `extra`) ever act in this suite; claimable() of everyone else is zero.
    accounts = [a.address for a in d.chain.accounts[:12]] + list(extra)
    pending = treasury.call("pendingIncome")
    released = sum(treasury.claimable(a) for a in accounts)
    if pending:  # a member's claimable() previews its share of the pending release: take it off
        preview = (pending + treasury.carry()) // d.commune.member_count()
        released -= preview * sum(1 for a in accounts if d.commune.is_member(a))
    assert released + treasury.carry() + treasury.scheduled_income() == owed
    assert token.balance_of(d.commune.address) == 0
