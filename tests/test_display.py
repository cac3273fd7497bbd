"""The one formatting module: amounts, times, enums and names as people read them, and the anvil
test addresses (constants, so naming an address costs nothing) derived again from the mnemonic."""

from __future__ import annotations

import pytest

from vcengine.chains import ANVIL_ADDRESSES, ANVIL_MNEMONIC, local_accounts
from vcengine.display import Display, iso, relative, span


def test_the_anvil_addresses_are_the_mnemonics_first_twenty():
    assert list(ANVIL_ADDRESSES) == [a.address for a in local_accounts(20, ANVIL_MNEMONIC)]


@pytest.mark.parametrize("seconds,shown", [(0, "0 s"), (59, "59 s"), (60, "1 min"), (3_599, "59 min"),
                                           (3_600, "1 h"), (3_660, "1 h 1 min"), (86_400, "1 d"),
                                           (90_000, "1 d 1 h"), (100 * 86_400, "100 d")])
def test_spans(seconds, shown):
    assert span(seconds) == shown


def test_relative_times_and_iso():
    assert relative(1_000 + 3_540, 1_000) == "in 59 min"
    assert relative(1_000, 1_000 + 7_200) == "2 h ago"
    assert relative(5, 5) == "now"
    assert iso(0 + 86_400) == "1970-01-02T00:00:00Z"


def test_arguments_by_kind():
    d = Display(decimals=6, symbol="tUSD", now=1_000, names={"0x" + "ab" * 20: "account 3"})
    assert d.arg("RentPaid", "amount", 10_800_000_000) == "10,800 tUSD"
    assert d.arg("AssetNotRented", "state", 4) == "RentalAuction"
    assert d.arg("AuctionFailed", "reason", 2, "enum IStockTypes.Failure") == "RentTooLow"
    assert d.arg("RentalEnded", "reason", 1, "enum IStockTypes.RentalEnd") == "Defaulted"
    assert d.arg("AuctionClosed", "closedAt", 1_000 + 120).endswith("(in 2 min)")
    assert d.arg("X", "who", "0x" + "ab" * 20) == "0x" + "ab" * 20 + " (account 3)"
    # the same name is an amount in one item and a count or a parameter in another
    assert d.arg("Transfer", "value", 5_000_000) == "5 tUSD"
    assert d.arg("StockInvalidParameter", "value", 5_000_000) == "5,000,000"
    assert d.arg("TreasuryReleasePending", "current", 7) == "7"
    assert d.arg("LiquidationBidTooLow", "current", 7_000_000) == "7 tUSD"
    assert d.arg("SettlementTokenInexact", "actual", 990_000) == "0.99 tUSD"
    assert d.arg("InsufficientBalance", "balance", 10**18) == f"{10**18:,}"  # OpenZeppelin's, in wei of ETH


def test_json_arguments_keep_the_contracts_values_beside_readable_ones():
    d = Display(decimals=6, symbol="tUSD", now=0)
    out = d.json_args("X", {"amount": 1_500_000, "closesAt": 86_400, "state": 1, "data": b"\x01"})
    assert out == {"amount": 1_500_000, "amount_tokens": "1.5", "closesAt": 86_400,
                   "closesAt_iso": "1970-01-02T00:00:00Z", "state": 1, "state_name": "Auction", "data": "0x01"}
    keyed: dict = {}
    d.put_amount(keyed, "price", 10_000_000_000)
    d.put_time(keyed, "closes_at", 86_400)
    assert keyed == {"price": "10000", "price_base_units": 10_000_000_000, "closes_at": 86_400,
                     "closes_at_iso": "1970-01-02T00:00:00Z"}
