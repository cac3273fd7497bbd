"""How ``vc`` shows values to people and in ``--json``: one module for every command, event,
decoded error and keeper line.

- token amounts with the token's decimals, thousands separators and its symbol (``1,200.5 tUSD``);
- times as local time plus a time relative to the chain's clock (``2026-12-02 05:10:00 UTC (in 59 min)``);
- enum values by name (``state=Auction``);
- full addresses with the name of the account or contract beside them (``0x70997970... (account 1)``).

In ``--json`` the values people read sit beside exact machine values. A command's own amount keys
are token-unit strings with ``KEY_base_units`` (an int) beside them; a time key is Unix seconds with
``KEY_iso`` (ISO-8601 UTC) beside it; enums are names. Event and error arguments keep the values
the contract gave, with ``KEY_tokens``, ``KEY_iso`` and ``KEY_name`` beside them.

Example::

    >>> d = Display(decimals=6, symbol="tUSD", now=1_000)
    >>> d.amount(1_200_500_000)
    '1,200.5 tUSD'
    >>> relative(4_540, 1_000)
    'in 59 min'
    >>> d.arg("AssetNotRented", "state", 1)
    'Auction'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any, Callable, Mapping

from vcengine.stock import AssetState, Failure, RentalEnd
from vcengine.units import format_amount

#: Arguments (of events, errors and views) that are amounts of the settlement token or of bonds
#: (a bond's unit is one base unit of principal, so both share the token's decimals).
AMOUNT_ARGS = frozenset({
    "amount", "price", "rent", "rentPerPeriod", "toBonds", "toMembers", "proceeds", "bonds", "refund", "perShare",
    "carry", "shortfall", "totalPaid", "reserve", "balance", "allowance", "needed", "owed", "leading", "income",
    "perPeriod", "face", "supply", "escrowed", "principal", "interest", "credit", "credits", "claimable",
})
#: Arguments that are amounts only in some events or errors (elsewhere a count or a parameter).
AMOUNT_ONLY_IN = {
    "value": frozenset({"Transfer", "Approval"}),
    "current": frozenset({"LiquidationBidTooLow"}),
    "expected": frozenset({"SettlementTokenInexact"}),
    "actual": frozenset({"SettlementTokenInexact"}),
    "limit": frozenset({"TestStablecoinFaucetLimit"}),
}
#: Events and errors whose amounts are not the settlement token's (OpenZeppelin's
#: ``InsufficientBalance(balance, needed)`` counts ETH in wei).
NOT_TOKEN_AMOUNTS = frozenset({"InsufficientBalance"})
#: Arguments that are Unix times.
TIME_ARGS = frozenset({"auctionClosesAt", "closedAt", "closesAt", "latest", "nowTime", "reclaimableAt", "start",
                       "startsAt", "dueAt", "debtStart"})


#: Solidity enum (its ABI ``internalType``) -> the names of its values.
ENUMS: dict[str, type[IntEnum]] = {
    "enum IStockTypes.AssetState": AssetState,
    "enum IStockTypes.Failure": Failure,
    "enum IStockTypes.RentalEnd": RentalEnd,
}
#: Arguments declared as plain ``uint8`` that hold an enum.
ENUM_ARGS: dict[str, type[IntEnum]] = {"state": AssetState}


def ether(wei: int, unit: str = " ETH") -> str:
    """Wei as ether people read: ``1,234.5 ETH``, or ``~0.000882 ETH`` rounded down to six decimal
    places when it has more (``--json`` keeps the exact wei beside it)."""
    shown = format_amount(wei - wei % 10**12, 18, grouping=True)
    return ("" if wei % 10**12 == 0 else "~") + shown + unit


def enum_name(enum: type[IntEnum], value: int) -> str:
    """The value's name as the Solidity source spells it (``RentalAuction`` for 4 of
    ``AssetState.RENTAL_AUCTION``); an unknown value shows as ``<enum>(N)``."""
    try:
        member = enum(value)
    except ValueError:
        return f"{enum.__name__}({value})"
    return "".join(word.capitalize() for word in member.name.split("_"))


def iso(ts: int) -> str:
    """ISO-8601 UTC: ``2026-12-02T05:10:00Z``."""
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(ts: int) -> str:
    """Local time with its zone: ``2026-12-02 05:10:00 UTC``."""
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def span(seconds: int) -> str:
    """A duration people read: ``45 s``, ``59 min``, ``3 h 5 min``, ``2 d 4 h``, ``400 d``."""
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    if days < 100:
        return f"{days} d" + (f" {hours} h" if hours else "")
    return f"{days} d"


def relative(ts: int, now: int) -> str:
    """``in 59 min``, ``3 h ago`` or ``now``, against the chain's clock ``now``."""
    delta = int(ts) - int(now)
    if delta == 0:
        return "now"
    return f"in {span(delta)}" if delta > 0 else f"{span(delta)} ago"


