"""Random bid books (up to 200 bids, ties at the margin) against the plain-Python reference of the clearing rule, to the base unit.

Books of up to a few hundred bids are placed through `mocks/BidBatcher` (one transaction per hundred
bids; each bid still goes through `CommonStock.bid`), settled, and claimed. The contract's clearing
rate, every fill and every refund must equal the reference's, and the common stock must hold exactly
its escrow plus its credits after every step: nothing created, nothing lost. The requester's
escrowed first period is paid at settlement (interest first, then principal, the rest to the members)
when the sale clears, and credited back to the requester when it fails.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import UNIT
from reference import clear_auction, interest
from vcengine.client import ContractClient
from vcengine.stock import AssetState

CHUNK = 100  # bids per batcher transaction
CHUNK_GAS = 25_000_000  # enough for CHUNK bids or claims; sent without an estimate to halve the EVM time


class BatcherClient(ContractClient):
    CONTRACT = "BidBatcher"


@st.composite
def auctions(draw):
    n = draw(st.integers(1, 200))
    margin = draw(st.integers(0, 1_000))
    rate = st.one_of(st.integers(0, 1_000), st.sampled_from([margin, margin, min(1_000, margin + 1)]))
    amount = st.one_of(st.integers(1, 1_000), st.integers(1, 50 * UNIT))
    book = draw(st.lists(st.tuples(amount, rate), min_size=n, max_size=n))
    total = sum(a for a, _ in book)
    price = max(1, total * draw(st.integers(5, 130)) // 100)  # up to 30% undersubscribed
    periods = draw(st.integers(1, 24))
    rent = max(1, price * draw(st.integers(1, 200)) // (100 * periods))  # from hopeless to generous
    return book, price, rent, periods


def test_random_books_clear_like_the_reference(session_deployment, session_chain, artifacts):
    d, chain = session_deployment, session_chain
    stock, token = d.stock, d.test_token
    member, vendor, funder = chain.accounts[0], chain.accounts[10], chain.accounts[5]
    snapshot = chain.snapshot()
    try:
        batcher = BatcherClient.deploy(chain, funder, artifacts=artifacts)
        token.approve(batcher.address, 2**255, sender=funder)

        @settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
        @given(auctions())
        def check(case):
            book, price, rent, periods = case
            asset_id = stock.request_asset("ipfs://random-book", price, vendor.address, rent, periods,
                                           chain.now() + 3_600, sender=member).asset_id
            first_bid = stock.bid_count() + 1
            for start in range(0, len(book), CHUNK):
                chunk = book[start:start + CHUNK]
                batcher.transact("placeBids", stock.address, asset_id, [a for a, _ in chunk], [r for _, r in chunk],
                                 sender=funder, gas=CHUNK_GAS)
                assert token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held()
            ids = list(range(first_bid, first_bid + len(book)))
            assert stock.asset(asset_id).escrowed == sum(a for a, _ in book)

            chain.advance_time(3_600)
            settled = stock.settle(asset_id, sender=member)
            ref = clear_auction(price, rent, periods, book)
            assert settled.cleared == ref.cleared
            assert settled.clearing_rate_bps == ref.rate_bps
            assert stock.asset(asset_id).state == (AssetState.RENTED if ref.cleared else AssetState.FAILED)
            assert stock.credits(vendor.address) == (price if ref.cleared else 0)
            if ref.cleared:
                # period 0 paid from the escrow: its interest, then principal, any rest to the members
                to_bonds = min(rent, interest(price, ref.rate_bps) + price)
                assert stock.series(asset_id).total_paid() == to_bonds
                assert settled.tx.event("RentPaid").args["toMembers"] == rent - to_bonds
                assert stock.credits(member.address) == 0
            else:
                assert stock.credits(member.address) == rent  # the first period, credited back

            series = stock.series(asset_id).address if ref.cleared else "0x" + "00" * 20
            tokens_before = token.balance_of(funder.address)
            claimed = []
            for start in range(0, len(ids), CHUNK):
                tx = batcher.transact("claimAll", stock.address, ids[start:start + CHUNK], series, sender=funder, gas=CHUNK_GAS)
                claimed += [e.args for e in stock.decode_events(_receipt(chain, tx.tx_hash)) if e.name == "BidClaimed"]
                assert token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held()
            assert [c["bidId"] for c in claimed] == ids
            assert [c["bonds"] for c in claimed] == ref.fills
            assert [c["refund"] for c in claimed] == ref.refunds([a for a, _ in book])
            assert token.balance_of(funder.address) - tokens_before == sum(ref.refunds([a for a, _ in book]))
            if ref.cleared:
                assert stock.series(asset_id).balance_of(funder.address) == price
                stock.withdraw(sender=vendor)
            else:
                stock.withdraw(sender=member)
            assert token.balance_of(stock.address) == stock.escrow_held() + stock.credits_held() == 0

        check()
    finally:
        chain.revert(snapshot)


def _receipt(chain, tx_hash: str):
    return chain.w3.eth.get_transaction_receipt(tx_hash)
