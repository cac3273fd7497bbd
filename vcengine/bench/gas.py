"""Gas of every user-facing operation in a commune of ``n`` members, ``n`` bids and ``n`` bondholders.

One scenario, the same order of transactions at every size, on a fresh chain:

1. On the fresh chain the code every commune clones is deployed once (the one-off cost per
   chain, reported apart: the stock's modules, the implementations, the factory); then a
   three-founder commune is created (the measured ``create``: one ``CommuneFactory.create`` that
   makes and initialises its membership, treasury and common stock clones; the settlement token
   is not part of a commune).
2. The population commune: ``n`` members, of which four are signing accounts and the rest
   synthetic addresses named as founders at creation (one ``create`` call; founders hold
   ordinary shares and every division of income counts them). A creation transaction's data is
   capped at 49,152 bytes (EIP-3860), which holds about 1,000 founders; beyond
   :data:`FOUNDER_LIMIT` the rest join by labour through ``mocks/MemberFarm``: in one transaction
   it creates worker contracts (EIP-1167 clones) that each submit labour, get it attested by the
   farm's three attesters (founders) and call ``join``, the ordinary path of every member.
3. Asset financing: ``n`` bids in the bond auction, ``n - 3`` placed by ``mocks/BidBatcher`` (100
   real ``CommonStock.bid`` calls a transaction, the batcher being the bidder of record) and three
   by ordinary accounts; the book has the same shape at every size (clearing rate 5.00%, half of its
   tick filled; see :func:`book`).
4. ``n`` bondholders: the winning lender's bonds are spread, one base unit each, to ``n - 2``
   synthetic addresses by ``mocks/TokenSpreader`` (ordinary ERC-20 ``transferFrom`` calls).
5. Every measured operation is then an ordinary transaction from an ordinary account, through
   the engine's clients, in a steady state: counters that a first use would move from zero are
   warmed first, identically at every size (a zero-to-non-zero store costs 22,100 gas, a change
   5,000).

Every funded account approves the common stock and the treasury for the maximum amount once, so
operations measure themselves and not allowance book-keeping (OpenZeppelin skips the allowance
update for an infinite approval).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from web3 import Web3

from vcengine.bench.floors import FLOORS, TxFacts, compute_floor, event_names
from vcengine.chains import Chain
from vcengine.client import ContractClient, TxResult
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.deploy import DAY, FACTORY_PIECES, CommuneParams, chain_factory, create_commune, deploy_commune

UNIT = 10**6
UINT256_MAX = 2**256 - 1
#: Bids a BidBatcher transaction places, and holders a TokenSpreader transaction pays.
BID_CHUNK = 100
HOLDER_CHUNK = 250
CLEARING_BPS = 500
#: Most founders named at deployment; larger populations join by labour through MemberFarm.
FOUNDER_LIMIT = 1_000
#: Members a MemberFarm transaction admits (about 500,000 gas each).
FARM_CHUNK = 100
#: Smallest population the scenario can build (four signing members plus synthetic ones).
MIN_SIZE = 6

#: Every operation measured, in the order of the report. The first name of each group is the one
#: the issue lists; variants show the other paths of the same function.
OPERATIONS = [
    "create (3 founders)", "submitLabour", "attest", "attest (counting)", "join", "leave", "requestAsset",
    "bid", "settle", "claim (filled)", "claim (pro rata)", "claim (refund)", "withdraw (vendor)", "payRent",
    "depositIncome", "claimPayout", "withdrawPayments (bondholder)", "bond transfer", "returnAsset",
    "bidRent (first)", "bidRent (outbid)", "settleRental", "reclaim (default)", "settleRental (to liquidation)",
    "bidLiquidation", "settleLiquidation", "reference: OZ ERC-721 mint", "reference: OZ ERC-20 transfer",
]


class BatcherClient(ContractClient):
    CONTRACT = "BidBatcher"


class SpreaderClient(ContractClient):
    CONTRACT = "TokenSpreader"


class FarmClient(ContractClient):
    CONTRACT = "MemberFarm"


class ReferenceNftClient(ContractClient):
    CONTRACT = "ReferenceERC721"


@dataclass(frozen=True)
class Measured:
    """One operation at one size: gas from the receipts, and its floor from the same transactions."""

    name: str
    gas: int
    floor: int
    floor_parts: dict[str, int]
    tx_hashes: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.gas / self.floor

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "gas": self.gas, "floor": self.floor, "ratio": round(self.ratio, 3),
                "floor_parts": self.floor_parts, "why": FLOORS[self.name].why}


def synthetic(n: int, base: int) -> list[str]:
    """``n`` distinct addresses that never sign anything (the rest of a population)."""
    return [Web3.to_checksum_address("0x%040x" % (base + i)) for i in range(n)]


def book(m: int) -> tuple[list[tuple[int, int]], int]:
    """``m`` batcher bids (amount, rate) and the price that makes 500 bps the clearing rate.

    Half of the bids lie below 5.00%, one at 5.00% and the rest above, up to 10%. With the three
    ordinary bids of the scenario (1,000 at 0.10%, 1,000 at 5.00%, 1,000 at 5.01%) the clearing tick
    holds 2,000 of which 1,000 is needed: half filled, at every size.
    """
    low = (m - 1) // 2
    high = m - 1 - low
    bids = [(1_000 * UNIT, (i * 997) % CLEARING_BPS) for i in range(low)]
    bids += [(1_000 * UNIT, CLEARING_BPS)]
    bids += [(1_000 * UNIT, CLEARING_BPS + 1 + (i * 991) % (1_000 - CLEARING_BPS)) for i in range(high)]
    price = (low + 1) * 1_000 * UNIT + 1_000 * UNIT
    return bids, price


def tx_facts(chain: Chain, tx_hash: str, topics: dict[bytes, str], inner_creates: tuple[int, ...] = ()) -> TxFacts:
    """What :func:`compute_floor` needs from a mined transaction."""
    w3 = chain.w3
    tx = w3.eth.get_transaction(tx_hash)
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    logs = tuple((topics.get(bytes(log["topics"][0])) if log["topics"] else None, len(log["topics"]), len(log["data"]))
                 for log in receipt["logs"])
    created = None
    if receipt.get("contractAddress"):
        created = len(w3.eth.get_code(receipt["contractAddress"]))
    return TxFacts(bytes(tx["input"]), logs, created, inner_creates)


#: Deployed code of one of a commune's clones: the EIP-1167 proxy (45 bytes) and CommuneArgs (154).
CLONE_CODE = 45 + 154


def measure(chain: Chain, n: int, artifacts: CompileResult | None = None,
            progress: Callable[[str], None] | None = None,
            one_off: dict[str, int] | None = None) -> dict[str, Measured]:
    """Run the scenario with ``n`` members, bids and bondholders on a fresh chain; returns every
    operation's measurement. ``one_off``, when given, receives the gas of each piece deployed once
    per chain (:data:`vcengine.deploy.FACTORY_PIECES`)."""
    if n < MIN_SIZE:
        raise ValueError(f"the scenario needs at least {MIN_SIZE} members, bids and holders, got {n}")
    artifacts = artifacts or load_artifacts()
    say = progress or (lambda _msg: None)
    topics = event_names(a.abi for a in artifacts.artifacts.values())
    a = chain.accounts
    (deployer, renter, claimant, third, warm, worker, worker2, lender, margin_lender, high_lender, holder2, keeper,
     buyer, vendor) = a[:14]
    txs: dict[str, list[str]] = {}
    inner: dict[str, tuple[int, ...]] = {}

    def take(name: str, result: Any) -> Any:
        tx: TxResult = result if isinstance(result, TxResult) else result.tx
        txs[name] = [tx.tx_hash]
        return result

    # 1. The code every commune clones (once per chain), then the measured creation: a three-founder
    # commune (its settlement token deployed apart).
    say(f"n={n}: deploying")
    token_client = deploy_commune(chain, deployer, CommuneParams(founders=[deployer.address]), artifacts=artifacts)
    if one_off is not None:
        one_off.update({k: v for k, v in token_client.gas.items() if k in FACTORY_PIECES})
        assert set(one_off) == set(FACTORY_PIECES), "the chain was not fresh: the pieces were already deployed"
    factory = chain_factory(chain, deployer, artifacts).factory
    small, created = create_commune(chain, deployer, CommuneParams(founders=[renter.address, claimant.address,
                                                                             third.address]),
                                    factory, token_client.token.address, artifacts)
    txs["create (3 founders)"] = [created.tx_hash]
    inner["create (3 founders)"] = (CLONE_CODE,) * 3
    assert small.commune.member_count() == 3

    # 2. The population: n members, four of them signing accounts.
    say(f"n={n}: {n} members")
    founders = [renter.address, claimant.address, third.address, warm.address]
    farm = None
    if n > FOUNDER_LIMIT:
        farm = FarmClient.deploy(chain, deployer, 3, artifacts=artifacts)
        founders += [farm.call("attesters", i) for i in range(3)]
    founders += synthetic(min(n, FOUNDER_LIMIT) - len(founders), 0x10_0000)
    d = deploy_commune(chain, deployer, CommuneParams(founders=founders, quorum_cap=3), artifacts=artifacts)
    commune, stock, treasury, token = d.commune, d.stock, d.treasury, d.test_token
    while farm is not None and commune.member_count() < n:
        count = min(FARM_CHUNK, n - commune.member_count())
        farm.transact("grow", commune.address, count, sender=deployer, gas=count * 600_000 + 1_000_000)
    assert commune.member_count() == n
    funded = (renter, claimant, third, warm, lender, margin_lender, high_lender, holder2, buyer)
    for acct in funded:
        for _ in range(max(1, n // 5_000 + 1)):  # the faucet mints at most 1e9 tokens a call
            token.faucet(acct.address, 10**15, sender=acct)
        token.approve(stock.address, UINT256_MAX, sender=acct)
        token.approve(treasury.address, UINT256_MAX, sender=acct)

    # 3. The bond auction with n bids.
    say(f"n={n}: {n} bids")
    warm_asset = stock.request_asset("ipfs://warm-up", UNIT, vendor.address, UNIT, 12, chain.now() + DAY,
                                     sender=warm).asset_id
    bids, price = book(n - 3)
    asset = take("requestAsset", stock.request_asset("ipfs://bafy-bench-asset", price, vendor.address, price // 4, 12,
                                                     chain.now() + DAY, sender=renter)).asset_id
    assert asset == warm_asset + 1
    batcher = BatcherClient.deploy(chain, deployer, artifacts=artifacts)
    for _ in range(max(1, (n * 1_000 * UNIT) // 10**15 + 1)):
        token.faucet(deployer.address, 10**15, sender=deployer)
    token.approve(batcher.address, UINT256_MAX, sender=deployer)
    for start in range(0, len(bids), BID_CHUNK):
        chunk = bids[start:start + BID_CHUNK]
        batcher.transact("placeBids", stock.address, asset, [x for x, _ in chunk], [r for _, r in chunk],
                         sender=deployer, gas=25_000_000)
    low_bid = stock.bid(asset, 1_000 * UNIT, 10, sender=lender, approve=False)
    margin_bid = stock.bid(asset, 1_000 * UNIT, CLEARING_BPS, sender=margin_lender, approve=False)
    high_bid = take("bid", stock.bid(asset, 1_000 * UNIT, CLEARING_BPS + 1, sender=high_lender, approve=False))
    assert stock.bid_count() == n
    chain.advance_time(DAY)
    settled = take("settle", stock.settle(asset, sender=keeper))
    assert settled.cleared and settled.clearing_rate_bps == CLEARING_BPS, settled
    inner["settle"] = (len(chain.w3.eth.get_code(settled.series)),)
    take("claim (filled)", stock.claim(low_bid.bid_id, sender=lender))
    assert 0 < take("claim (pro rata)", stock.claim(margin_bid.bid_id, sender=margin_lender)).bonds < 1_000 * UNIT
    assert take("claim (refund)", stock.claim(high_bid.bid_id, sender=high_lender)).refund == 1_000 * UNIT
    take("withdraw (vendor)", stock.withdraw(sender=vendor))

    # 4. n bondholders, after the first period's payment at settlement (each transfer leaves its
    # share of that payment with the sender: every holder carries a payment correction).
    say(f"n={n}: {n} bondholders")
    series = stock.series(asset)
    series.transfer(holder2.address, 10 * UNIT, sender=lender)
    spreader = SpreaderClient.deploy(chain, lender, artifacts=artifacts)
    series.approve(spreader.address, UINT256_MAX, sender=lender)
    others = synthetic(n - 2, 0x20_0000)
    for start in range(0, len(others), HOLDER_CHUNK):
        spreader.transact("spread", series.address, others[start:start + HOLDER_CHUNK], 1, sender=lender,
                          gas=25_000_000)

    # 5. Rent, income, payouts and bond payments.
    say(f"n={n}: measuring")
    stock.pay_rent(asset, 1, sender=renter, approve=False)  # the series' balance and the renter's total leave zero
    rent = take("payRent", stock.pay_rent(asset, 1, sender=renter, approve=False))
    assert rent.to_bonds == rent.amount and not rent.redeemed
    # The carried remainder stays 1 before and after the measured deposit, at every size.
    treasury.deposit_income(n * 1_000 + 1 - treasury.carry(), sender=buyer)
    take("depositIncome", treasury.deposit_income(n * 1_000, sender=buyer))
    assert treasury.carry() == 1
    take("claimPayout", treasury.claim_payout(sender=claimant))
    take("withdrawPayments (bondholder)", series.withdraw_payments(sender=lender))
    take("bond transfer", series.transfer(holder2.address, UNIT, sender=lender))
    take("reference: OZ ERC-20 transfer", token.transfer(holder2.address, UNIT, sender=buyer))

    # 6. Labour and membership (after income, so a new member's checkpoint is non-zero).
    commune.submit_labour(1, "ipfs://warm-up", sender=worker2)  # the claim count leaves zero (if farmed: already)
    submitted = take("submitLabour", commune.submit_labour(10, "ipfs://bafy-measured-timesheet", sender=worker))
    take("attest", commune.attest(submitted.claim_id, sender=renter))
    commune.attest(submitted.claim_id, sender=claimant)
    assert take("attest (counting)", commune.attest(submitted.claim_id, sender=third)).counted
    take("join", commune.join(sender=worker))
    take("leave", commune.leave(sender=worker))
    nft = ReferenceNftClient.deploy(chain, deployer, artifacts=artifacts)
    take("reference: OZ ERC-721 mint", nft.transact("mint", worker.address, 1, sender=deployer))

    # 7. Return, rental auction, default, liquidation.
    take("returnAsset", stock.return_asset(asset, sender=renter))
    take("bidRent (first)", stock.bid_rent(asset, price // 4, 6, sender=claimant, approve=False))
    take("bidRent (outbid)", stock.bid_rent(asset, price // 4 + UNIT, 6, sender=third, approve=False))
    chain.advance_time(d.params.sale_seconds)
    txs["settleRental"] = [stock.transact("settleRental", asset, sender=keeper).tx_hash]
    chain.advance_time(stock.reclaimable_at(asset)[0] - chain.now())
    take("reclaim (default)", stock.reclaim(asset, sender=keeper))
    chain.advance_time(d.params.sale_seconds)
    txs["settleRental (to liquidation)"] = [stock.transact("settleRental", asset, sender=keeper).tx_hash]
    take("bidLiquidation", stock.bid_liquidation(asset, 2 * price, sender=buyer, approve=False))
    chain.advance_time(d.params.sale_seconds)
    sold = take("settleLiquidation", stock.settle_liquidation(asset, sender=keeper))
    assert sold.sold and sold.to_bonds > 0 and sold.to_members > 0

    assert series.balance_of(others[-1]) == 1 and commune.member_count() == n and stock.bid_count() == n
    assert set(txs) == set(OPERATIONS), set(OPERATIONS) ^ set(txs)
    results = {}
    for name in OPERATIONS:
        facts = [tx_facts(chain, h, topics, inner.get(name, ())) for h in txs[name]]
        floor = compute_floor(FLOORS[name], facts)
        gas = sum(chain.w3.eth.get_transaction_receipt(h)["gasUsed"] for h in txs[name])
        results[name] = Measured(name, gas, floor.total, floor.parts, tuple(txs[name]))
    return results
