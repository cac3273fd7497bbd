"""Lower bounds on the gas of each operation, built from the EVM's cost schedule (Cancun).

A floor is what *any* implementation of the operation's meaning must pay, counted from the real
transaction (its calldata, the logs it emitted) and a per-operation list of the storage writes
that the operation cannot do without:

    floor = 21,000                                  intrinsic cost of a transaction
          + 4 per zero byte + 16 per non-zero byte  of the transaction's input (calldata)
          + 22,100 per slot that must go zero -> non-zero (20,000 SSTORE_SET + 2,100 cold access)
          +  5,000 per slot that must change non-zero -> non-zero (2,900 SSTORE_RESET + 2,100 cold)
          +  5,000 per slot that must be cleared, of which 4,800 is refunded
          + 375 + 375 per topic + 8 per data byte   of each log that must be emitted
          + 32,000 + 2 per initcode word + 200 per byte of deployed code, for each contract created
          - refunds, at most a fifth of the gas used (EIP-3529)

Everything else an implementation does (reading state, calling other contracts, checks, extra
bookkeeping) is left out, so the floor is below what any real contract pays; the ratio
measured/floor says how much the extra costs. Which writes are "must" is a judgement written next
to each operation in :data:`FLOORS` (one line of prose each); the log costs come from the logs the
transaction actually emitted, matched by event name, so a floor cannot count an event that did
not happen (a missing one raises :class:`FloorMismatch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from eth_utils import event_abi_to_log_topic

# The cost schedule (Shanghai/Cancun; the contracts are compiled for evmVersion cancun).
TX_INTRINSIC = 21_000
CALLDATA_ZERO = 4
CALLDATA_NONZERO = 16
SSTORE_SET_COLD = 20_000 + 2_100  # zero -> non-zero, first access to the slot in the transaction
SSTORE_RESET_COLD = 2_900 + 2_100  # non-zero -> non-zero (or -> zero), first access
SSTORE_CLEAR_REFUND = 4_800  # non-zero -> zero
LOG_BASE = 375
LOG_TOPIC = 375
LOG_DATA_BYTE = 8
CREATE = 32_000
INITCODE_WORD = 2  # EIP-3860
CODE_DEPOSIT_BYTE = 200
MAX_REFUND_QUOTIENT = 5  # EIP-3529


class FloorMismatch(Exception):
    """A floor names an event the transaction did not emit: the floor's table is wrong."""


@dataclass(frozen=True)
class FloorSpec:
    """What an operation cannot do without. Slots are named so that the table reads as prose."""

    #: Slots that must go from zero to non-zero.
    fresh: tuple[str, ...] = ()
    #: Slots that must change between non-zero values.
    updated: tuple[str, ...] = ()
    #: Slots that must be cleared (non-zero -> zero).
    cleared: tuple[str, ...] = ()
    #: Events that must be emitted (by name; each is matched to one log of the transaction).
    events: tuple[str, ...] = ()
    #: Why these and no others, in one line.
    why: str = ""


@dataclass(frozen=True)
class TxFacts:
    """What the floor needs from one mined transaction."""

    input: bytes
    #: (event name or None, topic count, data length) of every log, in order.
    logs: tuple[tuple[str | None, int, int], ...]
    #: Deployed code length when the transaction created a contract (else None).
    created_code: int | None = None
    #: Extra contracts the operation must create (e.g. a bond series clone), deployed code lengths.
    inner_creates: tuple[int, ...] = ()


@dataclass(frozen=True)
class Floor:
    """A computed floor with its parts, for printing and JSON."""

    total: int
    parts: dict[str, int] = field(default_factory=dict)


def calldata_cost(data: bytes) -> int:
    """4 gas per zero byte and 16 per non-zero byte."""
    zeros = data.count(0)
    return CALLDATA_ZERO * zeros + CALLDATA_NONZERO * (len(data) - zeros)


def log_cost(topics: int, data_len: int) -> int:
    return LOG_BASE + LOG_TOPIC * topics + LOG_DATA_BYTE * data_len