@dataclass
class Display:
    """Formats values for one command: the token's decimals and symbol, the chain's clock, and the
    names of known addresses (accounts, test accounts, the commune's contracts)."""

    decimals: int | None = None
    symbol: str | None = None
    #: The chain's latest block time (relative times are against the chain, not the wall clock).
    now: int | None = None
    names: dict[str, str] = field(default_factory=dict)
    #: Reads the chain's clock when a time is shown (instead of ``now``): no request for a
    #: command that shows no time, a fresh reading for one that shows several.
    clock: Callable[[], int] | None = None

    # ------------------------------------------------------------------ values

    def amount(self, base: int, symbol: bool = True) -> str:
        """``1,200.5 tUSD`` (base units as they are when the decimals are unknown)."""
        if self.decimals is None:
            return f"{base:,} base units"
        shown = format_amount(int(base), self.decimals, grouping=True)
        return f"{shown} {self.symbol}" if symbol and self.symbol else shown

    def plain_amount(self, base: int) -> str:
        """Token units without separators (``1200.5``), the ``--json`` form."""
        return format_amount(int(base), self.decimals or 0)

    def time(self, ts: int) -> str:
        """``2026-12-02 05:10:00 UTC (in 59 min)``; 0 is ``never``."""
        if not ts:
            return "never"
        if ts >= 2**63:
            return f"{ts} (beyond any date)"
        when = local_time(ts)
        now = self.clock() if self.clock is not None else self.now
        return f"{when} ({relative(ts, now)})" if now is not None else when

    def address(self, address: str) -> str:
        """The full address with its known name: ``0x7099...79C8 (account 1)``."""
        name = self.names.get(str(address).lower())
        return f"{address} ({name})" if name else str(address)

    def name_of(self, address: str) -> str | None:
        return self.names.get(str(address).lower())

    def add_names(self, names: Mapping[str, str], overwrite: bool = False) -> None:
        for address, name in names.items():
            key = str(address).lower()
            if overwrite or key not in self.names:
                self.names[key] = name

    # ----------------------------------------------------- arguments by kind

    @staticmethod
    def kind(item: str, arg: str, value: Any, internal_type: str | None = None) -> str:
        """``amount``, ``time``, ``enum``, ``address``, ``bytes`` or ``plain`` for argument ``arg`` of
        event/error/view ``item``."""
        if isinstance(value, bool):
            return "plain"
        if isinstance(value, (bytes, bytearray)):
            return "bytes"
        if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            return "address"
        if isinstance(value, int):
            if internal_type in ENUMS or arg in ENUM_ARGS:
                return "enum"
            if item not in NOT_TOKEN_AMOUNTS and (arg in AMOUNT_ARGS or item in AMOUNT_ONLY_IN.get(arg, ())):
                return "amount"
            if arg in TIME_ARGS:
                return "time"
        return "plain"

    def arg(self, item: str, arg: str, value: Any, internal_type: str | None = None) -> str:
        """One argument as people read it."""
        kind = self.kind(item, arg, value, internal_type)
        if kind == "amount":
            return self.amount(value)
        if kind == "time":
            return self.time(value)
        if kind == "enum":
            return enum_name(ENUMS.get(internal_type or "", ENUM_ARGS.get(arg, AssetState)), value)
        if kind == "address":
            return self.address(value)
        if kind == "bytes":
            return "0x" + bytes(value).hex()
        if isinstance(value, int):
            return f"{value:,}" if abs(value) >= 10_000 else str(value)
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.arg(item, arg, v) for v in value) + "]"
        return str(value)

    def args(self, item: str, args: Mapping[str, Any], types: Mapping[str, str] | None = None) -> str:
        """``k=v, k=v`` of an event or error, each value as people read it."""
        types = types or {}
        return ", ".join(f"{k}={self.arg(item, k, v, types.get(k))}" for k, v in args.items())

    def json_args(self, item: str, args: Mapping[str, Any], types: Mapping[str, str] | None = None) -> dict[str, Any]:
        """An event's or error's arguments for ``--json``: each value as the contract gave it (ints in
        base units, checksum addresses, bytes in hex), with ``K_tokens`` (token units) beside each
        amount, ``K_iso`` beside each time and ``K_name`` beside each enum."""
        types = types or {}
        out: dict[str, Any] = {}
        for k, v in args.items():
            kind = self.kind(item, k, v, types.get(k))
            if isinstance(v, (bytes, bytearray)):
                out[k] = "0x" + bytes(v).hex()
            elif isinstance(v, (list, tuple)):
                out[k] = ["0x" + bytes(x).hex() if isinstance(x, (bytes, bytearray)) else x for x in v]
            else:
                out[k] = v
            if kind == "amount" and self.decimals is not None:
                out[f"{k}_tokens"] = self.plain_amount(v)
            elif kind == "time":
                out[f"{k}_iso"] = iso(v) if 0 < v < 2**63 else None
            elif kind == "enum":
                out[f"{k}_name"] = enum_name(ENUMS.get(types.get(k) or "", ENUM_ARGS.get(k, AssetState)), v)
        return out

    # ----------------------------------------------------------- --json helpers

    def put_amount(self, out: dict[str, Any], key: str, base: int | None) -> None:
        """``out[key]`` = token units (string), ``out[key_base_units]`` = the exact int."""
        out[key] = None if base is None else self.plain_amount(base)
        out[f"{key}_base_units"] = None if base is None else int(base)

    def put_time(self, out: dict[str, Any], key: str, ts: int | None) -> None:
        """``out[key]`` = Unix seconds, ``out[key_iso]`` = ISO-8601 UTC (None for none)."""
        out[key] = ts
        out[f"{key}_iso"] = iso(ts) if ts and ts < 2**63 else None
