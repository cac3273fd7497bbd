"""Transactions per second of one scripted member workload, on the embedded chain and on anvil.

The workload (fixed, the same on every chain): a commune of :data:`MEMBERS` members owns an asset
whose bonds are already redeemed, rented by one member. Each round is four transactions:

    a worker submits labour  ->  a member attests it (quorum 1: it counts)
    the renter pays one period of rent (member income)  ->  a member claims their payout

Every transaction goes the way the engine's clients send one (``vcengine.client._send``): ABI-encode
the call, estimate its gas (``eth_estimateGas``), read the latest block for the fee, read the
signer's balance (the ETH-for-gas check), sign locally (eth-account), send raw (``eth_sendRawTransaction``; both chains mine it at once) and read the
receipt. Each step is timed, and the time is attributed as follows:

* **encoding**: building the calldata and the transaction dict (web3's ABI encoder), in Python;
* **signing**: ``LocalAccount.sign_transaction`` (secp256k1 and RLP), in Python;
* **EVM and chain**: on the embedded chain, the time spent inside the py-evm backend's methods
  (running the estimate, applying the transaction, mining its block and building the receipt),
  measured by wrapping those methods; on anvil, each RPC step's time minus one round trip;
* **transport**: the rest of each RPC step. On the embedded chain that is web3's request
  machinery and eth-tester's validation and normalisation, in process; on anvil, one HTTP round
  trip per call, measured beforehand as the median of ``eth_blockNumber`` calls (the cheapest
  request), so web3's formatting of larger responses (receipts, blocks) counts as node time.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from vcengine.chains import Chain, TesterChain
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.deploy import DAY, CommuneParams, deploy_commune

UNIT = 10**6
MEMBERS = 8
TIP = 10**9
STEPS = ("encode", "estimate", "fees", "funds", "sign", "send", "receipt")
RPC_STEPS = ("estimate", "fees", "funds", "send", "receipt")


@dataclass
class ThroughputReport:
    chain: str
    transactions: int
    seconds: float
    #: Total seconds per step (encode, estimate, fees, sign, send, receipt).
    steps: dict[str, float]
    #: Total seconds per category (encoding, signing, evm, transport).
    split: dict[str, float]
    method: str = ""
    gas: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def tx_per_second(self) -> float:
        return self.transactions / self.seconds

    def to_json(self) -> dict[str, Any]:
        per_tx = {k: round(1_000 * v / self.transactions, 3) for k, v in self.split.items()}
        return {"chain": self.chain, "transactions": self.transactions, "seconds": round(self.seconds, 3),
                "tx_per_second": round(self.tx_per_second, 1), "gas": self.gas,
                "ms_per_tx": per_tx, "ms_per_tx_by_step": {k: round(1_000 * v / self.transactions, 3)
                                                            for k, v in self.steps.items()},
                "method": self.method, **{k: round(v, 4) for k, v in self.extra.items()}}


class _BackendClock:
    """Seconds spent inside the eth-tester backend's methods (py-evm), by wrapping them."""

    WRAPPED = ("estimate_gas", "send_raw_transaction", "mine_blocks", "get_transaction_receipt",
               "get_block_by_number", "get_block_by_hash", "get_transaction_by_hash", "get_nonce", "call")

    def __init__(self, chain: TesterChain):
        self.seconds = 0.0
        backend = chain.tester.backend
        for name in self.WRAPPED:
            original = getattr(backend, name)
            setattr(backend, name, self._timed(original))

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        return wrapper


