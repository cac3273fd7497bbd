#!/usr/bin/env python3
"""Gas of a bond auction's bid, settlement and claim with 10, 100 and 1,000 bids already in the book.

The book is built quickly with `mocks/BidBatcher` (one transaction per 100 bids, each bid still a
real `CommonStock.bid`); the measured bid, settlement and claim are ordinary transactions from
ordinary accounts. Every book has the same shape so that only the number of bids changes: half of
the principal bid at rates spread over 0-4.99%, the clearing tick at 5.00% (half of it filled),
the rest spread over 5.01-10%. The clearing rate is therefore 500 bps at every size.

    .venv/bin/python scripts/bench_auction.py [--sizes 10,100,1000] [--json]
"""

from __future__ import annotations



from vcengine.benchmark import scaling_main
from vcengine.chains import TesterChain
from vcengine.client import ContractClient
from vcengine.deploy import DAY, CommuneParams, deploy_commune

UNIT = 10**6
CHUNK = 100
CHUNK_GAS = 25_000_000
CLEARING_BPS = 500
OPERATIONS = ["bid (EOA, into the book)", "settle", "claim (filled in full)", "claim (pro rata at the margin)",
              "claim (refund above the rate)"]


class BatcherClient(ContractClient):
    CONTRACT = "BidBatcher"


def book(m: int) -> tuple[list[tuple[int, int]], int]:
    """m bids (amount, rate) for the batcher, and the price that makes 500 bps the clearing rate.

    With the three ordinary bids of `measure` (1,000 at 0.10%, 1,000 at 5.00%, 1,000 at 5.01%), the
    clearing tick holds 2,000 of which 1,000 is needed: half filled.
    """
    low = (m - 1) // 2
    high = m - 1 - low
    bids = [(1_000 * UNIT, (i * 997) % CLEARING_BPS) for i in range(low)]
    bids += [(1_000 * UNIT, CLEARING_BPS)]
    bids += [(1_000 * UNIT, CLEARING_BPS + 1 + (i * 991) % (1_000 - CLEARING_BPS)) for i in range(high)]
    price = (low + 1) * 1_000 * UNIT + 1_000 * UNIT
    return bids, price


def measure(n: int) -> dict[str, int]:
    chain = TesterChain()
    member, vendor, funder, lender_low, lender_margin, lender_high = chain.accounts[:6]
    d = deploy_commune(chain, member, CommuneParams(founders=[member.address], rate_cap_bps=1_000))
    token, stock = d.test_token, d.stock
    for acct in (funder, lender_low, lender_margin, lender_high):
        for _ in range(20):  # the faucet mints at most 1e9 tokens a call
            token.faucet(acct.address, 10**15, sender=acct)
    batcher = BatcherClient.deploy(chain, funder)
    token.approve(batcher.address, 2**255, sender=funder)
    bids, price = book(n - 3)  # three more bids are placed by ordinary accounts below
    asset_id = stock.request_asset("ipfs://bench", price, vendor.address, price, 12, chain.now() + DAY,
                                   sender=member).asset_id
    for start in range(0, len(bids), CHUNK):
        chunk = bids[start:start + CHUNK]
        batcher.transact("placeBids", stock.address, asset_id, [a for a, _ in chunk], [r for _, r in chunk],
                         sender=funder, gas=CHUNK_GAS)
    gas: dict[str, int] = {}
    low_bid = stock.bid(asset_id, 1_000 * UNIT, 10, sender=lender_low)
    margin_bid = stock.bid(asset_id, 1_000 * UNIT, CLEARING_BPS, sender=lender_margin)
    high_bid = stock.bid(asset_id, 1_000 * UNIT, CLEARING_BPS + 1, sender=lender_high)  # a tick every book has
    gas["bid (EOA, into the book)"] = high_bid.tx.gas_used
    assert stock.bid_count() == n
    chain.advance_time(DAY)
    settled = stock.settle(asset_id, sender=vendor)
    assert settled.cleared and settled.clearing_rate_bps == CLEARING_BPS, settled
    gas["settle"] = settled.tx.gas_used
    gas["claim (filled in full)"] = stock.claim(low_bid.bid_id, sender=lender_low).tx.gas_used
    margin = stock.claim(margin_bid.bid_id, sender=lender_margin)
    assert 0 < margin.bonds < 1_000 * UNIT
    gas["claim (pro rata at the margin)"] = margin.tx.gas_used
    gas["claim (refund above the rate)"] = stock.claim(high_bid.bid_id, sender=lender_high).tx.gas_used
    return gas


def main() -> None:
    scaling_main(__doc__, measure, OPERATIONS, "Bond auction gas by bids in the book (embedded chain)", "10,100,1000",
                 size_label="{n:,} bids", sizes_help="bids in the book, comma-separated (each >= 5)")


if __name__ == "__main__":
    main()