def creation_cost(initcode_len: int, code_len: int) -> int:
    """CREATE's fixed cost, the initcode words (EIP-3860) and the code deposit."""
    return CREATE + INITCODE_WORD * ((initcode_len + 31) // 32) + CODE_DEPOSIT_BYTE * code_len


def compute_floor(spec: FloorSpec, txs: Sequence[TxFacts]) -> Floor:
    """The floor of an operation made of ``txs`` (usually one transaction; a deployment is several)."""
    parts = {
        "intrinsic": TX_INTRINSIC * len(txs),
        "calldata": sum(calldata_cost(t.input) for t in txs),
        "storage": SSTORE_SET_COLD * len(spec.fresh) + SSTORE_RESET_COLD * (len(spec.updated) + len(spec.cleared)),
        "logs": 0,
        "create": 0,
    }
    for t in txs:
        if t.created_code is not None:
            parts["create"] += creation_cost(len(t.input), t.created_code)
        for code_len in t.inner_creates:
            parts["create"] += CREATE + CODE_DEPOSIT_BYTE * code_len
    available = [log for t in txs for log in t.logs]
    for name in spec.events:
        for i, (log_name, topics, data_len) in enumerate(available):
            if log_name == name:
                parts["logs"] += log_cost(topics, data_len)
                del available[i]
                break
        else:
            raise FloorMismatch(f"the floor needs a {name} log but the transaction emitted {[l[0] for l in available]}")
    gross = sum(parts.values())
    refund = min(SSTORE_CLEAR_REFUND * len(spec.cleared), gross // MAX_REFUND_QUOTIENT)
    parts["refund"] = -refund
    return Floor(gross - refund, parts)


def event_names(abis: Iterable[Sequence[Mapping[str, Any]]]) -> dict[bytes, str]:
    """topic0 -> event name, from every ABI given (ERC-20 and ERC-721 Transfer share one topic)."""
    names: dict[bytes, str] = {}
    for abi in abis:
        for item in abi:
            if item.get("type") == "event" and not item.get("anonymous"):
                names[event_abi_to_log_topic(item)] = item["name"]
    return names


# --------------------------------------------------------------------------- the table
#
# Slot names say whose slot it is. "bal" is an ERC-20 balance (the settlement token's unless a
# bond is named). Counts follow the benchmark's scenario (vcengine/bench/gas.py): e.g. a first
# payout claim sets the claimant's claimed total from zero, a second would only update it.

FLOORS: dict[str, FloorSpec] = {
    "create (3 founders)": FloorSpec(
        fresh=("founder 1 share owner", "founder 1 share balance", "founder 2 share owner", "founder 2 share balance",
               "founder 3 share owner", "founder 3 share balance", "member count"),
        events=("Transfer", "Locked", "Transfer", "Locked", "Transfer", "Locked"),
        why="three clones created (CREATE and the deposit of 45 bytes of proxy and 154 of arguments each), each "
            "founder's ERC-721 owner and balance, the member count, and the ERC-721 Transfer and ERC-5192 Locked "
            "of each share",
    ),
    "submitLabour": FloorSpec(
        fresh=("the claim (worker, units)",), updated=("claim count",), events=("LabourSubmitted",),
        why="the claim itself, a fresh claim id, and the event carrying the evidence members check",
    ),
    "attest": FloorSpec(
        fresh=("this member's attestation mark",), updated=("the claim's attestation count",),
        events=("LabourAttested",),
        why="the mark that stops a second attestation by the same member, and the claim's count",
    ),
    "attest (counting)": FloorSpec(
        fresh=("this member's attestation mark", "the worker's counted labour"),
        updated=("the claim's attestation count and counted flag",), events=("LabourAttested", "LabourCounted"),
        why="as attest, plus crediting the worker's labour (the worker had none)",
    ),
    "join": FloorSpec(
        fresh=("share owner", "member's share balance", "member's income checkpoint"),
        updated=("member count",), cleared=("member's counted labour (spent)",), events=("Transfer", "Locked"),
        why="the share's owner and balance, the member count, the income checkpoint (no earlier income), "
            "the labour spent, ERC-721 Transfer and ERC-5192 Locked",
    ),
    "leave": FloorSpec(
        updated=("member count",), cleared=("share owner", "member's share balance"), events=("Transfer",),
        why="burning the share (owner and balance cleared, refunds) and the member count; nothing accrued to keep",
    ),
    "requestAsset": FloorSpec(
        fresh=("asset: requester, close, state", "asset: vendor, term", "asset: price, rent",
               "requester's commitment"),
        updated=("asset count", "requester bal", "common stock bal"), events=("AssetRequested", "Transfer"),
        why="the asset record (three packed slots), its id, the requester's commitment (cannot leave), the "
            "first period's rent escrowed (the transfer in), the event",
    ),
    "bid": FloorSpec(
        fresh=("bid: bidder, rate, asset", "bid: amount"),
        updated=("bid count", "the rate tick's total", "bidder bal", "common stock bal"),
        events=("Transfer", "BidPlaced"),
        why="the bid record (who, rate, amount: two slots), its id, the tick total, the escrow transfer",
    ),
    "settle": FloorSpec(
        fresh=("debt: principal, start", "rental: renter, start, term", "vendor's credit", "asset: series address",
               "series bal", "series total paid", "renter's rent paid"),
        updated=("asset: state and clearing rate", "common stock bal"),
        events=("AuctionSettled", "RentalStarted", "Transfer"),
        why="creating the bond series (a clone), the state and rate, the debt, the rental and the vendor's credit, "
            "and the first period paid from the requester's escrow to the new series",
    ),
    "claim (filled)": FloorSpec(
        fresh=("bondholder's bond balance", "bond total supply"), updated=("bid: claimed",), events=("Transfer",),
        why="marking the bid claimed and minting its bonds (first mint of the series: supply from zero)",
    ),
    "claim (pro rata)": FloorSpec(
        fresh=("bondholder's bond balance",),
        updated=("bid: claimed", "bond total supply", "common stock bal", "bidder bal"),
        events=("Transfer", "Transfer"),
        why="marking the bid claimed, minting the filled part and refunding the rest",
    ),
    "claim (refund)": FloorSpec(
        updated=("bid: claimed", "common stock bal", "bidder bal"), events=("Transfer",),
        why="marking the bid claimed and refunding it",
    ),
    "withdraw (vendor)": FloorSpec(
        fresh=("vendor bal",), updated=("common stock bal",), cleared=("vendor's credit",), events=("Transfer",),
        why="paying the vendor its credit (the vendor held no tokens)",
    ),
    "payRent": FloorSpec(
        updated=("rental: paid periods", "debt: principal", "renter bal", "series bal", "series total paid",
                 "member's rent paid"),
        events=("Transfer",),
        why="counting the period, paying the bonds (transfer and the series' accumulator), the debt, and the "
            "renter's rent total for net positions (P8)",
    ),
    "depositIncome": FloorSpec(
        updated=("income per share", "depositor bal", "treasury bal"), events=("Transfer",),
        why="the income accumulator and the transfer in (the scenario keeps the carried remainder unchanged, "
            "so no write of it is needed)",
    ),
    "claimPayout": FloorSpec(
        fresh=("member's claimed total",), updated=("treasury bal", "member bal"), events=("Transfer",),
        why="the member's claimed total (what is claimable follows from it and the income per share, so "
            "no checkpoint need move) and the transfer out",
    ),
    "withdrawPayments (bondholder)": FloorSpec(
        fresh=("holder's withdrawn total",), updated=("series bal", "holder bal"), events=("Transfer",),
        why="the holder's withdrawn total and the transfer out of the series",
    ),
    "bond transfer": FloorSpec(
        updated=("sender bond balance", "receiver bond balance", "sender's payment correction",
                 "receiver's payment correction"), events=("Transfer",),
        why="an ERC-20 transfer, plus leaving past payments with the sender (one correction each side; both "
            "holders already carry one: the series has been paid since settlement)",
    ),
    "returnAsset": FloorSpec(
        fresh=("sale: close time",), updated=("asset: state",), cleared=("renter's commitment",),
        events=("RentalEnded",),
        why="ending the rental (state, the renter's commitment) and opening the rental auction's clock",
    ),
    "bidRent (first)": FloorSpec(
        fresh=("sale: amount", "bidder's commitment"), updated=("sale: leader, close, term", "bidder bal",
                                                                "common stock bal"),
        events=("Transfer", "RentBid"),
        why="the leading bid (leader, rent, term), the bidder's commitment, the escrowed first period",
    ),
    "bidRent (outbid)": FloorSpec(
        fresh=("outbid leader's credit", "bidder's commitment"),
        updated=("sale: leader, close, term", "sale: amount", "bidder bal", "common stock bal"),
        cleared=("outbid leader's commitment",), events=("Transfer", "RentBid"),
        why="as the first bid, plus crediting the outbid leader's escrow and releasing their commitment",
    ),
    "settleRental": FloorSpec(
        fresh=("renter's rent paid",),
        updated=("asset: state", "rental: renter, start, term", "rental: paid periods, rent", "debt: principal",
                 "common stock bal", "series bal", "series total paid"),
        cleared=("sale: leader, close", "sale: amount"), events=("Transfer", "RentalStarted"),
        why="starting the new rental with its first period paid from escrow to the bonds, closing the sale",
    ),
    "reclaim (default)": FloorSpec(
        fresh=("sale: close time",), updated=("asset: state",), cleared=("renter's commitment",),
        events=("RentalEnded",),
        why="as returnAsset: end the rental and open the rental auction",
    ),
    "settleRental (to liquidation)": FloorSpec(
        updated=("asset: state", "sale: close time"), events=("LiquidationOpened",),
        why="moving to the public sale and restarting its clock",
    ),
    "bidLiquidation": FloorSpec(
        fresh=("sale: amount",), updated=("sale: leader, close", "bidder bal", "common stock bal"),
        events=("Transfer", "LiquidationBid"),
        why="the leading offer and its escrow",
    ),
    "settleLiquidation": FloorSpec(
        fresh=("title holder",),
        updated=("asset: state", "common stock bal", "series bal", "series total paid", "treasury bal",
                 "income per share"),
        cleared=("debt: principal", "sale: leader, close", "sale: amount"),
        events=("Transfer", "Transfer", "AssetLiquidated"),
        why="title to the buyer, the debt paid off to the series, the surplus shared as member income",
    ),
    # Reference points users know, measured the same way.
    "reference: OZ ERC-721 mint": FloorSpec(
        fresh=("token owner", "receiver's balance"), events=("Transfer",),
        why="the token's owner and the receiver's balance, and Transfer",
    ),
    "reference: OZ ERC-20 transfer": FloorSpec(
        updated=("sender bal", "receiver bal"), events=("Transfer",),
        why="two balances (the receiver already holds some, as in the bond transfer) and Transfer",
    ),
}