class _Sender:
    """Sends transactions step by step, the way the clients do, timing each step."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.w3 = chain.w3
        self.steps = dict.fromkeys(STEPS, 0.0)
        self.evm_in_rpc = 0.0
        self.count = 0
        self.gas = 0
        self.clock = _BackendClock(chain) if isinstance(chain, TesterChain) else None

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        before_evm = self.clock.seconds if self.clock else 0.0
        started = time.perf_counter()
        yield
        self.steps[name] += time.perf_counter() - started
        if self.clock and name in RPC_STEPS:
            self.evm_in_rpc += self.clock.seconds - before_evm

    def send(self, contract: Any, function: str, args: list[Any], sender: Any) -> None:
        w3 = self.w3
        with self._step("encode"):
            tx: dict[str, Any] = {"to": contract.address, "from": sender.address, "value": 0,
                                  "data": contract.encode_abi(function, args=args), "chainId": self.chain.chain_id}
        with self._step("estimate"):
            tx["gas"] = int(w3.eth.estimate_gas(tx) * 1.2) + 10_000
        with self._step("fees"):
            base = w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0
        with self._step("funds"):  # the signer's ETH for gas, checked before signing (require_gas_funds)
            if w3.eth.get_balance(sender.address) < tx["gas"] * (2 * base + TIP):
                raise RuntimeError(f"workload signer {sender.address} cannot pay the gas")
        with self._step("encode"):
            tx.update(maxPriorityFeePerGas=TIP, maxFeePerGas=2 * base + TIP,
                      nonce=self.chain.next_nonce(sender.address))
            del tx["from"]
        with self._step("sign"):
            signed = sender.sign_transaction(tx)
        with self._step("send"):
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        with self._step("receipt"):
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)
        if receipt["status"] != 1:
            raise RuntimeError(f"workload transaction {function} reverted: {tx_hash.hex()}")
        self.count += 1
        self.gas += receipt["gasUsed"]


def _round_trip(chain: Chain, samples: int = 200) -> float:
    """Median seconds of the cheapest JSON-RPC request (eth_blockNumber)."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        chain.w3.provider.make_request("eth_blockNumber", [])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_workload(chain: Chain, rounds: int, artifacts: CompileResult | None = None) -> ThroughputReport:
    """Set up the commune (untimed), then run ``rounds`` rounds of four transactions, timed."""
    artifacts = artifacts or load_artifacts()
    a = chain.accounts
    members, renter, lender, vendor = a[:MEMBERS], a[0], a[MEMBERS], a[MEMBERS + 1]
    workers = a[MEMBERS + 2:MEMBERS + 6]
    # One-second periods: every period the workload pays for has begun (it pays in arrears, see
    # below), so its member income is divided at once and every round's member has a payout to claim.
    d = deploy_commune(chain, renter, CommuneParams(founders=[m.address for m in members], quorum_cap=1,
                                                    period_seconds=1), artifacts=artifacts)
    token, stock = d.test_token, d.stock
    for acct in (renter, lender):
        token.faucet(acct.address, 10**15, sender=acct)
        token.approve(stock.address, 2**256 - 1, sender=acct)
    asset = stock.request_asset("ipfs://bench-throughput", 100 * UNIT, vendor.address, 200 * UNIT, 1_200,
                                chain.now() + 10, sender=renter).asset_id
    stock.bid(asset, 100 * UNIT, 100, sender=lender, approve=False)
    chain.advance_time(10)
    stock.settle(asset, sender=lender)
    # The first period, paid from the request's escrow at settlement, redeems the bonds: from now
    # on rent is member income.
    assert stock.is_fully_owned(asset)
    if rounds + 1 > 1_200:
        raise ValueError("at most 1,199 rounds: the rental's term is 1,200 periods")
    # Let the periods to be paid begin, and release every begun period (untimed), so the workload's
    # rent is all paid in arrears and divided at once, and its calls release a few seconds' periods each.
    chain.advance_time(rounds + 2)
    d.treasury.release(d.treasury.pending_periods() + 1, sender=lender)
    assert d.treasury.pending_periods() == 0

    sender = _Sender(chain)
    rtt = 0.0 if isinstance(chain, TesterChain) else _round_trip(chain)
    started = time.perf_counter()
    for i in range(rounds):
        worker, member = workers[i % len(workers)], members[1 + i % (MEMBERS - 1)]
        claim_id = d.commune.claim_count() + 1
        sender.send(d.commune.contract, "submitLabour", [1, "ipfs://bafy-timesheet"], worker)
        sender.send(d.commune.contract, "attest", [claim_id], member)
        sender.send(stock.contract, "payRent", [asset, 1], renter)
        sender.send(d.treasury.contract, "claimPayout", [], member)
    # claim_count() is one eth_call per round (to know the next claim id); it is not part of the
    # transactions and is excluded from the total.
    seconds = sum(sender.steps.values())
    rpc = sum(sender.steps[s] for s in RPC_STEPS)
    if sender.clock is not None:
        evm = sender.evm_in_rpc
        method = "py-evm time measured inside the eth-tester backend; transport is the rest of each RPC step"
    else:
        evm = max(0.0, rpc - rtt * len(RPC_STEPS) * sender.count)
        method = (f"transport = {len(RPC_STEPS)} HTTP round trips a transaction at the median "
                  f"eth_blockNumber time ({rtt * 1_000:.3f} ms); node = the rest of each RPC step")
    split = {"encoding": sender.steps["encode"], "signing": sender.steps["sign"], "evm": evm, "transport": rpc - evm}
    report = ThroughputReport(chain.name, sender.count, seconds, dict(sender.steps), split, method, sender.gas)
    report.extra["wall_seconds"] = time.perf_counter() - started
    if rtt:
        report.extra["round_trip_ms"] = rtt * 1_000
    return report
